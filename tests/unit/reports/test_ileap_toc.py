"""iLEAP TOCs of the legs whose DESNZ category names its fuel (:mod:`ledger.reports.toc`) and the
cited fuel table they read (values checked against the DESNZ flat file by the table's builder,
``emission_factors/tools/build_ileap_energy_carriers.py --check``)."""

from __future__ import annotations

import csv
import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from pact_schemas import errors, ileap_validator, pact_validator

from ledger.factors.factorset import shipped_factor_dir
from ledger.reports import toc

TTW, WTT = "defra-2025-freighting-goods-ttw", "defra-2025-wtt-freight"


def _leg(key: str, ttw: str = TTW, wtt: str = WTT) -> toc.Toc | None:
    return toc.toc_for_leg(f"{ttw}#{key}", f"{wtt}#{key}")


def _csv(name: str) -> list[dict[str, str]]:
    with (shipped_factor_dir() / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _table() -> list[dict[str, str]]:
    return _csv(toc.ENERGY_CARRIER_TABLE)


def test_the_fuel_table_converts_kwh_to_mj_and_adds_wtt() -> None:
    rows = {r["key"]: r for r in _table()}
    assert set(rows) == {"diesel", "petrol", "aviation_fuel"}
    for row in rows.values():
        ttw = Decimal(row["ttw_kg_co2e_per_kwh_net_cv"])
        wtt = Decimal(row["wtt_kg_co2e_per_kwh_net_cv"])
        for value, per_mj in ((ttw, row["ttw_kg_co2e_per_mj"]),
                              (ttw + wtt, row["wtw_kg_co2e_per_mj"])):
            assert Decimal(per_mj) == (value / Decimal("3.6")).quantize(
                Decimal("0.000001"), rounding=ROUND_HALF_UP)
    # DESNZ 2025 flat file rows (kg CO2e per kWh Net CV)
    assert (rows["diesel"]["ttw_id"], rows["diesel"]["ttw_kg_co2e_per_kwh_net_cv"],
            rows["diesel"]["wtt_id"], rows["diesel"]["wtt_kg_co2e_per_kwh_net_cv"]) == (
        "1_101_1011_7_1", "0.25953", "11_101_1011_7_1", "0.06181")
    assert rows["aviation_fuel"]["ttw_id"] == "1_101_1009_7_1"


def test_the_fuel_table_cites_the_flat_file_and_stays_out_of_every_factor_set() -> None:
    readme = (shipped_factor_dir() / "README.md").read_text(encoding="utf-8")
    for row in _table():
        assert row["source_sha256"] in readme and row["ttw_id"] in readme
    for manifest in Path(shipped_factor_dir()).glob("factor-set-*.json"):
        assert toc.ENERGY_CARRIER_TABLE not in manifest.read_text(encoding="utf-8")


@pytest.mark.parametrize(("key", "carrier", "refrigerated"), [
    ("road.hgv_all.average", "Diesel", False),
    ("road.hgv_rigid_over_17t.laden_50.refrigerated", "Diesel", True),
    ("road.van_average_diesel", "Diesel", False),
    ("road.van_average_petrol", "Petrol", False),
    ("air.freight_flight_international_non_uk.without_rf", "Aviation fuel", False),
])
def test_a_category_that_names_its_fuel_has_a_toc(key: str, carrier: str,
                                                  refrigerated: bool) -> None:
    found = _leg(key)
    assert found is not None
    data = found.to_ileap()
    assert errors(ileap_validator("toc.json"), data) == []
    assert data["tocId"] == f"defra-2025:{key}"
    assert data["energyCarriers"][0]["energyCarrier"] == carrier
    assert ("temperatureControl" in data) == refrigerated
    rows = {r["key"]: r for r in _csv(f"{TTW}.csv")}
    wtt = {r["key"]: r for r in _csv(f"{WTT}.csv")}
    assert Decimal(data["co2eIntensityTTW"]) == Decimal(rows[key]["kg_co2e_per_tkm"])
    assert Decimal(data["co2eIntensityWTW"]) == Decimal(rows[key]["kg_co2e_per_tkm"]) + \
        Decimal(wtt[key]["kg_co2e_per_tkm"])


@pytest.mark.parametrize("key", [
    "sea.container_ship_8000_plus_teu", "rail.freight_train", "road.van_average_bev",
    "road.van_average_unknown", "road.van_average_cng"])
def test_a_category_without_one_named_fuel_has_no_toc(key: str) -> None:
    assert _leg(key) is None


def test_no_cargo_ship_or_freight_train_category_has_a_toc() -> None:
    """Every sea and rail category of the DESNZ 2025 table stays without a TOC: none names its
    fuel or the shares of its fuels (docs/pact.md, "Not covered"), and the fuel table maps no
    energy carrier to them, so no TOC states a carrier its source does not."""
    keys = [r["key"] for r in _csv(f"{TTW}.csv") if r["mode"] in ("sea", "rail")]
    assert "rail.freight_train" in keys and "sea.container_ship_average" in keys
    assert [k for k in keys if _leg(k) is not None] == []
    categories = {c for row in _table() for c in row["freight_categories"].split(";")}
    assert categories.isdisjoint({"Cargo ship", "Sea tanker", "Rail"})


def test_other_editions_and_references_have_no_toc() -> None:
    # the DESNZ 2026 tables: their fuel rows are not in the ledger, editions are not mixed
    assert _leg("road.hgv_all.average", "desnz-2026-freighting-goods-ttw",
                "desnz-2026-wtt-freight") is None
    assert _leg("road.hgv_all.average", TTW, "desnz-2026-wtt-freight") is None
    assert toc.toc_for_leg("record#hub_co2e_ttw_kg_per_t=1.5", "record#x") is None
    assert toc.category_id("desnz-2026-freighting-goods-ttw#rail.freight_train") == \
        "desnz-2026:rail.freight_train"
    assert toc.category_id("record#hub_co2e_ttw_kg_per_t=1.5") is None


def test_a_toc_footprint_follows_ileap_7_2_2_and_pact_2_3() -> None:
    found = _leg("road.hgv_all.average")
    assert found is not None
    footprint = toc.toc_footprint(
        found, pf_id="0b7f4c1e-2d3a-4b5c-8d6e-7f8091a2b3c4", created="2026-12-01T00:00:00Z",
        company_name="Exporter", company_id="0xabc",
        reference_period=("2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"), gwp_set="AR5",
        factor_sources=[(TTW, "sha256:1"), (WTT, "sha256:2"), ("method-parameters-v1", "x")])
    assert errors(ileap_validator("pcf-toc.json"), footprint) == []
    assert errors(pact_validator("2.3"), footprint) == []
    assert footprint["productIds"] == [
        "urn:pathfinder:product:customcode:vendor-assigned:toc:defra-2025:road.hgv_all.average"]
    assert footprint["pcf"]["pCfExcludingBiogenic"] == "0.12522"  # 0.10163 + 0.02359
    names = [s["name"] for s in footprint["pcf"]["secondaryEmissionFactorSources"]]
    assert names == [TTW, WTT, "desnz-2025-fuels-ileap-energy-carriers"]
    broken = json.loads(json.dumps(footprint))
    broken["extensions"][0]["data"]["energyCarriers"] = []
    broken["extensions"][0]["data"].pop("mode")
    assert errors(ileap_validator("pcf-toc.json"), broken)
