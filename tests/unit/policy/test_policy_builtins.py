"""The builtin lists match the installed regorus, and the AST reader sees every call."""

from __future__ import annotations

import regorus

from gateway.policy._ast import read_modules
from gateway.policy._builtins import REFUSED, SUPPORTED


def _call_fails_as_unknown(name: str) -> bool:
    engine = regorus.Engine()
    engine.add_policy("probe.rego", f"package probe\n\nx := {name}()\n")
    try:
        engine.eval_rule_as_json("data.probe.x")
    except RuntimeError as exc:  # wrong arity or argument types: the function exists
        return "could not find function" in str(exc)
    return False


def test_every_supported_builtin_exists_in_the_installed_regorus() -> None:
    missing = sorted(name for name in SUPPORTED if _call_fails_as_unknown(name))

    assert missing == []


def test_every_builtin_regorus_reports_is_classified() -> None:
    # After an upgrade, a new builtin must be reviewed (deterministic?) before use.
    engine = regorus.Engine()
    engine.add_policy("probe.rego", "package probe\n\nx := opa.runtime()\n")
    reported = {
        name for name in engine.eval_rule("data.probe.x")["builtins"] if not name.startswith("__")
    }

    assert reported - SUPPORTED - set(REFUSED) == set()


def test_refused_and_supported_do_not_overlap() -> None:
    assert SUPPORTED.isdisjoint(REFUSED)


def test_reader_finds_calls_rules_and_aliased_imports() -> None:
    source = (
        "# ünïcödé before the import moves byte offsets\n"
        "package engagement\n\n"
        "import data.engagement.lib as text\n\n"
        "default decision := {}\n\n"
        'decision := {"n": count([1]), "t": text.shout("a")} if {\n'
        "\tevery x in [1] { is_number(x) }\n"
        "}\n\n"
        "reasons contains r if r := 1\n\n"
        "twice(x) := x * 2\n\n"
        'limits["x"] := 1\n'
    )
    engine = regorus.Engine()
    engine.add_policy("engagement/a.rego", source)

    (module,) = read_modules(engine.get_ast_as_json())

    assert module.package == "engagement"
    assert module.imports == {"text": "data.engagement.lib"}
    assert {(c.name, c.line) for c in module.calls} == {
        ("count", 8),
        ("text.shout", 8),
        ("is_number", 9),
    }
    heads = {(r.name, r.is_plain, r.is_function) for r in module.rules}
    assert heads == {
        ("decision", True, False),
        ("reasons", False, False),
        ("twice", False, True),
        ("limits", False, False),
    }
