"""A publisher that records what it "sent", so a demo can show what the channel saw.

Each delivered reply is appended as one JSON line (a ``SentReply``) to a file and fsync'd
before ``publish`` returns. Publishing is idempotent by ``idempotency_key``: a repeated key
returns the first receipt with ``duplicate=True`` and records nothing. The keys are loaded
from the file on construction, so this holds across restarts. A torn last line (a crash
in the middle of a write, before ``publish`` returned) is cut off on load: that reply was
never acknowledged, so its retry records it again.

Errors: ``TransientError`` when the file cannot be written, ``PermanentError`` when the
reply cannot be encoded as JSON; on construction ``PermanentError`` when the file cannot
be read or holds a line that is not a record.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from connectors.contract import OutgoingReply, PermanentError, Receipt, TransientError


class SentReply(msgspec.Struct, frozen=True, kw_only=True):
    """One reply the demo channel received: a line of the record file."""

    reply: OutgoingReply
    receipt: Receipt


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(SentReply)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _rfc3339(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class DemoPublisher:
    """A ``Publisher`` that appends to a JSONL file (``path``) or only remembers (``None``).

    ``sent()`` lists the recorded replies, oldest first. ``clock`` must return aware
    datetimes (naive ones are taken as UTC).
    """

    def __init__(
        self,
        path: Path | None,
        *,
        channel: str = "demo",
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.channel = channel
        self._path = path
        self._clock = clock
        self._lock = asyncio.Lock()
        self._entries: list[SentReply] = []
        self._receipts: dict[str, Receipt] = {}
        if path is not None:
            for entry in _load(path):
                self._remember(entry)

    def sent(self) -> list[SentReply]:
        return list(self._entries)

    async def publish(self, reply: OutgoingReply) -> Receipt:
        async with self._lock:
            known = self._receipts.get(reply.idempotency_key)
            if known is not None:
                return msgspec.structs.replace(known, duplicate=True)
            external_id = "demo-" + hashlib.sha256(reply.idempotency_key.encode()).hexdigest()[:12]
            receipt = Receipt(
                channel=self.channel,
                external_id=external_id,
                url=f"https://demo.example/replies/{external_id}",
                delivered_at=_rfc3339(self._clock()),
            )
            entry = SentReply(reply=reply, receipt=receipt)
            if self._path is not None:
                await self._record(self._path, entry)
            self._remember(entry)
            return receipt

    async def _record(self, path: Path, entry: SentReply) -> None:
        try:
            line = _encoder.encode(entry) + b"\n"
        except (TypeError, msgspec.EncodeError) as exc:
            raise PermanentError(f"reply cannot be encoded as JSON: {exc}") from exc
        write = asyncio.ensure_future(asyncio.to_thread(_append, path, line))
        try:
            # Shielded: a cancelled publish must not leave a written line out of the index,
            # or its retry would record the same reply twice.
            await asyncio.shield(write)
        except asyncio.CancelledError:
            await asyncio.wait([write])
            if not write.cancelled() and write.exception() is None:
                self._remember(entry)
            raise
        except OSError as exc:
            raise TransientError(f"could not record the demo reply: {exc}") from exc

    def _remember(self, entry: SentReply) -> None:
        key = entry.reply.idempotency_key
        if key not in self._receipts:
            self._receipts[key] = entry.receipt
            self._entries.append(entry)


def _append(path: Path, line: bytes) -> None:
    created = not path.exists()
    if created:
        path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as file:
        file.write(line)
        file.flush()
        os.fsync(file.fileno())
    if created:
        _fsync_dir(path.parent)  # so the new file's name survives a crash too


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _load(path: Path) -> list[SentReply]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise PermanentError(f"cannot read the demo reply record {path}: {exc}") from exc
    complete = data.rfind(b"\n") + 1
    if complete < len(data):
        with path.open("r+b") as file:
            file.truncate(complete)
            os.fsync(file.fileno())
    entries = []
    for number, line in enumerate(data[:complete].splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entries.append(_decoder.decode(line))
        except msgspec.DecodeError as exc:
            raise PermanentError(f"{path}:{number} is not a demo reply record: {exc}") from exc
    return entries
