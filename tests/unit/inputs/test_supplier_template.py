"""Supplier data in the Commission's communication template for installations (xlsx).

Every workbook here is built by the test with openpyxl, in the template's layout (sheet names,
header row 25, goods from row 26, the cells of ``A_InstData``): a filled template is read into
supplier data, written back and read again to the same data; a missing sheet, formulas saved
without values, a wrong unit, an empty required cell, a total that is not direct + indirect
and a foreign layout are each refused with the sheet and cell; supplier data applied to the
example consignments become the actual data the footprint uses.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.formula import ArrayFormula

from ledger.cli.main import main
from ledger.errors import InputError
from ledger.factors.factorset import FactorSet, load_factor_set
from ledger.footprint.single import compute_shipments
from ledger.inputs.read import read_shipments
from ledger.inputs.shipments import Shipment
from ledger.inputs.supplier_data import SupplierData, apply_supplier_data
from ledger.inputs.supplier_export import template_bytes
from ledger.inputs.supplier_layout import TEMPLATE_SHEETS
from ledger.inputs.supplier_template import read_template

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
CONSIGNMENTS = EXAMPLES / "cbam-consignments-2026.json"
INSTALLATION = "CN-ZJ-HY-0001"

#: The filled cells of a template of the bolt maker of the example consignments (fictitious).
SUMMARY: dict[str, Any] = {
    "G12": "Haiyan Tongda Fastener Works (fictitious)", "G13": "1 Example Road",
    "G14": "Manufacture of fasteners", "G15": "Haiyan", "G16": "CN", "G17": "CN HYN",
    "G18": "30.53", "G19": "120.94", "G20": date(2025, 1, 1), "G21": date(2025, 12, 31),
    "D25": "Production process", "F25": "CN Codes", "H25": "Product name (used for ...)",
    "I25": "SEE (direct)", "J25": "SEE (indirect)", "K25": "SEE (total)",
    "M25": "Share of emissions by default value", "N25": "Source for electricity EF",
    "O25": "Embedded electricity (MWh/t)", "P25": "Electricity EF (tCO2/MWh)",
    "Q25": "The main reducing agent of the precursor, if known",
    # row 26: hexagon bolts, as the example's first shipment
    "D26": "Cold heading", "E26": "Iron or steel products", "F26": "73181588",
    "H26": "Hexagon bolts 8.8", "I26": 1.834567, "J26": 0.412, "K26": 2.246567,
    "L26": "tCO2e/t", "M26": 0, "N26": "grid", "O26": 0.7678, "P26": 0.5366,
    "Q26": "Coal or coke",
    # row 27: nuts, a good of no shipment of the example
    "D27": "Cold heading", "E27": "Iron or steel products", "F27": 73181630,
    "H27": "Hexagon nuts", "I27": 1.9, "J27": 0.4, "K27": 2.3, "L27": "tCO2e/t",
}
INST_DATA: dict[str, Any] = {
    "I9": date(2025, 1, 1), "L9": date(2025, 12, 31),
    "I20": "Haiyan Tongda Fastener Works (fictitious)",
    "I37": "Example Verification GmbH (fictitious)", "I41": "DE",
    "I51": "DE", "I52": "DAkkS", "I53": "D-VS-00000-00 (fictitious)",
}


def _workbook(path: Path, *, summary: dict[str, Any] | None = None,
              inst: dict[str, Any] | None = None, drop: tuple[str, ...] = (),
              purch: dict[str, Any] | None = None) -> Path:
    """A workbook with the template's 19 sheets (less ``drop``) and the given cells
    (``purch``: cells of ``E_PurchPrec``)."""
    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    for name in TEMPLATE_SHEETS:
        if name not in drop:
            book.create_sheet(name)
    if "0_Versions" not in drop:
        book["0_Versions"]["E9"] = "2.1"
        book["0_Versions"]["E10"] = "2.1.1"
    for name, cells in (("Summary_Communication", SUMMARY if summary is None else summary),
                        ("A_InstData", INST_DATA if inst is None else inst),
                        ("E_PurchPrec", purch or {})):
        if name in drop:
            continue
        for ref, value in cells.items():
            if value is not None:
                book[name][ref] = value
    book.save(path)
    return path


def _problems(path: Path) -> dict[str, str]:
    with pytest.raises(InputError) as info:
        read_template(path, installation_id=INSTALLATION)
    return {p.field or "": p.message for p in info.value.problems}


@pytest.fixture(scope="module")
def factor_set() -> FactorSet:
    return load_factor_set()


def test_a_filled_template_reads_into_supplier_data(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "t.xlsx")
    data = read_template(path, installation_id=INSTALLATION, operator="Haiyan Tongda")
    assert data.installation.name == "Haiyan Tongda Fastener Works (fictitious)"
    assert data.installation.country == "CN"
    assert data.installation.un_locode == "CN HYN"
    assert (data.period_start, data.period_end) == (date(2025, 1, 1), date(2025, 12, 31))
    assert data.template_version == "2.1.1"
    bolts, nuts = data.goods
    assert (bolts.cn_code, bolts.direct_t_per_t, bolts.indirect_t_per_t) == (
        "73181588", Decimal("1.834567"), Decimal("0.412"))
    assert bolts.electricity_factor_t_per_mwh == Decimal("0.5366")
    assert bolts.main_reducing_agent == "Coal or coke"
    assert bolts.default_share == 0
    # a CN code typed as a number reads as the code
    assert nuts.cn_code == "73181630"
    assert data.verifier is not None
    assert data.verifier.accreditation == "DAkkS (DE) D-VS-00000-00 (fictitious)"
    assert data.data_type == "actual-verified"
    assert data.sources is not None
    assert data.sources["goods[1].direct_t_per_t"] == "Summary_Communication!I26"
    assert data.sources["goods[2].indirect_t_per_t"] == "Summary_Communication!J27"
    assert data.sources["verifier.name"] == "A_InstData!I37"
    assert data.source_sha256 is not None and len(data.source_sha256) == 64


def test_without_a_verifier_the_data_are_unverified(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "t.xlsx", inst={"I9": date(2025, 1, 1)})
    assert read_template(path, installation_id=INSTALLATION).data_type == "actual-unverified"


def test_export_then_import_gives_the_same_data(tmp_path: Path) -> None:
    data = read_template(_workbook(tmp_path / "t.xlsx"), installation_id=INSTALLATION,
                         operator="Haiyan Tongda")
    out = tmp_path / "exported.xlsx"
    out.write_bytes(template_bytes(data))
    again = read_template(out, installation_id=INSTALLATION, operator="Haiyan Tongda")

    def core(d: SupplierData) -> dict[str, Any]:
        # the file differs (its name and bytes), the data do not
        found = d.to_dict()
        assert (found.pop("source_file"), len(found.pop("source_sha256"))) in (
            ("t.xlsx", 64), ("exported.xlsx", 64))
        return found

    assert core(again) == core(data)
    # the exported file has the template's sheets and cells where the template has them
    book = load_workbook(out)
    assert book["Summary_Communication"]["F26"].value == "73181588"
    assert book["Summary_Communication"]["I26"].value == pytest.approx(1.834567)
    assert book["A_InstData"]["I37"].value == "Example Verification GmbH (fictitious)"
    # and the supplier-data document reads back to the same data
    assert SupplierData.from_dict(json.loads(json.dumps(data.to_dict()))).to_dict() == \
        data.to_dict()


def test_a_missing_sheet_is_named(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "t.xlsx", drop=("Summary_Communication",))
    problems = _problems(path)
    assert list(problems) == ["Summary_Communication"]
    assert "sheet 'Summary_Communication' is missing" in problems["Summary_Communication"]


def test_formulas_saved_without_values_are_detected(tmp_path: Path) -> None:
    summary = {**SUMMARY, "G12": "=A_InstData!I20", "I26": "=D_Processes!L70",
               "K26": "=I26+J26"}
    problems = _problems(_workbook(tmp_path / "t.xlsx", summary=summary))
    message = problems["Summary_Communication!G12"]
    assert "3 formula cell(s) have no computed value" in message
    assert "I26 (SEE (direct) of CN 73181588 (row 26))" in message
    assert "recalculate" in message
    # nothing else is reported about those cells (no "empty" on top of "not computed")
    assert not any("I26" in field for field in problems if field != "Summary_Communication!G12")


def test_an_array_formula_saved_without_a_value_is_detected(tmp_path: Path) -> None:
    summary = {**SUMMARY, "J27": ArrayFormula("J27", "=SUM(D_Processes!L70:L71)")}
    problems = _problems(_workbook(tmp_path / "t.xlsx", summary=summary))
    assert "J27 (SEE (indirect) of CN 73181630 (row 27))" in \
        problems["Summary_Communication!J27"]


def test_a_wrong_unit_is_refused(tmp_path: Path) -> None:
    problems = _problems(_workbook(tmp_path / "t.xlsx", summary={**SUMMARY, "L26": "kgCO2e/t"}))
    assert "the SEE must be in tCO2e/t" in problems["Summary_Communication!L26"]


def test_empty_required_cells_are_named(tmp_path: Path) -> None:
    summary = {**SUMMARY, "J27": None, "G16": None, "G21": None}
    problems = _problems(_workbook(tmp_path / "t.xlsx", summary=summary))
    assert "SEE (indirect) of CN 73181630 (row 27) is empty" in \
        problems["Summary_Communication!J27"]
    assert "country of the installation is empty" in problems["Summary_Communication!G16"]
    assert "end of the reporting period is empty" in problems["Summary_Communication!G21"]


@pytest.mark.parametrize(("cell", "value", "expected"), [
    ("K26", 3.0, "not SEE (direct) + SEE (indirect)"),
    ("I26", "about two", "not a number"),
    ("J26", -0.1, "must be zero or more"),
    ("M26", 1.5, "at most 1"),
    ("F26", "7318-15", "is not a CN code"),
    ("G16", "China", "not an ISO 3166 alpha-2 code"),
    ("G20", "last year", "is not a date"),
    ("F27", "73181588", "is given again (first in row 26)"),
])
def test_bad_cells_are_named_with_their_meaning(tmp_path: Path, cell: str, value: Any,
                                                expected: str) -> None:
    problems = _problems(_workbook(tmp_path / "t.xlsx", summary={**SUMMARY, cell: value}))
    assert expected in problems[f"Summary_Communication!{cell}"]


def test_a_foreign_layout_is_refused_before_reading_values(tmp_path: Path) -> None:
    summary = {**SUMMARY, "I25": "Emissions", "P25": "Remarks"}
    problems = _problems(_workbook(tmp_path / "t.xlsx", summary=summary))
    assert "expected the header 'SEE (direct)'" in problems["Summary_Communication!I25"]
    assert "Electricity EF" in problems["Summary_Communication!P25"]


def test_a_verifier_without_a_name_is_refused(tmp_path: Path) -> None:
    inst = {**INST_DATA, "I37": None}
    problems = _problems(_workbook(tmp_path / "t.xlsx", inst=inst))
    assert "verifier's name is empty" in problems["A_InstData!I37"]


def test_a_file_that_is_not_a_workbook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    path.write_text("not a workbook", encoding="utf-8")
    with pytest.raises(InputError, match="not a readable xlsx workbook"):
        read_template(path, installation_id=INSTALLATION)


def test_supplier_data_become_the_actual_data_of_the_footprint(
        tmp_path: Path, factor_set: FactorSet) -> None:
    data = read_template(_workbook(tmp_path / "t.xlsx"), installation_id=INSTALLATION)
    shipments = read_shipments(CONSIGNMENTS)
    found = apply_supplier_data(shipments, data)
    assert found.applied == ["HY-FAST-2026-0101"]
    production = found.shipments[0].product.production  # type: ignore[union-attr]
    assert production is not None
    assert production.data_type == "actual-verified"
    assert production.verification is not None
    assert production.verification.verifier == "Example Verification GmbH (fictitious)"
    # the installation keeps what the shipment said of it
    assert found.shipments[0].product.installation == shipments[0].product.installation  # type: ignore[union-attr]
    # the other shipments are untouched
    assert found.shipments[1:] == shipments[1:]
    before, after = (compute_shipments(s[:1], factor_set)[0].cbam
                     for s in (shipments, found.shipments))
    assert before is not None and after is not None
    assert before.method == "default"
    assert after.method == "actual"
    # iron and steel (Annex II): direct emissions only; 18 000 kg x 1.834567 t/t = 33.022206 t
    assert after.specific_direct_t_per_t == "1.834567"
    assert after.embedded_g == 33_022_206
    assert after.embedded_indirect_g == 0


def test_the_template_fills_what_the_shipment_does_not_say_of_its_installation(
        tmp_path: Path) -> None:
    data = read_template(_workbook(tmp_path / "t.xlsx"), installation_id=INSTALLATION,
                         operator="Haiyan Tongda")
    document = json.loads(CONSIGNMENTS.read_text(encoding="utf-8"))
    first = document["shipments"][0]
    first["product"]["installation"] = {"installation_id": INSTALLATION}
    found = apply_supplier_data([Shipment.from_dict(first)], data)
    installation = found.shipments[0].product.installation  # type: ignore[union-attr]
    assert installation is not None
    assert (installation.country, installation.operator, installation.production_route) == (
        "CN", "Haiyan Tongda", "Cold heading")
    first["product"]["installation"] = {"installation_id": INSTALLATION, "country": "VN"}
    with pytest.raises(InputError, match="the installation is in VN but the template"):
        apply_supplier_data([Shipment.from_dict(first)], data)


def test_production_declared_otherwise_is_not_overwritten(tmp_path: Path) -> None:
    data = read_template(_workbook(tmp_path / "t.xlsx"), installation_id=INSTALLATION)
    first = json.loads(CONSIGNMENTS.read_text(encoding="utf-8"))["shipments"][0]
    first["product"]["production"] = {"electricity_kwh_per_t": "500",
                                      "grid": "cn_mee_nbs.east.2023"}
    with pytest.raises(InputError, match=r"already carries its production emissions "
                                         r"\(electricity\)"):
        apply_supplier_data([Shipment.from_dict(first)], data)


def test_a_share_of_default_values_is_noted_when_applied(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "t.xlsx", summary={**SUMMARY, "M26": 0.25})
    found = apply_supplier_data(read_shipments(CONSIGNMENTS),
                                read_template(path, installation_id=INSTALLATION))
    assert found.notes == [("HY-FAST-2026-0101", "the template says 25% of the emissions of "
                            "CN 73181588 come from default values (share of emissions by "
                            "default value)")]


def test_applying_never_replaces_actual_data(tmp_path: Path) -> None:
    data = read_template(_workbook(tmp_path / "t.xlsx"), installation_id="CN-ZJ-HY-0002")
    shipments = read_shipments(CONSIGNMENTS)
    # the template has no good with the CN code of that installation's shipment
    found = apply_supplier_data(shipments, data)
    assert found.applied == []
    assert found.kept == [("HY-FAST-2026-0102", "CN 7318 16 91 is not a good of the "
                           "supplier data of installation CN-ZJ-HY-0002")]
    summary = {**SUMMARY, "F27": "73181691"}
    data = read_template(_workbook(tmp_path / "t2.xlsx", summary=summary),
                         installation_id="CN-ZJ-HY-0002")
    with pytest.raises(InputError) as info:
        apply_supplier_data(shipments, data)
    (problem,) = info.value.problems
    assert problem.shipment_id == "HY-FAST-2026-0102"
    assert "already carries actual data" in problem.message


def test_a_bad_supplier_data_document_names_its_fields() -> None:
    with pytest.raises(InputError) as info:
        SupplierData.from_dict({"schema": "carbon-ledger/supplier-data/v1",
                                "installation_id": "", "installation": {"name": "X"},
                                "reporting_period": {"start": "2025-01-01", "end": "soon"},
                                "goods": [{"cn_code": "7318", "direct_t_per_t": "-1"}]})
    fields = {p.field for p in info.value.problems}
    assert fields == {"installation_id", "installation", "reporting_period.end",
                      "goods[1].direct_t_per_t", "goods[1].indirect_t_per_t"}


def _run(args: list[str]) -> int:
    with pytest.raises(SystemExit) as info:
        main(args)
        raise SystemExit(0)
    return int(info.value.code or 0)


def test_cli_import_export_and_apply(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     factor_set: FactorSet) -> None:
    template = _workbook(tmp_path / "t.xlsx")
    supplier = tmp_path / "supplier.json"
    assert _run(["supplier-data", "import", str(template), "--installation-id",
                 INSTALLATION, "-o", str(supplier)]) == 0
    err = capsys.readouterr().err
    assert "2 goods of installation CN-ZJ-HY-0001" in err
    assert "actual-verified" in err
    document = json.loads(supplier.read_text(encoding="utf-8"))
    assert document["goods"][0]["direct_t_per_t"] == "1.834567"
    exported = tmp_path / "exported.xlsx"
    assert _run(["supplier-data", "export", str(supplier), "-o", str(exported)]) == 0
    assert read_template(exported, installation_id=INSTALLATION).to_dict()["goods"] == \
        document["goods"]
    shipments = tmp_path / "shipments.json"
    assert _run(["supplier-data", "apply", str(CONSIGNMENTS), "--supplier-data",
                 str(supplier), "-o", str(shipments)]) == 0
    assert "1 of 5 shipments given the actual-verified data" in capsys.readouterr().err
    footprints = tmp_path / "fp.json"
    assert _run(["footprint", str(shipments), "-o", str(footprints)]) == 0
    cbam = {fp["shipment_id"]: fp["cbam"] for fp in
            json.loads(footprints.read_text(encoding="utf-8"))["footprints"]}
    assert cbam["HY-FAST-2026-0101"]["method"] == "actual"
    assert cbam["HY-FAST-2026-0101"]["data_type"] == "actual-verified"


def test_cli_import_refuses_an_uncomputed_template_and_writes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = _workbook(tmp_path / "t.xlsx", summary={**SUMMARY, "I26": "=D_Processes!L70"})
    out = tmp_path / "supplier.json"
    assert _run(["supplier-data", "import", str(template), "--installation-id",
                 INSTALLATION, "-o", str(out)]) == 2
    assert not out.exists()
    err = capsys.readouterr().err
    assert "Summary_Communication!I26" in err
    assert "no computed value" in err


EXAMPLE = EXAMPLES / "supplier-data-haiyan-2025.json"


def test_the_example_supplier_data_go_through_export_import_and_apply(
        tmp_path: Path, factor_set: FactorSet) -> None:
    data = SupplierData.from_dict(json.loads(EXAMPLE.read_text(encoding="utf-8")))
    out = tmp_path / "haiyan.xlsx"
    out.write_bytes(template_bytes(data))
    again = read_template(out, installation_id=data.installation_id, operator=data.operator)
    assert [g.to_dict() for g in again.goods] == [
        {**g.to_dict(), "row": 26 + i} for i, g in enumerate(data.goods)]
    assert again.verifier == data.verifier
    found = apply_supplier_data(read_shipments(CONSIGNMENTS), again)
    (bolts,) = compute_shipments(found.shipments[:1], factor_set)
    assert bolts.cbam is not None
    # 18 000 kg x 1.92 t/t, direct only (iron and steel)
    assert (bolts.cbam.method, bolts.cbam.embedded_g) == ("actual", 34_560_000)


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"colour": "blue"}, "colour", "unknown key 'colour'"),
    ({"data_type": "actual-unverified"}, "data_type", "does not match the document"),
    ({"goods": [{"cn_code": "73181588", "direct_t_per_t": "1", "indirect_t_per_t": "1",
                 "total_t_per_t": "3"}]}, "goods[1].total_t_per_t", "is not direct_t_per_t"),
    ({"goods": [{"cn_code": "73181588", "direct_t_per_t": "1", "indirect_t_per_t": "1",
                 "weight": "3"}]}, "goods[1].weight", "unknown key 'weight'"),
])
def test_the_supplier_data_document_is_read_strictly(change: dict[str, Any], field: str,
                                                     message: str) -> None:
    document = {**json.loads(EXAMPLE.read_text(encoding="utf-8")), **change}
    with pytest.raises(InputError) as info:
        SupplierData.from_dict(document)
    found = {p.field: p.message for p in info.value.problems}
    assert message in found[field]


# ---------------------------------------------------------------- the supplier document named


def _applied(tmp_path: Path, name: str = "haiyan-2025.xlsx", **summary: Any
             ) -> tuple[Path, Shipment]:
    """The first example shipment given the figures of a generated template file."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = _workbook(tmp_path / name, summary={**SUMMARY, **summary})
    found = apply_supplier_data(read_shipments(CONSIGNMENTS),
                                read_template(path, installation_id=INSTALLATION))
    return path, found.shipments[0]


def test_an_applied_shipment_names_the_template_file_it_came_from(tmp_path: Path) -> None:
    path, shipment = _applied(tmp_path)
    production = shipment.product.production  # type: ignore[union-attr]
    assert production is not None and production.supplier_document is not None
    assert production.to_dict()["supplier_document"] == {
        "file_name": "haiyan-2025.xlsx",
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "installation_id": INSTALLATION,
        "reporting_period": {"start": "2025-01-01", "end": "2025-12-31"},
        "template_version": "2.1.1"}
    # it is part of the shipment record: written and read back unchanged
    assert Shipment.from_dict(json.loads(json.dumps(shipment.to_dict()))) == shipment


def test_another_file_gives_another_reference(tmp_path: Path) -> None:
    _, first = _applied(tmp_path / "a")
    _, second = _applied(tmp_path / "b", I26=1.834568, K26=2.246568)
    documents = [s.product.production.supplier_document  # type: ignore[union-attr]
                 for s in (first, second)]
    assert documents[0] is not None and documents[1] is not None
    assert documents[0].sha256 != documents[1].sha256


def test_supplier_data_read_from_no_file_name_none(tmp_path: Path) -> None:
    data = SupplierData.from_dict(json.loads(EXAMPLE.read_text(encoding="utf-8")))
    found = apply_supplier_data(read_shipments(CONSIGNMENTS), data)
    production = found.shipments[0].product.production  # type: ignore[union-attr]
    assert production is not None and production.data_type == "actual-verified"
    assert production.supplier_document is None


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"sha256": "ABC"}, "sha256", "is not a SHA-256"),
    ({"file_name": "../templates/haiyan.xlsx"}, "file_name", "without folders"),
    ({"reporting_period": {"start": "2025-12-31", "end": "2025-01-01"}},
     "reporting_period.end", "ends (2025-01-01) before it starts"),
    ({"template_version": "latest"}, "template_version", "is not a template version"),
    ({"colour": "blue"}, "colour", "unknown key"),
    ({"installation_id": "CN-ZJ-HY-0002"}, "installation_id",
     "not of the shipment's installation"),
])
def test_a_bad_supplier_document_names_its_field(tmp_path: Path, change: dict[str, Any],
                                                 field: str, message: str) -> None:
    _, shipment = _applied(tmp_path)
    data = shipment.to_dict()
    document = data["product"]["production"]["supplier_document"]
    document.update(change)
    with pytest.raises(InputError) as info:
        Shipment.from_dict(data)
    found = {p.field: p.message for p in info.value.problems}
    assert message in found[f"product.production.supplier_document.{field}"]


def test_only_actual_data_carry_a_supplier_document(tmp_path: Path) -> None:
    _, shipment = _applied(tmp_path)
    data = shipment.to_dict()
    production = data["product"]["production"]
    data["product"]["production"] = {"data_type": "default",
                                     "supplier_document": production["supplier_document"]}
    with pytest.raises(InputError, match="applies to actual data only"):
        Shipment.from_dict(data)


def test_cli_apply_names_the_document_through_the_supplier_data_json(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = _workbook(tmp_path / "haiyan-2025.xlsx")
    supplier = tmp_path / "supplier.json"
    assert _run(["supplier-data", "import", str(template), "--installation-id",
                 INSTALLATION, "-o", str(supplier)]) == 0
    assert json.loads(supplier.read_text(encoding="utf-8"))["source_file"] == \
        "haiyan-2025.xlsx"
    shipments = tmp_path / "shipments.json"
    assert _run(["supplier-data", "apply", str(CONSIGNMENTS), "--supplier-data",
                 str(supplier), "-o", str(shipments)]) == 0
    digest = hashlib.sha256(template.read_bytes()).hexdigest()
    assert f"supplier document: haiyan-2025.xlsx (SHA-256 {digest})" in \
        capsys.readouterr().err
    first = json.loads(shipments.read_text(encoding="utf-8"))["shipments"][0]
    assert first["product"]["production"]["supplier_document"]["sha256"] == digest


# ---------------------------------------------------------------- purchased precursors
# The layout, as the public cell dump of the Commission's file of 2024-12-13 shows it: A_InstData
# lists PP1..PP20 in rows 102-121 (E category, F country, G-K routes); E_PurchPrec has one block of
# 44 rows per precursor from row 14: (a) lines 1-8 at +3 (H route, K unit, L amount), (b)
# processes 1-10 at +14, (c) +24, SEE (direct) +35 (K unit, L value, M source), SEE (indirect)
# +38, justification +40 (K).


def _start(k: int) -> int:
    return 14 + 44 * (k - 1)


def _labels(k: int) -> dict[str, str]:
    s = _start(k)
    return {f"D{s}": f"Purchased precursor {k}:", f"L{s + 2}": "Amounts",
            f"L{s + 13}": "Amounts",
            f"E{s + 35}": "Specific embedded direct emissions (SEE (direct))",
            f"E{s + 38}": "Specific embedded indirect emissions (SEE (indirect))"}


LIST_HEADERS = {"E101": "Production process", "F101": "Country code"}
PIG_IRON = {  # block 1 (fictitious)
    "H17": "Blast furnace route", "K17": "t", "L17": 1200, "K18": "t", "L18": 300.5,
    "K28": "t", "L28": 1100, "K38": "t", "L38": 400.5,
    "K49": "tCO2e/t", "L49": 1.85, "M49": "Measured", "K52": "tCO2e/t", "L52": 0.12,
}
CRUDE_STEEL = {  # block 3 (fictitious): rows 102 .. 142
    "K105": "t", "L105": 500, "K117": "t", "L117": 500,
    "K137": "tCO2e/t", "L137": 2.1, "M137": "Default", "L140": 0.3,
    "K142": "Lack of data from the supplier",
}
PRECURSOR_INST = {**INST_DATA, **LIST_HEADERS,
                  "D102": "PP1", "E102": "Pig iron", "F102": "BR", "G102": "Blast furnace route",
                  "D104": "PP3", "E104": "Crude steel", "F104": "IN"}
PRECURSOR_PURCH = {**_labels(1), **PIG_IRON, **_labels(3), **CRUDE_STEEL}


def _with_precursors(path: Path, *, inst: dict[str, Any] | None = None,
                     purch: dict[str, Any] | None = None) -> Path:
    return _workbook(path, inst={**PRECURSOR_INST, **(inst or {})},
                     purch={**PRECURSOR_PURCH, **(purch or {})})


def test_two_purchased_precursors_are_read_with_their_cells(tmp_path: Path) -> None:
    data = read_template(_with_precursors(tmp_path / "t.xlsx"), installation_id=INSTALLATION)
    pig, steel = data.purchased_precursors
    assert (pig.precursor_id, pig.goods_category, pig.country, pig.routes) == (
        "PP1", "Pig iron", "BR", ("Blast furnace route",))
    assert [(q.line, q.amount, q.unit, q.production_route) for q in pig.purchased] == [
        (1, Decimal(1200), "t", "Blast furnace route"), (2, Decimal("300.5"), "t", None)]
    assert [(q.process, q.amount) for q in pig.consumed] == [(1, Decimal(1100))]
    assert pig.other_purposes is not None and pig.other_purposes.amount == Decimal("400.5")
    assert (pig.see_direct_t_per_t, pig.see_direct_source, pig.see_indirect_t_per_t) == (
        Decimal("1.85"), "Measured", Decimal("0.12"))
    # block 2 is empty: no precursor; block 3 keeps its number
    assert (steel.block, steel.precursor_id, steel.goods_category, steel.country) == (
        3, "PP3", "Crude steel", "IN")
    assert steel.default_values_justification == "Lack of data from the supplier"
    assert data.sources is not None
    assert data.sources["purchased_precursors[1].see_direct_t_per_t"] == "E_PurchPrec!L49"
    assert data.sources["purchased_precursors[1].see_indirect_t_per_t"] == "E_PurchPrec!L52"
    assert data.sources["purchased_precursors[1].goods_category"] == "A_InstData!E102"
    assert data.sources["purchased_precursors[2].see_direct_t_per_t"] == "E_PurchPrec!L137"
    assert data.sources["purchased_precursors[2].purchased[1].amount"] == "E_PurchPrec!L105"
    document = data.to_dict()
    assert document["purchased_precursors"][0] == {
        "id": "PP1", "block": 1, "goods_category": "Pig iron", "country": "BR",
        "routes": ["Blast furnace route"],
        "purchased": [{"line": 1, "production_route": "Blast furnace route", "unit": "t",
                       "amount": "1200"}, {"line": 2, "unit": "t", "amount": "300.5"}],
        "consumed": [{"process": 1, "unit": "t", "amount": "1100"}],
        "other_purposes": {"unit": "t", "amount": "400.5"},
        "see_direct_t_per_t": "1.85", "see_direct_source": "Measured",
        "see_indirect_t_per_t": "0.12"}
    # the goods and their figures are those of the template without precursors
    plain = read_template(_workbook(tmp_path / "plain.xlsx"), installation_id=INSTALLATION)
    assert plain.purchased_precursors == ()
    assert "purchased_precursors" not in plain.to_dict()
    assert data.goods == plain.goods


def test_purchased_precursors_never_become_shipment_precursors(tmp_path: Path) -> None:
    shipments = read_shipments(CONSIGNMENTS)
    with_precursors = read_template(_with_precursors(tmp_path / "t.xlsx"),
                                    installation_id=INSTALLATION)
    plain = read_template(_workbook(tmp_path / "plain.xlsx"), installation_id=INSTALLATION)

    def products(data: SupplierData) -> list[dict[str, Any]]:
        out = [s.to_dict()["product"] for s in apply_supplier_data(shipments, data).shipments]
        # the two files differ (name, bytes); the figures given do not
        out[0]["production"].pop("supplier_document")
        return out

    applied = products(with_precursors)
    assert applied[0]["production"]["data_type"] == "actual-verified"
    assert "precursors" not in applied[0]["production"]
    assert applied == products(plain)


def test_a_half_filled_precursor_block_is_refused_by_cell(tmp_path: Path) -> None:
    # PP2 listed in A_InstData with its purchases, but without its embedded emissions
    path = _with_precursors(tmp_path / "t.xlsx", inst={"E103": "Pig iron", "F103": "UA"},
                            purch={**_labels(2), "K61": "t", "L61": 800})
    problems = _problems(path)
    assert "SEE (direct) of purchased precursor PP2 is empty" in problems["E_PurchPrec!L93"]
    assert "SEE (indirect) of purchased precursor PP2 is empty" in problems["E_PurchPrec!L96"]
    # block 4 filled in E_PurchPrec but not listed in A_InstData
    path = _with_precursors(tmp_path / "t2.xlsx", purch={
        **_labels(4), "L149": 10, "L181": 1.2, "L184": 0.1})
    problems = _problems(path)
    assert "aggregated goods category of purchased precursor PP4 is empty" in \
        problems["A_InstData!E105"]
    assert "country of production of purchased precursor PP4 is empty" in \
        problems["A_InstData!F105"]
    # listed with its emissions but no amount purchased
    path = _with_precursors(tmp_path / "t3.xlsx", purch={"L17": None, "L18": None})
    assert "gives no total purchased level (L17:L24)" in _problems(path)["E_PurchPrec!L17"]


@pytest.mark.parametrize(("cell", "value", "expected"), [
    ("K49", "kgCO2e/t", "it must be in tCO2e/t"),
    ("L17", -5, "must be zero or more"),
    ("L28", "a lot", "not a number"),
    ("L52", "=L50*L51", "formula cell(s) have no computed value: L52 (SEE (indirect) of "
                        "purchased precursor PP1)"),
    ("D14", "Purchased goods 1:", "expected the label 'Purchased precursor 1'"),
])
def test_bad_precursor_cells_are_named_with_their_meaning(tmp_path: Path, cell: str,
                                                          value: Any, expected: str) -> None:
    problems = _problems(_with_precursors(tmp_path / "t.xlsx", purch={cell: value}))
    assert expected in problems[f"E_PurchPrec!{cell}"]


def test_a_precursor_country_must_be_a_code(tmp_path: Path) -> None:
    problems = _problems(_with_precursors(tmp_path / "t.xlsx", inst={"F102": "Brazil"}))
    assert "'Brazil' of purchased precursor PP1 is not an ISO 3166" in \
        problems["A_InstData!F102"]


def test_purchased_precursors_go_round_export_and_import(tmp_path: Path) -> None:
    data = read_template(_with_precursors(tmp_path / "t.xlsx"), installation_id=INSTALLATION)
    out = tmp_path / "exported.xlsx"
    out.write_bytes(template_bytes(data))
    again = read_template(out, installation_id=INSTALLATION)
    assert again.purchased_precursors == data.purchased_precursors
    assert again.sources == data.sources
    # in the template's cells
    book = load_workbook(out)
    assert book["E_PurchPrec"]["L137"].value == pytest.approx(2.1)
    assert book["A_InstData"]["E104"].value == "Crude steel"
    # and through the supplier-data document
    document = json.loads(json.dumps(data.to_dict()))
    assert SupplierData.from_dict(document).to_dict() == data.to_dict()
    from_json = SupplierData.from_dict(document)
    out.write_bytes(template_bytes(from_json))
    assert read_template(out, installation_id=INSTALLATION).purchased_precursors == \
        data.purchased_precursors


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"block": 21}, "block", "is not one of 1-20"),
    ({"id": "PP2"}, "id", "is not PP1"),
    ({"see_direct_t_per_t": "-1"}, "see_direct_t_per_t", "not a number of zero or more"),
    ({"country": "Brazil"}, "country", "not an ISO 3166"),
    ({"purchased": [{"line": 9, "amount": "1"}]}, "purchased[1].line", "not one of 1-8"),
    ({"consumed": [{"process": 1, "amount": "1", "line": 1}]}, "consumed[1].line",
     "unknown key 'line'"),
    ({"weight": "3"}, "weight", "unknown key 'weight'"),
])
def test_purchased_precursors_in_a_document_are_read_strictly(
        tmp_path: Path, change: dict[str, Any], field: str, message: str) -> None:
    data = read_template(_with_precursors(tmp_path / "t.xlsx"), installation_id=INSTALLATION)
    document = json.loads(json.dumps(data.to_dict()))
    document["purchased_precursors"][0].update(change)
    with pytest.raises(InputError) as info:
        SupplierData.from_dict(document)
    found = {p.field: p.message for p in info.value.problems}
    assert message in found[f"purchased_precursors[1].{field}"]


def test_cli_import_and_export_show_the_purchased_precursors(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = _with_precursors(tmp_path / "t.xlsx")
    supplier = tmp_path / "supplier.json"
    assert _run(["supplier-data", "import", str(template), "--installation-id",
                 INSTALLATION, "-o", str(supplier)]) == 0
    err = capsys.readouterr().err
    assert "purchased precursor PP1: Pig iron produced in BR, purchased 1200 t, 300.5 t; " \
        "its SEE 1.85 direct (Measured) + 0.12 indirect t CO2e/t (informational" in err
    assert "purchased precursor PP3: Crude steel produced in IN" in err
    exported = tmp_path / "exported.xlsx"
    assert _run(["supplier-data", "export", str(supplier), "-o", str(exported)]) == 0
    assert "purchased precursor PP3" in capsys.readouterr().err
    assert read_template(exported, installation_id=INSTALLATION).to_dict()[
        "purchased_precursors"] == json.loads(supplier.read_text(encoding="utf-8"))[
        "purchased_precursors"]


def test_formulas_of_unused_precursor_blocks_are_not_read(tmp_path: Path) -> None:
    # the Commission's file has formulas in every block (units, names, the SEE (indirect));
    # in a block nobody filled they are no precursor, computed or not
    unused = {"G146": "=A_InstData!E105", "K149": "=IF(L149=\"\",\"\",\"t\")",
              "K181": "=IF(L181=\"\",\"\",\"tCO2e/t\")", "L184": "=L182*L183"}
    data = read_template(_with_precursors(tmp_path / "t.xlsx", purch=unused),
                         installation_id=INSTALLATION)
    assert [p.block for p in data.purchased_precursors] == [1, 3]
