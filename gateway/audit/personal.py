"""Personal fields in audit payloads, encrypted with the customer's own key.

Before an event is appended, the personal fields of its payload (author handle, display
name and description, mention text, reply text; an opt-out's handle and phrase) are
replaced by ``{"sealed": "v1:<base64 nonce||ciphertext>"}`` (AES-256-GCM, the field's
path as associated data) and the payload gets a ``subject_id``. The chain hashes the
sealed form, so destroying the key (erasure) leaves every event verifiable and countable
while its content becomes unrecoverable. Readers open payloads with the keys that remain;
an erased field reads ``"[erased]"``.
"""

from __future__ import annotations

import base64
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ERASED = "[erased]"
_PREFIX = "v1:"

PERSONAL_PATHS: tuple[tuple[str, ...], ...] = (
    ("input", "mention", "author", "handle"),
    ("input", "mention", "author", "display_name"),
    ("input", "mention", "author", "description"),
    ("input", "mention", "text"),
    ("input", "reply", "text"),
    ("input", "customer", "identity"),
    ("input", "customer", "account_id"),
    ("handle",),
    ("phrase",),
    ("reason",),
)


def _aad(subject_id: str, path: tuple[str, ...]) -> bytes:
    return f"{subject_id}/{'/'.join(path)}".encode()


def seal(payload: dict[str, Any], *, subject_id: str, key: bytes) -> dict[str, Any]:
    """A copy of ``payload`` with its personal fields encrypted under ``key``."""
    sealed = _copy_paths(payload)
    sealed["subject_id"] = subject_id
    cipher = AESGCM(key)
    for path in PERSONAL_PATHS:
        parent = _parent(sealed, path)
        if parent is None or path[-1] not in parent or parent[path[-1]] is None:
            continue
        nonce = os.urandom(12)
        plain = str(parent[path[-1]]).encode("utf-8")
        box = nonce + cipher.encrypt(nonce, plain, _aad(subject_id, path))
        parent[path[-1]] = {"sealed": _PREFIX + base64.b64encode(box).decode("ascii")}
    return sealed


def open_payload(payload: dict[str, Any], keys: dict[str, bytes | None]) -> dict[str, Any]:
    """A copy with sealed fields decrypted, or ``[erased]`` where the key is gone."""
    subject_id = payload.get("subject_id")
    if not isinstance(subject_id, str):
        return payload
    opened = _copy_paths(payload)
    key = keys.get(subject_id)
    for path in PERSONAL_PATHS:
        parent = _parent(opened, path)
        if parent is None:
            continue
        value = parent.get(path[-1])
        if not (isinstance(value, dict) and isinstance(value.get("sealed"), str)):
            continue
        parent[path[-1]] = _open(value["sealed"], key, subject_id, path)
    return opened


def is_erased(payload: dict[str, Any]) -> bool:
    return any(
        (parent := _parent(payload, path)) is not None and parent.get(path[-1]) == ERASED
        for path in PERSONAL_PATHS
    )


def _open(box: str, key: bytes | None, subject_id: str, path: tuple[str, ...]) -> str:
    if key is None or not box.startswith(_PREFIX):
        return ERASED
    raw = base64.b64decode(box[len(_PREFIX) :])
    try:
        return AESGCM(key).decrypt(raw[:12], raw[12:], _aad(subject_id, path)).decode("utf-8")
    except (InvalidTag, ValueError):
        return ERASED


def _copy_paths(payload: dict[str, Any]) -> dict[str, Any]:
    """A copy in which only the dicts on the personal paths are new (the rest is shared):
    enough to replace those fields without touching ``payload``, and cheap on the hot path."""
    top = dict(payload)
    fresh = {id(top)}
    for path in PERSONAL_PATHS:
        node = top
        for part in path[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                break
            if id(child) not in fresh:
                child = dict(child)
                node[part] = child
                fresh.add(id(child))
            node = child
    return top


def _parent(doc: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any] | None:
    node: Any = doc
    for part in path[:-1]:
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node if isinstance(node, dict) else None
