"""Batches of canonical records anchored on a real Anvil: the contract's verifyShipment agrees."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ledger.records.merkle import LEAF_ENCODING, Leaf, build_tree, load_tree, verify_proof
from ledger.records.record import build_record, record_leaf

pytestmark = pytest.mark.chain

INTEROP_SCRIPT = Path(__file__).resolve().parents[1] / "js" / "merkle_interop.js"


def records_of(exporter: str, factor_set_id: bytes, count: int) -> list[dict[str, Any]]:
    rng = random.Random(count)
    result = []
    for n in range(count):
        shipment_id = f"YIW-2026-{n:04d}"
        ttw_g, wtt_g = rng.randrange(10**5, 10**8), rng.randrange(10**4, 10**7)
        shipment = {"shipment_id": shipment_id,
                    "legs": [{"order": 1, "mode": "rail", "origin": "Yiwu", "destination": "Madrid",
                              "distance_km": "13052", "mass_kg": str(rng.randrange(1000, 20000))}]}
        footprint = {"shipment_id": shipment_id, "co2e_ttw_g": ttw_g, "co2e_wtt_g": wtt_g,
                     "co2e_wtw_g": ttw_g + wtt_g,
                     "legs": [{"order": 1, "co2e_ttw_g": ttw_g, "co2e_wtt_g": wtt_g,
                               "co2e_wtw_g": ttw_g + wtt_g}]}
        result.append(build_record(shipment, footprint, exporter=exporter,
                                   factor_set_id="0x" + factor_set_id.hex()))
    return result


def test_a_record_batch_is_anchored_and_every_shipment_verifies_on_chain(chain: Any) -> None:
    exporter = chain.exporter
    leaves = [record_leaf(r) for r in records_of(exporter.client.address, chain.factor_set_id, 37)]
    tree = build_tree(leaves)
    exporter.anchor_root(tree.root_bytes, chain.factor_set_id, len(tree))

    for index, leaf in enumerate(leaves):
        proof = tree.proof_bytes(index)
        assert verify_proof(tree.root, leaf, proof)
        assert exporter.verify_shipment(tree.root_bytes, proof, leaf)

    leaf, proof = leaves[5], tree.proof_bytes(5)
    wrong: list[tuple[Leaf, list[bytes], bytes]] = [
        (leaf._replace(co2e_wtw_g=leaf.co2e_ttw_g, co2e_ttw_g=leaf.co2e_wtw_g), proof,
         tree.root_bytes),
        (leaf._replace(co2e_ttw_g=leaf.co2e_ttw_g - 1), proof, tree.root_bytes),
        (leaf, tree.proof_bytes(6), tree.root_bytes),
        (leaf, proof[:-1], tree.root_bytes),
        (leaf, proof, build_tree(leaves[:-1]).root_bytes),  # a valid-looking root never anchored
    ]
    for bad_leaf, bad_proof, root in wrong:
        assert not exporter.verify_shipment(root, bad_proof, bad_leaf)
        assert not verify_proof(root, bad_leaf, bad_proof)


@pytest.mark.node
def test_a_tree_built_by_the_js_library_verifies_on_chain(chain: Any, tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not on PATH")
    exporter = chain.exporter
    leaves = [record_leaf(r) for r in records_of(exporter.client.address, chain.factor_set_id, 9)]
    payload = {"leafEncoding": list(LEAF_ENCODING), "values": [leaf.values() for leaf in leaves]}
    path = tmp_path / "build.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    result = json.loads(subprocess.run(
        [node, str(INTEROP_SCRIPT), "build", str(path)],
        capture_output=True, text=True, check=True, timeout=120,
    ).stdout)

    theirs = load_tree(result["dump"])
    exporter.anchor_root(theirs.root_bytes, chain.factor_set_id, len(theirs))
    for leaf, proof in zip(leaves, result["proofs"], strict=True):
        proof_bytes = [bytes.fromhex(p[2:]) for p in proof]
        assert exporter.verify_shipment(theirs.root_bytes, proof_bytes, leaf)
