"""Air method, reefer containers and carrier primary data, checked by hand against the cited
figures (DESNZ 2025 freight factors; iLEAP's published two-leg example)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.errors import InputError
from ledger.factors.distances import LocationBook, great_circle_km
from ledger.factors.factorset import FactorSet, load_factor_set, shipped_factor_dir
from ledger.footprint.batch import compute_batch
from ledger.footprint.single import compute_shipment, compute_shipments
from ledger.inputs.shipments import Leg, Shipment


@pytest.fixture(scope="module")
def gcd_set() -> FactorSet:
    return load_factor_set(shipped_factor_dir() / "factor-set-2026-air-gcd.json")


@pytest.fixture(scope="module")
def legacy_set() -> FactorSet:
    return load_factor_set()


def _grams(kg: str) -> int:
    return int((Decimal(kg) * 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _air(mass: str, **extra: object) -> Shipment:
    return Shipment("A", (Leg(1, "air", Decimal(mass), **extra),))  # type: ignore[arg-type]


# DESNZ 2025 "Freighting goods" / "WTT- delivery vehs & freight", kg CO2e per tonne.km:
# short-haul to/from UK without RF 0.75539 / 0.20515; international to/from non-UK (= long-haul)
# without RF 0.53130 / 0.13516, with RF 0.89939 / 0.13516.
@pytest.mark.parametrize("case", [
    ("1200", None, "short-haul", "906.468", "246.18"),          # 1 t x 1200 km
    ("3699.999", None, "short-haul", "2794.94224461", "759.05479485"),
    ("3700", None, "long-haul", "1965.81", "500.092"),
    ("8900", True, "long-haul", "8004.571", "1202.924"),
])
def test_desnz_air_factor_by_haul_band(
        gcd_set: FactorSet, case: tuple[str, bool | None, str, str, str]) -> None:
    km, rf, haul, ttw_kg, wtt_kg = case
    fp = compute_shipment(_air("1000", distance_km=Decimal(km), radiative_forcing=rf), gcd_set)
    (leg,) = fp.legs
    assert leg.haul == haul
    assert (leg.co2e_ttw_g, leg.co2e_wtt_g) == (_grams(ttw_kg), _grams(wtt_kg))
    band = "short_haul_uk" if haul == "short-haul" else "international_non_uk"
    assert leg.factor_ttw.endswith(f"air.freight_flight_{band}."
                                   + ("with_rf" if rf else "without_rf"))


def test_air_distance_is_plain_great_circle_with_desnz_factors(
        gcd_set: FactorSet, legacy_set: FactorSet) -> None:
    book = LocationBook()
    pvg, fra = book.resolve("PVG"), book.resolve("FRA")
    assert not isinstance(pvg, str) and not isinstance(fra, str)
    gc_km = int(Decimal(repr(great_circle_km(pvg, fra))).quantize(Decimal(1), ROUND_HALF_UP))
    new = compute_shipment(_air("500", origin="PVG", destination="FRA"), gcd_set).legs[0]
    assert (new.distance_km, new.distance_method, new.haul) == (
        str(gc_km), "great_circle", "long-haul")
    assert new.co2e_ttw_g == _grams(str(Decimal("0.5") * gc_km * Decimal("0.53130")))
    # the factor sets of method v1 keep their (double-counting) GLEC uplift, stated per leg
    old = compute_shipment(_air("500", origin="PVG", destination="FRA"), legacy_set).legs[0]
    assert (old.distance_km, old.distance_method, old.haul) == (
        str(gc_km + 95), "great_circle_plus_95km", None)
    assert "haul" not in old.to_dict()


def test_short_flight_takes_the_short_haul_factor(gcd_set: FactorSet) -> None:
    leg = compute_shipment(_air("1000", origin="PVG", destination="HKG"), gcd_set).legs[0]
    assert leg.haul == "short-haul" and Decimal(leg.distance_km) < 3700
    assert leg.factor_ttw.endswith("air.freight_flight_short_haul_uk.without_rf")


def test_reefer_container_on_a_container_ship_is_refused(gcd_set: FactorSet) -> None:
    ship = Shipment("R", (Leg(1, "sea", Decimal(1000), distance_km=Decimal(100),
                              vehicle_class="container_ship_average", refrigerated=True),))
    for compute in (lambda: compute_shipments([ship], gcd_set),
                    lambda: compute_batch([ship], gcd_set)):
        with pytest.raises(InputError) as info:
            compute()
        (problem,) = info.value.problems
        assert problem.field == "refrigerated"
        assert "reefer" in problem.message and "carrier_co2e_ttw_kg_per_tkm" in problem.message


def test_reefer_vessel_and_carrier_reefer_container(gcd_set: FactorSet) -> None:
    vessel = Shipment("V", (Leg(1, "sea", Decimal(1000), distance_km=Decimal(100),
                                vehicle_class="refrigerated_cargo", refrigerated=True),))
    assert compute_shipment(vessel, gcd_set).co2e_ttw_g == 1306  # 100 t.km x 0.01306
    carrier = Shipment("C", (Leg(1, "sea", Decimal(1000), distance_km=Decimal(100),
                                 refrigerated=True,
                                 carrier_co2e_ttw_kg_per_tkm=Decimal("0.0251"),
                                 carrier_co2e_wtt_kg_per_tkm=Decimal("0.0057"),
                                 carrier_source="carrier report", carrier_period="2025"),))
    fp = compute_shipment(carrier, gcd_set)
    assert (fp.co2e_ttw_g, fp.co2e_wtt_g, fp.primary_data_share) == (2510, 570, "100")


def test_carrier_intensity_reproduces_the_ileap_example(gcd_set: FactorSet) -> None:
    # iLEAP 1.0 end-to-end example, TCE "ghijkl": 87 kg over 321 km at WTW 0.17 and TTW 0.153
    # kg CO2e/t.km gives co2eTTW 4.272831 kg and co2eWTW 4.74759 kg.
    primary = Leg(1, "road", Decimal(87), distance_km=Decimal(321),
                  carrier_co2e_ttw_kg_per_tkm=Decimal("0.153"),
                  carrier_co2e_wtt_kg_per_tkm=Decimal("0.017"),
                  carrier_source="operator-z-truck-89sdff", carrier_period="2024",
                  carrier_verified=True)
    default = Leg(2, "road", Decimal(87), distance_km=Decimal(423))
    shipment = Shipment("I", (primary, default))
    fp = compute_shipment(shipment, gcd_set)
    first, second = fp.legs
    assert first.co2e_ttw_g == _grams("4.272831")
    assert first.co2e_wtw_g == _grams("4.74759")
    assert (first.data_type, first.carrier_verified, second.data_type) == (
        "primary", True, "secondary")
    assert first.factor_ttw == "record#carrier_co2e_ttw_kg_per_tkm=0.153"
    share = (Decimal(first.co2e_wtw_g) * 100 / fp.co2e_wtw_g).quantize(Decimal("0.01"),
                                                                       ROUND_HALF_UP)
    assert fp.primary_data_share == format(share.normalize(), "f")
    assert fp.to_dict()["primary_data_share"] == fp.primary_data_share
    assert compute_batch([shipment], gcd_set).footprints() == [fp]


def test_carrier_data_needs_its_source_and_period() -> None:
    with pytest.raises(InputError) as info:
        Shipment.from_dict({"shipment_id": "X", "legs": [
            {"leg": 1, "mode": "road", "mass_kg": "10", "distance_km": "5",
             "carrier_co2e_ttw_kg_per_tkm": "0.1"}]})
    fields = {p.field for p in info.value.problems}
    assert fields == {"legs[1].carrier_co2e_wtt_kg_per_tkm", "legs[1].carrier_source",
                      "legs[1].carrier_period"}


def test_records_without_the_new_fields_keep_their_form(legacy_set: FactorSet) -> None:
    demo = Path(__file__).resolve().parents[3] / "examples" / "demo-shipments.json"
    from ledger.inputs.read import read_shipments

    for fp in compute_shipments(read_shipments(demo), legacy_set):
        data = fp.to_dict()
        assert "primary_data_share" not in data
        assert all({"haul", "data_type"}.isdisjoint(leg) for leg in data["legs"])


MASS = st.decimals(min_value=Decimal("0.001"), max_value=Decimal(10**6), places=3)
DIST = st.decimals(min_value=Decimal("0.001"), max_value=Decimal(20_000), places=3)


@st.composite
def _shipment(draw: st.DrawFn, number: int) -> Shipment:
    legs = []
    for order in range(1, draw(st.integers(1, 3)) + 1):
        mode = draw(st.sampled_from(["air", "road", "sea"]))
        extra: dict[str, object] = {}
        if mode == "air":
            extra["radiative_forcing"] = draw(st.none() | st.booleans())
            if draw(st.booleans()):
                extra["vehicle_class"] = "freight_flight_long_haul_uk"
        if draw(st.integers(0, 3)) == 0:
            ttw = draw(st.decimals(min_value=0, max_value=2, places=6))
            extra.update(carrier_co2e_ttw_kg_per_tkm=ttw,
                         carrier_co2e_wtt_kg_per_tkm=draw(
                             st.decimals(min_value=0, max_value=1, places=6)),
                         carrier_source="c", carrier_period="2025",
                         carrier_verified=draw(st.booleans()))
        legs.append(Leg(order, mode, draw(MASS), distance_km=draw(DIST),
                        **extra))  # type: ignore[arg-type]
    return Shipment(f"R{number}", tuple(legs))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_batch_equals_single_with_bands_and_carrier_data(
        gcd_set: FactorSet, data: st.DataObject) -> None:
    shipments = [data.draw(_shipment(i)) for i in range(data.draw(st.integers(1, 8)))]
    assert compute_batch(shipments, gcd_set).footprints() == compute_shipments(shipments,
                                                                               gcd_set)
