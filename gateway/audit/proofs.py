"""Inclusion and consistency proofs against signed checkpoints, from the stored hashes.

Each proof element is the Merkle root of a range of event hashes; ranges are streamed
from the database one at a time, so a proof costs one pass over at most the checkpoint's
events and constant memory.
"""

from __future__ import annotations

import msgspec

from gateway.audit.checkpoints import Checkpoint
from gateway.audit.merkle import (
    MerkleAccumulator,
    consistency_proof_ranges,
    inclusion_proof_ranges,
    verify_consistency,
    verify_inclusion,
)
from gateway.store import checkpoints as store
from gateway.store.connection import Conn
from gateway.store.errors import NotFound


class InclusionProof(msgspec.Struct, frozen=True, kw_only=True):
    """RFC 6962 audit path of event ``seq`` (leaf index ``seq - 1``) in checkpoint ``size``."""

    seq: int
    leaf_index: int
    event_hash: str  # the leaf (the event's chain hash); the tree hashes it as 0x00 || leaf
    checkpoint: Checkpoint
    path: list[str]  # hex, from the leaf up
    verified: bool  # the gateway checked the path against the signed root itself


class ConsistencyProof(msgspec.Struct, frozen=True, kw_only=True):
    old: Checkpoint
    new: Checkpoint
    proof: list[str]
    verified: bool


async def _range_root(conn: Conn, lo: int, hi: int) -> bytes:
    """The Merkle root of leaves [lo, hi) (0-based), i.e. events lo+1 .. hi."""
    tree = MerkleAccumulator()
    async for _seq, digest in store.event_hashes(conn, start=lo + 1, end=hi + 1):
        tree.append(bytes.fromhex(digest))
    if tree.size != hi - lo:
        raise NotFound(f"events {lo + 1}..{hi} are not all stored")
    return tree.root()


async def inclusion(conn: Conn, seq: int, *, size: int | None) -> InclusionProof:
    checkpoint = await (store.get_checkpoint(conn, size) if size else store.latest_checkpoint(conn))
    if checkpoint is None:
        raise NotFound("no checkpoint has been written yet; try again in a minute")
    if not 1 <= seq <= checkpoint.size:
        raise NotFound(f"event {seq} is not covered by checkpoint {checkpoint.size}")
    leaf = await conn.fetchval("SELECT hash FROM audit_events WHERE seq = $1", seq)
    if leaf is None:
        raise NotFound(f"audit event {seq} does not exist")
    path = [
        await _range_root(conn, lo, hi)
        for lo, hi in inclusion_proof_ranges(seq - 1, checkpoint.size)
    ]
    verified = verify_inclusion(
        bytes.fromhex(leaf), seq - 1, checkpoint.size, path, bytes.fromhex(checkpoint.root_hash)
    )
    return InclusionProof(
        seq=seq,
        leaf_index=seq - 1,
        event_hash=leaf,
        checkpoint=checkpoint,
        path=[p.hex() for p in path],
        verified=verified,
    )


async def consistency(conn: Conn, old_size: int, new_size: int) -> ConsistencyProof:
    old = await store.get_checkpoint(conn, old_size)
    new = await store.get_checkpoint(conn, new_size)
    if old.size > new.size:
        raise NotFound("the first checkpoint must not be larger than the second")
    proof = [
        await _range_root(conn, lo, hi) for lo, hi in consistency_proof_ranges(old.size, new.size)
    ]
    verified = verify_consistency(
        old.size, new.size, bytes.fromhex(old.root_hash), bytes.fromhex(new.root_hash), proof
    )
    return ConsistencyProof(old=old, new=new, proof=[p.hex() for p in proof], verified=verified)
