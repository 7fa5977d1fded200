"""Another exporter sends this exporter's shipment key (or its shipment id) to the contract: the
contract derives every id from its sender, so the record lands in the intruder's namespace and
never under the owner's id; the owner's report verifies without a word about it, and a second
record by the owner itself is still a failure."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from devchain import DevChain
from report_chain_fixtures import anchor_and_issue

from ledger.chain.client import connect
from ledger.chain.contract import CarbonLedgerContract
from ledger.chain.events import ShipmentRecorded
from ledger.chain.gas import ShipmentEntry, pack_shipments
from ledger.errors import InputError
from ledger.records.canonical import chain_shipment_key_bytes, shipment_id_of
from ledger.reports.figures import shipped_recompute
from ledger.verify.verifier import verify_report


def test_a_foreign_writer_of_the_owners_key_records_under_its_own_id(
        chain: DevChain, tmp_path: Path) -> None:
    anchored = anchor_and_issue(chain, tmp_path, path="events")
    document = anchored.document
    bundle = anchored.bundles[0]
    owner = bundle["exporter"]
    owner_id = bytes.fromhex(bundle["leaf"]["shipment_id"].removeprefix("0x"))
    owner_key = chain_shipment_key_bytes(owner, bundle["record"]["shipment_id"])
    assert shipment_id_of(owner, owner_key) == owner_id
    factor_set_id = bytes.fromhex(anchored.factor_set.id.removeprefix("0x"))
    intruder = chain.exporter2
    before = intruder.shipment_events(owner_id)

    # the client refuses to send an entry whose id the contract would not give this signer
    with pytest.raises(InputError) as caught:
        intruder.record_shipments(
            factor_set_id, [ShipmentEntry(owner_id, os.urandom(32), 1, 1, owner_key)],
            refuse_recorded=False)
    assert caught.value.problems[0].field == "shipment_key"

    # a raw transaction past that check: the owner's key, and the owner's id sent as a key
    stolen = [ShipmentEntry(owner_id, os.urandom(32), 1, 1, owner_key),
              ShipmentEntry(owner_id, os.urandom(32), 2, 2, owner_id)]
    receipt = intruder.client.transact(
        intruder.address,
        intruder.codec.encode_call("recordShipments", os.urandom(32), factor_set_id,
                                   pack_shipments(stolen)),
        what="recordShipments with the owner's key")
    assert receipt.status == 1
    written = [e for e in intruder.events_in(receipt) if isinstance(e, ShipmentRecorded)]
    assert [(e.shipment_id, e.exporter) for e in written] == [
        (shipment_id_of(intruder.client.address, owner_key), intruder.client.address),
        (shipment_id_of(intruder.client.address, owner_id), intruder.client.address),
    ]
    assert intruder.shipment_id_of(intruder.client.address, owner_key) == written[0].shipment_id
    # nothing new under the owner's id: its events are exactly the owner's
    chain.node.rpc("evm_mine")
    assert intruder.shipment_events(owner_id) == before
    assert all(e.exporter.lower() == owner.lower() for e in before
               if isinstance(e, ShipmentRecorded))
    # a revocation with the owner's key names the intruder's id, not the owner's
    receipt = intruder.revoke_record(owner_key, bytes.fromhex(
        bundle["leaf"]["record_hash"].removeprefix("0x")))
    (revoked,) = intruder.events_in(receipt)
    assert revoked.shipment_id == written[0].shipment_id

    with connect(chain.settings, read_only=True) as client:
        reader = CarbonLedgerContract(client, chain.deployment.address)
        verdict = verify_report(document, reader, recompute=shipped_recompute())
        assert verdict.ok, verdict.to_dict()
        detail = verdict.check("uniqueness").detail
        assert intruder.client.address not in detail

        # a second live record by the owner itself is still a failure
        chain.exporter.record_shipments(
            factor_set_id, [ShipmentEntry(owner_id, os.urandom(32), 2, 2, owner_key)],
            refuse_recorded=False)
        chain.node.rpc("evm_mine")
        verdict = verify_report(document, reader, recompute=shipped_recompute())
        assert not verdict.ok
        assert verdict.check("uniqueness").status == "fail"
        assert "other live record(s) of its exporter" in verdict.check("uniqueness").detail
