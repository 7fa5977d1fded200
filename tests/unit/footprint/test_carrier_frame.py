"""Carrier primary data (the carrier's own intensity of a leg) kept by the columnar frame and
used by the batch engine on the frame path exactly as by the single-shipment engine."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from ledger.errors import InputError
from ledger.factors.factorset import FactorSet, load_factor_set
from ledger.footprint.batch import compute_batch
from ledger.footprint.dated import subframe
from ledger.footprint.single import compute_shipment
from ledger.inputs.csvreader import read_csv_frame
from ledger.inputs.frame import ShipmentFrame
from ledger.inputs.shipments import Leg, Shipment


@pytest.fixture(scope="module")
def factor_set() -> FactorSet:
    return load_factor_set()


def _carrier_leg(order: int, *, verified: bool | None = True) -> Leg:
    # iLEAP 1.0 end-to-end example: TTW 0.153, WTW 0.17 kg CO2e/t.km (so WTT 0.017)
    return Leg(order, "road", Decimal(87), distance_km=Decimal(321),
               carrier_co2e_ttw_kg_per_tkm=Decimal("0.153"),
               carrier_co2e_wtt_kg_per_tkm=Decimal("0.017"),
               carrier_source="operator-z-truck-89sdff", carrier_period="2024",
               carrier_verified=verified)


def _shipments() -> list[Shipment]:
    plain = Leg(1, "road", Decimal(87), distance_km=Decimal(321))
    return [
        Shipment("PLAIN", (plain,)),
        Shipment("MIXED", (_carrier_leg(1),
                           Leg(2, "road", Decimal(87), distance_km=Decimal(423)))),
        Shipment("ONLY", (Leg(1, "sea", Decimal(1000), distance_km=Decimal(100)),
                          _carrier_leg(2, verified=None))),
    ]


def _by_id(shipments: list[Shipment]) -> dict[str, Shipment]:
    return {s.shipment_id: s for s in shipments}


def test_frame_round_trip_keeps_the_carrier_fields() -> None:
    shipments = _shipments()
    frame = ShipmentFrame.from_shipments(shipments)
    back = _by_id(frame.to_shipments())
    for s in shipments:
        assert back[s.shipment_id].legs == s.legs
    (primary,) = [leg for leg in back["MIXED"].legs if leg.primary]
    assert (primary.order, primary.carrier_source, primary.carrier_verified) == (
        1, "operator-z-truck-89sdff", True)
    # dropping a shipment or picking some keeps the carrier data of the others, re-indexed
    for part in (frame.without({"PLAIN"}), subframe(frame, np.asarray([1, 2], dtype=np.intp))):
        kept = _by_id(part.to_shipments())
        assert set(kept) == {"MIXED", "ONLY"}
        for sid in kept:
            assert kept[sid].legs == _by_id(shipments)[sid].legs


def test_batch_from_a_frame_uses_the_carrier_intensity(factor_set: FactorSet) -> None:
    shipments = _shipments()
    expected = [compute_shipment(s, factor_set) for s in shipments]
    frame = ShipmentFrame.from_shipments(shipments)
    got = compute_batch(frame, factor_set).footprints()
    assert got == expected
    mixed = got[1]
    assert [leg.data_type for leg in mixed.legs] == ["primary", "secondary"]
    assert mixed.legs[0].factor_ttw == "record#carrier_co2e_ttw_kg_per_tkm=0.153"
    assert mixed.legs[0].co2e_ttw_g == 4273  # 0.087 t x 321 km x 0.153 = 4.272831 kg
    assert mixed.primary_data_share is not None and Decimal(mixed.primary_data_share) > 0
    assert got[2].legs[1].carrier_verified is False
    # the carrier's figures replace the factor set's default for the same leg
    defaults = [Shipment(s.shipment_id, tuple(Leg(leg.order, leg.mode, leg.mass_kg,
                                                  distance_km=leg.distance_km)
                                              for leg in s.legs)) for s in shipments]
    default = compute_batch(ShipmentFrame.from_shipments(defaults), factor_set).footprints()
    assert default[1].co2e_ttw_g != mixed.co2e_ttw_g
    assert default[1].primary_data_share is None


def test_dropped_and_picked_frames_compute_as_the_whole(factor_set: FactorSet) -> None:
    shipments = _shipments()
    frame = ShipmentFrame.from_shipments(shipments)
    whole = compute_batch(frame, factor_set).footprints()
    assert compute_batch(frame.without({"PLAIN"}), factor_set).footprints() == whole[1:]
    picked = subframe(frame, np.asarray([0, 2], dtype=np.intp))
    assert compute_batch(picked, factor_set).footprints() == [whole[0], whole[2]]


def test_csv_carrier_columns_are_refused_not_dropped(tmp_path: Path) -> None:
    # carrier data come in the JSON form only (docs/shipments-format.md)
    path = tmp_path / "carrier.csv"
    path.write_text("shipment_id,leg,mode,mass_kg,distance_km,carrier_co2e_ttw_kg_per_tkm\n"
                    "A,1,road,87,321,0.153\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_csv_frame(path)
    assert [p.field for p in info.value.problems] == ["carrier_co2e_ttw_kg_per_tkm"]
