"""Merkle batches in OpenZeppelin's StandardMerkleTree format (``standard-v1``).

Byte for byte what ``@openzeppelin/merkle-tree`` 1.0.8 and ``MerkleProof.sol`` do, for this
ledger's leaf ``(bytes32 shipmentId, bytes32 recordHash, uint256 co2eWtwG, uint256 co2eTtwG)``:

- leaf hash = ``keccak256(keccak256(abi.encode(values)))``; with four static types ``abi.encode``
  is the four 32-byte words one after another, so leaves are encoded by concatenation;
- node hash = ``keccak256`` of the two children, smaller first (sorted pairs, no left/right flags);
- leaves sorted by their hash (ascending, as unsigned 256-bit numbers), then laid out as a complete
  binary tree in an array: ``tree[0]`` is the root, the children of ``i`` are ``2i+1`` and
  ``2i+2``, the ``k``-th sorted leaf sits at ``tree[len(tree) - 1 - k]``;
- a proof is the list of sibling hashes from the leaf up to (not including) the root;
- :meth:`MerkleTree.dump` is the library's ``StandardMerkleTree.dump()`` JSON, so each side loads
  the other's trees.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple

import numpy as np

from ledger.errors import InputError, InputProblem, VerificationError
from ledger.records.keccak import keccak256, keccak_many
from ledger.types import Bytes32

__all__ = [
    "DUMP_FORMAT",
    "LEAF_ENCODING",
    "Leaf",
    "MerkleTree",
    "build_tree",
    "leaf_hashes",
    "load_tree",
    "make_leaf",
    "process_proof",
    "stored_tree_index",
    "tree_nodes",
    "verify_proof",
]

#: The leaf's Solidity types, as ``StandardMerkleTree.of(values, LEAF_ENCODING)`` takes them.
LEAF_ENCODING: tuple[str, ...] = ("bytes32", "bytes32", "uint256", "uint256")
#: The ``format`` field of a dump.
DUMP_FORMAT = "standard-v1"

_UINT256_LIMIT = 1 << 256
_HEX32 = re.compile(r"0x[0-9a-fA-F]{64}")


class Leaf(NamedTuple):
    """One shipment in a batch: what the contract's ``verifyShipment`` takes besides the proof."""

    shipment_id: bytes
    """On-chain shipment id (32 bytes; see :func:`ledger.records.canonical.chain_shipment_id`)."""
    record_hash: bytes
    """keccak-256 of the canonical record (32 bytes)."""
    co2e_wtw_g: int
    """Transport-chain well-to-wheel emissions, grams CO2e."""
    co2e_ttw_g: int
    """Transport-chain tank-to-wheel emissions, grams CO2e."""

    def encode(self) -> bytes:
        """``abi.encode(shipmentId, recordHash, co2eWtwG, co2eTtwG)``: 128 bytes."""
        return _encode(self)

    def values(self) -> list[str]:
        """The leaf as JSON values: two ``0x`` hex strings and two decimal strings."""
        return [
            "0x" + self.shipment_id.hex(),
            "0x" + self.record_hash.hex(),
            str(self.co2e_wtw_g),
            str(self.co2e_ttw_g),
        ]

    def hash(self) -> bytes:
        """The leaf hash (double keccak-256 of the encoding)."""
        return keccak256(keccak256(_encode(self)))


def _encode(leaf: Sequence[Any]) -> bytes:
    shipment_id, record_hash, wtw_g, ttw_g = leaf
    try:
        encoded: bytes = (
            shipment_id + record_hash + wtw_g.to_bytes(32, "big") + ttw_g.to_bytes(32, "big")
        )
    except (TypeError, AttributeError, OverflowError):
        encoded = b""
    if len(encoded) != 128 or type(wtw_g) is bool or type(ttw_g) is bool:
        _check_leaf(leaf)
    return encoded




def _uint256(value: object, name: str) -> int:
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        try:
            if text[:2] in ("0x", "0X"):
                number = int(text, 16)
            elif text.isdigit() and text.isascii():
                number = int(text, 10)
        except ValueError:
            number = None
    if number is None or not 0 <= number < _UINT256_LIMIT:
        raise InputError([InputProblem(
            f"{name} must be an integer from 0 to 2**256 - 1 (grams), got {value!r}", field=name,
        )])
    return number


def _check_leaf(leaf: Sequence[Any]) -> None:
    names = ("shipment_id", "record_hash", "co2e_wtw_g", "co2e_ttw_g")
    if len(leaf) != 4:
        raise InputError([InputProblem(f"a leaf has 4 values ({', '.join(names)}), got {leaf!r}")])
    for value, name in zip(leaf[:2], names[:2], strict=True):
        if not (isinstance(value, bytes) and len(value) == 32):
            raise InputError([InputProblem(f"{name} must be 32 bytes, got {value!r}", field=name)])
    for value, name in zip(leaf[2:], names[2:], strict=True):
        if not (isinstance(value, int) and not isinstance(value, bool)
                and 0 <= value < _UINT256_LIMIT):
            raise InputError([InputProblem(
                f"{name} must be an integer from 0 to 2**256 - 1 (grams), got {value!r}",
                field=name,
            )])


def make_leaf(shipment_id: bytes | str, record_hash: bytes | str,
              co2e_wtw_g: int | str, co2e_ttw_g: int | str) -> Leaf:
    """A checked :class:`Leaf` from bytes or ``0x`` hex ids and integer or decimal-string grams."""
    return Leaf(
        Bytes32.parse(shipment_id, "shipment_id"),
        Bytes32.parse(record_hash, "record_hash"),
        _uint256(co2e_wtw_g, "co2e_wtw_g"),
        _uint256(co2e_ttw_g, "co2e_ttw_g"),
    )


def leaf_hashes(shipment_ids: bytes, record_hashes: bytes, co2e_wtw_g: Sequence[int],
                co2e_ttw_g: Sequence[int]) -> list[bytes]:
    """:meth:`Leaf.hash` of many leaves, in order: their shipment ids and record hashes each as
    one run of 32-byte values, their grams as integers from 0 to 2**63 - 1 (``ValueError``
    otherwise, and when the counts differ). The encodings are laid out with numpy, then hashed
    in two passes over the list."""
    count = len(co2e_wtw_g)
    if len(co2e_ttw_g) != count or len(shipment_ids) != 32 * count \
            or len(record_hashes) != 32 * count:
        raise ValueError("leaf_hashes: the leaves' values differ in number")
    try:
        grams = np.array([co2e_wtw_g, co2e_ttw_g], dtype=np.int64).reshape(2, count)
    except OverflowError:
        raise ValueError("leaf_hashes: grams beyond 2**63 - 1") from None
    if count and int(grams.min()) < 0:
        raise ValueError("leaf_hashes: negative grams")
    encoded = np.zeros((count, 128), dtype=np.uint8)
    encoded[:, :32] = np.frombuffer(shipment_ids, dtype=np.uint8).reshape(count, 32)
    encoded[:, 32:64] = np.frombuffer(record_hashes, dtype=np.uint8).reshape(count, 32)
    big_endian = grams.astype(">u8").view(np.uint8).reshape(2, count, 8)
    encoded[:, 88:96] = big_endian[0]
    encoded[:, 120:128] = big_endian[1]
    data = encoded.tobytes()
    return keccak_many(keccak_many([data[at:at + 128] for at in range(0, 128 * count, 128)]))


def process_proof(leaf_hash_: bytes, proof: Iterable[bytes | str]) -> bytes:
    """The root that ``proof`` leads to from the leaf hash ``leaf_hash_``."""
    node: bytes = Bytes32.parse(leaf_hash_, "leaf hash")
    for sibling in proof:
        other = Bytes32.parse(sibling, "proof element")
        node = keccak256(node + other if node <= other else other + node)
    return node


def verify_proof(root: bytes | str, leaf: Leaf, proof: Iterable[bytes | str]) -> bool:
    """Whether ``proof`` shows ``leaf`` is in the tree with this ``root``.

    The same check as ``StandardMerkleTree.verify`` and ``MerkleProof.verify``. Malformed input
    (a root or proof element that is not 32 bytes, an invalid leaf) raises ``InputError``.
    """
    return process_proof(leaf.hash(), proof) == Bytes32.parse(root, "root")


@dataclass(frozen=True, eq=False)
class MerkleTree:
    """A built batch tree: the node array, the leaves in input order, and where each one sits."""

    nodes: tuple[bytes, ...]
    """Every node, ``nodes[0]`` being the root (the library's ``tree`` array)."""
    leaves: tuple[Leaf, ...]
    """The leaves in the order they were given (the library's ``values``)."""
    tree_indices: tuple[int, ...]
    """``tree_indices[i]`` is the position of ``leaves[i]`` in :attr:`nodes`."""

    @property
    def root(self) -> str:
        """The root as ``0x`` + 64 hex digits (what ``anchorRoot`` takes)."""
        return self.hex_nodes[0]

    @property
    def root_bytes(self) -> bytes:
        """The root, 32 bytes."""
        return self.nodes[0]

    def __len__(self) -> int:
        return len(self.leaves)

    @cached_property
    def hex_nodes(self) -> tuple[str, ...]:
        """:attr:`nodes` as ``0x`` hex strings."""
        return tuple(["0x" + node.hex() for node in self.nodes])

    @cached_property
    def _index_by_shipment(self) -> dict[bytes, int]:
        return {leaf[0]: index for index, leaf in enumerate(self.leaves)}

    def index_of(self, shipment_id: bytes | str) -> int:
        """Position in :attr:`leaves` of the leaf with this on-chain shipment id."""
        key = Bytes32.parse(shipment_id, "shipment id")
        try:
            return self._index_by_shipment[key]
        except KeyError:
            raise InputError([InputProblem(
                f"shipment id 0x{key.hex()} is not in this batch", field="shipment_id",
            )]) from None

    def _value_index(self, key: int | bytes | str) -> int:
        if isinstance(key, bytes | str):
            return self.index_of(key)
        if not isinstance(key, bool):
            if not 0 <= key < len(self.leaves):
                raise InputError([InputProblem(
                    f"leaf index {key} is out of range (the batch has {len(self.leaves)} leaves)",
                )])
            return key
        raise InputError([InputProblem(f"a leaf is named by index or shipment id, not {key!r}")])

    def proof_bytes(self, key: int | bytes | str) -> list[bytes]:
        """The proof of one leaf (by position in :attr:`leaves` or on-chain shipment id)."""
        nodes = self.nodes
        position = self.tree_indices[self._value_index(key)]
        proof = []
        while position > 0:
            proof.append(nodes[position + 1 if position & 1 else position - 1])
            position = (position - 1) >> 1
        return proof

    def proof(self, key: int | bytes | str) -> list[str]:
        """The proof of one leaf as ``0x`` hex strings (``StandardMerkleTree.getProof``)."""
        hex_nodes = self.hex_nodes
        position = self.tree_indices[self._value_index(key)]
        proof = []
        while position > 0:
            proof.append(hex_nodes[position + 1 if position & 1 else position - 1])
            position = (position - 1) >> 1
        return proof

    def proofs(self) -> list[list[str]]:
        """Every leaf's proof, in the order of :attr:`leaves`."""
        hex_nodes = self.hex_nodes
        result = []
        for leaf_position in self.tree_indices:
            proof = []
            position = leaf_position
            while position > 0:
                proof.append(hex_nodes[position + 1 if position & 1 else position - 1])
                position = (position - 1) >> 1
            result.append(proof)
        return result

    def verify(self, leaf: Leaf, proof: Iterable[bytes | str]) -> bool:
        """Whether ``proof`` proves ``leaf`` against this tree's root."""
        return verify_proof(self.nodes[0], leaf, proof)

    def dump(self) -> dict[str, Any]:
        """The tree as ``StandardMerkleTree.dump()`` writes it (and ``.load()`` reads it)."""
        return {
            "format": DUMP_FORMAT,
            "leafEncoding": list(LEAF_ENCODING),
            "tree": list(self.hex_nodes),
            "values": [
                {"value": leaf.values(), "treeIndex": position}
                for leaf, position in zip(self.leaves, self.tree_indices, strict=True)
            ],
        }


def _duplicate_problem(leaves: Sequence[Leaf]) -> InputError:
    seen: dict[bytes, int] = {}
    problems = []
    for index, leaf in enumerate(leaves):
        first = seen.setdefault(leaf[0], index)
        if first != index:
            problems.append(InputProblem(
                f"shipment id 0x{leaf[0].hex()} appears twice in one batch "
                f"(leaves {first} and {index}); a batch holds one live record per shipment",
                field="shipment_id",
            ))
    return InputError(problems)


def build_tree(leaves: Iterable[Leaf]) -> MerkleTree:
    """Build the StandardMerkleTree of ``leaves`` (sorted by leaf hash, as the library does).

    Raises ``InputError`` for an empty batch, an invalid leaf, or a shipment id given twice.
    """
    leaf_list = [leaf if type(leaf) is Leaf else Leaf(*leaf) for leaf in leaves]
    count = len(leaf_list)
    if count == 0:
        raise InputError([InputProblem("a batch needs at least one shipment")])
    digests = keccak_many(keccak_many([_encode(leaf) for leaf in leaf_list]))
    hashed = sorted(zip(digests, range(count), strict=True))  # the index breaks ties
    if len({leaf[0] for leaf in leaf_list}) != count:
        raise _duplicate_problem(leaf_list)

    size = 2 * count - 1
    tree = tree_nodes([digest for digest, _ in hashed])
    tree_indices = [0] * count
    for rank, (_, index) in enumerate(hashed):
        tree_indices[index] = size - 1 - rank
    return MerkleTree(tuple(tree), tuple(leaf_list), tuple(tree_indices))


def tree_nodes(sorted_hashes: Sequence[bytes]) -> list[bytes]:
    """Every node of the StandardMerkleTree whose leaf hashes are ``sorted_hashes`` (ascending,
    distinct, at least one): ``nodes[0]`` is the root, the last ``len(sorted_hashes)`` nodes are
    the leaves in descending order."""
    count = len(sorted_hashes)
    tree: list[bytes] = [b""] * (count - 1) + list(reversed(sorted_hashes))
    high = count - 2
    while high >= 0:  # the nodes from low to high have all their children already
        low = (high + 1) // 2
        lefts = tree[2 * low + 1:2 * high + 2:2]
        rights = tree[2 * low + 2:2 * high + 3:2]
        tree[low:high + 1] = keccak_many([a + b if a <= b else b + a
                                          for a, b in zip(lefts, rights, strict=True)])
        high = low - 1
    return tree


def stored_tree_index(tree: bytes, leaf_hash: bytes) -> int | None:
    """Where the leaf hash ``leaf_hash`` sits in a tree stored as its nodes' bytes (32 each, as
    :func:`tree_nodes` orders them), or ``None`` when it is not one of its leaves."""
    size = len(tree) // 32
    count = (size + 1) // 2
    low, high = size - count, size  # the leaves, in descending order
    while low < high:
        middle = (low + high) // 2
        if tree[32 * middle:32 * middle + 32] > leaf_hash:
            low = middle + 1
        else:
            high = middle
    if low < size and tree[32 * low:32 * low + 32] == leaf_hash:
        return low
    return None


def _dump_error(message: str) -> VerificationError:
    return VerificationError(f"not a {DUMP_FORMAT} tree of this ledger's leaves: {message}")


def load_tree(data: Mapping[str, Any]) -> MerkleTree:
    """Read a ``StandardMerkleTree.dump()`` (ours or the JS library's) and check it.

    Checks, like ``StandardMerkleTree.load``: the format, the leaf encoding, that every node is
    the hash of its children, and that every value's leaf hash sits at its ``treeIndex``. Raises
    ``VerificationError`` when any of these fails.
    """
    if not isinstance(data, Mapping) or data.get("format") != DUMP_FORMAT:
        found = data.get("format") if isinstance(data, Mapping) else type(data).__name__
        raise _dump_error(f"format is {found!r}")
    encoding = data.get("leafEncoding")
    if not isinstance(encoding, list) or tuple(encoding) != LEAF_ENCODING:
        raise _dump_error(f"leafEncoding is {encoding!r}, expected {list(LEAF_ENCODING)}")
    raw_tree, raw_values = data.get("tree"), data.get("values")
    if not isinstance(raw_tree, list) or not raw_tree or not isinstance(raw_values, list):
        raise _dump_error("tree must be a non-empty list and values a list")
    try:
        nodes = tuple(Bytes32.parse(node, "tree node") for node in raw_tree)
        leaves: list[Leaf] = []
        tree_indices: list[int] = []
        for entry in raw_values:
            if not isinstance(entry, Mapping) or not isinstance(entry.get("value"), list):
                raise _dump_error(f"value entry {entry!r} is not {{value, treeIndex}}")
            value = entry["value"]
            if len(value) != len(LEAF_ENCODING):
                raise _dump_error(f"value {value!r} does not have 4 fields")
            leaves.append(make_leaf(*value))
            position = entry.get("treeIndex")
            if not isinstance(position, int) or isinstance(position, bool):
                raise _dump_error(f"treeIndex {position!r} is not an integer")
            tree_indices.append(position)
    except InputError as exc:
        raise _dump_error(str(exc.problems[0])) from None

    size = len(nodes)
    for position in range(size):
        left, right = 2 * position + 1, 2 * position + 2
        if right < size:
            a, b = nodes[left], nodes[right]
            if nodes[position] != keccak256(a + b if a <= b else b + a):
                raise _dump_error(f"node {position} is not the hash of its children")
        elif left < size:
            raise _dump_error(f"node {position} has one child")
    for leaf, position in zip(leaves, tree_indices, strict=True):
        if not (0 <= position < size and 2 * position + 1 >= size):
            raise _dump_error(f"treeIndex {position} is not a leaf position")
        if nodes[position] != keccak256(keccak256(_encode(leaf))):
            raise _dump_error(f"the value at treeIndex {position} does not hash to that node")
    if len({leaf[0] for leaf in leaves}) != len(leaves):
        raise _dump_error(str(_duplicate_problem(leaves).problems[0]))
    return MerkleTree(nodes, tuple(leaves), tuple(tree_indices))
