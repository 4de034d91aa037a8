"""Verifying an exported chain with nothing but the export, the checkpoints and a public key.

The export is JSONL, one event per line in seq order, with the fields of ``ExportedEvent``
(``occurred_at`` as ``gateway.audit.chain.format_time`` writes it). ``verify_export``
streams it once, in constant memory, and checks:

- the hash chain (``gateway.audit.chain.ChainVerifier``): every event's hash and link;
- every checkpoint's signature with the given key (a forged or altered one is reported
  and otherwise ignored);
- that each checkpoint's root is the Merkle root of the first ``size`` event hashes of
  the export and its ``last_event_hash`` is the hash of event ``size``;
- that each checkpoint extends the one before it, with an RFC 6962 consistency proof
  computed from the export and verified against the two signed roots;
- that the export is not shorter than the latest checkpoint (a removed tail).

Events after the latest signed checkpoint are *unanchored*: their hashes link up, but
anyone who can rewrite the database could have rewritten them and re-hashed the chain, so
they are not verified evidence. They fail the verification unless the caller explicitly
accepts them (``allow_unanchored``); either way the report counts them, and ``coverage``
says which checkpoint anchors which events.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Annotated, Any

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from gateway.audit.chain import ChainEvent, ChainVerifier
from gateway.audit.checkpoints import Checkpoint, key_id, verify_checkpoint
from gateway.audit.merkle import ConsistencyProver, MerkleAccumulator, verify_consistency


class ExportFormatError(Exception):
    """A line of the export is not an event; ``line`` is its 1-based number."""

    def __init__(self, detail: str, *, line: int) -> None:
        self.detail = detail
        self.line = line
        super().__init__(f"line {line} of the export is not an event: {detail}")


class ExportedEvent(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One line of the export; satisfies ``gateway.audit.chain.ChainEvent``."""

    seq: int
    # A time without an offset would be hashed in the verifier's local time zone.
    occurred_at: Annotated[datetime, msgspec.Meta(tz=True)]
    kind: str
    actor: str
    subject: str
    payload: dict[str, Any]
    policy_revision: str | None
    prev_hash: str
    hash: str


class Anchor(msgspec.Struct, frozen=True, kw_only=True):
    """A signed checkpoint that matches the export, and the events it newly anchors.

    The checkpoint covers events ``1..checkpoint``; ``first_seq..checkpoint`` are the ones
    no earlier matching checkpoint covered.
    """

    checkpoint: int
    first_seq: int


class OfflineReport(msgspec.Struct, frozen=True, kw_only=True):
    """The verdict on an export; ``ok`` when ``problems`` is empty.

    ``problems`` are sentences a person can act on: each checkpoint that is forged, the
    first break in the hash chain (after it the chain proves nothing more), the first
    checkpoint that no longer matches the export (later ones are counted), a checkpoint
    that does not extend the one before it, a removed tail, an unreadable line.
    ``first_bad_seq`` is the first event the export shows to be wrong: the first break in
    the hash chain; for a checkpoint that no longer matches while the chain before it is
    intact (a consistently rewritten stretch), the first event after the last checkpoint
    that still matches; for a removed tail, the first missing event. It is None when no
    event is wrong, even if a checkpoint is (a forged checkpoint is a problem, not an event).
    ``checkpoints_verified`` counts checkpoints whose signature, root and last event hash
    all hold; ``anchors`` lists them with the events each newly covers; ``unanchored``
    counts the events after the latest signed checkpoint (a problem unless allowed).
    """

    ok: bool
    events: int
    checkpoints_verified: int
    first_bad_seq: int | None
    problems: list[str]
    unanchored: int
    anchors: list[Anchor] = []
    selected: int | None = None  # events a bundle's selection.json names (None: none)

    def summary(self) -> list[str]:
        """Lines for a person: the verdict, then which checkpoints cover which events."""
        anchored = self.anchors[-1].checkpoint if self.anchors else 0
        lines = [
            f"{'ok' if self.ok else 'BROKEN'}: {self.events} events; "
            f"{min(anchored, self.events)} anchored by {self.checkpoints_verified} signed "
            f"checkpoint(s), {self.unanchored} unanchored"
        ]
        shown = self.anchors if len(self.anchors) <= 12 else self.anchors[:5] + self.anchors[-5:]
        for index, anchor in enumerate(shown):
            if len(self.anchors) > 12 and index == 5:
                lines.append(f"  … {len(self.anchors) - 10} more checkpoints …")
            lines.append(
                f"  events {anchor.first_seq}..{anchor.checkpoint}: checkpoint {anchor.checkpoint}"
            )
        if self.unanchored:
            first = self.events - self.unanchored + 1
            lines.append(
                f"  events {first}..{self.events}: unanchored ({self.unanchored} events "
                "no signed checkpoint covers)"
            )
        if self.selected is not None:
            lines.append(
                f"  selection: {self.selected} event(s) picked by the bundle's filter, "
                f"{'each in the verified chain' if self.ok else 'see the problems above'}"
            )
        return lines


_event_decoder = msgspec.json.Decoder(ExportedEvent)


def read_export_jsonl(path: Path) -> Iterator[ExportedEvent]:
    """The events of the JSONL export at ``path``, one line at a time.

    Blank lines are skipped. Raises ExportFormatError at the first line that is not an
    event (``verify_export`` reports it as a problem).
    """
    with path.open("rb") as handle:
        yield from read_export_lines(handle)


def read_export_lines(handle: IO[bytes]) -> Iterator[ExportedEvent]:
    """The events of a JSONL export read from an open binary stream (see above)."""
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            yield _event_decoder.decode(line)
        except msgspec.DecodeError as error:  # ValidationError is a DecodeError
            raise ExportFormatError(str(error), line=number) from error


def verify_export(
    events: Iterable[ExportedEvent],
    checkpoints: list[Checkpoint],
    public_key: Ed25519PublicKey,
    *,
    allow_unanchored: bool = False,
    selection: Iterable[tuple[int, str]] | None = None,
) -> OfflineReport:
    """Check an export against signed checkpoints; see the module docstring for what.

    Unanchored events (after the latest signed checkpoint) are a problem unless
    ``allow_unanchored``; they are counted either way. ``selection`` ([seq, hash] of the
    events a bundle's filter picked): each must be in the export with that hash.
    """
    check = _ExportCheck(checkpoints, public_key, allow_unanchored=allow_unanchored)
    if selection is not None:
        check.select(selection)
    try:
        for event in events:
            check.feed(event)
    except ExportFormatError as error:
        check.unreadable(error)
    return check.report()


def stream_check(
    checkpoints: list[Checkpoint], public_key: Ed25519PublicKey, *, allow_unanchored: bool
) -> _ExportCheck:
    """The checker ``verify_export`` runs, for callers that feed events one at a time
    themselves (e.g. from an async database cursor): ``feed`` each, then ``report()``."""
    return _ExportCheck(checkpoints, public_key, allow_unanchored=allow_unanchored)


def _leaf(event_hash: str) -> bytes:
    try:
        return bytes.fromhex(event_hash)
    except ValueError:
        # Not a hash, so the chain check fails at or before this event; a leaf that is not
        # 32 bytes of hash keeps every root over it from matching, as it should.
        return event_hash.encode()


def _short(digest: str) -> str:
    return digest[:16]


class _ExportCheck:
    """The state of one pass over an export."""

    def __init__(
        self,
        checkpoints: list[Checkpoint],
        public_key: Ed25519PublicKey,
        *,
        allow_unanchored: bool,
    ) -> None:
        self.allow_unanchored = allow_unanchored
        self.anchors: list[Anchor] = []
        self.problems: list[str] = []
        self.trusted: list[Checkpoint] = []
        given = key_id(public_key)
        for checkpoint in sorted(checkpoints, key=lambda c: (c.size, c.created_at)):
            if verify_checkpoint(public_key, checkpoint):
                self.trusted.append(checkpoint)
            elif checkpoint.key_id != given:
                self.problems.append(
                    f"checkpoint {checkpoint.size} names key {checkpoint.key_id}, not the "
                    f"given key {given}: its signature does not verify with the given key"
                )
            else:
                self.problems.append(
                    f"checkpoint {checkpoint.size} signature does not verify with the given "
                    f"key {given}: the checkpoint was altered or forged"
                )
        self.chain = ChainVerifier()
        self.tree = MerkleAccumulator()
        self.prover: ConsistencyProver | None = None
        self.next_checkpoint = 0
        self.last_hash = ""
        self.verified = 0
        self.matched_size = 0  # events covered by the latest checkpoint that matched
        self.previous_matched = False
        self.mismatches = 0
        self.bad_seqs: list[int] = []
        self.unreadable_line: ExportFormatError | None = None
        self.selected: dict[int, str] | None = None
        self.selected_seen: set[int] = set()

    def select(self, selection: Iterable[tuple[int, str]]) -> None:
        self.selected = {int(seq): str(digest) for seq, digest in selection}

    def _check_selected(self, event: ChainEvent) -> None:
        assert self.selected is not None
        expected = self.selected.get(event.seq)
        if expected is None:
            return
        self.selected_seen.add(event.seq)
        if expected != event.hash:
            self.problems.append(
                f"the selection names event {event.seq} with hash {_short(expected)}…, but "
                f"the export's event {event.seq} has hash {_short(event.hash)}…"
            )

    def feed(self, event: ChainEvent) -> None:
        if self.chain.failure is None and not self.chain.feed(event):
            assert self.chain.failure is not None
            self.problems.append(self.chain.failure.detail or "the hash chain is broken")
        if self.selected is not None:
            self._check_selected(event)
        leaf = _leaf(event.hash)
        self.tree.append(leaf)
        if self.prover is not None and not self.prover.complete:
            self.prover.append(leaf)
        self.last_hash = event.hash
        while (
            self.next_checkpoint < len(self.trusted)
            and self.trusted[self.next_checkpoint].size == self.tree.size
        ):
            self._check(self.next_checkpoint)
            self.next_checkpoint += 1

    def _check(self, index: int) -> None:
        checkpoint = self.trusted[index]
        root = self.tree.root().hex()
        matches = root == checkpoint.root_hash and self.last_hash == checkpoint.last_event_hash
        if not matches:
            self._mismatch(checkpoint, root)
        if index > 0:
            self._check_extends(self.trusted[index - 1], checkpoint, matches)
        if matches:
            self.verified += 1
            self.anchors.append(Anchor(checkpoint=checkpoint.size, first_seq=self.matched_size + 1))
            self.matched_size = checkpoint.size
        self.previous_matched = matches
        if index + 1 < len(self.trusted):
            self.prover = ConsistencyProver(self.tree, self.trusted[index + 1].size)

    def _mismatch(self, checkpoint: Checkpoint, root: str) -> None:
        self.mismatches += 1
        chain_bad = self.chain.failure.first_bad_seq if self.chain.failure else None
        if chain_bad is None or checkpoint.size < chain_bad:
            # The chain does not explain this one: events were rewritten consistently.
            self.bad_seqs.append(self.matched_size + 1)
        if self.mismatches > 1:
            return  # the first one is enough to act on; later ones are counted
        size = checkpoint.size
        differences = []
        if root != checkpoint.root_hash:
            differences.append(
                f"Merkle root of events 1..{size} is {_short(root)}…, "
                f"signed {_short(checkpoint.root_hash)}…"
            )
        if self.last_hash != checkpoint.last_event_hash:
            differences.append(
                f"event {size} has hash {_short(self.last_hash)}…, "
                f"signed {_short(checkpoint.last_event_hash)}…"
            )
        self.problems.append(
            f"checkpoint {size} does not match the export: events "
            f"{self.matched_size + 1}..{size} were changed, removed, inserted or reordered "
            f"after it was signed ({'; '.join(differences)})"
        )

    def _check_extends(self, previous: Checkpoint, current: Checkpoint, matches: bool) -> None:
        assert self.prover is not None and self.prover.complete
        consistent = verify_consistency(
            previous.size,
            current.size,
            bytes.fromhex(previous.root_hash),
            bytes.fromhex(current.root_hash),
            self.prover.proof(),
        )
        if consistent or not matches:
            return  # a current checkpoint that does not match the export is reported already
        if self.previous_matched:
            self.problems.append(
                f"the consistency proof from checkpoint {previous.size} to checkpoint "
                f"{current.size} does not verify although both match the export: "
                "report this verifier defect"
            )
        else:
            self.problems.append(
                f"checkpoint {current.size} does not extend checkpoint {previous.size}: "
                f"events 1..{previous.size} were rewritten and checkpoint {current.size} "
                "was signed over the rewritten history"
            )

    def unreadable(self, error: ExportFormatError) -> None:
        self.unreadable_line = error
        self.problems.append(f"{error}; verification stopped there, after {self.tree.size} events")
        self.bad_seqs.append(self.tree.size + 1)

    def report(self) -> OfflineReport:
        count = self.tree.size
        problems = list(self.problems)
        if self.mismatches > 1:
            problems.append(
                f"{self.mismatches - 1} later checkpoints do not match the export either"
            )
        unanchored = count
        if self.trusted:
            latest = self.trusted[-1]
            if latest.size > count:
                if self.unreadable_line is None:
                    problems.append(
                        f"export ends at event {count} but checkpoint {latest.size} covers "
                        f"{latest.size} events: events were removed"
                    )
                    self.bad_seqs.append(count + 1)
                unanchored = 0
            else:
                unanchored = count - latest.size
        if unanchored and not self.allow_unanchored:
            problems.append(
                f"{unanchored} events (seq {count - unanchored + 1}..{count}) are not covered "
                "by any signed checkpoint: they are not verified evidence (whoever controls "
                "the database could have rewritten them). Verify with checkpoints that cover "
                "them (a newer evidence bundle), or pass --allow-unanchored to accept them "
                "unverified"
            )
        if self.selected is not None and len(self.selected_seen) < len(self.selected):
            absent = sorted(set(self.selected) - self.selected_seen)
            problems.append(
                f"the selection names {len(absent)} event(s) the export does not hold "
                f"(seq {', '.join(map(str, absent[:3]))}{', …' if len(absent) > 3 else ''})"
            )
        bad = list(self.bad_seqs)
        if self.chain.failure is not None and self.chain.failure.first_bad_seq is not None:
            bad.append(self.chain.failure.first_bad_seq)
        return OfflineReport(
            ok=not problems,
            events=count,
            checkpoints_verified=self.verified,
            first_bad_seq=min(bad) if bad else None,
            problems=problems,
            unanchored=unanchored,
            anchors=list(self.anchors),
            selected=len(self.selected) if self.selected is not None else None,
        )
