"""Report documents: PACT/iLEAP content, schema validity, CBAM block, HTML rendering."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from report_fixtures import EXPORTER, anchored, signed_report

from ledger.errors import InputError
from ledger.reports import vc
from ledger.reports.html import render_html
from ledger.reports.model import ANCHOR_SCHEMA, Anchor, ReportItem

SCHEMAS = Path(__file__).resolve().parents[3] / "ledger" / "reports" / "schemas"


def _validator(name: str) -> Any:
    return jsonschema_rs.validator_for(json.loads((SCHEMAS / name).read_text()))


def test_report_is_a_signed_vc_with_pact_footprints() -> None:
    doc = signed_report()
    assert doc["@context"] == ["https://www.w3.org/ns/credentials/v2"]
    assert doc["issuer"] == f"did:pkh:eip155:31337:{EXPORTER}"
    assert vc.recover_issuer(doc) == EXPORTER
    footprints = doc["credentialSubject"]["productFootprints"]
    assert len(footprints) == 2
    first = footprints[0]
    assert first["pcf"]["declaredUnit"] == "ton kilometer"
    # 12 t x (35 + 19 500) km = 234 420 t·km (sum of the TCEs' transport activity)
    assert first["pcf"]["unitaryProductAmount"] == "234420"
    tces = first["extensions"][0]["data"]["tces"]
    assert [t["co2eTTW"] for t in tces] == ["42.685", "3772.08"]  # 12x35x0.10163; 12x19500x0.01612
    # pCfExcludingBiogenic is per declared unit: the TCEs' co2eWTW over their t·km
    wtw = sum(float(t["co2eWTW"]) for t in tces)
    assert float(first["pcf"]["pCfExcludingBiogenic"]) == pytest.approx(wtw / 234420)
    anchor = first["extensions"][1]
    assert anchor["dataSchema"] == ANCHOR_SCHEMA
    assert set(anchor["data"]) >= {"chainId", "contract", "batchId", "transactionHash",
                                   "blockNumber", "merkleRoot", "leaf", "proof", "record",
                                   "factorSetId"}


def test_every_footprint_validates_against_the_pact_and_ileap_schemas() -> None:
    pact_schema = _validator("pact-v2.3-product-footprint.schema.json")
    ileap_schema = _validator("ileap-shipment-footprint.schema.json")
    doc = signed_report()
    for footprint in doc["credentialSubject"]["productFootprints"]:
        errors = [e.message for e in pact_schema.iter_errors(footprint)]
        assert errors == []
        ileap = footprint["extensions"][0]["data"]
        assert [e.message for e in ileap_schema.iter_errors(ileap)] == []


def test_the_schema_catches_a_float_emission_value() -> None:
    footprint = signed_report()["credentialSubject"]["productFootprints"][0]
    footprint["pcf"]["pCfExcludingBiogenic"] = 0.0199
    assert not _validator("pact-v2.3-product-footprint.schema.json").is_valid(footprint)


def test_cbam_block_has_the_screws_and_no_transport() -> None:
    cbam = signed_report()["credentialSubject"]["cbam"]
    (good,) = cbam["goods"]
    assert good["cnCode"] == "73181590"
    assert good["embeddedTotalT"] == "70.1"  # 10 t x 7.01 tCO2e/t
    assert good["determination"] == "default" and good["markupYear"] == "2026"
    assert cbam["transportEmissionsIncluded"] is False


def test_pf_ids_are_v4_shaped_and_stable() -> None:
    a, b = signed_report(), signed_report()
    ids_a = [f["id"] for f in a["credentialSubject"]["productFootprints"]]
    assert ids_a == [f["id"] for f in b["credentialSubject"]["productFootprints"]]
    assert all(i[14] == "4" for i in ids_a)


def test_a_report_mixing_chains_is_refused() -> None:
    items = anchored().items
    moved = ReportItem(items[1].figures, Anchor(
        **{**items[1].anchor.__dict__, "chain_id": 11155111}))
    with pytest.raises(InputError, match="same chain"):
        signed_report(items=[items[0], moved])


def test_html_is_self_contained_and_shows_the_evidence() -> None:
    doc = signed_report()
    page = render_html(doc, report_file="ngb.json", rpc_hint="http://127.0.0.1:8545")
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and "http-equiv" not in page
    assert "src=" not in page and "<link" not in page  # nothing fetched from elsewhere
    assert "@media print" in page
    assert page.count("<svg") == 2  # one per-leg chart per shipment
    anchor = doc["credentialSubject"]["productFootprints"][0]["extensions"][1]["data"]
    assert anchor["transactionHash"] in page and anchor["merkleRoot"] in page
    assert "carbon-ledger verify ngb.json --rpc http://127.0.0.1:8545" in page
    assert "3,772.080" in page  # sea leg TTW, kg
    assert "Threaded screws and bolts" in page
