"""CSV files as spreadsheets save them: semicolons, GB18030, empty rows, any-case codes."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from ledger.errors import InputError, InputProblem
from ledger.inputs.csvreader import read_csv_frame
from ledger.inputs.read import read_shipments

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
DEMO_CSV = EXAMPLES / "demo-shipments.csv"


def _rows() -> list[list[str]]:
    with DEMO_CSV.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def _text(rows: list[list[str]], delimiter: str = ",") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def _with_chinese(rows: list[list[str]]) -> list[list[str]]:
    """The demo rows with the exporters' and goods' names in Chinese."""
    header = rows[0]
    exporter, description = header.index("exporter"), header.index("product_description")
    names = {"Ningbo Cixi Home Appliances Co., Ltd.": "宁波慈溪家用电器有限公司",
             "Haiyan Fastener Manufacturing Co., Ltd.": "海盐紧固件制造有限公司"}
    out = [header]
    for given in rows[1:]:
        row = list(given)
        row[exporter] = names.get(row[exporter], row[exporter])
        if row[description] == "Household refrigerators":
            row[description] = "家用冰箱"
        out.append(row)
    return out


def test_a_gb18030_file_reads_like_its_utf8_twin(tmp_path: Path) -> None:
    rows = _with_chinese(_rows())
    utf8 = tmp_path / "utf8.csv"
    utf8.write_text(_text(rows), encoding="utf-8")
    gb = tmp_path / "gb18030.csv"
    gb.write_bytes(_text(rows).encode("gb18030"))
    with pytest.raises(UnicodeDecodeError):
        gb.read_bytes().decode("utf-8")  # the file really is not UTF-8
    shipments = read_shipments(gb)
    assert shipments == read_shipments(utf8)
    assert shipments[0].exporter == "宁波慈溪家用电器有限公司"
    assert shipments[0].product is not None
    assert shipments[0].product.description == "家用冰箱"


def test_gbk_with_chinese_only_after_the_first_block_is_still_read(tmp_path: Path) -> None:
    rows = _rows()
    header, first = rows[0], rows[1]
    exporter = header.index("exporter")
    body = [header]
    for i in range(3000):  # ASCII for well over the first 64 KiB
        row = list(first)
        row[0] = f"S{i:05d}"
        body.append(row)
    late = list(first)
    late[0], late[exporter] = "S-LAST", "慈溪电器"
    body.append(late)
    path = tmp_path / "gbk.csv"
    path.write_bytes(_text(body).encode("gbk"))
    shipments = read_shipments(path)
    assert shipments[-1].exporter == "慈溪电器"


def test_utf8_with_bom_and_utf16_tab_separated_read_the_same(tmp_path: Path) -> None:
    rows = _with_chinese(_rows())
    bom = tmp_path / "bom.csv"
    bom.write_bytes(_text(rows).encode("utf-8-sig"))
    unicode_text = tmp_path / "unicode.csv"  # Excel's "Unicode text": UTF-16, tabs
    unicode_text.write_bytes(_text(rows, "\t").encode("utf-16"))
    plain = tmp_path / "plain.csv"
    plain.write_text(_text(rows), encoding="utf-8")
    assert read_shipments(bom) == read_shipments(unicode_text) == read_shipments(plain)


def test_a_semicolon_sheet_with_capitals_and_empty_rows_reads_like_the_demo(
        tmp_path: Path) -> None:
    rows = _rows()
    header = rows[0]
    mode, vehicle = header.index("mode"), header.index("vehicle_class")
    country = header.index("country_of_origin")
    sheet = [[" Shipment ID", *(h.replace("_", " ").title() for h in header[1:])]]
    for given in rows[1:]:
        row = list(given)
        row[mode] = {"road": "Road", "sea": " SEA ", "rail": "Rail", "air": "Air"}[row[mode]]
        row[vehicle] = row[vehicle].upper().replace("_", " ")
        row[country] = row[country].lower()
        sheet.append(row)
    empty = [""] * len(header)
    sheet += [empty, empty, [" "] * len(header)]  # rows a sheet leaves at its end
    path = tmp_path / "excel.csv"
    path.write_text(_text(sheet, ";"), encoding="utf-8")
    assert ";;;;" in path.read_text(encoding="utf-8")
    assert read_shipments(path) == read_shipments(DEMO_CSV)


def test_decimal_commas_are_named_with_the_value_to_write(tmp_path: Path) -> None:
    path = tmp_path / "commas.csv"
    path.write_text("shipment_id;leg;mode;mass_kg;distance_km;vehicle_class;net_mass_kg\n"
                    "A;1;road;12,5;100;hgv_all;\n"
                    "B;1;road;1.234,5;100;hgv_all;\n"
                    "C;1;road;5;100;hgv_all;3,25\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_csv_frame(path)
    found = {(p.shipment_id, p.field, p.row): p.message for p in caught.value.problems}
    assert "decimal comma" in found[("A", "mass_kg", 2)]
    assert "(12.5)" in found[("A", "mass_kg", 2)]
    assert "(1234.5)" in found[("B", "mass_kg", 3)]
    assert "(3.25)" in found[("C", "net_mass_kg", 4)]


def test_thousands_separators_are_named(tmp_path: Path) -> None:
    path = tmp_path / "thousands.csv"
    path.write_text('shipment_id,leg,mode,mass_kg,distance_km,vehicle_class\n'
                    'A,1,road,"12,000",100,hgv_all\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"thousands separator.*\(12000\)"):
        read_csv_frame(path)


def test_extra_erp_columns_are_refused_unless_named_then_warned(tmp_path: Path) -> None:
    rows = _rows()
    wide = [[*rows[0], "ERP Order No", "Warehouse"]]
    wide += [[*row, f"PO-{i}", "WH1"] for i, row in enumerate(rows[1:])]
    path = tmp_path / "erp.csv"
    path.write_text(_text(wide), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_csv_frame(path)
    messages = [p.message for p in caught.value.problems]
    assert any("unknown column 'erp_order_no'" in m and "--ignore-column" in m
               for m in messages)
    warnings: list[str] = []
    frame = read_csv_frame(path, ignore_columns=["erp order no", "WAREHOUSE"],
                           warnings=warnings)
    assert frame.to_shipments() == read_shipments(DEMO_CSV)
    assert warnings == ["column 'ERP Order No' ignored (not read)",
                        "column 'Warehouse' ignored (not read)"]


def test_a_header_without_known_columns_names_the_separators_tried(tmp_path: Path) -> None:
    path = tmp_path / "pipes.csv"
    path.write_text("shipment_id|leg|mode|mass_kg\nA|1|road|5\n", encoding="utf-8")
    with pytest.raises(InputError, match="comma, semicolon or tab"):
        read_csv_frame(path)


def test_text_in_neither_utf8_nor_gb18030_is_named(tmp_path: Path) -> None:
    path = tmp_path / "binary.csv"
    path.write_bytes(b"shipment_id,leg,mode,mass_kg\nA,1,road,5\n\xff\xff\xff\xff\n")
    with pytest.raises(InputError, match="neither UTF-8 nor GB18030") as caught:
        read_csv_frame(path)
    assert "--encoding" in str(caught.value)


def test_a_named_encoding_and_separator_win_over_detection(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("shipment_id;leg;mode;mass_kg;distance_km;vehicle_class;exporter\n"
                     "A;1;road;5;100;hgv_all;Müller GmbH\n".encode("cp1252"))
    frame = read_csv_frame(path, encoding="cp1252", separator="semicolon")
    assert frame.to_shipments()[0].exporter == "Müller GmbH"
    with pytest.raises(InputError) as caught:
        read_csv_frame(path, encoding="klingon")
    assert caught.value.problems[0].field == "encoding"


def test_codes_are_read_in_any_case_but_a_wrong_code_is_still_refused(tmp_path: Path) -> None:
    path = tmp_path / "codes.csv"
    path.write_text(
        "shipment_id,leg,mode,mass_kg,distance_km,vehicle_class,incoterm,country_of_origin\n"
        "A,1,Inland Waterway,5,100,,fob,cn\n"
        "B,1,Roads,5,100,hgv_all,,\n", encoding="utf-8")
    problems: list[InputProblem] = []
    frame = read_csv_frame(path, collect=problems)
    assert [(p.shipment_id, p.field) for p in problems] == [("B", "mode")]
    assert "'Roads'" in problems[0].message
    (a,) = frame.to_shipments()
    assert a.legs[0].mode == "inland_waterway"
    assert a.consignment is not None
    assert a.consignment.incoterm == "FOB"
    assert a.product is not None
    assert a.product.country_of_origin == "CN"


def test_problems_after_skipped_empty_rows_keep_their_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "gaps.csv"
    path.write_text("shipment_id,leg,mode,mass_kg,distance_km,vehicle_class\n"
                    ",,,,,\n"
                    "A,1,road,5,100,hgv_all\n"
                    ",,,,,\n"
                    "B,1,walk,5,100,hgv_all\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_csv_frame(path)
    (problem,) = caught.value.problems
    assert (problem.shipment_id, problem.row, problem.field) == ("B", 5, "mode")
