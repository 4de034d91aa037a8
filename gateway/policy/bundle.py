"""A policy bundle: Rego files plus the ``data.engagement`` document, named by content.

The revision is a content hash, so the same files and data always give the same
revision, wherever and whenever they were loaded; every decision records it, and a
stored decision can be replayed against exactly the policy that took it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from gateway.domain.policy_content import canonical_content, revision_of, round_trips
from gateway.policy.errors import BundleError

DATA_FILE = "engagement/data.json"
TEST_SUFFIX = "_test.rego"


class PolicyBundle(msgspec.Struct, frozen=True, kw_only=True):
    """Rego sources and data, with the revision that names them.

    ``files`` maps a path relative to the bundle directory (``/``-separated) to its
    Rego text, in sorted order; it includes ``*_test.rego`` files. ``data`` is the
    content of ``data.engagement``. Build one with :func:`build_bundle` or
    :func:`load_bundle` so that ``revision`` matches the content; treat it as
    read-only (the dicts are not copied).
    """

    files: dict[str, str]
    data: dict[str, Any]
    revision: str

    @property
    def policy_files(self) -> dict[str, str]:
        """The files an engine enforces: every file except ``*_test.rego``."""
        return {path: text for path, text in self.files.items() if not is_test_file(path)}


def is_test_file(path: str) -> bool:
    """Whether ``path`` holds Rego unit tests rather than policy."""
    return path.endswith(TEST_SUFFIX)


def bundle_revision(files: Mapping[str, str], data: Mapping[str, Any]) -> str:
    """``sha256:<hex>`` of the canonical JSON of ``{"files": files, "data": data}``
    (``gateway.domain.policy_content``): the bytes that are stored and loaded."""
    return revision_of(canonical_content(files, data))


def content_of(bundle: PolicyBundle) -> bytes:
    """The exact bytes to store for ``bundle``; their hash is its revision.

    Raises BundleError, naming the value, for data that would not come back the same
    from those bytes (a number too large for a 64-bit float, NaN).
    """
    _check_numbers(bundle.data, "data")
    content = canonical_content(bundle.files, bundle.data)
    if not round_trips(content):
        raise BundleError(
            "the policy data does not read back the same from its stored form; "
            "use plain JSON values (strings, finite numbers, booleans, null, lists, objects)"
        )
    return content


def verified_bundle(
    files: Mapping[str, str], data: Mapping[str, Any], *, revision: str
) -> PolicyBundle:
    """The bundle of a stored version, refusing one whose content is not ``revision``."""
    bundle = build_bundle(files, data)
    if bundle.revision != revision:
        raise BundleError(
            f"policy {revision} loads as {bundle.revision}: its stored content changed"
        )
    return bundle


def _check_numbers(value: Any, path: str) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise BundleError(
            f"{path} is {value!r}, which JSON cannot hold: use a number within "
            "±1.7976931348623157e308"
        )
    if isinstance(value, dict):
        for key, item in value.items():
            _check_numbers(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_numbers(item, f"{path}[{index}]")


def build_bundle(files: Mapping[str, str], data: Mapping[str, Any]) -> PolicyBundle:
    """A bundle from content already in memory (a draft from the store, a test)."""
    ordered = {path: files[path] for path in sorted(files)}
    return PolicyBundle(files=ordered, data=dict(data), revision=bundle_revision(ordered, data))


def load_bundle(directory: Path) -> PolicyBundle:
    """Read every ``*.rego`` under ``directory`` (recursively) and ``engagement/data.json``.

    A missing ``data.json`` means empty data. Raises :class:`BundleError` when the
    directory does not exist, holds no ``.rego`` file, or a file is not UTF-8 or
    (for ``data.json``) not a JSON object; the message names the file.
    """
    if not directory.is_dir():
        raise BundleError(f"policy directory {directory} does not exist or is not a directory")
    files: dict[str, str] = {}
    for path in sorted(directory.rglob("*.rego")):
        if path.is_file():
            files[path.relative_to(directory).as_posix()] = _read_text(path)
    if not files:
        raise BundleError(
            f"no .rego files under {directory}: a bundle needs at least one policy "
            "defining data.engagement.decision"
        )
    return build_bundle(files, _load_data(directory / DATA_FILE))


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise BundleError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise BundleError(f"cannot read {path}: {exc.strerror}") from exc


def _load_data(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    text = _read_text(path)
    try:
        # The standard library reports line and column, which a person can act on.
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise BundleError(
            f"{path} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    except ValueError as exc:
        raise BundleError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise BundleError(
            f"{path} must hold a JSON object (the content of data.engagement), "
            f"not a {type(value).__name__}"
        )
    return value


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        # 1e400 would read as infinity and be stored as null: refuse it, naming it.
        raise ValueError(f"the number {text} is too large for a JSON number (64-bit float)")
    return value


def _refuse_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; they would make the canonical form ambiguous.
    raise ValueError(f"{name} is not allowed")
