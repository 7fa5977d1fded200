"""Anchoring end to end on a real Anvil: both paths, pre-flight refusals, idempotent re-runs,
proof bundles checked in Python and on chain, lookups, the store audited against the chain, and
the stages and counts a run reports to its ``progress`` callback.

The streamed root path (footprints whose records helpers build while the store takes them as
compressed record blocks) must give what the record-by-record path gives: the same records,
proofs that check on chain, the same refusals, and re-runs that anchor nothing new."""

from __future__ import annotations

import os
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from devchain import DevChain

from ledger.anchoring.anchor import anchor_footprints
from ledger.anchoring.options import STAGES, AnchorOptions, AnchorProgress, AnchorResult, scope_of
from ledger.anchoring.plan import PlannedCall, plan_event_batches, prepare_footprints
from ledger.anchoring.proofs import audit_store, check_bundle, lookup_shipment, proof_bundle
from ledger.anchoring.submit import batch_call
from ledger.chain.contract import CarbonLedgerContract
from ledger.dev.devkeys import DEV_EXPORTER_INDEXES, DEV_OUTSIDER_INDEXES
from ledger.errors import ConfigError, FactorError, InputError
from ledger.records import chunks as record_chunks
from ledger.records.record import build_entry
from ledger.store.store import LedgerStore, open_store
from ledger.types import Bytes32

EXPORTER = DEV_EXPORTER_INDEXES[0]
Pair = tuple[dict[str, Any], dict[str, Any]]


def make_pairs(ids: list[str], *, wtw_offset: int = 0) -> list[Pair]:
    """(shipment, footprint) dicts of one sea leg each, in the order of ``ids``."""
    pairs: list[Pair] = []
    for n, shipment_id in enumerate(ids):
        shipment: dict[str, Any] = {
            "shipment_id": shipment_id,
            "legs": [{"mode": "sea", "origin": "CNNGB", "destination": "NLRTM",
                      "mass_kg": str(1000 + n), "distance_km": "19376"}],
        }
        footprint = {"shipment_id": shipment_id, "co2e_wtw_g": 250_000 + n + wtw_offset,
                     "co2e_ttw_g": 200_000 + n}
        pairs.append((shipment, footprint))
    return pairs


def anchor(pairs: list[Pair], ledger: CarbonLedgerContract, store: LedgerStore,
           factor_set_id: bytes, **kwargs: Any) -> AnchorResult:
    """``anchor_footprints`` with the factor set id as bytes."""
    return anchor_footprints(pairs, store=store, ledger=ledger,
                             factor_set_id=Bytes32(factor_set_id).hex0x, **kwargs)


def _shipment_ids(pairs: list[Pair]) -> list[str]:
    return [s["shipment_id"] for s, _ in pairs]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LedgerStore]:
    with open_store(tmp_path / "ledger.sqlite") as opened:
        yield opened


@pytest.fixture
def exporter(chain: DevChain) -> CarbonLedgerContract:
    return chain.ledger(EXPORTER)


def _ids(prefix: str, count: int) -> list[str]:
    return [f"{prefix}-{os.urandom(3).hex()}-{i:03d}" for i in range(count)]


@pytest.mark.parametrize("path", ["events", "root"])
def test_anchoring_splits_batches_and_every_proof_checks_on_chain(
    chain: DevChain, exporter: CarbonLedgerContract, store: LedgerStore, path: str,
) -> None:
    pairs = make_pairs(_ids("NGB", 7))
    options = AnchorOptions(path=path, max_batch_shipments=3, max_root_leaves=3)
    result = anchor(pairs, exporter, store, chain.factor_set_id, options=options)
    assert sorted(result.new_shipments) == sorted(_shipment_ids(pairs))
    assert [len(store.batch_records(b.batch.id)) for b in result.batches] == [3, 3, 1]
    assert {b.state for b in result.batches} == {"final"}
    for shipment_id in _shipment_ids(pairs):
        bundle = proof_bundle(store, result.scope, shipment_id)
        assert bundle["state"] == "final" and bundle["path"] == path
        checks = check_bundle(bundle, exporter)
        assert all(c.ok for c in checks), checks
        assert len(checks) == (6 if path == "root" else 4)
    audit = audit_store(store, exporter, result.scope)
    assert audit.ok and audit.checked_events == (7 if path == "events" else 3)


def test_a_planned_batch_is_sent_as_the_store_rebuilds_it(
    chain: DevChain, exporter: CarbonLedgerContract, store: LedgerStore,
) -> None:
    records = prepare_footprints(make_pairs(_ids("SHA", 7)), exporter=exporter.client.address,
                                 factor_set_id=Bytes32(chain.factor_set_id).hex0x)
    calls: dict[str, PlannedCall] = {}
    planned = plan_event_batches(exporter, Bytes32(chain.factor_set_id), records,
                                 AnchorOptions(max_batch_shipments=3), calls)
    store.add_batches(scope_of(exporter), planned)
    stored = store.unstarted_batches(scope_of(exporter))
    assert sorted(calls) == sorted(b.batch_key for b in stored) and len(stored) == 3
    for batch in stored:
        rebuilt = batch_call(exporter, store, batch)
        assert batch_call(exporter, store, batch, calls) == rebuilt
        # a planned call that is not the stored batch is not used
        other = next(c for k, c in calls.items() if k != batch.batch_key)
        assert batch_call(exporter, store, batch, {batch.batch_key: other}) == rebuilt
        data, gas = rebuilt
        assert gas is not None and gas >= exporter.client.estimate_gas(exporter.address, data)


def test_a_tampered_bundle_fails_its_checks(
    chain: DevChain, exporter: CarbonLedgerContract, store: LedgerStore,
) -> None:
    pairs = make_pairs(_ids("YIW", 4))
    result = anchor(pairs, exporter, store, chain.factor_set_id,
                    options=AnchorOptions(path="root"))
    shipment_id = _shipment_ids(pairs)[1]
    bundle = proof_bundle(store, result.scope, shipment_id)
    bundle["record"]["footprint"]["co2e_wtw_g"] += 1
    failed = {c.name for c in check_bundle(bundle, exporter) if not c.ok}
    assert failed == {"record hash", "leaf"}
    bundle = proof_bundle(store, result.scope, shipment_id)
    bundle["leaf"]["co2e_wtw_g"] = "1"
    failed = {c.name for c in check_bundle(bundle, exporter) if not c.ok}
    assert failed == {"leaf", "merkle proof", "verifyShipment"}


def test_running_the_same_input_again_anchors_nothing_new(
    chain: DevChain, exporter: CarbonLedgerContract, store: LedgerStore,
) -> None:
    ids = _ids("HGH", 5)
    pairs = make_pairs(ids)
    anchor(pairs[:3], exporter, store, chain.factor_set_id)
    nonce = exporter.client.mined_nonce()
    again = anchor(pairs, exporter, store, chain.factor_set_id)
    assert sorted(again.already_anchored) == sorted(ids[:3])
    assert sorted(again.new_shipments) == sorted(ids[3:])
    assert exporter.client.mined_nonce() == nonce + 1  # one batch for the two new ones
    third = anchor(pairs, exporter, store, chain.factor_set_id)
    assert third.nothing_new and sorted(third.already_anchored) == sorted(ids)
    assert exporter.client.mined_nonce() == nonce + 1
    assert audit_store(store, exporter, third.scope).ok


def test_refusals_come_before_any_transaction(
    chain: DevChain, exporter: CarbonLedgerContract, store: LedgerStore,
) -> None:
    ids = _ids("HYN", 3)
    anchor(make_pairs(ids), exporter, store, chain.factor_set_id)
    nonce = exporter.client.mined_nonce()

    changed = make_pairs(ids, wtw_offset=7)
    with pytest.raises(InputError, match="carbon-ledger revoke") as excinfo:
        anchor(changed, exporter, store, chain.factor_set_id)
    assert {p.shipment_id for p in excinfo.value.problems} == set(ids)

    twice = make_pairs(["DUP-1", "DUP-2", "DUP-1"])
    with pytest.raises(InputError, match="appears twice") as excinfo:
        anchor(twice, exporter, store, chain.factor_set_id)
    assert [(p.shipment_id, p.row) for p in excinfo.value.problems] == [("DUP-1", 3)]

    unknown_set = os.urandom(32)
    with pytest.raises(FactorError, match="not registered"):
        anchor(make_pairs(_ids("FS", 1)), exporter, store, unknown_set)

    outsider = chain.ledger(DEV_OUTSIDER_INDEXES[0])
    with pytest.raises(ConfigError, match="no EXPORTER_ROLE"):
        anchor(make_pairs(_ids("OUT", 1)), outsider, store, chain.factor_set_id)

    assert exporter.client.mined_nonce() == nonce
    assert outsider.client.mined_nonce() == 0
    assert store.find_records(store.scopes()[0], ["DUP-1", "DUP-2"]) == {}


def test_a_shipment_recorded_from_another_store_is_refused(
    chain: DevChain, exporter: CarbonLedgerContract, store: LedgerStore, tmp_path: Path,
) -> None:
    pairs = make_pairs(_ids("RTM", 2))
    anchor(pairs, exporter, store, chain.factor_set_id)
    with open_store(tmp_path / "other.sqlite") as other, \
            pytest.raises(InputError, match="not in this store"):
        anchor(pairs, exporter, other, chain.factor_set_id)


def test_lookup_shows_every_record_and_flags_two_live_ones(
    chain: DevChain, exporter: CarbonLedgerContract, store: LedgerStore, tmp_path: Path,
) -> None:
    [shipment_id] = _ids("LGG", 1)
    fsid = Bytes32(chain.factor_set_id).hex0x
    first, changed = make_pairs([shipment_id]), make_pairs([shipment_id], wtw_offset=1)
    [record_hash], [changed_hash] = (
        [build_entry(s, f, exporter=exporter.client.address, factor_set_id=fsid).leaf.record_hash
         for s, f in pairs] for pairs in (first, changed))
    anchor(first, exporter, store, chain.factor_set_id)
    found = lookup_shipment(exporter, exporter.client.address, shipment_id, store)
    assert [e.record_hash for e in found.live] == [record_hash]
    assert not found.conflict and len(found.stored) == 1

    with open_store(tmp_path / "other.sqlite") as other:  # a second store, chain check off
        anchor(changed, exporter, other, chain.factor_set_id,
               options=AnchorOptions(check_chain=False))
    found = lookup_shipment(exporter, exporter.client.address, shipment_id, store)
    assert found.conflict
    assert {e.record_hash for e in found.live} == {record_hash, changed_hash}


# --------------------------------------- streamed: footprints -> record blocks as they are built


@pytest.fixture
def spread(monkeypatch: pytest.MonkeyPatch) -> None:
    """Helpers even for a few dozen pairs, in chunks of five (so chunks straddle batches)."""
    monkeypatch.setattr(record_chunks, "PARALLEL_MIN_PAIRS", 1)
    monkeypatch.setattr(record_chunks, "_CHUNK_PAIRS", 5)


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


# --------------------------------------------------------------- progress: stages and counts


@pytest.mark.usefixtures("spread")
@pytest.mark.parametrize("path", ["events", "root"])
def test_progress_hears_every_stage_in_order_with_its_counts(
    chain: DevChain, exporter: CarbonLedgerContract, store: LedgerStore, path: str,
) -> None:
    pairs = _pairs(chain.factor_set_id, 7, "PRG")
    heard: list[AnchorProgress] = []
    result = anchor(pairs, exporter, store, chain.factor_set_id, workers=2,
                    options=AnchorOptions(path=path, max_batch_shipments=3, max_root_leaves=3),
                    progress=heard.append)
    batches = len(result.batches)
    assert batches == 3 and {b.state for b in result.batches} == {"final"}
    stages = [p.stage for p in heard]
    in_order = [s for i, s in enumerate(stages) if i == 0 or s != stages[i - 1]]
    # the root path stores its records block by block as they are built: chunks of 5 of 7
    assert in_order == (["preparing", "storing", "sending", "done"] if path == "root"
                        else ["preparing", "sending", "done"])
    assert in_order == [s for s in STAGES if s in in_order]
    assert stages.count("storing") == (2 if path == "root" else 0)
    assert {p.shipments for p in heard} == {7}
    counts = [(p.signed, p.final) for p in heard]
    assert all(s1 <= s2 and f1 <= f2 for (s1, f1), (s2, f2) in pairwise(counts))
    assert all(final <= signed for signed, final in counts)
    sending = [(p.signed, p.final) for p in heard if p.stage == "sending"]
    # committed, then each transaction once signed and once final
    assert sending[0] == (0, 0) and len(sending) == 1 + 2 * batches
    assert heard[-1] == AnchorProgress("done", 7, signed=batches, final=batches)
