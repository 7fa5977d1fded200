"""One writer per key: when another process or person sends with the signing key while a run
sends its batches, the run refuses before signing the next one, naming the address and both
nonces; run again once the other writer stopped, it finishes with every shipment once."""

from __future__ import annotations

from pathlib import Path

import pytest
from devchain import DevChain
from report_chain_fixtures import register_shipped_factor_set

from ledger.anchoring.anchor import anchor_footprints
from ledger.anchoring.options import AnchorOptions
from ledger.chain.events import ShipmentRecorded
from ledger.dev.devkeys import DEV_EXPORTER_INDEXES, DEV_OUTSIDER_INDEXES, dev_key
from ledger.errors import NonceMoved
from ledger.footprint.single import compute_shipment
from ledger.inputs.shipments import Shipment
from ledger.store.store import open_store
from ledger.types import Bytes32

SHIPMENTS = [
    {"shipment_id": f"WRITER-{n:03d}", "legs": [
        {"leg": 1, "mode": "road", "mass_kg": str(3000 + n), "origin": "CNNGB",
         "destination": "CNSHA", "distance_km": "85"}]}
    for n in range(6)
]


def test_a_second_sender_with_the_key_stops_the_run_before_its_next_batch(
        chain: DevChain, tmp_path: Path) -> None:
    factor_set = register_shipped_factor_set(chain)
    exporter = chain.ledger(DEV_EXPORTER_INDEXES[0])
    address = exporter.client.address
    parsed = [Shipment.from_dict(s) for s in SHIPMENTS]
    pairs = [(s.to_dict(), compute_shipment(s, factor_set).to_dict()) for s in parsed]
    options = AnchorOptions(path="events", max_batch_shipments=2)
    other = chain.client(DEV_EXPORTER_INDEXES[0])  # another process holding the same key
    sent: list[int] = []
    start = exporter.client.pending_nonce()

    def meanwhile(point: str, _tx: object) -> None:
        if point == "between_batches" and not sent:
            receipt = other.transact(dev_key(DEV_OUTSIDER_INDEXES[0]).address, b"", value=1)
            sent.append(receipt.block_number)

    with open_store(tmp_path / "ledger.sqlite") as store:
        with pytest.raises(NonceMoved) as caught:
            anchor_footprints(pairs, store=store, ledger=exporter, factor_set_id=factor_set.id,
                              options=options, checkpoint=meanwhile)
        message = str(caught.value)
        assert address in message and "another writer" in message
        assert (f"next nonce on chain {chain.settings.chain_id} is {start + 2}, this run "
                f"expected {start + 1}") in message
        assert "Stop the other process" in message and "run the same command again" in message
        scope = store.scopes()[0]
        # one batch sent before the other writer, two refused before signing: nothing half-done
        assert [s.state for s in store.batch_statuses(scope)].count("unstarted") == 2

        result = anchor_footprints(pairs, store=store, ledger=exporter,
                                   factor_set_id=factor_set.id, options=options)
        assert [s.state for s in result.batches] == ["final"] * 3
        for record in store.scope_records(scope):
            events = exporter.shipment_events(Bytes32.parse(record.shipment_key))
            assert sum(isinstance(e, ShipmentRecorded) for e in events) == 1
