"""Another exporter writes a record under this exporter's (namespaced) shipment id: the owner's
report still verifies, with a warning naming the writer; a second record of the owner fails."""

from __future__ import annotations

import os
from pathlib import Path

from devchain import DevChain
from report_chain_fixtures import anchor_and_issue

from ledger.chain.client import connect
from ledger.chain.contract import CarbonLedgerContract
from ledger.chain.gas import ShipmentEntry
from ledger.reports.figures import shipped_recompute
from ledger.verify.verifier import verify_report


def test_a_foreign_record_under_the_owners_id_is_a_warning_not_a_failure(
        chain: DevChain, tmp_path: Path) -> None:
    anchored = anchor_and_issue(chain, tmp_path, path="events")
    document = anchored.document
    bundle = anchored.bundles[0]
    chain_id = bytes.fromhex(bundle["leaf"]["shipment_id"].removeprefix("0x"))
    factor_set_id = bytes.fromhex(anchored.factor_set.id.removeprefix("0x"))
    intruder = chain.exporter2
    intruder.record_shipments(factor_set_id, [ShipmentEntry(chain_id, os.urandom(32), 1, 1)],
                              refuse_recorded=False)
    chain.node.rpc("evm_mine")
    with connect(chain.settings, read_only=True) as client:
        reader = CarbonLedgerContract(client, chain.deployment.address)
        verdict = verify_report(document, reader, recompute=shipped_recompute())
        assert verdict.ok, verdict.to_dict()
        detail = verdict.check("uniqueness").detail
        assert "warning" in detail and intruder.client.address in detail

        # a second live record by the owner itself is still a failure
        chain.exporter.record_shipments(
            factor_set_id, [ShipmentEntry(chain_id, os.urandom(32), 2, 2)],
            refuse_recorded=False)
        chain.node.rpc("evm_mine")
        verdict = verify_report(document, reader, recompute=shipped_recompute())
        assert not verdict.ok
        assert verdict.check("uniqueness").status == "fail"
        assert "other live record(s) of its exporter" in verdict.check("uniqueness").detail
