"""RFC 6962 Merkle trees over the audit chain's event hashes: roots, proofs, verification.

A leaf is one event's chain hash as bytes (``bytes.fromhex(event.hash)``); leaf ``i`` is the
event with seq ``i + 1``. Hashing is RFC 6962 §2.1 (unchanged in RFC 9162 §2.1.1)::

    MTH({})   = SHA-256()
    MTH({d})  = SHA-256(0x00 || d)                                 the leaf hash
    MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))         k = largest power of 2 < n

Proofs are lists of 32-byte node hashes ordered from the leaf upward, exactly RFC 6962
§2.1.1 PATH and §2.1.2 PROOF, so any RFC 6962 / RFC 9162 verifier (Go
``transparency-dev/merkle``, for one) accepts them. Verification follows RFC 9162 §2.1.3.2
and §2.1.4.2; the verifiers answer False for any malformed input and never raise.

``MerkleAccumulator`` computes the same root from a stream in O(log n) memory, and
``ConsistencyProver`` builds a consistency proof from a stream, so neither the gateway nor
an auditor has to hold millions of leaves.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"
_sha256 = hashlib.sha256


def leaf_hash(leaf: bytes) -> bytes:
    """SHA-256(0x00 || leaf): the hash of one leaf in the tree."""
    return hashlib.sha256(_LEAF_PREFIX + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right): the hash of an interior node."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def _mth(leaves: Sequence[bytes], lo: int, hi: int) -> bytes:
    """MTH(D[lo:hi]) for a non-empty range, straight from the RFC 6962 definition."""
    if hi - lo == 1:
        return leaf_hash(leaves[lo])
    k = _split(hi - lo)
    return node_hash(_mth(leaves, lo, lo + k), _mth(leaves, lo + k, hi))


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH(leaves): the root hash of the tree over ``leaves`` (SHA-256("") when empty)."""
    return _mth(leaves, 0, len(leaves)) if leaves else EMPTY_ROOT


def inclusion_proof_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges ``[start, end)`` whose MTH make up PATH(index, D[size]), in order."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of {size} leaves")
    ranges: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
    ranges.reverse()  # collected from the root down; the proof goes from the leaf up
    return ranges


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """RFC 6962 PATH(index, leaves): the audit path of leaf ``index`` (0-based)."""
    return [_mth(leaves, lo, hi) for lo, hi in inclusion_proof_ranges(index, len(leaves))]


def consistency_proof_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """The leaf ranges ``[start, end)`` whose MTH make up PROOF(old_size, D[new_size]).

    Each range lies wholly before or wholly after ``old_size``; the ones before are the
    perfect subtrees that make up the old tree (``MerkleAccumulator.subtrees``).
    """
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to size {new_size}")
    if old_size in (0, new_size):
        return []
    ranges: list[tuple[int, int]] = []
    lo, hi = 0, new_size
    whole_old_tree = True  # SUBPROOF's b: the old tree is D[0:hi] itself, its root is known
    while hi - lo != old_size - lo:
        k = _split(hi - lo)
        if old_size - lo <= k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
            whole_old_tree = False
    if not whole_old_tree:
        ranges.append((lo, hi))
    ranges.reverse()
    return ranges


def consistency_proof(leaves: Sequence[bytes], old_size: int) -> list[bytes]:
    """RFC 6962 PROOF(old_size, leaves): shows the first ``old_size`` leaves are a prefix."""
    ranges = consistency_proof_ranges(old_size, len(leaves))
    return [_mth(leaves, lo, hi) for lo, hi in ranges]


def _well_formed(*hashes: bytes) -> bool:
    return all(len(h) == HASH_SIZE for h in hashes)


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """True when ``proof`` shows ``leaf`` is leaf ``index`` of the tree ``root`` of ``size``.

    ``leaf`` is the leaf itself (the event hash bytes), not its leaf hash.
    """
    if not 0 <= index < size or not _well_formed(root, *proof):
        return False
    fn, sn = index, size - 1
    r = leaf_hash(leaf)
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """True when ``proof`` shows the tree ``old_root`` is a prefix of the tree ``new_root``.

    Equal sizes need equal roots and an empty proof; the empty tree (size 0, root
    SHA-256("")) is a prefix of every tree, with an empty proof.
    """
    if not 0 <= old_size <= new_size or not _well_formed(old_root, new_root, *proof):
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is itself a node
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


class MerkleAccumulator:
    """The root of a growing tree, from leaves appended one at a time, in O(log n) memory.

    It keeps only the roots of the perfect subtrees the tree splits into (one per set bit
    of the size, largest first: the compact range ``[0, size)``). ``root()`` after
    appending ``leaves`` equals ``root(leaves)``.
    """

    __slots__ = ("_size", "_stack")

    def __init__(self) -> None:
        self._size = 0
        self._stack: list[bytes] = []

    @property
    def size(self) -> int:
        return self._size

    def append(self, leaf: bytes) -> None:
        # leaf_hash and node_hash inlined: this runs once per event, millions of times.
        node = _sha256(_LEAF_PREFIX + leaf).digest()
        stack = self._stack
        carry = self._size
        while carry & 1:  # each trailing one bit is a subtree of the same height: merge
            node = _sha256(_NODE_PREFIX + stack.pop() + node).digest()
            carry >>= 1
        stack.append(node)
        self._size += 1

    def extend(self, leaves: Iterable[bytes]) -> None:
        for leaf in leaves:
            self.append(leaf)

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        node = self._stack[-1]
        for left in reversed(self._stack[:-1]):
            node = node_hash(left, node)
        return node

    def subtrees(self) -> list[tuple[int, int, bytes]]:
        """The perfect subtrees as ``(start, end, root)``, largest (leftmost) first."""
        result: list[tuple[int, int, bytes]] = []
        start = 0
        heights = [bit for bit in range(self._size.bit_length()) if self._size >> bit & 1]
        for node, height in zip(self._stack, reversed(heights), strict=True):
            result.append((start, start + (1 << height), node))
            start += 1 << height
        return result


class ConsistencyProver:
    """Builds PROOF(old_size, D[new_size]) while the leaves stream past, in O(log n) memory.

    Create it from the accumulator right after it took leaf ``old_size`` (its size is the
    old size), then ``append`` the same leaves the accumulator gets, up to ``new_size``;
    ``proof()`` then equals ``consistency_proof(leaves[:new_size], old_size)``.
    """

    def __init__(self, accumulator: MerkleAccumulator, new_size: int) -> None:
        self.old_size = accumulator.size
        self.new_size = new_size
        ranges = consistency_proof_ranges(self.old_size, new_size)
        old_nodes = {(lo, hi): node for lo, hi, node in accumulator.subtrees()}
        self._proof: list[bytes | None] = []
        self._pending: list[tuple[int, int]] = []  # (end of the range, index in the proof)
        for lo, hi in ranges:
            if hi <= self.old_size:
                self._proof.append(old_nodes[(lo, hi)])
            else:
                self._proof.append(None)
                self._pending.append((hi, len(self._proof) - 1))
        self._pending.sort(reverse=True)  # the next range to finish is last
        self._position = self.old_size
        self._range = MerkleAccumulator()

    @property
    def complete(self) -> bool:
        return self._position == self.new_size

    def append(self, leaf: bytes) -> None:
        if self.complete:
            raise ValueError(f"the proof to size {self.new_size} already has all its leaves")
        self._position += 1
        if not self._pending:  # from the empty tree the proof is empty: leaves are only counted
            return
        self._range.append(leaf)
        end, slot = self._pending[-1]
        if self._position == end:
            self._proof[slot] = self._range.root()
            self._pending.pop()
            self._range = MerkleAccumulator()

    def proof(self) -> list[bytes]:
        if not self.complete:
            raise ValueError(
                f"the proof needs leaves up to {self.new_size}, it has {self._position}"
            )
        proof = [node for node in self._proof if node is not None]
        if len(proof) != len(self._proof):  # the ranges after old_size tile it: unreachable
            raise RuntimeError("a consistency proof range was never completed")
        return proof
