"""The footprint engine: published numbers by hand, the demo scenario, and batch = single."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.errors import InputError
from ledger.factors.distances import Location, Router, great_circle_km
from ledger.factors.factorset import FactorSet, load_factor_set
from ledger.footprint.batch import compute_batch
from ledger.footprint.exact import (
    intensity_mg_per_tkm,
    intensity_mg_vec,
    mul2_split_vec,
    mul3_round,
    mul3_round_vec,
)
from ledger.footprint.single import compute_shipment, compute_shipments
from ledger.inputs.csvreader import read_csv_frame
from ledger.inputs.read import read_shipments
from ledger.inputs.shipments import Leg, Product, Production, Shipment

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.fixture(scope="module")
def factor_set() -> FactorSet:
    return load_factor_set()


def _one_leg(mode: str, mass_kg: str, distance_km: str, **extra: object) -> Shipment:
    leg = Leg(order=1, mode=mode, mass_kg=Decimal(mass_kg), distance_km=Decimal(distance_km),
              **extra)  # type: ignore[arg-type]
    return Shipment(shipment_id="S", legs=(leg,))


def test_hgv_12_t_250_km_gives_the_published_kilograms(factor_set: FactorSet) -> None:
    fp = compute_shipment(_one_leg("road", "12000", "250"), factor_set)
    (leg,) = fp.legs
    assert (leg.co2e_ttw_g, leg.co2e_wtw_g) == (304_890, 375_660)  # 304.89 kg, 375.66 kg
    assert leg.co2e_wtw_g == leg.co2e_ttw_g + leg.co2e_wtt_g
    assert (leg.distance_km, leg.distance_method, leg.activity_tkm) == ("250", "actual", "3000")
    assert leg.factor_ttw == "defra-2025-freighting-goods-ttw#road.hgv_all.average"
    assert fp.intensity_g_per_tkm == "125.22"


@pytest.mark.parametrize("case", [
    ("sea", "12000", "19500", {}, "3772.08"),
    ("rail", "12000", "11000", {}, "3668.28"),
    ("air", "500", "8900", {"radiative_forcing": True}, "4002.2855"),
    ("air", "500", "8900", {}, "2364.285"),
])
def test_derived_examples_round_half_up_to_grams(
        factor_set: FactorSet, case: tuple[str, str, str, dict[str, object], str]) -> None:
    mode, mass, km, extra, ttw_kg = case
    fp = compute_shipment(_one_leg(mode, mass, km, **extra), factor_set)
    grams = (Decimal(ttw_kg) * 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    assert fp.co2e_ttw_g == int(grams)


def test_demo_scenario(factor_set: FactorSet) -> None:
    shipments = read_shipments(EXAMPLES / "demo-shipments.json")
    by_id = {fp.shipment_id: fp for fp in compute_shipments(shipments, factor_set)}
    ningbo = by_id["NB-APPL-2026-0001"]
    assert [leg.distance_method for leg in ningbo.legs] == [
        "estimated_great_circle", "sea_route_cape", "estimated_great_circle"]
    assert ningbo.legs[0].distance_estimated
    # Ningbo -> Rotterdam avoiding Suez goes round the Cape of Good Hope: 25,548 km on the
    # searoute graph, within 1 % of the 13,800 nm (25,557.6 km) published for Shanghai ->
    # Rotterdam via the Cape (Notteboom, Pallis, Rodrigue, Port Economics, Management and Policy)
    sea = ningbo.legs[1]
    assert sea.distance_km == "25548"
    assert abs(Decimal(sea.distance_km) - Decimal(13_800) * Decimal("1.852")) < 256
    # 12 t x 25,548 km = 306,576 t.km; x 0.01266 (TTW) and 0.00287 (WTT) kg/t.km, DESNZ 2025
    # container ship 8,000+ TEU
    assert (sea.activity_tkm, sea.co2e_ttw_g, sea.co2e_wtt_g) == ("306576", 3_881_252, 879_873)
    assert ningbo.production is not None and ningbo.production.method == "electricity"
    # 11.2 t x 420 kWh/t x 0.5500 kg CO2/kWh (East China grid 2023)
    assert ningbo.production.co2e_g == 2_587_200
    assert ningbo.total_co2e_g == ningbo.co2e_wtw_g + 2_587_200
    yiwu = by_id["YW-RAIL-2026-0001"]
    assert yiwu.legs[0].distance_method == "actual"
    assert yiwu.co2e_wtw_g == 18 * 13_052 * (27_790 + 6_910) // 1000
    hangzhou = by_id["HZ-AIR-2026-0001"]
    assert hangzhou.legs[1].distance_method == "great_circle_plus_95km"
    # PVG (airportsdata: 31.1434 N, 121.805 E) -> LGG (AIP Belgium and Luxembourg, EBLG AD 2.2
    # ARP 503811N 0052634E): great circle 8,991.47 km -> 8,991 + 95 = 9,086 km
    gc = great_circle_km(Location("PVG", 31.1434, 121.805),
                         Location("LGG", 50 + 38 / 60 + 11 / 3600, 5 + 26 / 60 + 34 / 3600))
    assert round(gc) == 8_991
    air = hangzhou.legs[1]
    assert air.distance_km == "9086"
    # 0.85 t x 9,086 km = 7,723.1 t.km; x 0.5313 (TTW) and 0.13516 (WTT) kg/t.km, DESNZ 2025
    # freight flight international, to/from non-UK, without RF
    assert (air.activity_tkm, air.co2e_ttw_g, air.co2e_wtt_g) == ("7723.1", 4_103_283, 1_043_854)
    assert not hangzhou.cbam.in_scope
    haiyan = by_id["HY-FAST-2026-0001"]
    # 10 t x 6.375 t/t x 1.10 (China, CN 7318 15, Reg. 2025/2621 as corrected by 2026/1740)
    assert haiyan.cbam.in_scope and haiyan.cbam.embedded_g == 70_125_000
    assert haiyan.total_basis == "transport_wtw+cbam_embedded"
    assert haiyan.total_co2e_g == haiyan.co2e_wtw_g + 70_125_000
    assert {fp.factor_set_id for fp in by_id.values()} == {factor_set.id}


def test_hub_operation_uses_the_operators_intensities(factor_set: FactorSet) -> None:
    shipment = Shipment("H", (
        Leg(1, "road", Decimal(12000), distance_km=Decimal(10)),
        Leg(2, "hub", Decimal(12000), hub_co2e_ttw_kg_per_t=Decimal("1.5"),
            hub_co2e_wtw_kg_per_t=Decimal(2))))
    fp = compute_shipment(shipment, factor_set)
    hub = fp.legs[1]
    assert (hub.co2e_ttw_g, hub.co2e_wtt_g, hub.hub_activity_t) == (18_000, 6_000, "12")
    assert fp.co2e_wtw_g == fp.legs[0].co2e_wtw_g + 24_000
    # intensity counts transport legs only: their WTW grams per t·km, three decimals
    expected = (Decimal(fp.legs[0].co2e_wtw_g) / 120).quantize(Decimal("0.001"), ROUND_HALF_UP)
    assert Decimal(fp.intensity_g_per_tkm or "") == expected


def test_problems_of_all_shipments_are_raised_together(factor_set: FactorSet) -> None:
    bad = [
        _one_leg("road", "1000", "10", vehicle_class="truck"),
        Shipment("U", (Leg(1, "road", Decimal(1), origin="CNXXX", destination="NLRTM"),)),
        Shipment("C", (Leg(1, "sea", Decimal(1), distance_km=Decimal(10)),),
                 product=Product(cn_code="7318", country_of_origin="CN", cbam_year=2026)),
        Shipment("W", (Leg(1, "inland_waterway", Decimal(1), distance_km=Decimal(10)),)),
    ]
    for compute in (lambda: compute_shipments(bad, factor_set),
                    lambda: compute_batch(bad, factor_set)):
        with pytest.raises(InputError) as info:
            compute()
        found = {(p.shipment_id, p.field) for p in info.value.problems}
        assert found == {("S", "vehicle_class"), ("U", "origin"),
                         ("C", "product.cn_code"), ("W", "mode")}


def test_single_and_batch_agree_on_the_demo(factor_set: FactorSet) -> None:
    shipments = read_shipments(EXAMPLES / "demo-shipments.json")
    router = Router()
    single = compute_shipments(shipments, factor_set, router=router)
    assert compute_batch(shipments, factor_set, router=router).footprints() == single
    frame = read_csv_frame(EXAMPLES / "demo-shipments.csv")
    assert compute_batch(frame, factor_set, router=router).footprints() == single


def test_passage_options_reach_the_router_from_both_file_forms(
        tmp_path: Path, factor_set: FactorSet) -> None:
    """avoid_panama and avoid_suez in CSV and JSON give the same routes on both paths."""
    csv_path = tmp_path / "legs.csv"
    csv_path.write_text(
        "shipment_id,leg,mode,mass_kg,origin,destination,avoid_suez,avoid_panama\n"
        "LA-1,1,sea,1000,USLAX,NLRTM,,true\n"
        "NB-1,1,sea,1000,CN NGB,nlrtm,true,\n", encoding="utf-8")
    json_path = tmp_path / "legs.json"
    json_path.write_text(
        '{"shipments": ['
        '{"shipment_id": "LA-1", "legs": [{"leg": 1, "mode": "sea", "mass_kg": "1000", '
        '"origin": "USLAX", "destination": "NLRTM", "avoid_panama": true}]}, '
        '{"shipment_id": "NB-1", "legs": [{"leg": 1, "mode": "sea", "mass_kg": "1000", '
        '"origin": "CN NGB", "destination": "nlrtm", "avoid_suez": true}]}]}', encoding="utf-8")
    single = {fp.shipment_id: fp for fp in
              compute_shipments(read_shipments(json_path), factor_set)}
    assert single["LA-1"].legs[0].distance_method == "sea_route_cape_horn"
    assert single["NB-1"].legs[0].distance_method == "sea_route_cape"
    batch = compute_batch(read_csv_frame(csv_path), factor_set)
    assert [batch.footprint(i) for i in range(len(batch))] == [single["LA-1"], single["NB-1"]]


# --- exact arithmetic: the vectorised kernels equal the Python-integer definitions ----------

OPERANDS = st.tuples(st.integers(0, 10**12), st.integers(0, 10**8), st.integers(0, 10**9))


@settings(max_examples=300, deadline=None)
@given(st.lists(OPERANDS, min_size=1, max_size=50))
def test_vector_kernel_equals_the_integer_definition(rows: list[tuple[int, int, int]]) -> None:
    a, b, c = (np.asarray(col, dtype=np.int64) for col in zip(*rows, strict=True))
    assert mul3_round_vec(a, b, c).tolist() == [mul3_round(*r) for r in rows]
    hi, lo = mul2_split_vec(a, b)
    assert [h * 10**9 + x for h, x in zip(hi.tolist(), lo.tolist(), strict=True)] == \
        [x * y for x, y, _ in rows]


# activity in g·m and WTW grams no larger than the largest factor allows (1,000 kg/t·km)
ACTIVITY = st.integers(0, 10**20).flatmap(
    lambda s: st.tuples(st.integers(0, s // 1000 + 5), st.just(s)))


@settings(max_examples=300, deadline=None)
@given(st.lists(ACTIVITY, min_size=1, max_size=50))
def test_vector_intensity_equals_the_integer_definition(
        rows: list[tuple[int, int]]) -> None:
    w = np.asarray([r[0] for r in rows], dtype=np.int64)
    hi = np.asarray([r[1] // 10**9 for r in rows], dtype=np.int64)
    lo = np.asarray([r[1] % 10**9 for r in rows], dtype=np.int64)
    expected = [intensity_mg_per_tkm(g, s) for g, s in rows]
    assert intensity_mg_vec(w, hi, lo).tolist() == [-1 if v is None else v for v in expected]


def test_rounding_ties_go_up() -> None:
    assert mul3_round(1, 1, 5 * 10**11) == 1
    assert mul3_round(1, 1, 5 * 10**11 - 1) == 0
    assert mul3_round_vec(np.array([1]), np.array([1]), np.array([5 * 10**11])).tolist() == [1]


# --- batch = single on random shipments ------------------------------------------------------

MASS = st.decimals(min_value=Decimal("0.001"), max_value=Decimal(10**8), places=3)
DIST = st.decimals(min_value=Decimal("0.001"), max_value=Decimal(10**5), places=3)
CATEGORY = st.sampled_from([
    ("road", None, None, None), ("road", "hgv_artic_over_33t", "50", None),
    ("road", "hgv_all", "100", True), ("road", "van_class_i_petrol", None, None),
    ("rail", None, None, None), ("sea", "bulk_carrier_average", None, None),
    ("sea", "refrigerated_cargo", None, None), ("air", None, None, None),
])


@st.composite
def random_shipment(draw: st.DrawFn, number: int) -> Shipment:
    legs = []
    for order in range(1, draw(st.integers(1, 4)) + 1):
        if order > 1 and draw(st.integers(0, 5)) == 0:
            ttw = draw(st.decimals(min_value=0, max_value=50, places=6))
            legs.append(Leg(order, "hub", draw(MASS), hub_co2e_ttw_kg_per_t=ttw,
                            hub_co2e_wtw_kg_per_t=ttw + draw(
                                st.decimals(min_value=0, max_value=10, places=6))))
            continue
        mode, vclass, laden, refr = draw(CATEGORY)
        rf = draw(st.none() | st.booleans()) if mode == "air" else None
        legs.append(Leg(order, mode, draw(MASS), distance_km=draw(DIST), vehicle_class=vclass,
                        laden_state=laden, refrigerated=refr, radiative_forcing=rf))
    product = draw(st.none() | st.sampled_from([
        Product(cn_code="7318 15 90", country_of_origin="CN", cbam_year=2027),
        Product(cn_code="7318 23 00", country_of_origin="CN", cbam_year=2030,
                net_mass_kg=Decimal("999.999")),
        Product(description="parcels"),
        Product(cn_code="8418 21", production=Production(
            electricity_kwh_per_t=Decimal("420.5"), grid="cn_mee_nbs.south.2023")),
        Product(cn_code="7208", country_of_origin="CN", cbam_year=2026, production=Production(
            data_type="actual", direct_t_per_t=Decimal("1.85"),
            indirect_t_per_t=Decimal("0.4"))),
        Product(production=Production(default_factor="worldsteel.crude_steel.2021")),
    ]))
    return Shipment(f"R{number}", tuple(legs), product=product)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_batch_path_is_bit_identical_to_the_single_path(
        factor_set: FactorSet, data: st.DataObject) -> None:
    count = data.draw(st.integers(1, 12))
    shipments = [data.draw(random_shipment(i)) for i in range(count)]
    single = compute_shipments(shipments, factor_set)
    batch = compute_batch(shipments, factor_set)
    assert batch.footprints() == single
    assert batch.shipments["wtw_g"].tolist() == [fp.co2e_wtw_g for fp in single]
