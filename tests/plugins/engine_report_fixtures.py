"""Signed reports of real shipments without a node: the footprint engine over the shipped factor
set, real records and a real Merkle tree, anchors in the report's form (no chain: the tests that
use these check what a report says, not that it is on chain; the chain tier does that).

Reports are issued through :func:`ledger.reports.issue.issue_report`, which recomputes every
record with the shipped factor set before signing, as a verifier will.
"""

from __future__ import annotations

import functools
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from eth_account import Account

from ledger.records import merkle
from ledger.records import record as records

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
KEY = "0x" + "b7" * 32
EXPORTER = Account.from_key(KEY).address
CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
PERIOD = (date(2026, 1, 1), date(2026, 6, 30))
ISSUED_AT = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)


def _anchors(shipments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from ledger.factors.factorset import load_factor_set
    from ledger.footprint.single import compute_shipment
    from ledger.inputs.shipments import Shipment

    factor_set = load_factor_set()
    recs = []
    for data in shipments:
        shipment = Shipment.from_dict(data)
        footprint = compute_shipment(shipment, factor_set)
        recs.append(records.build_record(shipment.to_dict(), footprint.to_dict(),
                                         exporter=EXPORTER.lower(),
                                         factor_set_id=str(factor_set.id)))
    leaves = [records.record_leaf(r) for r in recs]
    tree = merkle.build_tree(leaves)
    return [{
        "chainId": 31337, "contract": CONTRACT, "anchoring": "root", "batchId": tree.root,
        "transactionHash": "0x" + "7e" * 32, "blockNumber": 12, "merkleRoot": tree.root,
        "leaf": {"shipmentId": "0x" + leaf.shipment_id.hex(),
                 "recordHash": records.record_hash(rec), "co2eWtwG": leaf.co2e_wtw_g,
                 "co2eTtwG": leaf.co2e_ttw_g},
        "proof": tree.proof(leaf.shipment_id), "factorSetId": rec["factor_set_id"],
        "factorSetUri": "", "record": rec,
    } for rec, leaf in zip(recs, leaves, strict=True)]


def example_shipments(name: str) -> list[dict[str, Any]]:
    data = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    shipments: list[dict[str, Any]] = data["shipments"]
    return shipments


@functools.cache
def _issued(names: tuple[str, ...]) -> str:
    from ledger.reports.issue import issue_report

    shipments = [s for name in names for s in example_shipments(name)]
    document = issue_report(_anchors(shipments), issuer_key=KEY, period=PERIOD,
                            issued_at=ISSUED_AT,
                            report_id=f"urn:uuid:00000000-0000-4000-8000-{len(shipments):012d}")
    return json.dumps(document)


def engine_report(*names: str) -> dict[str, Any]:
    """A signed report of the shipments of ``examples/<name>`` files, in order (default: the
    4-shipment demo); a fresh copy each call."""
    document: dict[str, Any] = json.loads(_issued(names or ("demo-shipments.json",)))
    return document
