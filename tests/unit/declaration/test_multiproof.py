"""Multiproofs of a declaration's consignments against stored batch trees."""

from __future__ import annotations

import random

import pytest

from ledger.declaration.multiproof import multiproof, multiproof_fast, process_multiproof
from ledger.records.keccak import keccak256
from ledger.records.merkle import tree_nodes


def _tree(count: int, seed: int) -> bytes:
    leaves = sorted({keccak256(f"{seed}-{i}".encode()) for i in range(count)})
    return b"".join(tree_nodes(leaves))


def test_any_subset_of_leaves_proves_the_root() -> None:
    rng = random.Random(7)
    for count in (1, 2, 3, 5, 8, 13, 64, 100):
        tree = _tree(count, count)
        size = len(tree) // 32
        root = tree[:32]
        for _ in range(20):
            chosen = rng.sample(range(size - count, size), rng.randint(1, count))
            order, proof = multiproof(tree, chosen)
            leaves = [tree[32 * i:32 * i + 32] for i in order]
            assert process_multiproof(leaves, proof.proof, proof.flags) == root


def test_all_leaves_need_no_sibling_and_a_changed_leaf_fails() -> None:
    tree = _tree(50, 1)
    size = len(tree) // 32
    order, proof = multiproof(tree, list(range(size - 50, size)))
    assert proof.proof == []
    leaves = [tree[32 * i:32 * i + 32] for i in order]
    assert process_multiproof(leaves, proof.proof, proof.flags) == tree[:32]
    forged = [keccak256(b"other"), *leaves[1:]]
    assert process_multiproof(forged, proof.proof, proof.flags) != tree[:32]
    assert process_multiproof(leaves[1:], proof.proof, proof.flags) is None


def _reference_root(leaves: list[bytes], proof: list[bytes], flags: list[bool]) -> bytes | None:
    """OpenZeppelin's ``processMultiProof`` as written there: leaves and computed hashes in two
    queues, a malformed proof (a revert there) as ``None``."""
    if len(leaves) + len(proof) != len(flags) + 1:
        return None
    hashes: list[bytes] = []
    leaf_pos = hash_pos = proof_pos = 0

    def take() -> bytes | None:
        nonlocal leaf_pos, hash_pos
        if leaf_pos < len(leaves):
            leaf_pos += 1
            return leaves[leaf_pos - 1]
        if hash_pos < len(hashes):
            hash_pos += 1
            return hashes[hash_pos - 1]
        return None

    for flag in flags:
        a = take()
        if flag:
            b = take()
        else:
            b = proof[proof_pos] if proof_pos < len(proof) else None
            proof_pos += 1
        if a is None or b is None:
            return None
        hashes.append(keccak256(min(a, b) + max(a, b)))
    if flags:
        return hashes[-1] if proof_pos == len(proof) else None
    return leaves[0] if leaves else (proof[0] if proof else None)


def test_any_proof_malformed_or_not_leads_where_the_library_would() -> None:
    rng = random.Random(5)
    tree = _tree(40, 9)
    size = len(tree) // 32
    outcomes = {"root": 0, "another root": 0, "malformed": 0}
    for _ in range(400):
        chosen = rng.sample(range(size - 40, size), rng.randint(1, 40))
        order, good = multiproof(tree, chosen)
        leaves = [tree[32 * i:32 * i + 32] for i in order]
        proof, flags = list(good.proof), list(good.flags)
        for _ in range(rng.randint(0, 3)):  # cut, add, flip and swap at random
            how = rng.randrange(5)
            if how == 0 and flags:
                flags[rng.randrange(len(flags))] ^= True
            elif how == 1 and leaves:
                leaves.pop(rng.randrange(len(leaves)))
                if flags and rng.random() < 0.5:
                    flags.pop()
            elif how == 2:
                proof.insert(rng.randint(0, len(proof)), keccak256(b"x"))
                flags.insert(rng.randint(0, len(flags)), False)
            elif how == 3 and proof:
                proof.pop(rng.randrange(len(proof)))
            elif len(flags) > 1:
                i, j = rng.sample(range(len(flags)), 2)
                flags[i], flags[j] = flags[j], flags[i]
        found = process_multiproof(leaves, proof, flags)
        assert found == _reference_root(leaves, proof, flags)
        outcomes["malformed" if found is None else "root" if found == tree[:32]
                 else "another root"] += 1
    assert min(outcomes.values()) >= 40, outcomes
    assert process_multiproof([], [], []) is None
    assert process_multiproof([b"a" * 32], [], []) == b"a" * 32


def test_the_numpy_multiproof_is_the_walked_one() -> None:
    rng = random.Random(11)
    for count in (1, 2, 3, 5, 8, 13, 64, 100, 777):
        tree = _tree(count, count + 1)
        size = len(tree) // 32
        for _ in range(10):
            chosen = rng.sample(range(size - count, size), rng.randint(1, count))
            order, proof = multiproof(tree, chosen)
            fast_order, fast = multiproof_fast(tree, chosen)
            assert fast_order.tolist() == order
            assert (fast.proof, fast.flags) == (proof.proof, proof.flags)
            assert fast.to_dict() == proof.to_dict()
    with pytest.raises(ValueError, match="named twice"):
        multiproof_fast(_tree(4, 0), [4, 4])
    with pytest.raises(ValueError, match="not a leaf"):
        multiproof_fast(_tree(4, 0), [0])


def test_leaves_are_placed_in_their_stored_tree_or_the_store_is_called_damaged() -> None:
    from ledger.declaration.build import _tree_places
    from ledger.errors import InputError

    tree = _tree(9, 3)
    size = len(tree) // 32
    indices = [size - 1, size - 9, size - 4]
    leaves = [(None, "0x" + tree[32 * i:32 * i + 32].hex(), 0, 0, 1, 0, None) for i in indices]
    leaves.append((None, None, 0, 0, 1, 0, size - 2))  # its stored index is taken as it is
    assert _tree_places(tree, leaves, ["A", "B", "C", "D"]).tolist() == [*indices, size - 2]
    stranger = (None, "0x" + keccak256(b"elsewhere").hex(), 0, 0, 1, 0, None)
    with pytest.raises(InputError, match="store is damaged") as refused:
        _tree_places(tree, [leaves[0], stranger], ["A", "X"])
    assert refused.value.problems[0].shipment_id == "X"


def test_leaves_sharing_their_first_bytes_are_placed_by_the_whole_hash() -> None:
    import numpy as np

    from ledger.declaration.build import _places
    from ledger.errors import InputError

    rng = random.Random(8)
    for _ in range(200):
        # first 8 bytes from a small set: many leaves share them
        leaves = sorted({bytes(rng.randrange(2) for _ in range(8)) + rng.randbytes(24)
                         for _ in range(rng.randint(1, 40))}, reverse=True)
        count = len(leaves)
        size = 2 * count - 1
        tree = bytes(32 * (size - count)) + b"".join(leaves)  # leaves in descending order
        chosen = rng.sample(range(count), rng.randint(1, count))
        texts = ["0x" + leaves[j].hex() for j in chosen]
        places = _places(tree, np.full(len(chosen), -1, dtype=np.int64), texts, str)
        assert places.tolist() == [size - count + j for j in chosen]
        stranger = bytes(rng.randrange(2) for _ in range(8)) + bytes(24)
        if stranger not in leaves:
            with pytest.raises(InputError, match="store is damaged") as refused:
                _places(tree, np.full(2, -1, dtype=np.int64), [texts[0], "0x" + stranger.hex()],
                        "AB".__getitem__)
            assert refused.value.problems[0].shipment_id == "B"
