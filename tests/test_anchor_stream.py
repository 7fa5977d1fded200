"""Anchoring footprints on the root path with records stored as they are built, on a real Anvil:
helpers build the chunks, the store takes them as compressed record blocks, and the result is
what the record-by-record path gives: the same records, proofs that check on chain, the same
refusals, and re-runs that anchor nothing new."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import DevChain

from ledger import records as records_module
from ledger.anchor import AnchorOptions, anchor_footprints, scope_of
from ledger.chain_contract import CarbonLedgerContract
from ledger.devkeys import DEV_EXPORTER_INDEXES
from ledger.errors import InputError
from ledger.proofs import audit_store, check_bundle, proof_bundle
from ledger.records import build_entry
from ledger.store import LedgerStore, open_store

EXPORTER = DEV_EXPORTER_INDEXES[1]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LedgerStore]:
    with open_store(tmp_path / "ledger.sqlite") as opened:
        yield opened


@pytest.fixture
def exporter(chain: DevChain) -> CarbonLedgerContract:
    return chain.ledger(EXPORTER)


@pytest.fixture
def spread(monkeypatch: pytest.MonkeyPatch) -> None:
    """Helpers even for a few dozen pairs, in chunks of five (so chunks straddle batches)."""
    monkeypatch.setattr(records_module, "PARALLEL_MIN_PAIRS", 1)
    monkeypatch.setattr(records_module, "_CHUNK_PAIRS", 5)


def _pairs(factor_set_id: bytes, count: int, prefix: str = "ZJ"
           ) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    tag = os.urandom(3).hex()
    pairs = []
    for n in range(count):
        shipment_id = f"{prefix}-{tag}-{n:03d}"
        shipment = {"shipment_id": shipment_id, "legs": [
            {"leg": 1, "mode": "sea", "origin": "CNNGB", "destination": "NLRTM",
             "mass_kg": str(1000 + n), "distance_km": "19376"}]}
        footprint = {"shipment_id": shipment_id, "factor_set_id": "0x" + factor_set_id.hex(),
                     "co2e_wtw_g": 250_000 + n, "co2e_ttw_g": 200_000 + n}
        pairs.append((shipment, footprint))
    return pairs


def _block_rows(store: LedgerStore) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.text(
            "SELECT count(*) FROM records WHERE record_json IS NULL")).scalar_one())


@pytest.mark.usefixtures("spread")
def test_streamed_batches_hold_the_records_one_process_builds_and_prove_on_chain(
    chain: DevChain, exporter: CarbonLedgerContract, store: LedgerStore,
) -> None:
    pairs = _pairs(chain.factor_set_id, 23)
    result = anchor_footprints(pairs, store=store, ledger=exporter,
                               factor_set_id="0x" + chain.factor_set_id.hex(),
                               options=AnchorOptions(path="root", max_root_leaves=8), workers=2)
    ids = [s["shipment_id"] for s, _ in pairs]
    assert list(result.new_shipments) == ids and result.already_anchored == ()
    assert [s.batch.shipment_count for s in result.batches] == [8, 8, 7]
    assert {s.state for s in result.batches} == {"final"}
    assert _block_rows(store) == 23  # every record went into a record block
    expected = {s["shipment_id"]: build_entry(s, f, exporter=exporter.client.address,
                                              factor_set_id="0x" + chain.factor_set_id.hex())
                for s, f in pairs}
    stored = store.scope_records(result.scope)
    assert [r.shipment_id for r in stored] == ids  # batch by batch, in input order
    for row in stored:
        entry = expected[row.shipment_id]
        assert row.record_json == entry.canonical and row.record_hash == entry.record_hash
    for shipment_id in ids:
        bundle = proof_bundle(store, result.scope, shipment_id)
        checks = check_bundle(bundle, exporter)
        assert all(c.ok for c in checks), checks
    assert audit_store(store, exporter, result.scope).ok


@pytest.mark.usefixtures("spread")
def test_a_rerun_and_a_partly_new_input_go_record_by_record(
    chain: DevChain, exporter: CarbonLedgerContract, store: LedgerStore,
) -> None:
    pairs = _pairs(chain.factor_set_id, 12, "NB")
    fsid = "0x" + chain.factor_set_id.hex()
    anchor_footprints(pairs[:7], store=store, ledger=exporter, factor_set_id=fsid,
                      options=AnchorOptions(path="root"), workers=2)
    nonce = exporter.client.mined_nonce()
    again = anchor_footprints(pairs, store=store, ledger=exporter, factor_set_id=fsid,
                              options=AnchorOptions(path="root"), workers=2)
    assert sorted(again.already_anchored) == sorted(s["shipment_id"] for s, _ in pairs[:7])
    assert sorted(again.new_shipments) == sorted(s["shipment_id"] for s, _ in pairs[7:])
    assert exporter.client.mined_nonce() == nonce + 1
    third = anchor_footprints(pairs, store=store, ledger=exporter, factor_set_id=fsid,
                              options=AnchorOptions(path="root"), workers=2)
    assert third.nothing_new and exporter.client.mined_nonce() == nonce + 1
    assert audit_store(store, exporter, scope_of(exporter)).ok


@pytest.mark.usefixtures("spread")
def test_bad_input_is_refused_with_nothing_stored_or_sent(
    chain: DevChain, exporter: CarbonLedgerContract, store: LedgerStore,
) -> None:
    fsid = "0x" + chain.factor_set_id.hex()
    nonce = exporter.client.mined_nonce()
    twice = _pairs(chain.factor_set_id, 9, "DUP")
    twice.append(twice[3])
    with pytest.raises(InputError, match="appears twice") as excinfo:
        anchor_footprints(twice, store=store, ledger=exporter, factor_set_id=fsid,
                          options=AnchorOptions(path="root"), workers=2)
    assert [p.row for p in excinfo.value.problems] == [10]

    floats = _pairs(chain.factor_set_id, 17, "FLT")
    floats[12][1]["co2e_ttw_g"] = 1.5
    floats[15][0]["legs"][0]["mass_kg"] = 2.0  # a later problem: not the one reported
    with pytest.raises(InputError) as excinfo:
        anchor_footprints(floats, store=store, ledger=exporter, factor_set_id=fsid,
                          options=AnchorOptions(path="root"), workers=2)
    [problem] = excinfo.value.problems
    assert problem.shipment_id == floats[12][0]["shipment_id"]
    assert exporter.client.mined_nonce() == nonce
    assert store.scopes() == [] or store.scope_records(scope_of(exporter)) == []
