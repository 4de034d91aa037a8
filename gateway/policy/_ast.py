"""What the gateway needs to know from regorus's AST: packages, rules, imports, calls.

Shape (regorus 0.13, ``Engine.get_ast_as_json()``), checked by hand and by tests:
a list of ``{"source": {"file", "contents"}, "ast": {"package", "imports", "rules"}}``.
References are ``{"Var": {"value", "span"}}`` or ``{"RefDot": {"refr", "field":
[span, name]}}`` (or ``RefBrack`` for ``x[k]``); a call is ``{"Call": {"fcn": <ref>,
"params": [...]}}`` anywhere in the tree; a rule is ``{"Spec": {"head": {"Compr" |
"Set" | "Func": {"refr"}}}}`` or ``{"Default": {"refr"}}``; an import alias (``as x``)
is only a span, so its name is cut from the source. Spans: 1-based ``line`` and
``col``, ``start``/``end`` byte offsets into the UTF-8 source.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import msgspec


class Call(msgspec.Struct, frozen=True, kw_only=True):
    """A function call; ``name`` is dotted (``time.now_ns``), None when not a plain ref."""

    name: str | None
    line: int
    column: int


class RuleHead(msgspec.Struct, frozen=True, kw_only=True):
    """One definition of a rule or function; ``name`` is relative to its package."""

    name: str
    line: int
    is_function: bool
    is_plain: bool  # `name := ...` / `name if ...`: neither a function, a set nor `name[k]`


class Module(msgspec.Struct, frozen=True, kw_only=True):
    file: str
    package: str
    imports: dict[str, str]  # local name -> imported path, e.g. "lib" -> "data.engagement.lib"
    rules: list[RuleHead]
    calls: list[Call]


def read_modules(ast_json: str) -> list[Module]:
    """Parse ``get_ast_as_json()`` output into modules, in the engine's order."""
    return [_module(entry) for entry in json.loads(ast_json)]


def _module(entry: dict[str, Any]) -> Module:
    source = entry["source"]
    ast = entry["ast"]
    contents: bytes = source["contents"].encode("utf-8")
    return Module(
        file=source["file"],
        package=_dotted(ast["package"]["refr"]) or "",
        imports=dict(_imports(ast.get("imports") or [], contents)),
        rules=[head for rule in ast.get("rules") or [] if (head := _rule_head(rule))],
        calls=list(_calls(ast.get("rules") or [])),
    )


def _imports(imports: list[dict[str, Any]], contents: bytes) -> Iterator[tuple[str, str]]:
    for item in imports:
        target = _dotted(item["refr"])
        if target is None:
            continue
        alias_span = item.get("as")
        if alias_span:
            alias = contents[alias_span["start"] : alias_span["end"]].decode("utf-8")
        else:
            alias = target.rsplit(".", 1)[-1]
        yield alias, target


def _rule_head(rule: dict[str, Any]) -> RuleHead | None:
    if "Default" in rule:
        refr = rule["Default"]["refr"]
        kind = "Compr"
    elif "Spec" in rule:
        ((kind, head),) = rule["Spec"]["head"].items()
        refr = head["refr"]
    else:
        return None
    plain_ref = "RefBrack" not in refr
    if not plain_ref:
        refr = refr["RefBrack"]["refr"]
    name = _dotted(refr)
    if name is None:
        return None
    return RuleHead(
        name=name,
        line=_position(refr)[0],
        is_function=kind == "Func",
        is_plain=kind == "Compr" and plain_ref,
    )


def _calls(node: Any) -> Iterator[Call]:
    # Iterative walk: policies can nest deeply and the tree is only data.
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            call = current.get("Call")
            if isinstance(call, dict) and "fcn" in call:
                line, column = _position(call["fcn"])
                yield Call(name=_dotted(call["fcn"]), line=line, column=column)
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)


def _dotted(ref: dict[str, Any]) -> str | None:
    """``a.b.c`` for a chain of ``Var`` and ``RefDot``; None for anything else."""
    parts: list[str] = []
    while "RefDot" in ref:
        parts.append(ref["RefDot"]["field"][1])
        ref = ref["RefDot"]["refr"]
    if "Var" not in ref:
        return None
    parts.append(ref["Var"]["value"])
    return ".".join(reversed(parts))


def _position(ref: dict[str, Any]) -> tuple[int, int]:
    # The innermost node is where the name starts; outer RefDot spans point at a dot.
    while True:
        ((_kind, body),) = ref.items()
        inner = body.get("refr") if isinstance(body, dict) else None
        if not isinstance(inner, dict):
            span = body.get("span", {}) if isinstance(body, dict) else {}
            return int(span.get("line", 0)), int(span.get("col", 0))
        ref = inner
