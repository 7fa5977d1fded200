"""Our Merkle batches against OpenZeppelin's @openzeppelin/merkle-tree, run under Node."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ledger.records.merkle import (
    LEAF_ENCODING,
    Leaf,
    build_tree,
    load_tree,
    make_leaf,
    verify_proof,
)

pytestmark = pytest.mark.node

SCRIPT = Path(__file__).resolve().parents[1] / "js" / "merkle_interop.js"


def run_js(mode: str, payload: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not on PATH")
    path = tmp_path / f"{mode}-input.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    result = subprocess.run(
        [node, str(SCRIPT), mode, str(path)],
        capture_output=True, text=True, timeout=120, check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 0, result.stderr
    output: dict[str, Any] = json.loads(result.stdout)
    return output


def random_leaves(count: int, seed: int) -> list[Leaf]:
    rng = random.Random(seed)
    return [
        Leaf(rng.randbytes(32), rng.randbytes(32), rng.randrange(2**48), rng.randrange(2**48))
        for _ in range(count)
    ]


@pytest.mark.parametrize("count", [1, 2, 3, 10, 1000])
def test_the_js_library_loads_our_dump_and_verifies_every_proof(count: int,
                                                               tmp_path: Path) -> None:
    tree = build_tree(random_leaves(count, seed=count))
    result = run_js("check", {"dump": tree.dump(), "root": tree.root, "proofs": tree.proofs()},
                    tmp_path)
    assert result["root"] == tree.root
    assert result["leafCount"] == count
    assert result["verified"] == count
    assert result["mismatches"] == []


def test_the_js_library_rejects_a_proof_we_did_not_make(tmp_path: Path) -> None:
    # the interop script can fail: a wrong proof shows up as a mismatch
    tree = build_tree(random_leaves(8, seed=3))
    proofs = tree.proofs()
    proofs[2] = proofs[3]
    result = run_js("check", {"dump": tree.dump(), "root": tree.root, "proofs": proofs}, tmp_path)
    assert result["verified"] == 7
    assert {m["index"] for m in result["mismatches"]} == {2}


@pytest.mark.parametrize("count", [1, 2, 5, 64, 333])
def test_we_read_the_js_librarys_tree_and_build_the_same(count: int, tmp_path: Path) -> None:
    values = [leaf.values() for leaf in random_leaves(count, seed=1000 + count)]
    result = run_js("build", {"leafEncoding": list(LEAF_ENCODING), "values": values}, tmp_path)

    theirs = load_tree(result["dump"])
    assert theirs.root == result["root"]
    assert theirs.proofs() == result["proofs"]

    ours = build_tree([make_leaf(*value) for value in values])
    assert ours.root == result["root"]
    assert ours.proofs() == result["proofs"]
    assert ours.dump() == result["dump"]
    for value, proof in zip(values, result["proofs"], strict=True):
        assert verify_proof(result["root"], make_leaf(*value), proof)


def test_we_read_js_values_written_as_numbers_and_hex(tmp_path: Path) -> None:
    # the library accepts uint256 as JSON numbers and hex strings; so must our loader
    leaves = random_leaves(4, seed=11)
    values: list[list[Any]] = [
        ["0x" + leaf.shipment_id.hex().upper(), "0x" + leaf.record_hash.hex(),
         leaf.co2e_wtw_g, hex(leaf.co2e_ttw_g)]
        for leaf in leaves
    ]
    result = run_js("build", {"leafEncoding": list(LEAF_ENCODING), "values": values}, tmp_path)
    theirs = load_tree(result["dump"])
    assert theirs.root == build_tree(leaves).root
    assert list(theirs.leaves) == leaves
