"""Factor sets over time against a real Anvil: shipments dispatched in 2025 and 2026 anchored
set by set (``carbon-ledger anchor --by-dispatch-date``), each batch recording its own set on
chain; a report over both sets verifies, each record recomputed with the set it names; a
record whose set differs from its anchor's, or is not shipped, fails naming the set."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from api_fixtures import make_service, service_settings
from cli_env import chain_cli_env, run_cli
from devchain import TEST_FACTOR_SET_ID, DevChain

from api.app import create_app
from ledger.anchoring.anchor import anchor_footprints
from ledger.anchoring.options import AnchorOptions, scope_of
from ledger.anchoring.proofs import proof_bundle
from ledger.chain.contract import CarbonLedgerContract
from ledger.chain.events import RootAnchored, ShipmentRecorded
from ledger.dev.devkeys import (
    DEV_ADMIN_INDEX,
    DEV_EXPORTER_INDEXES,
    DEV_OUTSIDER_INDEXES,
    dev_key,
)
from ledger.errors import InputError
from ledger.factors.factorset import FactorSet, load_factor_set
from ledger.factors.schedule import load_schedule
from ledger.footprint.single import compute_shipment
from ledger.inputs.shipments import Shipment
from ledger.records import merkle
from ledger.records import record as records
from ledger.reports.document import build_report
from ledger.reports.figures import shipped_recompute
from ledger.reports.issue import issue_report
from ledger.reports.model import Anchor, ReportItem
from ledger.reports.parse import report_anchors
from ledger.store.store import open_store
from ledger.verify.verifier import verify_report

PERIOD = (date(2025, 1, 1), date(2026, 12, 31))
ISSUED = datetime(2026, 12, 1, 12, tzinfo=UTC)


def _shipment(shipment_id: str, dispatched: str) -> dict[str, Any]:
    return {"shipment_id": shipment_id, "consignment": {"dispatch_date": dispatched},
            "legs": [{"leg": 1, "mode": "road", "mass_kg": "12000", "origin": "CNNGB",
                      "destination": "CNSHA", "distance_km": "85"},
                     {"leg": 2, "mode": "sea", "mass_kg": "12000", "origin": "CNNGB",
                      "destination": "NLRTM", "distance_km": "19399"}]}


SHIPMENTS = [_shipment("NGB-2025-0101", "2025-11-20"), _shipment("NGB-2026-0102", "2026-02-03"),
             _shipment("NGB-2025-0103", "2025-12-31")]


def _register(chain: DevChain, factor_set: FactorSet) -> None:
    fsid = bytes.fromhex(factor_set.id[2:])
    if not chain.admin.is_factor_set_registered(fsid):
        chain.admin.register_factor_set(fsid, factor_set.uri)


def _reader(chain: DevChain) -> CarbonLedgerContract:
    return CarbonLedgerContract(chain.client(DEV_OUTSIDER_INDEXES[0]), chain.deployment.address)


@pytest.fixture
def shipments_file(chain: DevChain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    chain_cli_env(chain, tmp_path, monkeypatch)
    path = tmp_path / "shipments.json"
    path.write_text(json.dumps({"shipments": SHIPMENTS}), encoding="utf-8")
    return path


def test_two_sets_are_anchored_in_their_own_batches_and_the_report_verifies(
    chain: DevChain, shipments_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    schedule = load_schedule()
    set_2025, set_2026 = (e.factor_set for e in schedule.entries)
    for factor_set in (set_2025, set_2026):
        _register(chain, factor_set)
    assert run_cli(["anchor", str(shipments_file), "--path", "root", "--by-dispatch-date"]) == 0
    out = capsys.readouterr().out
    assert "anchored 3 new shipment(s) on the root path" in out
    assert f"batches by factor set: {min(set_2025.id, set_2026.id)} 1" in out

    exporter = chain.exporter
    with open_store(str(tmp_path / "ledger.sqlite")) as store:
        scope = scope_of(exporter)
        batches = store.batch_statuses(scope)
        bundles = [proof_bundle(store, scope, s["shipment_id"]) for s in SHIPMENTS]
    assert len(batches) == 2
    # each root went on chain under the set its records were computed with
    anchored = {"0x" + e.root.hex(): "0x" + e.factor_set_id.hex()
                for e in exporter.events("RootAnchored") if isinstance(e, RootAnchored)}
    for bundle in bundles:
        assert anchored[bundle["batch"]["root"]] == bundle["record"]["factor_set_id"]
    assert [b["record"]["factor_set_id"] for b in bundles] == [set_2025.id, set_2026.id,
                                                               set_2025.id]
    # a rerun sends nothing new
    nonce = exporter.client.mined_nonce()
    assert run_cli(["anchor", str(shipments_file), "--path", "root", "--by-dispatch-date"]) == 0
    assert "nothing new to anchor: all 3 shipment(s)" in capsys.readouterr().out
    assert exporter.client.mined_nonce() == nonce

    key = dev_key(DEV_EXPORTER_INDEXES[0])
    document = issue_report(bundles, issuer_key=key.private_key, period=PERIOD, issued_at=ISSUED)
    verdict = verify_report(document, _reader(chain), recompute=shipped_recompute())
    assert verdict.ok, verdict.to_dict()
    assert set_2025.id in verdict.check("factor_set").detail
    assert set_2026.id in verdict.check("factor_set").detail
    report_file = tmp_path / "report.json"
    report_file.write_text(json.dumps(document), encoding="utf-8")
    assert run_cli(["verify", str(report_file)]) == 0  # the command recomputes with both sets
    # and so does the service, which computes with one set of its own
    app = create_app(service_settings(tmp_path), chain.settings, deployment=chain.deployment,
                     admin_key=dev_key(DEV_ADMIN_INDEX).private_key)
    service = make_service(app, chain.node)
    try:
        auditor = service.org("Rotterdam Audit", "auditor")
        answer = service.client.post("/v1/verifications", json=document,
                                     headers=service.auth(auditor))
        assert answer.status_code == 200, answer.text
        assert answer.json()["verified"] is True, answer.json()["failed"]
    finally:
        service.client.close()
        service.ctx.close()

    # the 2025 record now claims the 2026 set: it no longer hashes to what was anchored
    report_anchors(document)[0][1]["record"]["factor_set_id"] = set_2026.id
    altered = verify_report(document, _reader(chain), recompute=shipped_recompute())
    assert "record_hash" in altered.failed
    assert altered.check("recompute").status == "skipped"


def test_an_unregistered_set_is_refused_before_anything_is_sent(
    chain: DevChain, shipments_file: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    set_2025, set_2026 = (e.factor_set for e in load_schedule().entries)
    _register(chain, set_2026)  # the 2025 dispatches' set is not registered
    nonce = chain.exporter.client.mined_nonce()
    assert run_cli(["anchor", str(shipments_file), "--by-dispatch-date"]) != 0
    assert set_2025.id[2:12] in capsys.readouterr().err.replace("\n", "")
    assert chain.exporter.client.mined_nonce() == nonce


def test_footprints_of_two_sets_in_one_run_are_refused(chain: DevChain, tmp_path: Path) -> None:
    set_2025, set_2026 = (e.factor_set for e in load_schedule().entries)
    for factor_set in (set_2025, set_2026):
        _register(chain, factor_set)
    pairs = []
    for data, factor_set in zip(SHIPMENTS[:2], (set_2025, set_2026), strict=True):
        shipment = Shipment.from_dict(data)
        pairs.append((shipment.to_dict(), compute_shipment(shipment, factor_set).to_dict()))
    nonce = chain.exporter.client.mined_nonce()
    with open_store(str(tmp_path / "mixed.sqlite")) as store:
        for path in ("events", "root"):
            with pytest.raises(InputError) as info:
                anchor_footprints(pairs, store=store, ledger=chain.exporter,
                                  factor_set_id=set_2025.id, options=AnchorOptions(path=path))
            assert f"1 under {set_2026.id} (first NGB-2026-0102)" in str(info.value)
            assert not store.batch_statuses(scope_of(chain.exporter))
    assert chain.exporter.client.mined_nonce() == nonce


def _report(chain: DevChain, record_set: FactorSet, *, anchor_set: bytes,
            record_set_id: str | None = None, shipment: dict[str, Any] | None = None,
            distance_km: str | None = None) -> dict[str, Any]:
    """A report of SHIPMENTS[0] computed with ``record_set`` (its record naming
    ``record_set_id``, default the set's own id), its root anchored under ``anchor_set``;
    ``distance_km``: the first leg's distance in the record's footprint instead (as another
    places table would have given it)."""
    key = dev_key(DEV_EXPORTER_INDEXES[0])
    shipment_data = Shipment.from_dict(shipment or SHIPMENTS[0])
    footprint = compute_shipment(shipment_data, record_set).to_dict()
    if distance_km is not None:
        footprint["legs"][0]["distance_km"] = distance_km
    named = record_set_id or record_set.id
    footprint["factor_set_id"] = named
    rec = records.build_record(shipment_data.to_dict(), footprint, exporter=key.address.lower(),
                               factor_set_id=named)
    leaf = records.record_leaf(rec)
    tree = merkle.build_tree([leaf])
    if not chain.admin.is_factor_set_registered(anchor_set):
        chain.admin.register_factor_set(anchor_set, "test://factor-set")
    receipt = chain.exporter.anchor_root(tree.root_bytes, anchor_set, 1)
    anchor = Anchor(
        chain_id=chain.settings.chain_id, contract=chain.deployment.address, path="root",
        batch_id=tree.root, transaction_hash="0x" + receipt.tx_hash.hex(),
        block_number=receipt.block_number, merkle_root=tree.root,
        chain_shipment_id="0x" + leaf.shipment_id.hex(), record_hash=records.record_hash(rec),
        co2e_wtw_g=leaf.co2e_wtw_g, co2e_ttw_g=leaf.co2e_ttw_g,
        proof=tuple(tree.proof(leaf.shipment_id)), record=rec,
        factor_set_id="0x" + anchor_set.hex(), factor_set_uri="")
    figures, _ = shipped_recompute()({**rec, "factor_set_id": record_set.id}, PERIOD)
    return build_report([ReportItem(figures, anchor)], issuer_key=key.private_key,
                        issued_at=ISSUED, period=PERIOD)


def test_a_record_anchored_under_another_set_fails_naming_both(chain: DevChain) -> None:
    set_2025, set_2026 = (e.factor_set for e in load_schedule().entries)
    document = _report(chain, set_2025, anchor_set=bytes.fromhex(set_2026.id[2:]))
    verdict = verify_report(document, _reader(chain), recompute=shipped_recompute())
    assert verdict.failed == ["record_hash"]
    assert (f"the record names factor set {set_2025.id}, its anchor factor set {set_2026.id}"
            in verdict.check("record_hash").detail)


def test_a_record_of_a_set_this_installation_does_not_ship_fails_naming_it(
    chain: DevChain,
) -> None:
    unknown = "0x" + TEST_FACTOR_SET_ID.hex()
    document = _report(chain, load_factor_set(), anchor_set=TEST_FACTOR_SET_ID,
                       record_set_id=unknown)
    verdict = verify_report(document, _reader(chain), recompute=shipped_recompute())
    assert verdict.failed == ["recompute"]
    detail = verdict.check("recompute").detail
    assert f"factor set {unknown} is not shipped with this installation" in detail
    assert "factor-set-2025.json" in detail  # and which sets it does ship


def test_a_record_that_recomputes_differently_names_the_places_tables(chain: DevChain) -> None:
    """A sea leg between port codes: its distance comes from positions of the places tables,
    which the factor-set id does not cover; the verdict names the tables used here."""
    shipment = {"shipment_id": "NGB-2026-0200", "legs": [
        {"leg": 1, "mode": "sea", "mass_kg": "12000", "origin": "CNNGB",
         "destination": "NLRTM"}]}
    document = _report(chain, load_factor_set(), shipment=shipment,
                       anchor_set=bytes.fromhex(load_factor_set().id[2:]), distance_km="19001")
    verdict = verify_report(document, _reader(chain), recompute=shipped_recompute())
    assert verdict.failed == ["recompute"]
    detail = verdict.check("recompute").detail
    assert "distance_km" in detail
    assert "unece-un-locode-places-geoapify-2024-10.csv.gz (sha256 " in detail


def test_events_path_records_each_shipment_under_its_own_set(
    chain: DevChain, shipments_file: Path, tmp_path: Path,
) -> None:
    for entry in load_schedule().entries:
        _register(chain, entry.factor_set)
    assert run_cli(["anchor", str(shipments_file), "--by-dispatch-date"]) == 0
    with open_store(str(tmp_path / "ledger.sqlite")) as store:
        scope = scope_of(chain.exporter)
        bundles = [proof_bundle(store, scope, s["shipment_id"]) for s in SHIPMENTS]
    recorded = {"0x" + e.shipment_id.hex(): "0x" + e.factor_set_id.hex()
                for e in chain.exporter.events("ShipmentRecorded")
                if isinstance(e, ShipmentRecorded)}
    assert [recorded[b["leaf"]["shipment_id"]] for b in bundles] == \
        [b["record"]["factor_set_id"] for b in bundles]
    assert len({b["batch"]["batch_id"] for b in bundles}) == 2


def test_a_problem_in_one_set_stops_the_run_before_any_set_is_stored(
    chain: DevChain, shipments_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    """The 2026 shipment was anchored before under the default set; by dispatch date it is
    computed under the DESNZ 2026 set: a changed record, refused, and the 2025 shipments are
    not anchored either (one run, one commit)."""
    for entry in load_schedule().entries:
        _register(chain, entry.factor_set)
    first = tmp_path / "first.json"
    first.write_text(json.dumps({"shipments": [SHIPMENTS[1]]}), encoding="utf-8")
    assert run_cli(["anchor", str(first)]) == 0
    capsys.readouterr()
    nonce = chain.exporter.client.mined_nonce()
    assert run_cli(["anchor", str(shipments_file), "--by-dispatch-date"]) == 2
    err = capsys.readouterr().err
    assert "NGB-2026-0102" in err and "row 2" in err
    assert chain.exporter.client.mined_nonce() == nonce
    with open_store(str(tmp_path / "ledger.sqlite")) as store:
        assert len(store.batch_statuses(scope_of(chain.exporter))) == 1
