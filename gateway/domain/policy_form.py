"""Tunables forms: the policy data's JSON Schema plus a revision's data → form fields, and a
submitted form → validated data with one plain-words error per field.

Pure (no I/O). The schema is ``gateway.domain.policy_data.DATA_SCHEMA``; what becomes a
field:

- an object with ``properties``     → a group of fields (``kind="group"``)
- an object with ``additionalProperties`` only → a map: one field per key plus a row to add
  a key (``kind="map"``; an emptied value removes its key unless ``x-required-keys``)
- an integer → ``integer``; a boolean → ``boolean``; a string with ``enum`` → ``choice``
- an array of strings with an ``enum`` → ``multichoice``; any other array of strings →
  ``lines`` (a textarea, one item per line)

Field names are the JSON path, each key percent-quoted, joined by ``/``. Every field is
always submitted (a boolean or a multichoice also sends a hidden empty value), so a field
missing from a submission is an incomplete form, not an emptied value. Properties the form
does not show (``x-form: false``, or not in the schema) keep the base revision's values.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal
from urllib.parse import quote, unquote

import msgspec

Kind = Literal["group", "map", "integer", "boolean", "choice", "multichoice", "lines", "text"]
PatternCheck = Callable[[list[str]], dict[str, str]]  # invalid pattern → why

NEW_KEY = "+key"
NEW_VALUE = "+value"
MAX_FIELD_CHARS = 512 * 1024
_MAX_NUMBER_CHARS = 20
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


class FormField(msgspec.Struct, frozen=True, kw_only=True):
    """One field (or group of fields) as a template renders it."""

    name: str
    label: str
    kind: Kind
    help: str = ""
    value: str = ""  # integer, choice, lines, text: the text in the control
    selected: list[str] = []  # multichoice: the checked options; boolean: ["on"] if checked
    options: list[str] = []  # choice, multichoice
    minimum: int | None = None
    maximum: int | None = None
    required: bool = False
    error: str | None = None
    fields: list[FormField] = []  # group, map: the fields inside, a map's new-key row last


class FormResult(msgspec.Struct, frozen=True, kw_only=True):
    """The data a submission describes (the base with the form's fields replaced), the
    error per field name (empty when valid), and the names of the fields that changed."""

    data: dict[str, Any]
    errors: dict[str, str]
    changed: list[str]

    @property
    def ok(self) -> bool:
        return not self.errors


def field_name(path: Sequence[str]) -> str:
    return "/".join(quote(part, safe="") for part in path)


def path_of(name: str) -> list[str]:
    return [unquote(part) for part in name.split("/")]


# ---- building the form ------------------------------------------------------------


def build_form(
    schema: Mapping[str, Any],
    data: Mapping[str, Any],
    *,
    submitted: Mapping[str, Sequence[str]] | None = None,
    errors: Mapping[str, str] | None = None,
) -> list[FormField]:
    """The top-level fields of ``schema`` filled from ``data`` (or, re-showing a refused
    submission, from ``submitted``), each carrying its error from ``errors``."""
    builder = _Builder(submitted, errors or {})
    return [
        builder.field(sub, [key], data.get(key))
        for key, sub in _form_properties(schema)
        if (_kind(sub) is not None)
    ]


class _Builder:
    def __init__(self, submitted: Mapping[str, Sequence[str]] | None, errors: Mapping[str, str]):
        self.submitted = submitted
        self.errors = errors

    def field(self, schema: Mapping[str, Any], path: list[str], value: Any) -> FormField:
        kind = _kind(schema)
        assert kind is not None
        name = field_name(path)
        common: dict[str, Any] = {
            "name": name,
            "label": schema.get("title") or path[-1],
            "help": schema.get("description", ""),
            "error": self.errors.get(name),
        }
        if kind == "group":
            current = value if isinstance(value, Mapping) else {}
            fields = [
                self.field(sub, [*path, key], current.get(key))
                for key, sub in _form_properties(schema)
                if _kind(sub) is not None
            ]
            return FormField(kind="group", fields=fields, **common)
        if kind == "map":
            return FormField(kind="map", fields=self._map_fields(schema, path, value), **common)
        if kind == "integer":
            return FormField(
                kind="integer",
                value=self._text(name, "" if value is None else _scalar(value)),
                minimum=schema.get("minimum"),
                maximum=schema.get("maximum"),
                required=not schema.get("x-empty-removes", False),
                **common,
            )
        if kind == "boolean":
            on = self._values(name, ["on"] if value is True else [])
            return FormField(kind="boolean", selected=["on"] if "on" in on else [], **common)
        if kind == "choice":
            return FormField(
                kind="choice",
                value=self._text(name, "" if value is None else _scalar(value)),
                options=list(schema["enum"]),
                **common,
            )
        if kind == "multichoice":
            listed = [str(v) for v in value] if isinstance(value, list) else []
            chosen = [v for v in self._values(name, listed) if v]
            return FormField(
                kind="multichoice",
                selected=chosen,
                options=list(schema["items"]["enum"]),
                **common,
            )
        lines = "\n".join(_scalar(v) for v in value) if isinstance(value, list) else ""
        return FormField(kind="lines", value=self._text(name, lines), **common)

    def _map_fields(
        self, schema: Mapping[str, Any], path: list[str], value: Any
    ) -> list[FormField]:
        current = value if isinstance(value, Mapping) else {}
        item = schema["additionalProperties"]
        fields = []
        keys = sorted(current, key=lambda k: (k != "default", k))
        for key in keys:
            sub = {**item, "title": key, "description": ""}
            fields.append(self.field(sub, [*path, key], current[key]))
        new_key = field_name([*path, NEW_KEY])
        fields.append(
            FormField(
                name=new_key,
                label="New name",
                kind="text",
                value=self._text(new_key, ""),
                error=self.errors.get(new_key),
            )
        )
        new_item = {**item, "title": "Its value", "description": ""}
        fields.append(self.field(new_item, [*path, NEW_VALUE], None))
        return fields

    def _text(self, name: str, default: str) -> str:
        if self.submitted is None:
            return default
        values = self.submitted.get(name)
        return values[-1] if values else ""

    def _values(self, name: str, default: list[str]) -> list[str]:
        if self.submitted is None:
            return default
        return list(self.submitted.get(name, []))


def _form_properties(schema: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    props = schema.get("properties", {})
    return [
        (key, sub)
        for key, sub in props.items()
        if sub.get("x-form", True) is not False and "title" in sub
    ]


def _kind(schema: Mapping[str, Any]) -> Kind | None:
    kind = schema.get("type")
    if kind == "object":
        if "properties" in schema:
            return "group"
        return "map" if isinstance(schema.get("additionalProperties"), Mapping) else None
    if kind == "integer":
        return "integer"
    if kind == "boolean":
        return "boolean"
    if kind == "string":
        return "choice" if "enum" in schema else None
    if kind == "array":
        items = schema.get("items", {})
        if items.get("type") != "string":
            return None
        return "multichoice" if "enum" in items else "lines"
    return None


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return msgspec.json.encode(value).decode()


# ---- reading a submission ------------------------------------------------------------


class _Remove:
    pass


REMOVE = _Remove()


def read_form(
    schema: Mapping[str, Any],
    base: Mapping[str, Any],
    form: Mapping[str, Sequence[str]],
    *,
    check_patterns: PatternCheck | None = None,
) -> FormResult:
    """The data ``form`` describes: ``base`` with every form field replaced by its
    validated value. ``check_patterns`` names the invalid ones among ``x-regex`` values
    (the policy engine's regex syntax); without it they are not checked."""
    reader = _Reader(form, check_patterns)
    data = copy.deepcopy(dict(base))
    for key, sub in _form_properties(schema):
        if _kind(sub) is None:
            continue
        value = reader.read(sub, [key], data.get(key))
        _put(data, key, value)
    if reader.errors:
        return FormResult(data=dict(base), errors=reader.errors, changed=[])
    return FormResult(data=data, errors={}, changed=reader.changed)


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    if isinstance(value, _Remove):
        target.pop(key, None)
    else:
        target[key] = value


class _Reader:
    def __init__(self, form: Mapping[str, Sequence[str]], check: PatternCheck | None) -> None:
        self.form = form
        self.check = check
        self.errors: dict[str, str] = {}
        self.changed: list[str] = []

    def fail(self, name: str, message: str) -> _Remove:
        self.errors.setdefault(name, message)
        return REMOVE

    def read(self, schema: Mapping[str, Any], path: list[str], old: Any) -> Any:
        kind = _kind(schema)
        name = field_name(path)
        if kind == "group":
            current = dict(old) if isinstance(old, Mapping) else {}
            for key, sub in _form_properties(schema):
                if _kind(sub) is not None:
                    _put(current, key, self.read(sub, [*path, key], current.get(key)))
            return current
        if kind == "map":
            return self._map(schema, path, old)
        raw = self.form.get(name)
        if raw is None:
            return self.fail(name, "this field was missing from the form; reload the page")
        new = self._leaf(kind, schema, name, list(raw))
        if not isinstance(new, _Remove) and _same(new, old):
            return old  # unchanged: keep the stored spelling and order
        if not (isinstance(new, _Remove) and old is None) and name not in self.errors:
            self.changed.append(name)
        return new

    def _leaf(self, kind: Kind | None, schema: Mapping[str, Any], name: str, raw: list[str]) -> Any:
        if kind == "integer":
            return self._integer(schema, name, raw[-1] if raw else "")
        if kind == "boolean":
            return "on" in raw
        if kind == "choice":
            value = raw[-1] if raw else ""
            if value not in schema["enum"]:
                return self.fail(name, f"choose one of: {', '.join(schema['enum'])}")
            return value
        if kind == "multichoice":
            allowed = list(schema["items"]["enum"])
            chosen = [v for v in raw if v]
            for value in chosen:
                if value not in allowed:
                    return self.fail(name, f"{value!r} is not one of: {', '.join(allowed)}")
            return [v for v in allowed if v in chosen]
        return self._lines(schema, name, raw[-1] if raw else "")

    def _integer(self, schema: Mapping[str, Any], name: str, raw: str) -> Any:
        text = raw.strip()
        if not text:
            if schema.get("x-empty-removes"):
                return REMOVE
            return self.fail(name, "enter a whole number")
        if len(text) > _MAX_NUMBER_CHARS:
            return self.fail(name, f"{_show(text)} is too long for a number here")
        digits = text[1:] if text[0] in "+-" else text
        if not digits or not all("0" <= c <= "9" for c in digits):
            return self.fail(name, f"{_show(text)} is not a whole number (use the digits 0-9)")
        number = int(text)
        low, high = schema.get("minimum"), schema.get("maximum")
        if low is not None and number < low:
            return self.fail(name, f"{number} is too small: use {low} or more")
        if high is not None and number > high:
            return self.fail(name, f"{number} is too large: use at most {high}")
        return number

    def _lines(self, schema: Mapping[str, Any], name: str, raw: str) -> Any:
        if len(raw) > MAX_FIELD_CHARS:
            return self.fail(name, f"the text is longer than {MAX_FIELD_CHARS} characters")
        items: list[str] = []
        item_schema = schema.get("items", {})
        for number, line in enumerate(raw.splitlines(), start=1):
            value = unicodedata.normalize("NFC", line.strip())
            if not value:
                continue
            problem = _string_problem(item_schema, value)
            if problem is None and value in items:
                problem = "is listed twice"
            if problem is not None:
                return self.fail(name, f"line {number} ({_show(value)}) {problem}")
            items.append(value)
        most = schema.get("maxItems")
        if most is not None and len(items) > most:
            return self.fail(name, f"{len(items)} lines; at most {most}")
        if item_schema.get("x-regex") and items and self.check is not None:
            invalid = self.check(items)
            for value in items:
                if value in invalid:
                    return self.fail(
                        name, f"{_show(value)} is not a valid regular expression: {invalid[value]}"
                    )
        return items

    def _map(self, schema: Mapping[str, Any], path: list[str], old: Any) -> Any:
        current = dict(old) if isinstance(old, Mapping) else {}
        item = schema["additionalProperties"]
        required = set(schema.get("x-required-keys", []))
        for key in list(current):
            sub = {**item, "x-empty-removes": True}
            value = self.read(sub, [*path, key], current[key])
            if isinstance(value, _Remove) or value == []:
                if key in required:
                    self.fail(field_name([*path, key]), f"{key!r} is required; enter a value")
                current.pop(key)
            else:
                current[key] = value
        key_name = field_name([*path, NEW_KEY])
        raw_key = self.form.get(key_name)
        if raw_key is None:
            return self.fail(key_name, "this field was missing from the form; reload the page")
        new_key = unicodedata.normalize("NFC", (raw_key[-1] if raw_key else "").strip())
        value_name = field_name([*path, NEW_VALUE])
        new_value = self.read({**item, "x-empty-removes": True}, [*path, NEW_VALUE], None)
        has_value = not isinstance(new_value, _Remove) and new_value != []
        if value_name in self.changed:
            self.changed.remove(value_name)
        if not new_key:
            if has_value:
                self.fail(key_name, "give the new entry a name")
            return current
        problem = _key_problem(schema, new_key)
        if problem is None and new_key in current:
            problem = "already exists; change its value above"
        if problem is not None:
            return self.fail(key_name, f"{_show(new_key)} {problem}")
        if not has_value and value_name not in self.errors:
            return self.fail(value_name, f"enter a value for {new_key!r}")
        if has_value:
            current[new_key] = new_value
            self.changed.append(field_name([*path, new_key]))
        return current


def _same(new: Any, old: Any) -> bool:
    if type(new) is not type(old):
        return False
    return bool(new == old)


def _string_problem(schema: Mapping[str, Any], value: str) -> str | None:
    for char in value:
        if unicodedata.category(char) in _INVISIBLE:
            return f"contains an invisible or control character (U+{ord(char):04X}); remove it"
    low, high = schema.get("minLength", 0), schema.get("maxLength")
    if len(value) < low:
        return "is empty"
    if high is not None and len(value) > high:
        return f"is {len(value)} characters long; at most {high}"
    if "enum" in schema and value not in schema["enum"]:
        return f"is not one of: {', '.join(schema['enum'])}"
    if schema.get("x-lowercase") and value != value.lower():
        return (
            f"has upper-case letters, but the policy matches lower-cased text, so it would "
            f"never match; write it as {value.lower()!r}"
        )
    pattern = schema.get("pattern")
    if pattern is not None and not _matches(pattern, value):
        return (
            "must be plain words separated by single spaces, without | . * + ? ( ) [ ] { } ^ $ \\ #"
            if "( [^" in pattern
            else "is not in the expected form"
        )
    return None


def _key_problem(schema: Mapping[str, Any], key: str) -> str | None:
    names = schema.get("propertyNames", {})
    for char in key:
        if unicodedata.category(char) in _INVISIBLE:
            return f"contains an invisible or control character (U+{ord(char):04X})"
    if len(key) > names.get("maxLength", 64) or not _matches(names.get("pattern", ".*"), key):
        return "is not a valid name: use lower-case letters, digits, '-', '_' and '.'"
    if key in (NEW_KEY, NEW_VALUE):
        return "is reserved"
    return None


def _matches(pattern: str, value: str) -> bool:
    # The schema's patterns use the common subset of ECMA 262 (JSON Schema) and Python re.
    return re.search(pattern, value) is not None


def _show(value: str) -> str:
    short = value if len(value) <= 60 else value[:59] + "…"
    return repr(short)
