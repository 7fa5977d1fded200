"""Dated consignments, importers, installations and data types of CBAM goods (definitive period).

The customs release date decides the CBAM import year; files of the first form (``cbam_year``,
no dates) are still read and say so; records built before consignment data existed recompute to
the same hash; both file forms carry the same content and refuse the same bad input.
"""

from __future__ import annotations

import copy
import csv
import io
import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.cli.main import main
from ledger.errors import InputError
from ledger.factors.factorset import FactorSet, load_factor_set
from ledger.footprint.batch import compute_batch
from ledger.footprint.single import compute_shipment, compute_shipments
from ledger.inputs.consignment import INCOTERMS_2020, eori_problem, incoterm_problem
from ledger.inputs.frame import CSV_COLUMN_OF, GOODS_COLUMNS, LEG_COLUMNS, ShipmentFrame
from ledger.inputs.read import read_shipments
from ledger.inputs.shipments import Shipment, shipments_from_json
from ledger.records.record import build_record, record_hash

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
DATA = Path(__file__).resolve().parents[2] / "data"
CONSIGNMENTS = EXAMPLES / "cbam-consignments-2026.json"


@pytest.fixture(scope="module")
def factor_set() -> FactorSet:
    return load_factor_set()


def _document() -> dict[str, Any]:
    return json.loads(CONSIGNMENTS.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _one(**changes: Any) -> dict[str, Any]:
    """The first shipment of the example (steel bolts, default values) with changes applied
    (``consignment__incoterm="XYZ"`` sets ``consignment.incoterm``; None removes)."""
    item = copy.deepcopy(_document()["shipments"][0])
    for path, value in changes.items():
        node = item
        *parents, last = path.split("__")
        for name in parents:
            node = node.setdefault(name, {})
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value
    return item


def _problems(item: dict[str, Any]) -> set[tuple[str | None, str | None]]:
    with pytest.raises(InputError) as info:
        shipments_from_json({"shipments": [item]})
    return {(p.field, p.message) for p in info.value.problems}


def _flat(data: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        elif isinstance(value, list):
            for i, item in enumerate(value, start=1):
                out.update(_flat(item, f"{prefix}{key}[{i}]."))
        else:
            out[prefix + key] = value
    return out


_COLUMN_OF_FIELD = {field: column for field, column in CSV_COLUMN_OF.items()
                    if not any(o.startswith((field + ".", field + "[")) for o in CSV_COLUMN_OF)}


def csv_of(items: list[dict[str, Any]]) -> str:
    """The CSV form of shipments in the JSON form: one row per leg, every shipment-level
    column repeated on each row of its shipment."""
    rows = []
    for item in items:
        shared = {_COLUMN_OF_FIELD[k]: v for k, v in _flat(
            {k: v for k, v in item.items() if k not in ("shipment_id", "legs")}).items()}
        for leg in item["legs"]:
            rows.append({"shipment_id": item["shipment_id"], **leg, **shared})
    columns = [c for c in (*LEG_COLUMNS, *GOODS_COLUMNS) if any(c in r for r in rows)]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _csv_problems(tmp_path: Path, item: dict[str, Any]) -> set[tuple[str | None, str]]:
    path = tmp_path / "one.csv"
    path.write_text(csv_of([item]), encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_shipments(path)
    return {(p.field, p.message) for p in info.value.problems}


# -- the example file --------------------------------------------------------------------


def test_the_example_in_both_forms_gives_the_same_shipments() -> None:
    from_json = read_shipments(CONSIGNMENTS)
    from_csv = read_shipments(EXAMPLES / "cbam-consignments-2026.csv")
    assert from_csv == from_json
    assert len(from_json) == 5
    assert {s.consignment.importer.eori for s in from_json  # type: ignore[union-attr]
            } == {"NL009900001", "DE9900000000001"}
    nuts = from_json[1]
    assert nuts.product is not None and nuts.product.production is not None
    assert nuts.product.production.data_type == "actual-verified"
    assert nuts.product.production.verification is not None
    assert nuts.product.installation is not None
    assert nuts.product.installation.installation_id == "CN-ZJ-HY-0002"
    # the CSV of the example is the flat form of its JSON
    assert (EXAMPLES / "cbam-consignments-2026.csv").read_text(encoding="utf-8") == \
        csv_of(_document()["shipments"])


def test_the_example_footprints(factor_set: FactorSet) -> None:
    results = {fp.shipment_id: fp for fp in compute_shipments(read_shipments(CONSIGNMENTS),
                                                               factor_set)}
    bolts = results["HY-FAST-2026-0101"].cbam
    assert (bolts.method, bolts.data_type, bolts.markup_year) == ("default", "default", "2026")
    assert (bolts.import_date, bolts.import_quarter, bolts.year_source) == \
        ("2026-02-20", "2026-Q1", "customs_release_date")
    assert bolts.embedded_g == 126_225_000  # 18 t x 6.375 t/t x 1.10 (2026 mark-up)
    assert bolts.warning is None
    nuts = results["HY-FAST-2026-0102"].cbam
    assert (nuts.method, nuts.data_type) == ("actual", "actual-verified")
    assert nuts.embedded_g == 27_720_000  # 12 t x 2.31 t/t, direct only (iron and steel)
    profiles = results["HZ-ALU-2026-0202"].cbam
    assert (profiles.method, profiles.data_type, profiles.import_quarter) == \
        ("actual", "actual-unverified", "2026-Q3")
    fertiliser = results["QZ-FERT-2026-0301"].cbam
    assert fertiliser.specific_direct_t_per_t == "3.4037"  # 3.37 x 1.01 (fertiliser mark-up)
    assert fertiliser.to_dict()["year_source"] == "customs_release_date"


def test_single_and_batch_paths_agree_on_the_example(factor_set: FactorSet) -> None:
    shipments = read_shipments(EXAMPLES / "cbam-consignments-2026.csv")
    batch = compute_batch(shipments, factor_set).footprints()
    assert [fp.to_dict() for fp in batch] == \
        [compute_shipment(s, factor_set).to_dict() for s in shipments]


def test_consignments_round_trip_through_dict_and_frame() -> None:
    shipments = read_shipments(CONSIGNMENTS)
    for s in shipments:
        assert Shipment.from_dict(json.loads(json.dumps(s.to_dict()))) == s
    assert ShipmentFrame.from_shipments(shipments).to_shipments() == shipments
    frame = ShipmentFrame.from_shipments(shipments).without({"NB-ALU-2026-0201"})
    assert [s.shipment_id for s in frame.to_shipments()] == [
        "HY-FAST-2026-0101", "HY-FAST-2026-0102", "HZ-ALU-2026-0202", "QZ-FERT-2026-0301"]
    assert frame.to_shipments()[2].consignment == shipments[3].consignment


def _run(args: list[str]) -> int:
    with pytest.raises(SystemExit) as info:
        main(args)
        raise SystemExit(0)
    return int(info.value.code or 0)


@pytest.mark.parametrize("name", ["cbam-consignments-2026.json", "cbam-consignments-2026.csv"])
def test_cli_footprint_runs_on_the_example(tmp_path: Path, name: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "fp.json"
    assert _run(["footprint", str(EXAMPLES / name), "-o", str(out)]) == 0
    document = json.loads(out.read_text(encoding="utf-8"))
    cbam = {fp["shipment_id"]: fp["cbam"] for fp in document["footprints"]}
    assert cbam["HY-FAST-2026-0102"]["data_type"] == "actual-verified"
    assert cbam["NB-ALU-2026-0201"]["import_quarter"] == "2026-Q1"
    assert "warning" not in capsys.readouterr().err


def test_cli_warns_when_the_year_comes_from_cbam_year(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["footprint", str(EXAMPLES / "demo-shipments.json")]) == 0
    err = capsys.readouterr().err
    assert "the import year is taken from cbam_year" in err
    assert "HY-FAST-2026-0001" in err


def test_cli_refuses_bad_consignments_and_writes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    items = [_one(consignment__customs_release_date="2025-12-30",
                  consignment__arrival_date="2025-12-29",
                  consignment__dispatch_date="2025-11-20"),
             {**_one(consignment__importer={"name": "X", "eori": "NL-0099"}),
              "shipment_id": "B"}]
    src = tmp_path / "bad.csv"
    src.write_text(csv_of(items), encoding="utf-8")
    out = tmp_path / "fp.json"
    assert _run(["footprint", str(src), "-o", str(out)]) == 2
    assert not out.exists()
    err = capsys.readouterr().err
    # a problem of the reader and one of the computation, in one run, by CSV column
    assert "2 problems" in err
    assert "row 4, shipment 'B', field 'importer_eori'" in err
    assert "row 2, shipment 'HY-FAST-2026-0101', field 'customs_release_date'" in err
    assert "before the CBAM definitive period" in err


# -- the import year -----------------------------------------------------------------------


def test_the_cbam_year_comes_from_the_customs_release_date(factor_set: FactorSet) -> None:
    dated = Shipment.from_dict(_one(consignment__customs_release_date="2027-01-04",
                                    consignment__arrival_date=None,
                                    consignment__dispatch_date="2026-11-20"))
    result = compute_shipment(dated, factor_set).cbam
    assert (result.markup_year, result.import_quarter) == ("2027", "2027-Q1")
    assert result.embedded_g == 18_000 * 6_375 * 120 // 100  # 2027: +20 %
    undated = Shipment.from_dict(_one(consignment=None, product__cbam_year=2027))
    legacy = compute_shipment(undated, factor_set).cbam
    assert legacy.embedded_g == result.embedded_g
    assert legacy.year_source == "cbam_year"
    assert legacy.warning is not None and "cbam_year" in legacy.warning
    # records of the first form are serialised as before: no new keys
    assert not {"year_source", "import_date", "import_quarter"} & set(legacy.to_dict())


def test_cbam_year_that_disagrees_with_the_import_date_is_an_error(
        factor_set: FactorSet) -> None:
    shipment = Shipment.from_dict(_one(product__cbam_year=2027))
    with pytest.raises(InputError) as info:
        compute_shipment(shipment, factor_set)
    (problem,) = info.value.problems
    assert problem.field == "product.cbam_year"
    assert "2026-02-20" in problem.message
    same = Shipment.from_dict(_one(product__cbam_year=2026))
    assert compute_shipment(same, factor_set).cbam.markup_year == "2026"


@pytest.mark.parametrize("name", ["HY-FAST-2026-0101", "HY-FAST-2026-0102"])
def test_an_import_date_before_2026_is_an_error_naming_the_field(
        factor_set: FactorSet, name: str) -> None:
    item = next(s for s in _document()["shipments"] if s["shipment_id"] == name)
    item["consignment"].update(dispatch_date="2025-10-01", arrival_date="2025-12-01",
                               customs_release_date="2025-12-31")
    shipment = Shipment.from_dict(item)
    for compute in (lambda: compute_shipment(shipment, factor_set),
                    lambda: compute_batch([shipment], factor_set)):
        with pytest.raises(InputError) as info:
            compute()
        (problem,) = info.value.problems
        assert problem.field == "consignment.customs_release_date"
        assert "2025-12-31 is before the CBAM definitive period" in problem.message


def test_a_non_cbam_shipment_may_be_dated_before_2026(factor_set: FactorSet) -> None:
    item = _one(consignment__customs_release_date="2025-06-01",
                consignment__arrival_date="2025-05-30", consignment__dispatch_date="2025-04-01",
                product={"description": "Plastic household articles", "cn_code": "3924 10",
                         "country_of_origin": "CN"})
    result = compute_shipment(Shipment.from_dict(item), factor_set)
    assert not result.cbam.in_scope


def test_records_built_before_consignments_recompute_to_the_same_hash(
        factor_set: FactorSet) -> None:
    fixture = json.loads((DATA / "records-before-consignments.json").read_text(encoding="utf-8"))
    assert len(fixture["records"]) == 6
    for item in fixture["records"]:
        record = item["record"]
        assert record["factor_set_id"] == str(factor_set.id)
        shipment = Shipment.from_dict(record["shipment"])
        assert shipment.to_dict() == record["shipment"]
        footprint = compute_shipment(shipment, factor_set)
        rebuilt = build_record(shipment.to_dict(), footprint.to_dict(),
                               exporter=record["exporter"],
                               factor_set_id=record["factor_set_id"])
        assert rebuilt == record
        assert str(record_hash(rebuilt)) == item["record_hash"]


# -- bad input, both forms -----------------------------------------------------------------

BAD = [
    ({"consignment__importer": {"name": "Maas", "eori": "1L009900001"}},
     "consignment.importer.eori", "importer_eori", "is not an EORI number"),
    ({"consignment__declarant": {"eori": "NL0123456789ABCDEF"}},
     "consignment.declarant.eori", "declarant_eori", "up to 15 letters or digits"),
    ({"consignment__incoterm": "FOB2020"}, "consignment.incoterm", "incoterm",
     "unknown Incoterm 'FOB2020'"),
    ({"consignment__incoterm": "DAT"}, "consignment.incoterm", "incoterm",
     "expected one of Incoterms 2020"),
    ({"consignment__customs_release_date": "31.03.2026"},
     "consignment.customs_release_date", "customs_release_date", "is not a date"),
    ({"consignment__customs_release_date": "2026-02-30"},
     "consignment.customs_release_date", "customs_release_date", "is not a date"),
    ({"consignment__arrival_date": "2026-01-02"}, "consignment.arrival_date", "arrival_date",
     "is before dispatch_date 2026-01-12"),
    ({"product__production": {"data_type": "actual-verified", "direct_t_per_t": "2.31"}},
     "product.production.verification.verifier", "verifier_name", "needs the verifier's name"),
    ({"product__production": {"data_type": "actual-verified", "direct_t_per_t": "2.31",
                              "verification": {"accreditation": "X", "date": "2026-01-30"}}},
     "product.production.verification.verifier", "verifier_name", "needs the verifier's name"),
    ({"product__production": {"data_type": "actual-unverified", "direct_t_per_t": "2.31",
                              "verification": {"verifier": "V"}}},
     "product.production.verification", "verifier_name", "actual-verified only"),
    ({"product__production": {"data_type": "default", "electricity_factor_t_per_mwh": "0.5"}},
     "product.production.electricity_factor_t_per_mwh",
     "production_electricity_factor_t_per_mwh", "applies to actual data only"),
    ({"product__production": {"data_type": "verified"}}, "product.production.data_type",
     "production_data_type", "expected default, actual-unverified or actual-verified"),
    ({"product__production": {"data_type": "actual-unverified", "direct_t_per_t": "2",
                              "precursors": [{"cn_code": "7213", "embedded_t_per_t": "2"}]}},
     "product.production.precursors[1].quantity_t_per_t", "precursor_1_quantity_t_per_t",
     "needs quantity_t_per_t"),
    ({"product__production": {"data_type": "actual-unverified", "direct_t_per_t": "2",
                              "precursors": [{"cn_code": "72x", "quantity_t_per_t": "1"}]}},
     "product.production.precursors[1].cn_code", "precursor_1_cn_code", "is not a CN code"),
    ({"product__installation__country": "China"}, "product.installation.country",
     "installation_country", "ISO 3166 alpha-2"),
]


@pytest.mark.parametrize("case", BAD, ids=[c[1] + ":" + c[3] for c in BAD])
def test_bad_consignment_data_is_an_error_naming_the_field(
        tmp_path: Path, case: tuple[dict[str, Any], str, str, str]) -> None:
    changes, field, column, message = case
    item = _one(**changes)
    found = _problems(item)
    assert any(f == field and message in m for f, m in found), found
    in_csv = _csv_problems(tmp_path, item)
    assert any(f == column and message in m for f, m in in_csv), in_csv


def test_csv_problems_name_shipment_and_row(tmp_path: Path) -> None:
    items = _document()["shipments"][:2]
    items[1] = _one(consignment__incoterm="XYZ")
    items[1]["shipment_id"] = "BAD-INCOTERM"
    path = tmp_path / "two.csv"
    path.write_text(csv_of(items), encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_shipments(path)
    (problem,) = info.value.problems
    assert (problem.shipment_id, problem.row, problem.field) == ("BAD-INCOTERM", 4, "incoterm")


def test_csv_rows_of_a_shipment_must_agree_on_consignment_columns(tmp_path: Path) -> None:
    text = csv_of([_one()]).splitlines()
    text[2] = text[2].replace("2026-02-20", "2026-02-21")
    path = tmp_path / "disagree.csv"
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_shipments(path)
    (problem,) = info.value.problems
    assert (problem.field, problem.row) == ("customs_release_date", 3)
    assert "conflicting values" in problem.message


def test_an_unknown_csv_column_is_refused(tmp_path: Path) -> None:
    text = csv_of([_one()]).splitlines()
    text[0] = text[0].replace("customs_release_date", "customs_release")
    path = tmp_path / "unknown.csv"
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_shipments(path)
    assert [(p.field, p.message) for p in info.value.problems] == [
        ("customs_release",
         "unknown column 'customs_release'; did you mean 'customs_release_date'?")]


def test_unknown_json_keys_are_refused_like_unknown_csv_columns() -> None:
    item = _one(consignment__customs_release=None)
    item["consignment"]["customs_release"] = "2026-02-20"
    item["shipping_note"] = "x"
    with pytest.raises(InputError) as raised:
        shipments_from_json({"shipments": [item]})
    messages = {p.field: p.message for p in raised.value.problems}
    assert messages == {
        "consignment.customs_release": "unknown key 'customs_release'; did you mean "
                                       "'customs_release_date'?",
        "shipping_note": "unknown key 'shipping_note'; expected one of consignment, exporter, "
                         "legs, product, shipment_id"}


def test_forms_of_eori_and_incoterm() -> None:
    for good in ("NL009900001", "DE9900000000001", "ATEOS1000012345", "FR12345678901234",
                 "IE1234567X"):
        assert eori_problem(good) is None
    for bad in ("NL", "N1234", "NL 123", "nl123", "NL1234567890123456", "NL12345-67"):
        assert eori_problem(bad) is not None
    for rule in ("EXW", "FCA", "CPT", "CIP", "DAP", "DPU", "DDP", "FAS", "FOB", "CFR", "CIF"):
        assert incoterm_problem(rule) is None
    for bad in ("DAT", "DDU", "fob", "CIF "):
        assert incoterm_problem(bad) is not None


# -- both forms, any consignment -----------------------------------------------------------

DAY = st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31))
NAME = st.text(alphabet="abcdefghij ABC.-", min_size=1, max_size=20).map(str.strip).filter(bool)
EORI = st.from_regex(r"[A-Z]{2}[A-Z0-9]{1,15}", fullmatch=True)
PER_T = st.decimals(min_value=Decimal("0.001"), max_value=Decimal(20), places=3)


@st.composite
def consignment_items(draw: st.DrawFn, number: int) -> dict[str, Any]:
    item = _one()
    item["shipment_id"] = f"S-{number}"
    dispatch = draw(DAY)
    consignment: dict[str, Any] = {"dispatch_date": dispatch.isoformat()}
    if draw(st.booleans()):
        consignment["customs_release_date"] = (dispatch + timedelta(days=draw(
            st.integers(0, 90)))).isoformat()
    for party in ("importer", "declarant"):
        if draw(st.booleans()):
            consignment[party] = {"name": draw(NAME), "eori": draw(EORI)}
    if draw(st.booleans()):
        consignment["incoterm"] = draw(st.sampled_from(INCOTERMS_2020))
        consignment["incoterm_place"] = draw(NAME)
    for name in ("consignee", "bill_of_lading", "invoice_number"):
        if draw(st.booleans()):
            consignment[name] = draw(NAME)
    item["consignment"] = consignment
    data_type = draw(st.sampled_from(["default", "actual-unverified", "actual-verified"]))
    production: dict[str, Any] = {"data_type": data_type}
    if data_type != "default":
        production["direct_t_per_t"] = str(draw(PER_T))
        if draw(st.booleans()):
            production["electricity_factor_t_per_mwh"] = "0.5366"
        production["precursors"] = [
            {"cn_code": "7213 91", "quantity_t_per_t": str(draw(PER_T))}
            for _ in range(draw(st.integers(0, 3)))]
    if data_type == "actual-verified":
        production["verification"] = {"verifier": draw(NAME),
                                      "date": draw(DAY).isoformat()}
    item["product"]["production"] = production
    if draw(st.booleans()):
        item["product"].pop("installation")
    return item


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=4, unique=True).flatmap(
    lambda numbers: st.tuples(*(consignment_items(n) for n in numbers))))
def test_csv_and_json_forms_read_the_same_consignments(
        tmp_path_factory: pytest.TempPathFactory, items: tuple[dict[str, Any], ...]) -> None:
    folder = tmp_path_factory.mktemp("consignments")
    (folder / "s.csv").write_text(csv_of(list(items)), encoding="utf-8")
    (folder / "s.json").write_text(json.dumps({"shipments": list(items)}), encoding="utf-8")
    from_json = read_shipments(folder / "s.json")
    assert read_shipments(folder / "s.csv") == from_json
    # the dispatch-date column of the CSV reader's frame: the dates the shipments carry
    from ledger.inputs.csvreader import read_csv_frame

    column = read_csv_frame(folder / "s.csv").dispatch_days().tolist()
    assert column == [s.consignment.dispatch_date.toordinal() for s in from_json
                      if s.consignment is not None and s.consignment.dispatch_date is not None]
    assert ShipmentFrame.from_shipments(from_json).dispatch_days().tolist() == column
    for shipment in from_json:
        assert Shipment.from_dict(json.loads(json.dumps(shipment.to_dict()))) == shipment


def test_an_eori_in_lower_case_or_with_spaces_is_read_in_its_canonical_form() -> None:
    from ledger.inputs.shipments import Shipment

    data = json.loads((EXAMPLES / "cbam-consignments-2026.json").read_text(encoding="utf-8"))
    shipment = data["shipments"][0]
    shipment["consignment"]["importer"]["eori"] = " nl 009900001 "
    parsed = Shipment.from_dict(shipment)
    assert parsed.to_dict()["consignment"]["importer"]["eori"] == "NL009900001"
