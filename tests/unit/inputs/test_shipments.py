"""Shipment input: CSV and JSON forms, exact numbers, and bad input reported all at once."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import InputError
from ledger.inputs.csvreader import read_csv_frame
from ledger.inputs.frame import ShipmentFrame
from ledger.inputs.read import read_shipments
from ledger.inputs.shipments import (
    Leg,
    Product,
    Production,
    Shipment,
    parse_decimal_text,
)

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def test_demo_csv_and_json_describe_the_same_shipments() -> None:
    from_json = read_shipments(EXAMPLES / "demo-shipments.json")
    from_csv = read_shipments(EXAMPLES / "demo-shipments.csv")
    assert from_json == from_csv
    assert [s.shipment_id for s in from_json] == [
        "NB-APPL-2026-0001", "YW-RAIL-2026-0001", "HZ-AIR-2026-0001", "HY-FAST-2026-0001"]
    fasteners = from_json[3]
    assert fasteners.product is not None
    assert (fasteners.product.cn_code, fasteners.product.cbam_year) == ("7318 15 88", 2026)


def test_to_dict_has_decimal_strings_and_round_trips() -> None:
    for shipment in read_shipments(EXAMPLES / "demo-shipments.json"):
        data = shipment.to_dict()
        text = json.dumps(data)
        assert "." not in json.dumps([leg["mass_kg"] for leg in data["legs"]]) or all(
            isinstance(leg["mass_kg"], str) for leg in data["legs"])
        assert Shipment.from_dict(json.loads(text)) == shipment


def _write_csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "legs.csv"
    path.write_text(text, encoding="utf-8")
    return path


BAD_CSV = """shipment_id,leg,mode,mass_kg,origin,destination,distance_km,cn_code
A,1,see,1000,,,100,
B,1,road,0,,,100,
C,1,road,NaN,,,100,
D,1,road,1000,,,ten,
E,1,road,1000,,,,
F,1,road,1000,,,100,
F,1,rail,1000,,,200,
G,1,road,-5,,,100,
H,1,road,12.3456,,,100,
I,1,road,1000,nowhere,CNNGB,,
J,1,road,1000,,,100,73181
"""

BAD_EXPECTED = {
    ("A", 2, "mode"), ("B", 3, "mass_kg"), ("C", 4, "mass_kg"), ("D", 5, "distance_km"),
    ("E", 6, "distance_km"), ("F", 8, "leg"), ("G", 9, "mass_kg"), ("H", 10, "mass_kg"),
    ("I", 11, "origin"), ("J", 12, "cn_code"),
}


def test_every_problem_of_a_csv_is_reported_with_shipment_row_and_field(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        read_shipments(_write_csv(tmp_path, BAD_CSV))
    found = {(p.shipment_id, p.row, p.field) for p in info.value.problems}
    assert found == BAD_EXPECTED
    assert "unknown mode 'see'" in str(info.value)


def _csv_to_json(text: str) -> dict[str, object]:
    """The same bad content in the nested form (one shipment per CSV shipment id)."""
    lines = [line.split(",") for line in text.strip().splitlines()]
    header, rows = lines[0], lines[1:]
    shipments: dict[str, dict[str, object]] = {}
    for row in rows:
        cells = dict(zip(header, row, strict=True))
        ship = shipments.setdefault(cells["shipment_id"], {"shipment_id": cells["shipment_id"],
                                                           "legs": []})
        leg = {k: v for k, v in cells.items()
               if v != "" and k not in ("shipment_id", "cn_code")}
        ship["legs"].append(leg)  # type: ignore[attr-defined]
        if cells["cn_code"]:
            ship["product"] = {"cn_code": cells["cn_code"]}
    return {"shipments": list(shipments.values())}


def test_json_form_rejects_the_same_shipments(tmp_path: Path) -> None:
    path = tmp_path / "legs.json"
    path.write_text(json.dumps(_csv_to_json(BAD_CSV)))
    with pytest.raises(InputError) as info:
        read_shipments(path)
    assert {p.shipment_id for p in info.value.problems} == {s for s, _, _ in BAD_EXPECTED}


def test_collect_keeps_the_valid_shipments(tmp_path: Path) -> None:
    text = BAD_CSV + "K,1,road,1000,,,100,\n"
    problems: list = []  # type: ignore[type-arg]
    frame = read_csv_frame(_write_csv(tmp_path, text), collect=problems)
    assert list(frame.ids) == ["K"]
    assert len(problems) == len(BAD_EXPECTED)


def test_unknown_and_missing_columns(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        read_shipments(_write_csv(tmp_path, "shipment_id,leg,mode,mass\nA,1,road,5\n"))
    fields = {p.field for p in info.value.problems}
    assert fields == {"mass", "mass_kg"}


def test_shipment_level_columns_must_agree(tmp_path: Path) -> None:
    text = ("shipment_id,leg,mode,mass_kg,distance_km,cn_code\n"
            "A,1,road,1000,10,7318 15\nA,2,sea,1000,100,7318 16\n")
    with pytest.raises(InputError) as info:
        read_shipments(_write_csv(tmp_path, text))
    (problem,) = info.value.problems
    assert (problem.row, problem.field) == (3, "cn_code")


def test_hub_operations_need_operator_intensities(tmp_path: Path) -> None:
    text = ("shipment_id,leg,mode,mass_kg,distance_km,hub_co2e_ttw_kg_per_t,"
            "hub_co2e_wtw_kg_per_t\nA,1,road,1000,10,,\nA,2,hub,1000,,,\n"
            "B,1,hub,1000,,1,2\n")
    with pytest.raises(InputError) as info:
        read_shipments(_write_csv(tmp_path, text))
    found = {(p.shipment_id, p.field) for p in info.value.problems}
    assert found == {("A", "hub_co2e_wtw_kg_per_t"), ("B", "mode")}


def test_rows_of_a_shipment_may_come_in_any_order(tmp_path: Path) -> None:
    text = ("shipment_id,leg,mode,mass_kg,distance_km\n"
            "A,2,sea,1000,100\nB,1,road,5,1\nA,1,road,1000,10\n")
    (a, b) = read_shipments(_write_csv(tmp_path, text))
    assert [leg.order for leg in a.legs] == [1, 2]
    assert b.shipment_id == "B"


def test_numbers_stay_exact() -> None:
    assert parse_decimal_text("12000.125", "mass_kg") == Decimal("12000.125")
    assert parse_decimal_text("0.1", "mass_kg") == Decimal("0.1")
    for bad in ("1e3", "+5", "5.", ".5", "١٢", "inf", "12.0001"):
        assert isinstance(parse_decimal_text(bad, "mass_kg"), str)


DECIMALS = st.decimals(min_value=Decimal("0.001"), max_value=Decimal(10**5), places=3)
PER_TONNE = st.decimals(min_value=Decimal(0), max_value=Decimal(100), places=6)
TEXT = st.text(alphabet="abcdefghij-_ ", min_size=1, max_size=12).map(str.strip).filter(bool)


@st.composite
def shipments(draw: st.DrawFn) -> Shipment:
    count = draw(st.integers(1, 4))
    legs = []
    for order in range(1, count + 1):
        mode = draw(st.sampled_from(["road", "rail", "sea", "air"]))
        legs.append(Leg(order=order, mode=mode, mass_kg=draw(DECIMALS),
                        distance_km=draw(DECIMALS),
                        origin=draw(st.none() | st.sampled_from(["CNNGB", "PVG", "geo:1.5,2"])),
                        refrigerated=draw(st.none() | st.booleans())))
    product = draw(st.none() | st.builds(
        Product, description=st.none() | TEXT, cn_code=st.none() | st.just("7318 15"),
        country_of_origin=st.none() | st.just("CN"), net_mass_kg=st.none() | DECIMALS,
        cbam_year=st.none() | st.integers(2026, 2030),
        production=st.none() | st.builds(Production, data_type=st.just("actual"),
                                         direct_t_per_t=PER_TONNE),
    ).filter(lambda p: bool(p.to_dict())))
    return Shipment(shipment_id=draw(TEXT), legs=tuple(legs),
                    exporter=draw(st.none() | TEXT), product=product)


@settings(max_examples=200, deadline=None)
@given(shipments())
def test_from_dict_of_to_dict_is_the_same_shipment(shipment: Shipment) -> None:
    data = json.loads(json.dumps(shipment.to_dict()))
    assert Shipment.from_dict(data) == shipment


@settings(max_examples=100, deadline=None)
@given(st.lists(shipments(), min_size=1, max_size=4, unique_by=lambda s: s.shipment_id))
def test_frame_round_trip_keeps_shipments(items: list[Shipment]) -> None:
    assert ShipmentFrame.from_shipments(items).to_shipments() == items


def _to_csv(items: list[Shipment]) -> str:
    columns = ["shipment_id", "leg", "mode", "mass_kg", "origin", "destination", "distance_km",
               "refrigerated", "exporter", "product_description", "cn_code",
               "country_of_origin", "net_mass_kg", "cbam_year", "production_data_type",
               "production_direct_t_per_t"]
    lines = [",".join(columns)]
    for s in items:
        for i, leg in enumerate(s.legs):
            d = leg.to_dict()
            p = s.product.to_dict() if s.product is not None and i == 0 else {}
            production = p.get("production", {})
            values = [s.shipment_id, str(d["leg"]), d["mode"], d["mass_kg"], d.get("origin", ""),
                      d.get("destination", ""), d.get("distance_km", ""),
                      "" if leg.refrigerated is None else str(leg.refrigerated).lower(),
                      (s.exporter or "") if i == 0 else "", p.get("description", ""),
                      p.get("cn_code", ""), p.get("country_of_origin", ""),
                      p.get("net_mass_kg", ""), str(p.get("cbam_year", "")),
                      production.get("data_type", ""), production.get("direct_t_per_t", "")]
            lines.append(",".join(f'"{v}"' for v in values))
    return "\n".join(lines) + "\n"


@settings(max_examples=60, deadline=None)
@given(st.lists(shipments(), min_size=1, max_size=5, unique_by=lambda s: s.shipment_id))
def test_csv_and_json_forms_read_the_same(tmp_path_factory: pytest.TempPathFactory,
                                          items: list[Shipment]) -> None:
    folder = tmp_path_factory.mktemp("forms")
    (folder / "s.csv").write_text(_to_csv(items), encoding="utf-8")
    (folder / "s.json").write_text(json.dumps({"shipments": [s.to_dict() for s in items]}))
    assert read_shipments(folder / "s.csv") == read_shipments(folder / "s.json") == items


NUMBER_TEXT = st.one_of(
    st.decimals(min_value=0, max_value=10**10, places=4).map(str),
    st.text(alphabet="0123456789.", max_size=22),
    st.text(alphabet="0123456789.-+e x\u0662", max_size=8),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(NUMBER_TEXT, min_size=1, max_size=40), st.sampled_from([3, 6]))
def test_vectorised_decimal_parsing_agrees_with_the_scalar_rule(
        texts: list[str], places: int) -> None:
    import numpy as np

    from ledger.inputs.csvreader import decimal_fast

    name = "mass_kg" if places == 3 else "hub_co2e_ttw_kg_per_t"
    values, sure = decimal_fast(np.asarray(texts, dtype=object), places)
    for text, value, ok in zip(texts, values.tolist(), sure.tolist(), strict=True):
        if ok:
            exact = parse_decimal_text(text, name, positive=False)
            if isinstance(exact, str):
                assert "larger than the limit" in exact
            else:
                assert int(exact.scaleb(places)) == value


NEGATIVE_CSV = """shipment_id,leg,mode,mass_kg,origin,destination,distance_km,hub_co2e_ttw_kg_per_t
M,1,road,-5,,,100,
Z,1,road,0,,,100,
D,1,road,1000,,,-3,
Y,1,road,1000,,,0,
H,1,hub,1000,,,,-0.5
"""
NEGATIVE_EXPECTED = {
    ("M", "mass_kg"): "must be greater than 0, got -5",
    ("Z", "mass_kg"): "must be greater than 0, got 0",
    ("D", "distance_km"): "must be greater than 0, got -3",
    ("Y", "distance_km"): "must be greater than 0, got 0",
    ("H", "hub_co2e_ttw_kg_per_t"): "must not be negative, got -0.5",
}


def _messages(problems: list) -> dict[tuple[str | None, str | None], str]:  # type: ignore[type-arg]
    return {(p.shipment_id, (p.field or "").rsplit(".", 1)[-1]): p.message for p in problems}


def test_negative_numbers_are_named_as_out_of_range_in_csv(tmp_path: Path) -> None:
    problems: list = []  # type: ignore[type-arg]
    read_csv_frame(_write_csv(tmp_path, NEGATIVE_CSV), collect=problems)
    found = _messages(problems)
    for key, message in NEGATIVE_EXPECTED.items():
        assert found.get(key) == message, (key, found)


@pytest.mark.parametrize("as_number", [False, True])
def test_negative_numbers_are_named_as_out_of_range_in_json(tmp_path: Path,
                                                            as_number: bool) -> None:
    lines = [line.split(",") for line in NEGATIVE_CSV.strip().splitlines()]
    header, rows = lines[0], lines[1:]
    shipments = []
    for row in rows:
        leg: dict[str, object] = {k: v for k, v in zip(header, row, strict=True)
                                  if v != "" and k != "shipment_id"}
        if as_number:  # JSON numbers (-5, -0.5) rather than strings ("-5")
            leg = {k: (v if k in ("leg", "mode") else json.loads(str(v))) for k, v in leg.items()}
        shipments.append({"shipment_id": row[0], "legs": [leg]})
    path = tmp_path / "legs.json"
    path.write_text(json.dumps({"shipments": shipments}))
    with pytest.raises(InputError) as info:
        read_shipments(path)
    found = _messages(info.value.problems)
    for key, message in NEGATIVE_EXPECTED.items():
        assert found.get(key) == message, (key, found)
