"""The hub operator's description of a hub leg (:mod:`ledger.inputs.hub`): iLEAP values as
spelt there, shares summing to 1, WTW >= TTW, each problem naming shipment, leg and field; kept
through the batch path's frame and in the record's shipment dict only when given."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ledger.errors import InputError
from ledger.inputs.frame import ShipmentFrame
from ledger.inputs.hub import HubEnergyCarrier, HubOperation
from ledger.inputs.read import read_shipments
from ledger.inputs.shipments import Shipment, shipments_from_json

DIESEL = {"energy_carrier": "Diesel", "relative_share": "0.75", "emission_factor_ttw": "2.68",
          "emission_factor_wtw": "3.25", "energy_consumption_unit": "l"}
GRID = {"energy_carrier": "Electric", "relative_share": "0.25", "emission_factor_ttw": "0",
        "emission_factor_wtw": "0.21", "energy_consumption_unit": "kWh"}


def _shipment(**hub: Any) -> dict[str, Any]:
    """A road leg, then a hub whose operator gives its intensities (fictitious figures)."""
    return {"shipment_id": "HUB-1", "legs": [
        {"leg": 1, "mode": "road", "mass_kg": "8000", "distance_km": "120"},
        {"leg": 2, "mode": "hub", "mass_kg": "8000", "hub_co2e_ttw_kg_per_t": "1.1",
         "hub_co2e_wtw_kg_per_t": "1.4", **hub}]}


DESCRIBED = {"hub_type": "StorageAndTransshipment", "hub_temperature_control": "mixed",
             "hub_energy_carriers": [DIESEL, GRID]}


def test_a_described_hub_is_read_exactly_and_round_trips() -> None:
    shipment = Shipment.from_dict(_shipment(**DESCRIBED))
    assert shipment.legs[1].hub_operation == HubOperation(
        "StorageAndTransshipment",
        (HubEnergyCarrier("Diesel", Decimal("0.75"), Decimal("2.68"), Decimal("3.25"), "l"),
         HubEnergyCarrier("Electric", Decimal("0.25"), Decimal(0), Decimal("0.21"), "kWh")),
        "mixed")
    leg = shipment.to_dict()["legs"][1]
    assert {k: leg[k] for k in DESCRIBED} == DESCRIBED
    assert Shipment.from_dict(shipment.to_dict()) == shipment


def test_a_hub_without_a_description_keeps_the_dict_it_had() -> None:
    leg = Shipment.from_dict(_shipment()).to_dict()["legs"][1]
    assert leg == {"leg": 2, "mode": "hub", "mass_kg": "8000", "hub_co2e_ttw_kg_per_t": "1.1",
                   "hub_co2e_wtw_kg_per_t": "1.4"}


def test_the_description_survives_the_batch_frame() -> None:
    """The service computes through a frame and stores the shipments it gives back."""
    shipments = shipments_from_json({"shipments": [
        {**_shipment(), "shipment_id": "PLAIN"}, _shipment(**DESCRIBED)]})
    frame = ShipmentFrame.from_shipments(shipments)
    assert frame.to_shipments() == shipments
    assert frame.without({"PLAIN"}).to_shipments() == shipments[1:]
    assert frame.without({"HUB-1"}).to_shipments() == shipments[:1]


def _carrier(index: int, **changes: Any) -> Callable[[dict[str, Any]], None]:
    def change(leg: dict[str, Any]) -> None:
        leg["hub_energy_carriers"][index - 1].update(changes)  # 1-based, as problems say
    return change


@pytest.mark.parametrize(("change", "field", "words"), [
    (lambda leg: leg.update(hub_type="transshipment"), "legs[2].hub_type",
     "unknown hub_type 'transshipment'"),
    (lambda leg: leg.update(hub_temperature_control="frozen"),
     "legs[2].hub_temperature_control", "expected one of ambient, refrigerated, mixed"),
    (_carrier(1, energy_carrier="diesel"), "legs[2].hub_energy_carriers[1].energy_carrier",
     "unknown energy_carrier 'diesel'"),
    (_carrier(2, energy_consumption_unit="kwh"),
     "legs[2].hub_energy_carriers[2].energy_consumption_unit", "expected one of l, kg, kWh, MJ"),
    (_carrier(1, relative_share="0.7"), "legs[2].hub_energy_carriers",
     "the relative shares sum to 0.95"),
    (_carrier(1, relative_share="0"), "legs[2].hub_energy_carriers[1].relative_share",
     "must be greater than 0"),
    (_carrier(1, relative_share="1.25"), "legs[2].hub_energy_carriers[1].relative_share",
     "larger than the limit 1"),
    (_carrier(1, emission_factor_wtw="2.5"), "legs[2].hub_energy_carriers[1].emission_factor_wtw",
     "below the TTW factor 2.68"),
    (_carrier(2, emission_factor_ttw="zero"),
     "legs[2].hub_energy_carriers[2].emission_factor_ttw", "'zero' is not a number"),
    (_carrier(1, emission_factor_ttw=None), "legs[2].hub_energy_carriers[1].emission_factor_ttw",
     "emission_factor_ttw is required"),
    (_carrier(1, feedstock="Fossil"), "legs[2].hub_energy_carriers[1].feedstock",
     "unknown key 'feedstock'"),
    (lambda leg: leg.pop("hub_type"), "legs[2].hub_type", "hub_type is required"),
    (lambda leg: leg.update(hub_energy_carriers=[]), "legs[2].hub_energy_carriers",
     "hub_energy_carriers is required"),
    (lambda leg: leg.update(hub_energy_carriers={"energy_carrier": "Diesel"}),
     "legs[2].hub_energy_carriers", "expected a list"),
    (lambda leg: leg.update(hub_temperature_control="ambient", refrigerated=True),
     "legs[2].hub_temperature_control", "contradicts refrigerated true"),
])
def test_a_wrong_description_names_shipment_leg_and_field(
        change: Callable[[dict[str, Any]], None], field: str, words: str) -> None:
    data = copy.deepcopy(_shipment(**DESCRIBED))
    change(data["legs"][1])
    with pytest.raises(InputError) as caught:
        Shipment.from_dict(data)
    found = [(p.shipment_id, p.field, p.message) for p in caught.value.problems]
    assert [(sid, where) for sid, where, _ in found] == [("HUB-1", field)], found
    assert words in found[0][2]


def test_a_transport_leg_takes_no_hub_description() -> None:
    data = _shipment()
    data["legs"][0].update(DESCRIBED)
    with pytest.raises(InputError) as caught:
        Shipment.from_dict(data)
    assert ("legs[1].hub_type", "hub_type, hub_energy_carriers and hub_temperature_control "
                                "apply to hub operations only") in [
        (p.field, p.message) for p in caught.value.problems]


def test_every_problem_of_a_file_is_reported_and_no_shipment_is_half_read(
        tmp_path: Path) -> None:
    bad = _shipment(hub_type="Depot", hub_energy_carriers=[{**DIESEL, "relative_share": "1",
                                                            "emission_factor_wtw": "1"}])
    path = tmp_path / "hubs.json"
    path.write_text(json.dumps({"shipments": [bad, {**_shipment(**DESCRIBED),
                                                    "shipment_id": "GOOD"}]}), encoding="utf-8")
    collected: list[Any] = []
    kept = read_shipments(path, collect=collected)
    assert [s.shipment_id for s in kept] == ["GOOD"]
    assert sorted(p.field for p in collected) == [
        "legs[2].hub_energy_carriers[1].emission_factor_wtw", "legs[2].hub_type"]


def test_a_csv_column_for_it_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "hubs.csv"
    path.write_text("shipment_id,leg,mode,mass_kg,distance_km,hub_co2e_ttw_kg_per_t,"
                    "hub_co2e_wtw_kg_per_t,hub_type\nA,1,road,1000,10,,,\n"
                    "A,2,hub,1000,,1,2,Warehouse\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_shipments(path)
    assert [p.field for p in caught.value.problems] == ["hub_type"]
