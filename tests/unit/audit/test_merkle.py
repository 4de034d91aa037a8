"""RFC 6962 Merkle trees: the published vectors, and every proof for every small tree."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pytest

from gateway.audit.merkle import (
    EMPTY_ROOT,
    ConsistencyProver,
    MerkleAccumulator,
    consistency_proof,
    consistency_proof_ranges,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

# The RFC 6962 reference leaves and tree heads, as published by Certificate Transparency
# (transparency-dev/merkle proof/verify_test.go). Roots are for sizes 0..8.
RFC_LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
RFC_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# (0-based leaf index, tree size, audit path)
RFC_INCLUSION = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
# (old size, new size, consistency proof)
RFC_CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]

SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")
MAX = 40
LEAVES = [hashlib.sha256(f"event {i}".encode()).digest() for i in range(300)]
ROOTS = [root(LEAVES[:n]) for n in range(MAX + 1)]


def flip(proof: Sequence[bytes], index: int) -> list[bytes]:
    changed = list(proof)
    changed[index] = bytes([changed[index][0] ^ 0x10]) + changed[index][1:]
    return changed


def test_empty_tree_root_is_sha256_of_nothing() -> None:
    assert root([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()
    assert MerkleAccumulator().root() == EMPTY_ROOT


def test_leaf_and_node_hashes_are_domain_separated() -> None:
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()


@pytest.mark.parametrize("size", range(len(RFC_ROOTS)))
def test_roots_match_rfc6962_reference(size: int) -> None:
    assert root(RFC_LEAVES[:size]).hex() == RFC_ROOTS[size]


@pytest.mark.parametrize(("index", "size", "path"), RFC_INCLUSION)
def test_inclusion_proofs_match_rfc6962_reference(index: int, size: int, path: list[str]) -> None:
    leaves = RFC_LEAVES[:size]
    assert [node.hex() for node in inclusion_proof(leaves, index)] == path
    proof = [bytes.fromhex(node) for node in path]
    assert verify_inclusion(leaves[index], index, size, proof, bytes.fromhex(RFC_ROOTS[size]))


@pytest.mark.parametrize(("old", "new", "path"), RFC_CONSISTENCY)
def test_consistency_proofs_match_rfc6962_reference(old: int, new: int, path: list[str]) -> None:
    assert [node.hex() for node in consistency_proof(RFC_LEAVES[:new], old)] == path
    proof = [bytes.fromhex(node) for node in path]
    assert verify_consistency(
        old, new, bytes.fromhex(RFC_ROOTS[old]), bytes.fromhex(RFC_ROOTS[new]), proof
    )


InclusionCase = tuple[bytes, int, int, list[bytes], bytes]  # leaf, index, size, proof, root
ConsistencyCase = tuple[int, int, bytes, bytes, list[bytes]]  # old, new, roots, proof


def inclusion_forgeries(index: int, size: int, proof: list[bytes]) -> dict[str, InclusionCase]:
    """Every way the Go reference tests corrupt an inclusion proof; none may verify."""
    leaf, good = LEAVES[index], ROOTS[size]
    forgeries: dict[str, InclusionCase] = {
        "index - 1": (leaf, index - 1, size, proof, good),
        "index + 1": (leaf, index + 1, size, proof, good),
        "index ^ 2": (leaf, index ^ 2, size, proof, good),
        "size * 2": (leaf, index, size * 2, proof, good),
        "size // 2": (leaf, index, size // 2, proof, good),
        "wrong leaf": (b"wrong", index, size, proof, good),
        "empty root": (leaf, index, size, proof, EMPTY_ROOT),
        "some root": (leaf, index, size, proof, SOME_HASH),
        "trailing garbage": (leaf, index, size, [*proof, b""], good),
        "trailing root": (leaf, index, size, [*proof, good], good),
        "leading garbage": (leaf, index, size, [b"", *proof], good),
        "leading root": (leaf, index, size, [good, *proof], good),
    }
    for i in range(len(proof)):
        forgeries[f"bit flipped in node {i}"] = (leaf, index, size, flip(proof, i), good)
    if proof:
        forgeries["last node removed"] = (leaf, index, size, proof[:-1], good)
    if len(proof) > 1:
        forgeries["node inserted"] = (leaf, index, size, [proof[0], SOME_HASH, *proof[1:]], good)
    return forgeries


def test_every_inclusion_proof_verifies_and_every_forgery_fails() -> None:
    checked = 0
    for size in range(1, MAX + 1):
        leaves = LEAVES[:size]
        for index in range(size):
            proof = inclusion_proof(leaves, index)
            assert verify_inclusion(leaves[index], index, size, proof, ROOTS[size]), (index, size)
            forgeries = inclusion_forgeries(index, size, proof)
            accepted = [name for name, case in forgeries.items() if verify_inclusion(*case)]
            assert accepted == [], (index, size)
            checked += len(forgeries)
    assert checked > 10_000


def consistency_forgeries(old: int, new: int, proof: list[bytes]) -> dict[str, ConsistencyCase]:
    """Every way the Go reference tests corrupt a consistency proof; none may verify."""
    r1, r2 = ROOTS[old], ROOTS[new]
    forgeries: dict[str, ConsistencyCase] = {
        "old - 1": (old - 1, new, r1, r2, proof),
        "old + 1": (old + 1, new, r1, r2, proof),
        "old ^ 2": (old ^ 2, new, r1, r2, proof),
        "new * 2": (old, new * 2, r1, r2, proof),
        "new // 2": (old, new // 2, r1, r2, proof),
        "wrong old root": (old, new, SOME_HASH, r2, proof),
        "wrong new root": (old, new, r1, SOME_HASH, proof),
        "swapped roots": (old, new, r2, r1, proof),
        "empty proof": (old, new, r1, r2, []),
        "trailing garbage": (old, new, r1, r2, [*proof, b""]),
        "trailing old root": (old, new, r1, r2, [*proof, r1]),
        "trailing new root": (old, new, r1, r2, [*proof, r2]),
        "leading garbage": (old, new, r1, r2, [b"", *proof]),
        "leading old root": (old, new, r1, r2, [r1, *proof]),
        "leading new root": (old, new, r1, r2, [r2, *proof]),
        "node 0 twice": (old, new, r1, r2, [proof[0], *proof]),
        "last node removed": (old, new, r1, r2, proof[:-1]),
    }
    for i in range(len(proof)):
        forgeries[f"bit flipped in node {i}"] = (old, new, r1, r2, flip(proof, i))
    return forgeries


def test_every_consistency_proof_verifies_and_every_forgery_fails() -> None:
    checked = 0
    for new in range(MAX + 1):
        for old in range(new + 1):
            proof = consistency_proof(LEAVES[:new], old)
            assert verify_consistency(old, new, ROOTS[old], ROOTS[new], proof), (old, new)
            if not proof:  # old is 0 or new: only the roots can be wrong
                if old == new:
                    assert not verify_consistency(old, new, ROOTS[old], SOME_HASH, proof)
                else:  # the empty tree is a prefix of any tree, whatever its root
                    assert verify_consistency(old, new, ROOTS[old], SOME_HASH, proof)
                assert not verify_consistency(old, new, SOME_HASH, ROOTS[new], proof)
                assert not verify_consistency(old, new, ROOTS[old], ROOTS[new], [SOME_HASH])
                continue
            forgeries = consistency_forgeries(old, new, proof)
            accepted = [name for name, case in forgeries.items() if verify_consistency(*case)]
            assert accepted == [], (old, new)
            checked += len(forgeries)
    assert checked > 15_000


def test_a_changed_leaf_breaks_consistency_with_the_old_root() -> None:
    rewritten = list(LEAVES[:MAX])
    rewritten[3] = SOME_HASH
    for old in range(4, MAX):
        proof = consistency_proof(rewritten, old)
        assert not verify_consistency(old, MAX, ROOTS[old], root(rewritten), proof)


def test_malformed_verification_input_is_refused_not_raised() -> None:
    proof = inclusion_proof(LEAVES[:8], 3)
    assert not verify_inclusion(LEAVES[3], 8, 8, proof, ROOTS[8])
    assert not verify_inclusion(LEAVES[3], -1, 8, proof, ROOTS[8])
    assert not verify_inclusion(LEAVES[3], 3, 8, proof, ROOTS[8][:31])
    assert not verify_inclusion(LEAVES[0], 0, 0, [], EMPTY_ROOT)
    assert not verify_consistency(5, 4, ROOTS[5], ROOTS[4], [])
    assert not verify_consistency(-1, 4, EMPTY_ROOT, ROOTS[4], [])
    assert not verify_consistency(0, 4, SOME_HASH, ROOTS[4], [])
    assert not verify_consistency(3, 8, ROOTS[3], ROOTS[8], [b"short"])


def test_proofs_for_impossible_positions_are_refused() -> None:
    with pytest.raises(ValueError):
        inclusion_proof(LEAVES[:4], 4)
    with pytest.raises(ValueError):
        consistency_proof(LEAVES[:4], 5)
    with pytest.raises(ValueError):
        consistency_proof_ranges(-1, 4)


def test_accumulator_root_equals_the_tree_root_for_every_size_to_300() -> None:
    accumulator = MerkleAccumulator()
    assert accumulator.root() == root([])
    for size, leaf in enumerate(LEAVES, start=1):
        accumulator.append(leaf)
        assert accumulator.size == size
        assert accumulator.root() == root(LEAVES[:size]), size


def test_accumulator_holds_one_perfect_subtree_per_bit_of_the_size() -> None:
    accumulator = MerkleAccumulator()
    accumulator.extend(LEAVES[:13])
    subtrees = accumulator.subtrees()
    assert [(start, end) for start, end, _ in subtrees] == [(0, 8), (8, 12), (12, 13)]
    assert [node for _, _, node in subtrees] == [
        root(LEAVES[0:8]),
        root(LEAVES[8:12]),
        root(LEAVES[12:13]),
    ]


def test_streamed_consistency_proof_equals_the_in_memory_one() -> None:
    for new in range(MAX + 1):
        for old in range(new + 1):
            accumulator = MerkleAccumulator()
            accumulator.extend(LEAVES[:old])
            prover = ConsistencyProver(accumulator, new)
            for leaf in LEAVES[old:new]:
                assert not prover.complete
                prover.append(leaf)
            assert prover.complete
            assert prover.proof() == consistency_proof(LEAVES[:new], old), (old, new)


def test_streamed_consistency_proof_refuses_too_few_or_too_many_leaves() -> None:
    accumulator = MerkleAccumulator()
    accumulator.extend(LEAVES[:3])
    prover = ConsistencyProver(accumulator, 5)
    prover.append(LEAVES[3])
    with pytest.raises(ValueError, match="needs leaves up to 5"):
        prover.proof()
    prover.append(LEAVES[4])
    with pytest.raises(ValueError, match="already has all its leaves"):
        prover.append(LEAVES[5])
