"""Merkle multiproofs: many leaves of one anchored batch proven together.

The format and algorithm are OpenZeppelin's (``StandardMerkleTree.getMultiProof`` and
``MerkleProof.multiProofVerify``): the leaves in descending order of their place in the tree,
the sibling hashes the leaves cannot give (``proof``) and one flag per hash computed (``true``:
the second operand comes from the leaves and hashes already computed; ``false``: from ``proof``).
``leaves + proof - 1 == flags``. A declaration carries one multiproof per line and batch instead
of one path per consignment: proving every leaf of a batch takes no sibling hash at all, and
checking it takes one hash per node instead of one per level and leaf.

Trees are the stored form of :func:`ledger.records.merkle.tree_nodes`: 32-byte nodes, root first,
children of node ``i`` at ``2i + 1`` and ``2i + 2``, sorted pairs hashed with keccak-256.

:func:`multiproof` walks the nodes one by one (the oracle); :func:`multiproof_fast` gives the
same proof with numpy, a level at a time. The walk visits the leaves and all their ancestors in
descending index order, so each parent ``p`` among those ancestors contributes, in descending
order of ``p``, one flag (``true`` when both its children are visited) and, when only one child
is, that child's sibling as the next proof hash.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ledger.records.keccak import keccak256

__all__ = ["MultiProof", "multiproof", "multiproof_fast", "process_multiproof"]


class MultiProof:
    """Sibling hashes and flags of a multiproof (its leaves are given beside it)."""

    __slots__ = ("flags", "proof")

    def __init__(self, proof: list[bytes], flags: list[bool]) -> None:
        self.proof = proof
        self.flags = flags

    def to_dict(self) -> dict[str, object]:
        return {"proof": ["0x" + p.hex() for p in self.proof],
                "flags": "".join("1" if f else "0" for f in self.flags)}


class PackedProof:
    """A multiproof kept as one buffer of sibling hashes and one string of flags (what
    :func:`multiproof_fast` gives): its ``proof``, ``flags`` and ``to_dict`` are those of the
    same :class:`MultiProof`, the lists made only when asked for."""

    __slots__ = ("_flag_text", "_hashes")

    def __init__(self, hashes: bytes, flag_text: str) -> None:
        self._hashes = hashes
        self._flag_text = flag_text

    @property
    def proof(self) -> list[bytes]:
        hashes = self._hashes
        return [hashes[i:i + 32] for i in range(0, len(hashes), 32)]

    @property
    def flags(self) -> list[bool]:
        return [c == "1" for c in self._flag_text]

    def to_dict(self) -> dict[str, object]:
        count = len(self._hashes) // 32
        if not count:
            return {"proof": [], "flags": self._flag_text}
        # each hash as "0x" and 64 hex digits, the texts cut apart once
        nodes = np.frombuffer(self._hashes, dtype=np.uint8).reshape(count, 32)
        text = np.empty((count, 67), dtype=np.uint8)
        text[:, 0] = ord("0")
        text[:, 1] = ord("x")
        text[:, 2:66:2] = _HEX[nodes >> 4]
        text[:, 3:66:2] = _HEX[nodes & 15]
        text[:, 66] = ord(",")
        return {"proof": text.tobytes()[:-1].decode("ascii").split(","),
                "flags": self._flag_text}


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def multiproof(tree: bytes, tree_indices: Sequence[int]) -> tuple[list[int], MultiProof]:
    """The multiproof of the leaves at ``tree_indices`` of a stored tree: the indices in the
    order the proof takes their leaves (descending), and the proof."""
    size = len(tree) // 32
    order = sorted(set(tree_indices), reverse=True)
    if len(order) != len(tree_indices):
        raise ValueError("a leaf is named twice in one multiproof")
    if any(i < size // 2 or i >= size for i in order):
        raise ValueError("a multiproof index is not a leaf of the tree")
    stack = list(order)
    head = 0
    proof: list[bytes] = []
    flags: list[bool] = []
    while head < len(stack) and stack[head] > 0:
        j = stack[head]
        head += 1
        sibling = j - 1 if j % 2 == 0 else j + 1
        parent = (j - 1) // 2
        if head < len(stack) and stack[head] == sibling:
            flags.append(True)
            head += 1
        else:
            flags.append(False)
            proof.append(tree[32 * sibling:32 * sibling + 32])
        stack.append(parent)
    return order, MultiProof(proof, flags)


def multiproof_fast(tree: bytes, tree_indices: Sequence[int] | np.ndarray
                    ) -> tuple[np.ndarray, PackedProof]:
    """:func:`multiproof` with numpy (module docstring): the same order (as an array) and
    proof."""
    size = len(tree) // 32
    chosen = np.asarray(tree_indices, dtype=np.int64)
    # a declaration gives its leaves in descending order already
    order = chosen if bool(np.all(chosen[1:] < chosen[:-1])) else np.unique(chosen)[::-1]
    if len(order) != len(chosen):
        raise ValueError("a leaf is named twice in one multiproof")
    if len(order) and (int(order[-1]) < size // 2 or int(order[0]) >= size):
        raise ValueError("a multiproof index is not a leaf of the tree")
    visited = np.zeros(size, dtype=np.bool_)
    visited[order] = True
    level = order[order > 0]
    while len(level):
        # the parents of nodes in descending order come in descending order: each once
        level = (level - 1) // 2
        level = level[np.r_[True, level[1:] != level[:-1]]]
        visited[level] = True
        level = level[level > 0]
    # the visited nodes that are not leaves (leaves are size // 2 and up), highest first
    parents = np.flatnonzero(visited[:size // 2])[::-1]
    left = visited[2 * parents + 1]
    right = visited[2 * parents + 2]
    both = left & right
    single = parents[~both]
    siblings = np.where(visited[2 * single + 2], 2 * single + 1, 2 * single + 2)
    nodes = np.frombuffer(tree, dtype=np.uint8, count=32 * size).reshape(size, 32)
    flag_text = np.where(both, ord("1"), ord("0")).astype(np.uint8).tobytes().decode("ascii")
    return order, PackedProof(nodes[siblings].tobytes(), flag_text)


def process_multiproof(leaves: Sequence[bytes], proof: Sequence[bytes],
                       flags: Sequence[bool]) -> bytes | None:
    """The root a multiproof leads to from its leaf hashes, or None when it is malformed.

    The leaves and the hashes computed form one queue (OpenZeppelin takes a leaf while one is
    left, then the hashes in the order they were made: the same order)."""
    total = len(flags)
    if len(leaves) + len(proof) != total + 1:
        return None
    queue = list(leaves)
    append = queue.append
    taken = proof_pos = 0
    proof_count = len(proof)
    for flag in flags:
        if taken >= len(queue):
            return None
        a = queue[taken]
        taken += 1
        if flag:
            if taken >= len(queue):
                return None
            b = queue[taken]
            taken += 1
        elif proof_pos < proof_count:
            b = proof[proof_pos]
            proof_pos += 1
        else:
            return None
        append(keccak256(a + b if a <= b else b + a))
    if total:
        return queue[-1] if proof_pos == proof_count else None
    return leaves[0] if leaves else (proof[0] if proof else None)
