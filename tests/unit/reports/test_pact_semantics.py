"""PACT footprints as an integrator checks them against the specifications: values per declared
unit, ``productMassPerDeclaredUnit``, the O* attributes of v2.3, no empty
``productOrSectorSpecificRules`` (PACT conformance cases #4 and #13: the official schema
rejects ``[]``), iLEAP ``distance.gcd`` as the great-circle distance, a product footprint for
every good with production emissions, and every footprint valid against the official PACT v2.3
and v3 OpenAPI schemas and the iLEAP ShipmentFootprint schema."""

from __future__ import annotations

import copy
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from pact_schemas import errors, ileap_validator, pact_validator
from report_fixtures import signed_report

from ledger.factors.distances import LocationBook, great_circle_km
from ledger.reports import pact
from ledger.reports.figures import figures_from_record
from ledger.reports.pact3 import to_v3

O_STAR = ("pCfIncludingBiogenic", "dLucGhgEmissions", "landManagementGhgEmissions",
          "otherBiogenicGhgEmissions", "biogenicCarbonWithdrawal",
          "biogenicAccountingMethodology", "primaryDataShare", "dqi")


def _footprints() -> list[dict[str, Any]]:
    return list(signed_report()["credentialSubject"]["productFootprints"])


def _ileap(footprint: dict[str, Any]) -> dict[str, Any]:
    return next(e["data"] for e in footprint["extensions"]
                if e["dataSchema"] == pact.ILEAP_SHIPMENT_SCHEMA)


def test_the_footprint_value_is_per_ton_kilometer() -> None:
    for footprint in _footprints():
        pcf, tces = footprint["pcf"], _ileap(footprint)["tces"]
        activity = sum(Decimal(t["transportActivity"]) for t in tces)
        wtw_kg = sum(Decimal(t["co2eWTW"]) for t in tces)
        assert pcf["declaredUnit"] == "ton kilometer"
        assert Decimal(pcf["unitaryProductAmount"]) == activity
        per_tkm = Decimal(pcf["pCfExcludingBiogenic"])
        assert per_tkm == (wtw_kg / activity).quantize(pact.PER_UNIT_QUANTUM, ROUND_HALF_UP)
        # per unit times the amount gives back the shipment's total within the rounding
        assert abs(per_tkm * activity - wtw_kg) <= pact.PER_UNIT_QUANTUM * activity
        assert per_tkm < wtw_kg  # not the shipment total any more
        assert pcf["fossilGhgEmissions"] == pcf["pCfExcludingBiogenic"]


def test_logistics_footprints_declare_no_product_mass() -> None:
    for footprint in _footprints():
        assert footprint["pcf"]["productMassPerDeclaredUnit"] == "0"
        assert to_v3(footprint)["pcf"]["productMassPerDeclaredUnit"] == "0"


def test_the_o_star_attributes_of_v2_3_are_present() -> None:
    for footprint in _footprints():
        assert footprint["pcf"]["referencePeriodStart"] >= "2025"
        missing = [name for name in O_STAR if name not in footprint["pcf"]]
        assert missing == []
        dqi = footprint["pcf"]["dqi"]
        assert set(dqi) == {"coveragePercent", "technologicalDQR", "temporalDQR",
                            "geographicalDQR", "completenessDQR", "reliabilityDQR"}


def test_empty_product_rules_are_left_out_because_the_official_schema_refuses_them() -> None:
    footprint = _footprints()[0]
    assert "productOrSectorSpecificRules" not in footprint["pcf"]
    assert "productOrSectorSpecificRules" not in to_v3(footprint)["pcf"]
    with_empty = copy.deepcopy(footprint)
    with_empty["pcf"]["productOrSectorSpecificRules"] = []
    assert errors(pact_validator("2.3"), with_empty)  # what conformance cases #4/#13 caught


@pytest.mark.parametrize("version", ["2.3", "3.0.3", "3.0.4"])
def test_every_footprint_validates_against_the_official_schema(version: str) -> None:
    validator = pact_validator(version)
    for footprint in _footprints():
        document = footprint if version == "2.3" else to_v3(footprint)
        assert errors(validator, document) == []
        assert errors(ileap_validator("shipment-footprint.json"), _ileap(footprint)) == []


def test_the_official_schema_catches_a_number_where_a_decimal_string_belongs() -> None:
    v3 = to_v3(_footprints()[0])
    v3["pcf"]["pcfExcludingBiogenicUptake"] = 0.02
    assert errors(pact_validator("3.0.4"), v3)


def _air_record(origin: str, destination: str, distance_km: int) -> dict[str, Any]:
    return {
        "shipment_id": "HZ-AIR-1", "exporter": "0x" + "11" * 20,
        "shipment": {"shipment_id": "HZ-AIR-1", "legs": [
            {"leg": 1, "mode": "air", "origin": origin, "destination": destination,
             "mass_kg": "500"}]},
        "footprint": {"legs": [
            {"leg": 1, "mode": "air", "distance_km": str(distance_km),
             "distance_method": "great_circle_plus_95km", "activity_tkm": "100",
             "co2e_wtw_g": 1000, "co2e_ttw_g": 800}]},
    }


def test_ileap_gcd_is_the_great_circle_distance_not_the_distance_used() -> None:
    book = LocationBook()
    a, b = book.resolve("PVG"), book.resolve("LGG")
    assert not isinstance(a, str) and not isinstance(b, str)
    gc_km = Decimal(repr(great_circle_km(a, b))).quantize(Decimal(1), ROUND_HALF_UP)
    record = _air_record("PVG", "LGG", int(gc_km) + 95)  # GLEC air distance: GCD + 95 km
    figures = figures_from_record(record, period=(pact_date(1), pact_date(31)),
                                  factor_sources=[("DESNZ", "2025")])
    (tce,) = pact.shipment_footprint_extension("HZ-AIR-1", Decimal(500), figures.tces)[
        "data"]["tces"]
    assert tce["distance"] == {"gcd": str(gc_km)}
    assert Decimal(tce["distance"]["gcd"]) == int(gc_km)
    assert int(gc_km) + 95 != int(tce["distance"]["gcd"])


def pact_date(day: int) -> Any:
    from datetime import date

    return date(2026, 1, day)


def test_a_good_with_production_emissions_gets_its_own_footprint() -> None:
    production = pact.ProductionFigures(
        product_description="Hexagon head steel bolts", product_id="7318 15 88",
        cpc_code="", mass_kg=Decimal(10000), co2e_g=70_100_000, geography_country="CN",
        source="Reg. (EU) 2025/2621")
    footprint = pact.product_footprint(
        pf_id=pact.deterministic_pf_id("product", "x"), created="2026-03-31T12:00:00Z",
        company_name="Haiyan Fasteners", company_id="0xabc", production=production,
        reference_period=("2026-01-01T00:00:00Z", "2026-04-01T00:00:00Z"), gwp_set="AR5",
        factor_sources=[("DESNZ", "2025")])
    pcf = footprint["pcf"]
    assert (pcf["declaredUnit"], pcf["unitaryProductAmount"]) == ("kilogram", "1")
    assert pcf["productMassPerDeclaredUnit"] == "1"
    assert pcf["pCfExcludingBiogenic"] == "7.01"  # 70.1 t over 10 t: 7.01 kg per kg
    assert footprint["productCategoryCpc"] == pact.CPC_UNKNOWN  # never a guessed code
    assert all(" " not in p for p in footprint["productIds"])
    assert errors(pact_validator("2.3"), footprint) == []
    v3 = to_v3(footprint)
    assert "productClassifications" not in v3
    assert errors(pact_validator("3.0.4"), v3) == []
