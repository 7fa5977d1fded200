"""Factor sets chosen by dispatch date, the ``factor-sets`` command and plausibility warnings."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from ledger.cli.main import main
from ledger.errors import FactorError, InputError
from ledger.factors.factorset import load_factor_set, shipped_factor_dir
from ledger.factors.schedule import FactorSetSchedule, load_schedule
from ledger.footprint.batch import compute_batch
from ledger.footprint.dated import compute_by_dispatch_date
from ledger.footprint.models import ShipmentFootprint
from ledger.footprint.plausibility import plausibility_warnings
from ledger.inputs.frame import ShipmentFrame
from ledger.inputs.read import read_shipments
from ledger.inputs.shipments import Shipment

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
SHIPPED = shipped_factor_dir()


def _run(args: list[str]) -> int:
    with pytest.raises(SystemExit) as info:
        main(args)
        raise SystemExit(0)
    return int(info.value.code or 0)


def _two_year_schedule(tmp_path: Path) -> Path:
    """The legacy 2026 set for 2025 dispatches, the great-circle set from 2026 on."""
    for name in ("factor-set-2026.json", "factor-set-2026-air-gcd.json"):
        manifest = json.loads((SHIPPED / name).read_text())
        for table in manifest["tables"]:
            (tmp_path / table["file"]).write_bytes((SHIPPED / table["file"]).read_bytes())
        (tmp_path / name).write_text(json.dumps(manifest))
    legacy, gcd = (load_factor_set(tmp_path / n).id for n in (
        "factor-set-2026.json", "factor-set-2026-air-gcd.json"))
    path = tmp_path / "schedule.json"
    path.write_text(json.dumps({"name": "two-years", "basis": "dispatch_date", "entries": [
        {"manifest": "factor-set-2026-air-gcd.json", "id": gcd, "valid_from": "2026-01-01",
         "valid_to": None},
        {"manifest": "factor-set-2026.json", "id": legacy, "valid_from": "2025-01-01",
         "valid_to": "2025-12-31"}]}))
    return path


def _dated_demo(dates: list[str | None]) -> list[Shipment]:
    data = json.loads((EXAMPLES / "demo-shipments.json").read_text())
    for item, day in zip(data["shipments"], dates, strict=True):
        if day is not None:
            item.setdefault("consignment", {})["dispatch_date"] = day
    return [Shipment.from_dict(item) for item in data["shipments"]]


def test_each_shipment_gets_the_set_of_its_dispatch_date(tmp_path: Path) -> None:
    schedule = load_schedule(_two_year_schedule(tmp_path))
    shipments = _dated_demo(["2025-12-31", "2026-01-01", "2026-03-01", "2025-06-30"])
    dated = compute_by_dispatch_date(shipments, schedule)
    legacy, gcd = schedule.entries[0].factor_set, schedule.entries[1].factor_set
    ids = [fp.factor_set_id for fp in dated.footprints()]
    assert ids == [legacy.id, gcd.id, gcd.id, legacy.id]
    assert dated.groups_by_factor_set() == [(legacy.id, [0, 3]), (gcd.id, [1, 2])]
    # each group equals a computation with its set pinned
    assert dated.footprints()[2] == compute_batch([shipments[2]], gcd).footprint(0)
    assert dated.footprints()[0] == compute_batch([shipments[0]], legacy).footprint(0)
    air = dated.footprints()[2].legs[1]
    assert (air.distance_method, air.haul) == ("great_circle", "long-haul")
    chosen = dated.selections()[3]
    assert (chosen["dispatch_date"], chosen["id"], chosen["valid_to"]) == (
        "2025-06-30", legacy.id, "2025-12-31")
    assert chosen["schedule_id"] == schedule.id
    columns = dated.shipment_columns()
    assert list(columns["shipment_id"]) == [s.shipment_id for s in shipments]
    assert list(columns["factor_set_id"]) == ids
    legs = dated.leg_columns()
    assert list(dict.fromkeys(legs["shipment_id"])) == [s.shipment_id for s in shipments]


def test_no_silent_fallback(tmp_path: Path) -> None:
    schedule = load_schedule(_two_year_schedule(tmp_path))
    shipments = _dated_demo(["2024-12-31", None, "2026-03-01", "2025-06-30"])
    with pytest.raises(InputError) as info:
        compute_by_dispatch_date(shipments, schedule)
    found = {(p.shipment_id, p.field) for p in info.value.problems}
    assert found == {("NB-APPL-2026-0001", "consignment.dispatch_date"),
                     ("YW-RAIL-2026-0001", "consignment.dispatch_date")}
    assert "2024-12-31" in str(info.value)


def test_schedule_refuses_overlaps_and_wrong_ids(tmp_path: Path) -> None:
    path = _two_year_schedule(tmp_path)
    data = json.loads(path.read_text())
    data["entries"][1]["valid_to"] = "2026-01-01"
    path.write_text(json.dumps(data))
    with pytest.raises(FactorError, match="overlap"):
        load_schedule(path)
    data["entries"][1]["valid_to"] = "2025-12-31"
    data["entries"][0]["id"] = "0x" + "0" * 64
    path.write_text(json.dumps(data))
    with pytest.raises(FactorError, match="records id"):
        load_schedule(path)


def test_shipped_schedule_and_ids_of_shipped_sets_are_unchanged() -> None:
    schedule = load_schedule()
    assert [(e.factor_set.name, str(e.valid_from), str(e.valid_to)) for e in schedule.entries] == [
        ("factor-set-2026-air-gcd", "2025-01-01", "2025-12-31"),
        ("factor-set-2026-desnz-2026-freight", "2026-01-01", "None")]
    assert load_factor_set(SHIPPED / "factor-set-2025.json").id == (
        "0x844be2fa3532b24731565afc125dfdd2ef2fa01a1bd5b4926184de6d0632f63a")
    assert load_factor_set().id == (
        "0x4f03697cb72719301296b0e0e00ad71db1cddd28942bcd75a60dee1d084aa193")


def test_factor_sets_command_lists_ids_and_validity(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["factor-sets", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    by_name = {s["name"]: s for s in listed["factor_sets"]}
    assert by_name["factor-set-2026-air-gcd"]["valid_from"] == "2025-01-01"
    assert by_name["factor-set-2026"]["default"] and not by_name["factor-set-2026"]["scheduled"]
    assert all(s["id"].startswith("0x") and len(s["id"]) == 66 for s in listed["factor_sets"])


def test_footprint_command_by_dispatch_date(tmp_path: Path) -> None:
    src = tmp_path / "dated.json"
    data = json.loads((EXAMPLES / "demo-shipments.json").read_text())
    for item in data["shipments"]:
        item.setdefault("consignment", {})["dispatch_date"] = "2025-11-02"
    data["shipments"][0]["legs"][1]["mass_kg"] = "12"  # meant as tonnes
    src.write_text(json.dumps(data))
    out = tmp_path / "fp.json"
    assert _run(["footprint", str(src), "--by-dispatch-date", "-o", str(out)]) == 0
    document = json.loads(out.read_text())
    assert document["factor_set_schedule"]["name"] == "dispatch-date-schedule-v1"
    chosen = {fp["factor_set_selection"]["name"] for fp in document["footprints"]}
    assert chosen == {"factor-set-2026-air-gcd"}
    assert {(w["shipment_id"], w["row"], w["field"]) for w in document["warnings"]} >= {
        ("NB-APPL-2026-0001", 1, "legs[2].mass_kg")}
    assert _run(["footprint", str(src), "--by-dispatch-date", "--factor-set",
                 str(SHIPPED / "factor-set-2025.json")]) == 2


def test_plausibility_warnings_name_row_and_field() -> None:
    data = {"shipments": [{"shipment_id": "W", "product": {"net_mass_kg": "900"}, "legs": [
        {"leg": 1, "mode": "road", "mass_kg": "800", "origin": "geo:30.1,120.1",
         "destination": "CNNGB", "distance_km": "11000"},
        {"leg": 2, "mode": "sea", "mass_kg": "800", "origin": "CNSHA", "destination": "DEMUC"},
        {"leg": 3, "mode": "air", "mass_kg": "800", "origin": "NLRTM", "destination": "LGG"}]},
        {"shipment_id": "T", "legs": [
            {"leg": 1, "mode": "sea", "mass_kg": "14.5", "origin": "CNNGB",
             "destination": "NLRTM"}]}]}
    from ledger.inputs.shipments import shipments_from_json

    frame = ShipmentFrame.from_shipments(shipments_from_json(data))
    found = {(w.shipment_id, w.row, w.field) for w in plausibility_warnings(frame)}
    assert found == {
        ("W", 1, "legs[1].distance_km"),      # truck leg over 5,000 km
        ("W", 1, "legs[2].origin"),           # chain gap: leg 1 ends at CNNGB
        ("W", 1, "legs[2].destination"),      # sea leg to an inland place (Munich)
        ("W", 1, "legs[3].origin"),           # air from a sea port (and a gap)
        ("W", 1, "product.net_mass_kg"),      # net mass above carried mass
        ("T", 2, "legs[1].mass_kg"),          # 14.5 kg on a ship
    }
    demo = ShipmentFrame.from_shipments(read_shipments(EXAMPLES / "demo-shipments.json"))
    assert plausibility_warnings(demo) == []


def test_desnz_2026_freight_by_dispatch_date() -> None:
    """DESNZ 2026 flat file v1.2 (rows read in a seed generated from it): HGV all diesel,
    average laden 0.10356 (27_304_3140_14_1) + WTT 0.02359 (28_907_3140_14_1); freight train
    0.02583 (27_315_3151_14_1) + WTT 0.00691 (28_911_3151_14_1) kg CO2e per tonne.km."""
    from decimal import Decimal

    from ledger.inputs.consignment import Consignment
    from ledger.inputs.shipments import Leg

    def dated(day: str, mode: str) -> Shipment:
        from datetime import date

        return Shipment(f"{mode}-{day}", (Leg(1, mode, Decimal(12000), distance_km=Decimal(250)),),
                        consignment=Consignment(dispatch_date=date.fromisoformat(day)))

    shipments = [dated("2025-12-31", "road"), dated("2026-01-01", "road"),
                 dated("2026-06-30", "rail")]
    road_2025, road_2026, rail_2026 = compute_by_dispatch_date(
        shipments, load_schedule()).footprints()
    assert (road_2025.co2e_ttw_g, road_2025.co2e_wtt_g) == (304_890, 70_770)  # DESNZ 2025
    assert (road_2026.co2e_ttw_g, road_2026.co2e_wtt_g) == (310_680, 70_770)  # 3000 t.km
    assert (rail_2026.co2e_ttw_g, rail_2026.co2e_wtt_g) == (77_490, 20_730)
    assert road_2026.legs[0].factor_ttw == "desnz-2026-freighting-goods-ttw#road.hgv_all.average"


def test_desnz_2026_ships_beyond_container_and_general_cargo() -> None:
    """DESNZ 2026 flat file v1.2 (rows read in a seed generated from it), kg CO2e per tonne.km:
    bulk carrier average 0.00353 (27_320_3221_14_1) + WTT 0.0008 (28_916_3221_14_1); RoRo-ferry
    average 0.05158 (27_320_3241_14_1) + WTT 0.0117 (28_916_3241_14_1); refrigerated cargo
    0.01306 (27_320_3243_14_1) + WTT 0.00296 (28_916_3243_14_1)."""
    from datetime import date
    from decimal import Decimal

    from ledger.inputs.consignment import Consignment
    from ledger.inputs.shipments import Leg

    def sea(vehicle_class: str) -> Shipment:
        return Shipment(f"sea-{vehicle_class}",
                        (Leg(1, "sea", Decimal(12000), distance_km=Decimal(250),
                             vehicle_class=vehicle_class),),
                        consignment=Consignment(dispatch_date=date(2026, 4, 1)))

    bulk, roro, reefer = compute_by_dispatch_date(
        [sea("bulk_carrier_average"), sea("roro_ferry_average"), sea("refrigerated_cargo")],
        load_schedule()).footprints()
    assert (bulk.co2e_ttw_g, bulk.co2e_wtt_g) == (10_590, 2_400)  # 3000 t.km
    assert (roro.co2e_ttw_g, roro.co2e_wtt_g) == (154_740, 35_100)
    assert (reefer.co2e_ttw_g, reefer.co2e_wtt_g) == (39_180, 8_880)
    assert bulk.legs[0].factor_wtt == "desnz-2026-wtt-freight#sea.bulk_carrier_average"


def _schedule_without_vans_in_2026(tmp_path: Path) -> FactorSetSchedule:
    """The shipped schedule, with the 2026 set rebuilt from its tables minus the van rows (a
    2026 set that lacks a class the 2025 one has)."""
    import csv
    import io

    from ledger.factors.factorset import build_manifest

    names = ("factor-set-2026-air-gcd.json", "factor-set-2026-desnz-2026-freight.json")
    for name in names:
        manifest = json.loads((SHIPPED / name).read_text())
        for table in manifest["tables"]:
            (tmp_path / table["file"]).write_bytes((SHIPPED / table["file"]).read_bytes())
        (tmp_path / name).write_text(json.dumps(manifest))
    manifest = json.loads((tmp_path / names[1]).read_text())
    files = {t["kind"]: t["file"] for t in manifest["tables"]}
    for file in ("desnz-2026-freighting-goods-ttw.csv", "desnz-2026-wtt-freight.csv"):
        with (tmp_path / file).open(encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            fields, rows = reader.fieldnames, list(reader)
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(fields or ()), lineterminator="\n")
        writer.writeheader()
        writer.writerows(r for r in rows if not r["key"].startswith("road.van_"))
        (tmp_path / file).write_text(out.getvalue(), encoding="utf-8")
    (tmp_path / names[1]).write_text(json.dumps(
        build_manifest(tmp_path, manifest["name"], files, "without vans")))
    ids = [load_factor_set(tmp_path / n).id for n in names]
    path = tmp_path / "schedule.json"
    path.write_text(json.dumps({"name": "no-vans-2026", "basis": "dispatch_date", "entries": [
        {"manifest": names[0], "id": ids[0], "valid_from": "2025-01-01",
         "valid_to": "2025-12-31"},
        {"manifest": names[1], "id": ids[1], "valid_from": "2026-01-01", "valid_to": None}]}))
    return load_schedule(path)


def test_the_2026_tables_have_every_category_of_the_2025_ones() -> None:
    """The shipped DESNZ 2026 tables have exactly the 2025 keys, with the same flat-file IDs."""
    import csv

    for y2025, y2026 in (("defra-2025-freighting-goods-ttw.csv",
                          "desnz-2026-freighting-goods-ttw.csv"),
                         ("defra-2025-wtt-freight.csv", "desnz-2026-wtt-freight.csv")):
        ids = []
        for name in (y2025, y2026):
            with (SHIPPED / name).open(encoding="utf-8", newline="") as f:
                ids.append({r["key"]: r["defra_id"] for r in csv.DictReader(f)})
        assert ids[0] == ids[1]
        assert len(ids[1]) == 103


def test_desnz_2026_vans_by_class_and_fuel() -> None:
    """DESNZ 2026 flat file v1.2 (rows read in a seed generated from it), kg CO2e per tonne.km:
    van average (up to 3.5 t) diesel 0.63511 (27_303_3102_14_1) + WTT 0.15095
    (28_906_3102_14_1); class I petrol 1.4002 (27_303_3082_14_1) + WTT 0.32847
    (28_906_3082_14_1)."""
    from datetime import date
    from decimal import Decimal

    from ledger.inputs.consignment import Consignment
    from ledger.inputs.shipments import Leg

    def van(vehicle_class: str) -> Shipment:
        return Shipment(f"road-{vehicle_class}",
                        (Leg(1, "road", Decimal(12000), distance_km=Decimal(250),
                             vehicle_class=vehicle_class),),
                        consignment=Consignment(dispatch_date=date(2026, 5, 1)))

    diesel, petrol = compute_by_dispatch_date(
        [van("van_average_diesel"), van("van_class_i_petrol")], load_schedule()).footprints()
    assert (diesel.co2e_ttw_g, diesel.co2e_wtt_g) == (1_905_330, 452_850)  # 3000 t.km
    assert (petrol.co2e_ttw_g, petrol.co2e_wtt_g) == (4_200_600, 985_410)
    assert diesel.legs[0].factor_ttw == "desnz-2026-freighting-goods-ttw#road.van_average_diesel"


@pytest.mark.parametrize("vehicle_class", ["van_average_diesel", "van_class_i_petrol"])
def test_a_class_the_2026_set_lacks_is_an_error_not_a_fallback(
        tmp_path: Path, vehicle_class: str) -> None:
    """A 2026 set without vans (built here) refuses a 2026 van leg; no fallback to 2025."""
    from datetime import date
    from decimal import Decimal

    from ledger.inputs.consignment import Consignment
    from ledger.inputs.shipments import Leg

    schedule = _schedule_without_vans_in_2026(tmp_path)
    leg = Leg(1, "road", Decimal(12000), distance_km=Decimal(250), vehicle_class=vehicle_class)
    shipment = Shipment("lacking", (leg,), consignment=Consignment(dispatch_date=date(2026, 3, 1)))
    assert compute_by_dispatch_date(  # the same leg dispatched in 2025 is computed
        [replace(shipment, consignment=Consignment(dispatch_date=date(2025, 3, 1)))],
        schedule).footprints()[0].co2e_ttw_g > 0
    with pytest.raises(InputError) as info:
        compute_by_dispatch_date([shipment], schedule)
    assert any(p.field == "vehicle_class" and vehicle_class in p.message
               for p in info.value.problems)


def test_desnz_2026_hgv_classes_and_laden_states() -> None:
    """DESNZ 2026 flat file v1.2 (rows read in a seed generated from it), kg CO2e per tonne.km:
    HGV (non-refrigerated, all diesel) articulated >33 t, 100 % laden 0.0603 (27_304_3131_14_1)
    + WTT 0.01403 (28_907_3131_14_1); rigid >3.5-7.5 t, 50 % laden 0.44976 (27_304_3110_14_1)
    + WTT 0.10694 (28_907_3110_14_1)."""
    from datetime import date
    from decimal import Decimal

    from ledger.inputs.consignment import Consignment
    from ledger.inputs.shipments import Leg

    def road(vehicle_class: str, laden: str) -> Shipment:
        return Shipment(f"road-{vehicle_class}",
                        (Leg(1, "road", Decimal(12000), distance_km=Decimal(250),
                             vehicle_class=vehicle_class, laden_state=laden),),
                        consignment=Consignment(dispatch_date=date(2026, 5, 4)))

    reefer = road("hgv_all", "average")
    reefer = replace(reefer, legs=(replace(reefer.legs[0], refrigerated=True),))
    artic, rigid, cold = compute_by_dispatch_date(
        [road("hgv_artic_over_33t", "100"), road("hgv_rigid_3_5_to_7_5t", "50"), reefer],
        load_schedule()).footprints()
    assert (artic.co2e_ttw_g, artic.co2e_wtt_g) == (180_900, 42_090)  # 3000 t.km
    assert (rigid.co2e_ttw_g, rigid.co2e_wtt_g) == (1_349_280, 320_820)
    # HGV (refrigerated, all diesel) average HGVs, average laden: 0.12122 (27_306_3140_14_1)
    # + WTT 0.02769 (28_908_3140_14_1)
    assert (cold.co2e_ttw_g, cold.co2e_wtt_g) == (363_660, 83_070)
    assert artic.legs[0].factor_ttw == (
        "desnz-2026-freighting-goods-ttw#road.hgv_artic_over_33t.laden_100")


def _split_oracle(frame: ShipmentFrame, schedule: FactorSetSchedule
                  ) -> tuple[list[ShipmentFootprint], list[tuple[str | None, str | None]]]:
    """The simple path: each set's shipments cut out of the frame and computed apart
    (footprints in input order, or the problems as (shipment id, field))."""
    from ledger.footprint.dated import subframe

    chosen = [schedule.choose(c.dispatch_date) for c in frame.consignments]
    out: list[ShipmentFootprint | None] = [None] * len(frame)
    problems: list[tuple[str | None, str | None]] = []
    for entry in schedule.entries:
        index = np.asarray([i for i, e in enumerate(chosen) if e is entry], dtype=np.intp)
        if not len(index):
            continue
        try:
            batch = compute_batch(subframe(frame, index), entry.factor_set)
        except InputError as exc:
            problems.extend((p.shipment_id, p.field) for p in exc.problems)
            continue
        for j, i in enumerate(index.tolist()):
            out[i] = batch.footprint(j)
    return [fp for fp in out if fp is not None], problems


@pytest.mark.parametrize(("seed", "shipped"), [(1, False), (2, False), (3, True), (4, True)])
def test_one_pass_over_several_sets_equals_each_set_computed_apart(
    tmp_path: Path, seed: int, shipped: bool,
) -> None:
    """The one-pass dated path against its oracle, on the demo corridors (road, sea routed
    from port codes, air with and without a class, CBAM goods) repeated with random 2025/2026
    dispatch dates: under a schedule whose sets differ in the air distance method ('+95 km',
    great circle) and under the shipped one, whose sets differ in their freight tables (its
    2026 tables name only hgv_all on the road)."""
    import random

    data = json.loads((EXAMPLES / "demo-shipments.json").read_text())["shipments"]
    rng = random.Random(seed)
    items = []
    for n in range(60):
        item = json.loads(json.dumps(rng.choice(data)))
        item["shipment_id"] = f"{item['shipment_id']}-{n}"
        day = f"{rng.choice(['2025', '2026'])}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        item.setdefault("consignment", {})["dispatch_date"] = day
        for leg in item["legs"]:
            if leg["mode"] == "air" and rng.random() < 0.3:
                leg.pop("vehicle_class", None)  # no class: the haul band decides its factor
            if leg["mode"] == "road" and shipped:
                leg["vehicle_class"] = "hgv_all"
        items.append(Shipment.from_dict(item))
    frame = ShipmentFrame.from_shipments(items)
    schedule = load_schedule() if shipped else load_schedule(_two_year_schedule(tmp_path))
    expected, problems = _split_oracle(frame, schedule)
    assert not problems
    dated = compute_by_dispatch_date(frame, schedule)
    assert dated.footprints() == expected
    assert len({fp.factor_set_id for fp in expected}) == 2
    columns = dated.shipment_columns()
    assert list(columns["factor_set_id"]) == [fp.factor_set_id for fp in expected]
    assert list(columns["co2e_wtw_g"]) == [fp.co2e_wtw_g for fp in expected]


def test_one_pass_reports_the_problems_each_set_has(tmp_path: Path) -> None:
    """A 2026 set that lacks a class the 2025 one has (vans): only the 2026 shipments with a
    van leg fail."""
    schedule = _schedule_without_vans_in_2026(tmp_path)
    shipments = _dated_demo(["2025-03-01", "2026-03-01", "2025-06-01", "2026-07-01"])
    shipments = [replace(s, legs=(replace(s.legs[0], vehicle_class="van_average_diesel"),
                                  *s.legs[1:])) if s.legs[0].mode == "road" else s
                 for s in shipments]
    frame = ShipmentFrame.from_shipments(shipments)
    _, problems = _split_oracle(frame, schedule)
    assert problems
    with pytest.raises(InputError) as info:
        compute_by_dispatch_date(frame, schedule)
    assert sorted((p.shipment_id, p.field) for p in info.value.problems) == sorted(problems)
    assert {p.shipment_id for p in info.value.problems} == {shipments[3].shipment_id}


# -- the dispatch-date column of the frame -------------------------------------------------


def _gap_schedule(tmp_path: Path) -> FactorSetSchedule:
    """Two entries with a gap between them (2025-07-01 .. 2025-12-31 covered by none), the
    second open-ended."""
    path = _two_year_schedule(tmp_path)
    data = json.loads(path.read_text())
    data["entries"][1]["valid_to"] = "2025-06-30"
    path.write_text(json.dumps(data))
    return load_schedule(path)


def test_the_entries_chosen_at_once_are_those_of_each_date_alone(tmp_path: Path) -> None:
    """Dates on and beside every boundary: the binary search over the schedule against
    FactorSetSchedule.choose of each date (the rule as written), under a schedule with a gap
    and an open end; no date chooses nothing."""
    from datetime import date, timedelta

    from ledger.footprint.dated import choose_entries

    schedule = _gap_schedule(tmp_path)
    bounds = [date(2025, 1, 1), date(2025, 6, 30), date(2026, 1, 1)]
    days = [b + timedelta(days=d) for b in bounds for d in (-1, 0, 1)]
    days += [date(2025, 9, 15), date(2099, 12, 31), date(1, 1, 1)]
    ordinals = np.asarray([d.toordinal() for d in days] + [-1], dtype=np.int32)
    chosen = choose_entries(schedule, ordinals).tolist()
    expected = []
    for day in days:
        found = schedule.choose(day)
        expected.append(-1 if isinstance(found, str) else schedule.entries.index(found))
    assert chosen == [*expected, -1]
    # on the boundaries themselves: first and last day of each entry belong to it
    assert chosen[:9] == [-1, 0, 0, 0, 0, -1, -1, 1, 1]


def _demo_csv_rows() -> dict[str, list[dict[str, str]]]:
    import csv

    with (EXAMPLES / "demo-shipments.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    by_id: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_id.setdefault(row["shipment_id"], []).append(row)
    return by_id


def _dated_csv(path: Path, dates: list[str | None], seed: int = 5) -> Path:
    """The demo CSV's shipments repeated (new ids) with these dispatch dates, each written on
    one of its shipment's rows (None: no date)."""
    import csv
    import random

    rng = random.Random(seed)
    demo = list(_demo_csv_rows().values())
    out: list[dict[str, str]] = []
    for n, day in enumerate(dates):
        legs = [dict(row, shipment_id=f"{row['shipment_id']}-{n}") for row in demo[n % 4]]
        for row in legs:
            row["dispatch_date"] = ""
        if day is not None:
            rng.choice(legs)["dispatch_date"] = day
        out.extend(legs)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(out[0]))
        writer.writeheader()
        writer.writerows(out)
    return path


def test_the_readers_fill_the_date_column_as_the_consignments_say(tmp_path: Path) -> None:
    """CSV (dates on any row of a shipment, some missing, one not a date and so left out with
    its problem) and JSON: the frame's column equals the dates read object by object."""
    from ledger.errors import InputProblem
    from ledger.inputs.csvreader import read_csv_frame
    from ledger.inputs.frame import NONE, dispatch_days_of

    dates: list[str | None] = ["2025-03-01", None, "2026-01-01", "2025-12-31", "2025-02-30",
                               " 2026-07-04", "2025-03-01", None]
    problems: list[InputProblem] = []
    frame = read_csv_frame(_dated_csv(tmp_path / "dated.csv", dates), collect=problems)
    assert [(p.shipment_id, p.field) for p in problems] == [
        ("NB-APPL-2026-0001-4", "dispatch_date")]
    assert frame.dispatch_day is not None and frame.dispatch_day.dtype == np.int32
    assert frame.dispatch_day.tolist() == dispatch_days_of(frame.consignments, len(frame)).tolist()
    from datetime import date

    expected = [NONE if d is None else date.fromisoformat(d.strip()).toordinal()
                for d in dates if d != "2025-02-30"]
    assert frame.dispatch_day.tolist() == expected
    from_json = ShipmentFrame.from_shipments(frame.to_shipments())
    assert from_json.dispatch_day is not None
    assert from_json.dispatch_day.tolist() == expected
    kept = frame.without({str(frame.ids[0]), str(frame.ids[2])})
    assert kept.dispatch_days().tolist() == [expected[1], *expected[3:]]
    # a file without the column: every shipment without a date
    plain = read_csv_frame(EXAMPLES / "demo-shipments.csv")
    assert plain.dispatch_days().tolist() == [NONE] * len(plain)


@pytest.mark.parametrize("seed", [1, 2])
def test_dated_csv_frame_equals_the_dates_read_from_the_consignments(
        tmp_path: Path, seed: int) -> None:
    """From a CSV file, the column path against the simple path (dates read from the
    consignment objects) and against each set computed apart; dates on the boundaries."""
    import random

    from ledger.inputs.csvreader import read_csv_frame

    rng = random.Random(seed)
    edges = ["2025-01-01", "2025-12-31", "2026-01-01"]
    dates: list[str | None] = [
        rng.choice(edges) if rng.random() < 0.3 else
        f"{rng.choice(['2025', '2026'])}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        for _ in range(48)]
    schedule = load_schedule(_two_year_schedule(tmp_path))
    frame = read_csv_frame(_dated_csv(tmp_path / "dated.csv", dates, seed))
    dated = compute_by_dispatch_date(frame, schedule)
    expected, problems = _split_oracle(frame, schedule)
    assert not problems
    assert dated.footprints() == expected
    assert len({fp.factor_set_id for fp in expected}) == 2
    frame.dispatch_day = None  # the simple path: the dates of the consignment objects
    simple = compute_by_dispatch_date(frame, schedule)
    assert simple.choice.tolist() == dated.choice.tolist()
    assert simple.selections() == dated.selections()
    assert [s["dispatch_date"] for s in dated.selections()] == dates


def test_a_csv_shipment_without_a_dispatch_date_is_the_same_clear_error(tmp_path: Path) -> None:
    from ledger.inputs.csvreader import read_csv_frame

    frame = read_csv_frame(_dated_csv(tmp_path / "dated.csv",
                                      ["2025-05-01", None, "2026-02-01", "2024-12-31"]))
    for dispatch_day in (frame.dispatch_day, None):  # the column, then the objects
        frame.dispatch_day = dispatch_day
        with pytest.raises(InputError) as info:
            compute_by_dispatch_date(frame, load_schedule())
        found = [(p.shipment_id, p.row, p.field, p.message) for p in info.value.problems]
        assert [f[:3] for f in found] == [
            ("YW-RAIL-2026-0001-1", 5, "consignment.dispatch_date"),
            ("HY-FAST-2026-0001-3", 8, "consignment.dispatch_date")]
        assert "consignment.dispatch_date is required" in found[0][3]
        assert "2024-12-31" in found[1][3]
