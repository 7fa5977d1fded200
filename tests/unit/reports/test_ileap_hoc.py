"""iLEAP HOCs of the hub legs whose operator describes its hub (:mod:`ledger.reports.hoc`):
the HOC data type (§6.4), its PACT v2.3 footprint (§7.2.3) and v3 form, and the report's
subject, built from real engine records (the operator's figures are fictitious)."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest
from pact_schemas import errors, ileap_validator, pact_validator

from ledger.factors.factorset import load_factor_set
from ledger.footprint.single import compute_shipment
from ledger.inputs.shipments import Shipment
from ledger.records import merkle
from ledger.records import record as records
from ledger.reports import hoc
from ledger.reports.document import credential_subject
from ledger.reports.figures import factor_sources, figures_from_record
from ledger.reports.model import Anchor, ReportItem
from ledger.reports.pact3 import to_v3

EXPORTER = "0x" + "ab" * 20
PERIOD = (date(2026, 1, 1), date(2026, 3, 31))
HOC_PRODUCT = "urn:pathfinder:product:customcode:vendor-assigned:hoc:"
HUB = {"hub_type": "Warehouse", "hub_temperature_control": "refrigerated",
       "hub_energy_carriers": [
           {"energy_carrier": "Electric", "relative_share": "0.8", "emission_factor_ttw": "0",
            "emission_factor_wtw": "0.2", "energy_consumption_unit": "kWh"},
           {"energy_carrier": "LPG", "relative_share": "0.2", "emission_factor_ttw": "1.5",
            "emission_factor_wtw": "1.7", "energy_consumption_unit": "l"}]}


def _shipment(sid: str, mass: str = "5000", **hub: Any) -> dict[str, Any]:
    return {"shipment_id": sid, "exporter": "Exporter Co.", "legs": [
        {"leg": 1, "mode": "road", "mass_kg": mass, "distance_km": "80"},
        {"leg": 2, "mode": "hub", "mass_kg": mass, "hub_co2e_ttw_kg_per_t": "3.2",
         "hub_co2e_wtw_kg_per_t": "4.05", **hub}]}


def _records(*shipments: dict[str, Any]) -> list[dict[str, Any]]:
    factor_set = load_factor_set()
    out = []
    for data in shipments:
        shipment = Shipment.from_dict(data)
        out.append(records.build_record(shipment.to_dict(),
                                        compute_shipment(shipment, factor_set).to_dict(),
                                        exporter=EXPORTER, factor_set_id=factor_set.id))
    return out


def _subject(recs: list[dict[str, Any]], issued_at: str = "2026-03-31T12:00:00Z"
             ) -> dict[str, Any]:
    factor_set = load_factor_set()
    leaves = [records.record_leaf(r) for r in recs]
    tree = merkle.build_tree(leaves)
    items = [ReportItem(
        figures_from_record(rec, period=PERIOD, factor_sources=factor_sources(factor_set)),
        Anchor(chain_id=31337, contract="0x" + "5f" * 20, path="root", batch_id=tree.root,
               transaction_hash="0x" + "7e" * 32, block_number=7, merkle_root=tree.root,
               chain_shipment_id="0x" + leaf.shipment_id.hex(),
               record_hash=records.record_hash(rec), co2e_wtw_g=leaf.co2e_wtw_g,
               co2e_ttw_g=leaf.co2e_ttw_g, proof=tuple(tree.proof(leaf.shipment_id)),
               record=rec, factor_set_id=factor_set.id, factor_set_uri=factor_set.uri))
        for rec, leaf in zip(recs, leaves, strict=True)]
    return credential_subject(items, issued_at, PERIOD)


def _hocs(subject: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in subject["productFootprints"] if f["productIds"][0].startswith(HOC_PRODUCT)]


def _tces(subject: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["tceId"]: t for f in subject["productFootprints"] for e in f["extensions"]
            if e["dataSchema"].endswith("/shipment-footprint.json") for t in e["data"]["tces"]}


def _leg(**changes: Any) -> dict[str, Any]:
    leg = copy.deepcopy(_shipment("X", **HUB)["legs"][1])
    leg.update(changes)
    return Shipment.from_dict({"shipment_id": "X", "legs": [
        _shipment("X")["legs"][0], leg]}).to_dict()["legs"][1]


def test_a_described_hub_has_a_hoc_of_the_operators_figures() -> None:
    found = hoc.hoc_for_leg(_leg())
    assert found is not None
    data = found.to_ileap()
    assert errors(ileap_validator("hoc.json"), data) == []
    assert {k: data[k] for k in ("hubType", "temperatureControl", "co2eIntensityTTW",
                                 "co2eIntensityWTW", "hubActivityUnit")} == {
        "hubType": "Warehouse", "temperatureControl": "refrigerated", "co2eIntensityTTW": "3.2",
        "co2eIntensityWTW": "4.05", "hubActivityUnit": "tonnes"}
    assert data["energyCarriers"][1] == {
        "energyCarrier": "LPG", "relativeShare": "0.2", "energyConsumptionUnit": "l",
        "emissionFactorWTW": "1.7", "emissionFactorTTW": "1.5"}
    assert data["hocId"].startswith("operator:Warehouse:") and len(data["hocId"]) == 35


@pytest.mark.parametrize("changes", [
    {"hub_co2e_wtw_kg_per_t": "4.06"}, {"hub_temperature_control": "mixed"},
    {"hub_type": "Transshipment"}, {"hub_energy_carriers": [
        {**HUB["hub_energy_carriers"][0], "relative_share": "1", "emission_factor_wtw": "0.21"}]},
])
def test_other_operator_data_give_another_hoc_id(changes: dict[str, Any]) -> None:
    same, other = hoc.hoc_for_leg(_leg()), hoc.hoc_for_leg(_leg(**changes))
    assert same is not None and other is not None
    assert hoc.hoc_for_leg(_leg()) == same  # derived from the data alone
    assert other.hoc_id != same.hoc_id


def test_no_hoc_for_a_hub_without_a_description_or_a_transport_leg() -> None:
    plain = Shipment.from_dict(_shipment("P")).to_dict()
    assert [hoc.hoc_for_leg(leg) for leg in plain["legs"]] == [None, None]


def test_a_hoc_footprint_follows_ileap_7_2_3_pact_2_3_and_v3() -> None:
    found = hoc.hoc_for_leg(_leg())
    assert found is not None
    footprint = hoc.hoc_footprint(
        found, pf_id="0b7f4c1e-2d3a-4b5c-8d6e-7f8091a2b3c4", created="2026-12-01T00:00:00Z",
        company_name="Exporter", company_id="0xabc",
        reference_period=("2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"), gwp_set="AR5")
    assert errors(ileap_validator("pcf-hoc.json"), footprint) == []
    assert errors(pact_validator("2.3"), footprint) == []
    assert footprint["productIds"] == [HOC_PRODUCT + found.hoc_id]
    pcf = footprint["pcf"]
    assert (pcf["declaredUnit"], pcf["unitaryProductAmount"], pcf["productMassPerDeclaredUnit"],
            pcf["pCfExcludingBiogenic"], pcf["packagingEmissionsIncluded"],
            pcf["primaryDataShare"]) == ("kilogram", "1000", "1000", "4.05", False, 100)
    assert "secondaryEmissionFactorSources" not in pcf  # the operator's figures only
    v3 = to_v3(footprint)
    assert errors(pact_validator("3.0.3"), v3) == []
    assert (v3["pcf"]["declaredUnitAmount"], v3["pcf"]["productMassPerDeclaredUnit"],
            v3["pcf"]["pcfExcludingBiogenicUptake"]) == ("1000", "1", "4.05")


def test_the_report_lists_one_hoc_per_operator_data_and_its_tces_name_it() -> None:
    recs = _records(_shipment("A", **HUB), _shipment("B", mass="7000", **HUB),
                    _shipment("C"))
    subject = _subject(recs)
    (listed,) = _hocs(subject)
    hoc_id = listed["extensions"][0]["data"]["hocId"]
    tces = _tces(subject)
    assert tces["A#2"]["hocId"] == tces["B#2"]["hocId"] == hoc_id
    assert tces["C#2"]["hocId"] == "hub"  # no description: named as before, nothing listed
    assert "tocId" in tces["A#1"] and "hocId" not in tces["A#1"]
    # the hub TCE's emissions are the operator's intensities times the tonnes handled
    assert tces["B#2"]["co2eWTW"] == "28.35" and tces["B#2"]["co2eTTW"] == "22.4"
    # one id per exporter and operator data, as a TOC footprint's: a later report publishes
    # the same HOC again under it
    later = _hocs(_subject(recs, "2026-04-01T08:00:00Z"))[0]
    assert later["id"] == listed["id"] and later["created"] != listed["created"]
    assert later["extensions"] == listed["extensions"]


def test_a_report_without_described_hubs_has_no_hoc() -> None:
    assert _hocs(_subject(_records(_shipment("C")))) == []
