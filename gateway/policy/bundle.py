"""A policy bundle: Rego files plus the ``data.engagement`` document, named by content.

The revision is a content hash, so the same files and data always give the same
revision, wherever and whenever they were loaded; every decision records it, and a
stored decision can be replayed against exactly the policy that took it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from gateway.policy.errors import BundleError

DATA_FILE = "engagement/data.json"
TEST_SUFFIX = "_test.rego"

# Canonical JSON: sorted keys, no whitespace, UTF-8 (non-ASCII is not escaped).
_canonical = msgspec.json.Encoder(order="sorted")


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
    """``sha256:<hex>`` of the canonical JSON of ``{"files": files, "data": data}``."""
    canonical = _canonical.encode({"files": dict(files), "data": dict(data)})
    return "sha256:" + hashlib.sha256(canonical).hexdigest()


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
        value = json.loads(text, parse_constant=_refuse_constant)
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


def _refuse_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; they would make the canonical form ambiguous.
    raise ValueError(f"{name} is not allowed")
