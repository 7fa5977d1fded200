"""StandardMerkleTree batches: leaf encoding, layout, proofs, dump/load."""

from __future__ import annotations

import copy
import os
import random
from typing import Any

import eth_abi
import pytest
from Crypto.Hash import keccak as pycryptodome_keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import InputError, VerificationError
from ledger.records import merkle
from ledger.records.merkle import (
    LEAF_ENCODING,
    Leaf,
    build_tree,
    leaf_hashes,
    load_tree,
    make_leaf,
    process_proof,
    verify_proof,
)


def k(data: bytes) -> bytes:
    return pycryptodome_keccak.new(data=data, digest_bits=256).digest()


def reference_leaf_hash(leaf: Leaf) -> bytes:
    """The library's rule, spelled out with the eth-abi encoder."""
    return k(k(eth_abi.encode(list(LEAF_ENCODING), list(leaf))))


def reference_node(a: bytes, b: bytes) -> bytes:
    return k(min(a, b) + max(a, b))


def random_leaves(count: int, seed: int = 7) -> list[Leaf]:
    rng = random.Random(seed)
    return [
        Leaf(rng.randbytes(32), rng.randbytes(32), rng.randrange(10**12), rng.randrange(10**11))
        for _ in range(count)
    ]


uint256 = st.integers(0, 2**256 - 1)
leaves_strategy = st.builds(Leaf, st.binary(min_size=32, max_size=32),
                            st.binary(min_size=32, max_size=32), uint256, uint256)


@settings(max_examples=200, deadline=None)
@given(leaves_strategy)
def test_leaf_encoding_is_abi_encode_and_hash_is_double_keccak(leaf: Leaf) -> None:
    assert leaf.encode() == eth_abi.encode(list(LEAF_ENCODING), list(leaf))
    assert leaf.hash() == reference_leaf_hash(leaf)


def test_many_leaf_hashes_at_once_are_each_leafs_hash() -> None:
    rng = random.Random(3)
    for count in (0, 1, 2, 77):
        leaves = [Leaf(rng.randbytes(32), rng.randbytes(32), rng.randrange(2**63),
                       rng.choice((0, 1, 2**63 - 1, rng.randrange(10**9)))) for _ in range(count)]
        assert leaf_hashes(b"".join(x.shipment_id for x in leaves),
                           b"".join(x.record_hash for x in leaves),
                           [x.co2e_wtw_g for x in leaves],
                           [x.co2e_ttw_g for x in leaves]) == [reference_leaf_hash(x)
                                                               for x in leaves]
    ids = bytes(64)
    for wtw, ttw, message in (([2**63, 0], [0, 0], "beyond"), ([0, -1], [0, 0], "negative"),
                              ([0], [0, 0], "differ")):
        with pytest.raises(ValueError, match=message):
            leaf_hashes(ids, ids, wtw, ttw)
    with pytest.raises(ValueError, match="differ"):
        leaf_hashes(ids[:63], ids, [0, 0], [0, 0])


def test_one_leaf_tree_is_its_leaf_hash_with_an_empty_proof() -> None:
    [leaf] = random_leaves(1)
    tree = build_tree([leaf])
    assert tree.root_bytes == reference_leaf_hash(leaf)
    assert tree.proof(0) == []
    assert verify_proof(tree.root, leaf, [])


def test_three_leaves_are_sorted_by_hash_and_laid_out_like_the_library() -> None:
    leaves = random_leaves(3)
    hashes = [reference_leaf_hash(leaf) for leaf in leaves]
    ordered = sorted(hashes)
    # array of 5 nodes; the k-th smallest leaf hash sits at tree[4 - k]
    expected_nodes = [b""] * 5
    expected_nodes[4], expected_nodes[3], expected_nodes[2] = ordered
    expected_nodes[1] = reference_node(expected_nodes[3], expected_nodes[4])
    expected_nodes[0] = reference_node(expected_nodes[1], expected_nodes[2])

    tree = build_tree(leaves)
    assert list(tree.nodes) == expected_nodes
    assert tree.root == "0x" + expected_nodes[0].hex()
    for index, leaf_hash in enumerate(hashes):
        assert tree.nodes[tree.tree_indices[index]] == leaf_hash
    # the largest leaf hash (tree[2]) is proven by the root's other child only
    largest = hashes.index(ordered[2])
    assert tree.proof_bytes(largest) == [expected_nodes[1]]


def reference_tree(leaves: list[Leaf]) -> list[bytes]:
    """StandardMerkleTree's node array, one node at a time: leaf hashes sorted, the k-th
    smallest at ``tree[n - 1 - k]``, each inner node the hash of its two children."""
    hashes = sorted(reference_leaf_hash(leaf) for leaf in leaves)
    nodes = [b""] * (2 * len(hashes) - 1)
    for position, leaf_hash in enumerate(hashes):
        nodes[len(nodes) - 1 - position] = leaf_hash
    for index in range(len(nodes) - len(hashes) - 1, -1, -1):
        nodes[index] = reference_node(nodes[2 * index + 1], nodes[2 * index + 2])
    return nodes


@pytest.mark.parametrize("count", [*range(1, 34), 100, 257, 1000])
def test_level_by_level_tree_is_the_node_by_node_reference(count: int) -> None:
    leaves = random_leaves(count, seed=count)
    assert list(build_tree(leaves).nodes) == reference_tree(leaves)


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 8, 17, 100, 257])
def test_every_proof_verifies_and_a_changed_leaf_does_not(count: int) -> None:
    leaves = random_leaves(count, seed=count)
    tree = build_tree(leaves)
    for index, (leaf, proof) in enumerate(zip(leaves, tree.proofs(), strict=True)):
        assert proof == tree.proof(index)
        assert verify_proof(tree.root, leaf, proof)
        assert tree.verify(leaf, [bytes.fromhex(p[2:]) for p in proof])
        assert not verify_proof(tree.root, leaf._replace(co2e_wtw_g=leaf.co2e_wtw_g + 1), proof)
        assert not verify_proof(tree.root, leaf._replace(co2e_ttw_g=leaf.co2e_ttw_g + 1), proof)
        assert not verify_proof(tree.root, leaf._replace(record_hash=os.urandom(32)), proof)


@pytest.mark.parametrize("count", [1, 2, 3, 8, 17, 257])
def test_a_tree_stored_as_bytes_finds_each_leaf_and_no_other(count: int) -> None:
    leaves = random_leaves(count, seed=1000 + count)
    tree = build_tree(leaves)
    hashes = sorted(reference_leaf_hash(leaf) for leaf in leaves)
    assert tuple(merkle.tree_nodes(hashes)) == tree.nodes
    stored = b"".join(tree.nodes)
    for leaf, index in zip(leaves, tree.tree_indices, strict=True):
        assert merkle.stored_tree_index(stored, reference_leaf_hash(leaf)) == index
    assert merkle.stored_tree_index(stored, os.urandom(32)) is None
    # the root is found only where it is a leaf itself: in a one-leaf tree
    assert merkle.stored_tree_index(stored, tree.nodes[0]) == (0 if count == 1 else None)


def test_a_tampered_or_foreign_proof_fails() -> None:
    leaves = random_leaves(20)
    tree = build_tree(leaves)
    other = build_tree(random_leaves(20, seed=99))
    proof = tree.proof(5)
    tampered = [*proof[:-1], "0x" + "00" * 32]
    assert not verify_proof(tree.root, leaves[5], tampered)
    assert not verify_proof(tree.root, leaves[5], proof[:-1])
    assert not verify_proof(other.root, leaves[5], proof)
    assert not verify_proof(tree.root, leaves[5], tree.proof(6))


def test_process_proof_refuses_malformed_nodes() -> None:
    [leaf] = random_leaves(1)
    with pytest.raises(InputError, match="proof element"):
        process_proof(leaf.hash(), ["0x1234"])
    with pytest.raises(InputError, match="root"):
        verify_proof("0xabc", leaf, [])


@settings(max_examples=50, deadline=None)
@given(st.lists(leaves_strategy, min_size=1, max_size=40, unique_by=lambda leaf: leaf[0]),
       st.randoms())
def test_root_does_not_depend_on_input_order(leaves: list[Leaf], rng: random.Random) -> None:
    shuffled = leaves[:]
    rng.shuffle(shuffled)
    assert build_tree(leaves).root == build_tree(shuffled).root


def test_proof_by_shipment_id_equals_proof_by_index() -> None:
    leaves = random_leaves(10)
    tree = build_tree(leaves)
    for index, leaf in enumerate(leaves):
        assert tree.index_of(leaf.shipment_id) == index
        assert tree.proof(leaf.shipment_id) == tree.proof(index)
        assert tree.proof("0x" + leaf.shipment_id.hex()) == tree.proof(index)
    with pytest.raises(InputError, match="not in this batch"):
        tree.proof(os.urandom(32))
    with pytest.raises(InputError, match="out of range"):
        tree.proof(10)


def test_a_shipment_twice_in_one_batch_is_refused() -> None:
    leaves = random_leaves(4)
    again = leaves[1]._replace(record_hash=os.urandom(32))
    with pytest.raises(InputError, match=r"appears twice in one batch \(leaves 1 and 4\)"):
        build_tree([*leaves, again])


def test_empty_batch_is_refused() -> None:
    with pytest.raises(InputError, match="at least one"):
        build_tree([])


@pytest.mark.parametrize(
    ("leaf", "message"),
    [
        (Leaf(b"\x01" * 31, b"\x02" * 32, 1, 1), "shipment_id must be 32 bytes"),
        (Leaf(b"\x01" * 32, "0x" + "02" * 32, 1, 1), "record_hash must be 32 bytes"),  # type: ignore[arg-type]
        (Leaf(b"\x01" * 32, b"\x02" * 32, -1, 1), "co2e_wtw_g must be an integer"),
        (Leaf(b"\x01" * 32, b"\x02" * 32, 1, 2**256), "co2e_ttw_g must be an integer"),
        (Leaf(b"\x01" * 32, b"\x02" * 32, True, 1), "co2e_wtw_g must be an integer"),
        (Leaf(b"\x01" * 32, b"\x02" * 32, "5", 1), "co2e_wtw_g must be an integer"),  # type: ignore[arg-type]
    ],
)
def test_invalid_leaves_are_refused(leaf: Leaf, message: str) -> None:
    with pytest.raises(InputError, match=message):
        build_tree([leaf])


def test_make_leaf_accepts_hex_and_decimal_strings() -> None:
    leaf = make_leaf("0x" + "AB" * 32, "0x" + "cd" * 32, "146913578", 123)
    assert leaf == Leaf(b"\xab" * 32, b"\xcd" * 32, 146913578, 123)
    assert make_leaf(b"\xab" * 32, b"\xcd" * 32, "0x10", 0).co2e_wtw_g == 16
    for bad in ["-1", "1.5", "", "12a"]:
        with pytest.raises(InputError, match="co2e_wtw_g"):
            make_leaf(b"\xab" * 32, b"\xcd" * 32, bad, 0)


def test_dump_is_standard_v1_and_loads_back() -> None:
    leaves = random_leaves(6)
    tree = build_tree(leaves)
    dumped = tree.dump()
    assert dumped["format"] == "standard-v1"
    assert dumped["leafEncoding"] == ["bytes32", "bytes32", "uint256", "uint256"]
    assert len(dumped["tree"]) == 11
    assert dumped["values"][0] == {
        "value": ["0x" + leaves[0].shipment_id.hex(), "0x" + leaves[0].record_hash.hex(),
                  str(leaves[0].co2e_wtw_g), str(leaves[0].co2e_ttw_g)],
        "treeIndex": tree.tree_indices[0],
    }
    loaded = load_tree(dumped)
    assert loaded.root == tree.root
    assert loaded.leaves == tree.leaves
    assert loaded.proofs() == tree.proofs()


def _tamper(dumped: dict[str, Any], how: str) -> dict[str, Any]:
    bad = copy.deepcopy(dumped)
    if how == "format":
        bad["format"] = "simple-v1"
    elif how == "encoding":
        bad["leafEncoding"] = ["bytes32", "uint256"]
    elif how == "node":
        bad["tree"][1] = "0x" + "00" * 32
    elif how == "value":
        bad["values"][2]["value"][2] = str(int(bad["values"][2]["value"][2]) + 1)
    elif how == "index":
        bad["values"][0]["treeIndex"] = 0
    return bad


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("format", "format is 'simple-v1'"),
        ("encoding", "leafEncoding"),
        ("node", "not the hash of its children"),
        ("value", "does not hash to that node"),
        ("index", "not a leaf position"),
    ],
)
def test_load_refuses_a_tampered_dump(how: str, message: str) -> None:
    dumped = build_tree(random_leaves(6)).dump()
    with pytest.raises(VerificationError, match=message):
        load_tree(_tamper(dumped, how))


def test_public_names_import() -> None:
    for name in merkle.__all__:
        assert hasattr(merkle, name), name
