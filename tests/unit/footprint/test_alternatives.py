"""Route alternatives: Suez against the Cape, and rail / sea / air for China–Europe."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from ledger.cli.main import main
from ledger.factors.distances import Router
from ledger.factors.factorset import FactorSet, load_factor_set, shipped_factor_dir
from ledger.footprint.alternatives import compare_routes
from ledger.footprint.single import compute_shipment
from ledger.inputs.shipments import Leg, Shipment

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.fixture(scope="module")
def factor_set() -> FactorSet:
    return load_factor_set(shipped_factor_dir() / "factor-set-2026-air-gcd.json")


def _by_name(result: object) -> dict[str, dict[str, object]]:
    data = result.to_dict()  # type: ignore[attr-defined]
    return {a["name"]: a for a in data["alternatives"]}


def test_suez_and_cape_against_the_declared_route(factor_set: FactorSet) -> None:
    router = Router()
    legs = (Leg(1, "road", Decimal(10400), distance_km=Decimal(120)),
            Leg(2, "sea", Decimal(10400), origin="CNSHA", destination="NLRTM"))
    shipment = Shipment("S", legs)
    result = compare_routes(shipment, factor_set, router=router)
    found = _by_name(result)
    suez = found["sea via Suez (shortest sea route)"]
    cape = found["sea via the Cape of Good Hope (avoiding Suez)"]
    declared = compute_shipment(shipment, factor_set, router=router)
    assert result.declared.co2e_wtw_g == declared.co2e_wtw_g == suez["co2e_wtw_g"]
    avoiding = compute_shipment(Shipment("S", (legs[0], Leg(
        2, "sea", Decimal(10400), origin="CNSHA", destination="NLRTM", avoid_suez=True))),
        factor_set, router=router)
    assert cape["co2e_wtw_g"] == avoiding.co2e_wtw_g
    assert cape["saving_g"] == declared.co2e_wtw_g - avoiding.co2e_wtw_g < 0
    assert Decimal(str(cape["distance_km"])) > Decimal(str(suez["distance_km"]))
    assert Decimal(str(suez["distance_km"])) == 120 + Decimal(declared.legs[1].distance_km)
    rail = found["main haul by rail (CNSHA to NLRTM)"]
    assert rail["available"] and rail["saving_g"] == declared.co2e_wtw_g - rail["co2e_wtw_g"]
    air = found["main haul by air (CNSHA to NLRTM)"]
    assert not air["available"] and "airport" in str(air["reason"])


def test_air_shipment_against_rail(factor_set: FactorSet) -> None:
    shipment = Shipment("A", (Leg(1, "air", Decimal(850), origin="PVG", destination="LGG"),))
    found = _by_name(compare_routes(shipment, factor_set))
    rail = found["main haul by rail (PVG to LGG)"]
    assert rail["available"] and Decimal(str(rail["saving_percent"])) > 90
    assert not found["main haul by sea (PVG to LGG)"]["available"]


def test_outside_china_europe_no_mode_alternatives(factor_set: FactorSet) -> None:
    shipment = Shipment("U", (Leg(1, "air", Decimal(100), origin="JFK", destination="LHR"),))
    result = compare_routes(shipment, factor_set).to_dict()
    assert [a["available"] for a in result["alternatives"]] == [False]


def test_alternatives_command_json(tmp_path: Path) -> None:
    out = tmp_path / "alt.json"
    with pytest.raises(SystemExit) as info:
        main(["alternatives", str(EXAMPLES / "demo-shipments.json"), "--format", "json",
              "-o", str(out)])
        raise SystemExit(0)
    assert not info.value.code
    document = json.loads(out.read_text())
    ids = [c["shipment_id"] for c in document["comparisons"]]
    assert ids == ["NB-APPL-2026-0001", "YW-RAIL-2026-0001", "HZ-AIR-2026-0001",
                   "HY-FAST-2026-0001"]
    ningbo = document["comparisons"][0]
    assert {a["name"] for a in ningbo["alternatives"]} >= {
        "sea via Suez (shortest sea route)", "sea via the Cape of Good Hope (avoiding Suez)"}
