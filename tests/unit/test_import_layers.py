"""The gateway's packages stand in layers, and every import points down.

A module may import its own package and any package of a lower layer, never a package of
its own layer or a higher one; so there is no import cycle between packages, and a step
never reaches back into the one that drives it (docs/architecture.md, "Layers", says why
each package stands where it does). Every import counts: at module level, inside a
function, or under ``TYPE_CHECKING``.

The gateway speaks to connectors through ``connectors.contract`` (and the other files
directly under ``connectors/``); a particular connector package (``connectors.bluesky``,
``connectors.mastodon``, ...) is imported only where connectors are built from settings and
configured sources: ``gateway/sources/build.py``. Connectors never import the gateway.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Lowest first. A name is a package under gateway/ or a module directly in it; "cli" is
# every gateway/cli_*.py (the command's parts, which use one another).
LAYERS: tuple[frozenset[str], ...] = tuple(
    frozenset(layer.split())
    for layer in (
        "domain",  # pure types and rules
        "net_lanes",  # the connections of outbound HTTP
        "settings logging net_guard",  # configuration, log set-up, the outbound guard
        "secrets store",  # the gateway's key; the only package with SQL
        "leases policy",  # jobs held once per deployment; the policy engines
        "audit",  # chain verification, checkpoints, proofs, export, suppression
        "pipeline",  # the steps: ingest, classify, decide, review, release, ...
        "sources",  # configured sources: the poller and inbound webhooks feed ingest
        "runtime",  # the running parts, built once from the settings
        "http",  # the API's controllers
        "web",  # the console, on the API's rules
        "app cli",  # create_app; the command's parts
        "__main__",  # the command
    )
)

# The one place that builds connectors and so may name a particular one.
CONNECTOR_BUILDER = "gateway/sources/build.py"


def _rank(unit: str) -> int:
    for rank, layer in enumerate(LAYERS):
        if unit in layer:
            return rank
    raise AssertionError(f"gateway.{unit} stands in no layer: add it to LAYERS and the docs")


def _unit(module: str) -> str:
    """The layered unit of a ``gateway.*`` module: its package, or the module itself."""
    name = module.split(".")[1]
    return "cli" if name.startswith("cli_") else name


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, root: Path = ROOT) -> Iterator[tuple[int, str]]:
    """(line, imported module) for every import in ``path``, relative ones resolved."""
    package = _module_name(path, root).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            yield node.lineno, base
            for alias in node.names:  # ``from gateway import store`` imports gateway.store
                yield node.lineno, f"{base}.{alias.name}"


def _upward(root: Path) -> list[str]:
    """Every import under ``root/gateway`` that points to its own layer or a higher one."""
    found: dict[str, str] = {}  # "path:line" -> the first module it imports upward
    for path in sorted((root / "gateway").rglob("*.py")):
        module = _module_name(path, root)
        if module == "gateway":
            continue
        own = _unit(module)
        for line, target in _imports(path, root):
            other = _unit(target) if target.startswith("gateway.") else own
            if other != own and _rank(other) >= _rank(own):
                found.setdefault(f"{path.relative_to(root)}:{line}", target)
    return [f"{where} imports {target}" for where, target in found.items()]


def _is_connector_package(module: str) -> bool:
    parts = module.split(".")
    return parts[0] == "connectors" and len(parts) > 1 and (ROOT / "connectors" / parts[1]).is_dir()


def test_every_layered_name_is_a_module_or_package_of_the_gateway() -> None:
    for layer in LAYERS:
        for unit in layer - {"cli"}:
            assert (ROOT / "gateway" / unit).is_dir() or (ROOT / "gateway" / f"{unit}.py").is_file()
    assert list((ROOT / "gateway").glob("cli_*.py"))


def test_every_gateway_import_points_to_a_lower_layer() -> None:
    found = _upward(ROOT)
    assert found == [], "imports that point up or sideways:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "source",
    [
        "from gateway.audit.chain import event_hash\n",
        "from ..audit import chain\n",
        "from gateway import pipeline\n",
        "def f() -> None:\n    import gateway.sources.scheduler\n",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import gateway.http\n",
    ],
)
def test_an_import_from_the_store_up_is_caught_in_any_form(tmp_path: Path, source: str) -> None:
    probe = tmp_path / "gateway" / "store" / "probe.py"
    probe.parent.mkdir(parents=True)
    probe.write_text(source, encoding="utf-8")
    (tmp_path / "gateway" / "store" / "fine.py").write_text(
        "from gateway.domain.records import AuditEvent\nfrom gateway.store import errors\n",
        encoding="utf-8",
    )
    assert [line.split(" imports ")[0] for line in _upward(tmp_path)][:1] == [
        "gateway/store/probe.py:" + str(source.count("\n"))
    ]


def test_only_the_connector_builder_imports_a_particular_connector() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line} imports {target}"
        for path in sorted((ROOT / "gateway").rglob("*.py"))
        if path.relative_to(ROOT).as_posix() != CONNECTOR_BUILDER
        for line, target in _imports(path)
        if _is_connector_package(target)
    ]
    assert found == [], (
        "speak connectors.contract, or build the connector in " + CONNECTOR_BUILDER + ":\n"
    ) + "\n".join(found)


def test_connectors_never_import_the_gateway() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line} imports {target}"
        for path in sorted((ROOT / "connectors").rglob("*.py"))
        for line, target in _imports(path)
        if target == "gateway" or target.startswith("gateway.")
    ]
    assert found == []
