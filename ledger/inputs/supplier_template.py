"""Reading the Commission's "CBAM Communication template for installations" (xlsx).

:func:`read_template` maps a filled template to :class:`SupplierData`: the installation and the
reporting period, per good (CN code) the specific embedded emissions direct and indirect, and
the verifier. The cells read, and the public sources that establish them, are in
:mod:`ledger.inputs.supplier_layout`; :mod:`ledger.inputs.supplier_export` writes the same
layout.

Purchased precursors (``A_InstData`` rows 102-121, one block of 44 rows each in
``E_PurchPrec`` from row 14) are read as what they are, the installation's purchased
precursors, informational (:mod:`ledger.inputs.supplier_precursors`; cells in
:mod:`ledger.inputs.supplier_precursor_cells`): a good's SEE already includes the embedded
emissions of its precursors (Regulation (EU) 2023/956, Annex IV, point 3), and they are not a
shipment's precursors (no CN code, no tonnes per tonne of a good, no installation of origin).
Not read, because their cells could not be confirmed: the carbon price paid, the installation
totals and the verifier's site visit. The template names no installation id: the reader
takes it as an argument.

Every problem names the sheet, the cell and what is wrong: a missing sheet, a layout that is
not the template's, a formula whose value was never computed (openpyxl reads the value a
spreadsheet program stored when it saved the file; a file saved by a program that does not
calculate holds formulas without values: open it in Excel or LibreOffice, recalculate, save),
an empty required cell, a unit other than t CO2e per tonne, a number that is not one, a total
that is not direct + indirect. Nothing is returned unless the whole file reads.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

from ledger.errors import InputError, InputProblem
from ledger.factors.cbam import normalise_cn
from ledger.inputs.supplier_cells import CellReader, Sheet
from ledger.inputs.supplier_data import (
    SupplierData,
    SupplierGood,
    SupplierInstallation,
    SupplierVerifier,
)
from ledger.inputs.supplier_layout import (
    FIRST_GOOD_ROW,
    GOOD_COLUMNS,
    HEADER_V21,
    HEADER_V211,
    HEADERS,
    INSTALLATION_SHEET,
    LAST_GOOD_ROW,
    PERIOD_CELLS,
    PRECURSOR_BLOCKS,
    PRECURSOR_LIST_HEADER_ROW,
    PRECURSOR_SHEET,
    SUMMARY_INSTALLATION,
    SUMMARY_SHEET,
    UNIT,
    VERIFIER,
    VERSION_ROWS,
    VERSIONS_SHEET,
)
from ledger.inputs.supplier_precursor_cells import LAST_PRECURSOR_ROW, read_precursors

__all__ = ["read_template"]

_MAX_COLUMN = 18  # R
_VERSION = re.compile(r"^[0-9]+(\.[0-9]+)*$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_TOTAL_TOLERANCE = Decimal("0.0001")
_SHOWN_CELLS = 6
_MAX_BYTES = 50 * 1024 * 1024
_INST_ROWS = PRECURSOR_LIST_HEADER_ROW + PRECURSOR_BLOCKS  # the purchased precursors
_INST_COLUMNS = 14  # N
_PRECURSOR_COLUMNS = 18  # R (the block id)


def _grid(workbook: Any, name: str, rows: int, columns: int) -> dict[tuple[int, int], Any]:
    out: dict[tuple[int, int], Any] = {}
    sheet = workbook[name]
    for r, row in enumerate(sheet.iter_rows(min_row=1, max_row=rows, max_col=columns,
                                            values_only=True), start=1):
        for c, value in enumerate(row, start=1):
            if value is not None:
                out[(r, c)] = value
    return out


def _is_formula(value: Any) -> bool:
    return (isinstance(value, str) and value.startswith("=")) or \
        isinstance(value, (ArrayFormula, DataTableFormula))


def _formula_text(value: Any) -> str:
    return value if isinstance(value, str) else str(getattr(value, "text", None) or "=TABLE()")


def _load(content: bytes, source: str) -> tuple[CellReader, str | None]:
    try:
        values = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        formulas = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise InputError(f"{source}: not a readable xlsx workbook ({exc})") from None
    names = set(values.sheetnames)
    missing = [s for s in (SUMMARY_SHEET, INSTALLATION_SHEET) if s not in names]
    if missing:
        raise InputError([InputProblem(
            f"sheet {s!r} is missing: not a CBAM Communication template for installations "
            f"(the workbook has {', '.join(repr(n) for n in values.sheetnames)})", field=s)
            for s in missing])
    sheets: dict[str, Sheet] = {}
    areas = [(SUMMARY_SHEET, LAST_GOOD_ROW, _MAX_COLUMN),
             (INSTALLATION_SHEET, _INST_ROWS, _INST_COLUMNS)]
    if PRECURSOR_SHEET in names:
        areas.append((PRECURSOR_SHEET, LAST_PRECURSOR_ROW, _PRECURSOR_COLUMNS))
    for name, rows, columns in areas:
        grid_formulas = _grid(formulas, name, rows, columns)
        sheets[name] = Sheet(name, _grid(values, name, rows, columns), {
            k: _formula_text(v) for k, v in grid_formulas.items() if _is_formula(v)})
    version = None
    if VERSIONS_SHEET in names:
        stored = _grid(values, VERSIONS_SHEET, max(VERSION_ROWS), 5)
        for row in VERSION_ROWS:
            text = str(stored.get((row, 5), "")).strip()
            if _VERSION.match(text):
                version = text
    epoch = values.epoch
    values.close()
    formulas.close()
    return CellReader(sheets=sheets, epoch=epoch), version


def _layout(reader: CellReader) -> bool | None:
    """True for the 2.1.1 goods columns, False for 2.1; None (problems noted) otherwise."""
    for ref, label in HEADERS.items():
        found = reader.text(SUMMARY_SHEET, ref, f"header {label!r}")
        if found is not None and not found.startswith(label):
            reader.problem(SUMMARY_SHEET, ref, f"expected the header {label!r}…, found "
                           f"{found!r}: the sheet is not laid out as the template")
    p25 = reader.text(SUMMARY_SHEET, "P25", "header of column P")
    if p25 is not None and p25.startswith(HEADER_V211):
        return True
    if p25 is not None and p25.startswith(HEADER_V21):
        return False
    if p25 is not None or SUMMARY_SHEET not in reader.uncomputed:
        reader.problem(SUMMARY_SHEET, "P25", f"expected the header {HEADER_V211!r}… "
                       f"(version 2.1.1) or {HEADER_V21!r}… (version 2.1), found {p25!r}")
    return None


def _good(reader: CellReader, row: int, v211: bool, index: int) -> SupplierGood | None:
    s, c = SUMMARY_SHEET, GOOD_COLUMNS
    key = f"goods[{index}]"
    raw_cn = reader.text(s, f"{c['cn_code']}{row}", f"CN code of row {row}")
    if raw_cn is None:
        return None
    digits = normalise_cn(raw_cn)
    if digits is None:
        reader.problem(s, f"{c['cn_code']}{row}", f"CN code {raw_cn!r} is not a CN code "
                       "(4, 6 or 8 digits, or 10 for TARIC)")
        return None
    reader.sources[f"{key}.cn_code"] = f"{s}!{c['cn_code']}{row}"
    what = f"CN {raw_cn} (row {row})"
    direct = reader.number(s, f"{c['direct']}{row}", f"SEE (direct) of {what}",
                           key=f"{key}.direct_t_per_t", required=True)
    indirect = reader.number(s, f"{c['indirect']}{row}", f"SEE (indirect) of {what}",
                             key=f"{key}.indirect_t_per_t", required=True)
    total = reader.number(s, f"{c['total']}{row}", f"SEE (total) of {what}")
    unit = reader.text(s, f"{c['unit']}{row}", f"unit of {what}")
    if unit is not None and unit.replace(" ", "").lower() != UNIT.lower():
        reader.problem(s, f"{c['unit']}{row}", f"unit of {what} is {unit!r}; the SEE must be in "
                       f"{UNIT} (tonnes of CO2e per tonne of good)")
        return None
    if direct is not None and indirect is not None and total is not None \
            and abs(direct + indirect - total) > _TOTAL_TOLERANCE:
        reader.problem(s, f"{c['total']}{row}", f"SEE (total) of {what} is {total}, not SEE "
                       f"(direct) + SEE (indirect) = {direct + indirect}")
    share = reader.number(s, f"{c['default_share']}{row}",
                          f"share of default values of {what}", upper=Decimal(1),
                          key=f"{key}.default_share")
    electricity = reader.number(s, f"{c['embedded_electricity']}{row}",
                                f"embedded electricity (MWh/t) of {what}",
                                key=f"{key}.embedded_electricity_mwh_per_t")
    factor = reader.number(s, f"P{row}", f"electricity emission factor (tCO2/MWh) of {what}",
                           key=f"{key}.electricity_factor_t_per_mwh") if v211 else None
    if direct is None or indirect is None:
        return None
    return SupplierGood(
        cn_code=digits, direct_t_per_t=direct, indirect_t_per_t=indirect, row=row,
        product_name=reader.text(s, f"{c['product_name']}{row}", "product name"),
        production_process=reader.text(s, f"{c['production_process']}{row}",
                                       "production process"),
        goods_category=reader.text(s, f"{c['goods_category']}{row}",
                                   "aggregated goods category"),
        default_share=share, embedded_electricity_mwh_per_t=electricity,
        electricity_factor_t_per_mwh=factor,
        electricity_factor_source=reader.text(s, f"{c['electricity_factor_source']}{row}",
                                              "source of the electricity emission factor"),
        main_reducing_agent=reader.text(s, f"{'Q' if v211 else 'P'}{row}",
                                        "main reducing agent"))


def _goods(reader: CellReader, v211: bool) -> list[SupplierGood]:
    goods: list[SupplierGood] = []
    seen: dict[str, int] = {}
    for row in range(FIRST_GOOD_ROW, LAST_GOOD_ROW + 1):
        good = _good(reader, row, v211, len(goods) + 1)
        if good is None:
            continue
        if good.cn_code in seen:
            reader.problem(SUMMARY_SHEET, f"F{row}", f"CN {good.cn_code} is given again (first "
                           f"in row {seen[good.cn_code]}); one good per CN code, so that a "
                           "shipment's code names one figure")
            continue
        seen[good.cn_code] = row
        goods.append(good)
    return goods


def _verifier(reader: CellReader) -> SupplierVerifier | None:
    found = {k: reader.text(INSTALLATION_SHEET, ref, f"verifier's {k.replace('_', ' ')}",
                            key=f"verifier.{k}") for k, ref in VERIFIER.items()}
    if found["name"] is None:
        given = [ref for k, ref in VERIFIER.items() if found[k] is not None]
        if given:
            reader.problem(INSTALLATION_SHEET, "I37", "the verifier's name is empty while "
                           f"other verifier cells are filled ({', '.join(given)})")
        return None
    return SupplierVerifier(**{k: v for k, v in found.items() if v is not None})  # type: ignore[arg-type]


def _uncomputed_problems(reader: CellReader) -> Iterator[InputProblem]:
    for sheet, cells in reader.uncomputed.items():
        shown = ", ".join(cells[:_SHOWN_CELLS])
        more = f" and {len(cells) - _SHOWN_CELLS} more" if len(cells) > _SHOWN_CELLS else ""
        first = cells[0].split(" ", 1)[0]
        yield InputProblem(
            f"{len(cells)} formula cell(s) have no computed value: {shown}{more}. The file was "
            "saved by a program that did not calculate its formulas; open it in Excel or "
            "LibreOffice, let it recalculate, and save it", field=f"{sheet}!{first}")


def read_template(path: Path | str, *, installation_id: str,
                  operator: str | None = None) -> SupplierData:
    """The supplier data of a filled communication template; InputError lists every problem
    (sheet, cell and meaning). ``installation_id`` is the installation's id, which the template
    does not carry."""
    path = Path(path)
    if not installation_id.strip():
        raise InputError([InputProblem("the installation id is required: the template does "
                                       "not carry it", field="installation_id")])
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot be read: {exc}") from None
    if len(content) > _MAX_BYTES:
        raise InputError(f"{path}: larger than {_MAX_BYTES} bytes; not a communication template")
    reader, version = _load(content, str(path))
    s = SUMMARY_SHEET
    v211 = _layout(reader)
    name = reader.text(s, "G12", "name of the installation", key="installation.name",
                       required=True)
    country = reader.text(s, "G16", "country of the installation",
                          key="installation.country", required=True)
    if country is not None and not _COUNTRY.match(country):
        reader.problem(s, "G16", f"country {country!r} is not an ISO 3166 alpha-2 code (CN)")
        country = None
    details = {k: reader.text(s, ref, k.replace("_", " "), key=f"installation.{k}")
               for k, ref in SUMMARY_INSTALLATION.items() if k not in ("name", "country")}
    start = reader.day(s, PERIOD_CELLS[0], "start of the reporting period",
                       key="reporting_period.start")
    end = reader.day(s, PERIOD_CELLS[1], "end of the reporting period",
                     key="reporting_period.end")
    if start is not None and end is not None and end < start:
        reader.problem(s, PERIOD_CELLS[1], f"the reporting period ends ({end.isoformat()}) "
                       f"before it starts ({start.isoformat()})")
    goods = _goods(reader, v211) if v211 is not None else []
    verifier = _verifier(reader)
    precursors = read_precursors(reader)
    if v211 is not None and not goods and not reader.uncomputed:
        reader.problem(s, f"F{FIRST_GOOD_ROW}", "no good: no CN code in "
                       f"F{FIRST_GOOD_ROW}:F{LAST_GOOD_ROW}")
    problems = list(_uncomputed_problems(reader)) + reader.problems
    if problems or name is None or country is None or start is None or end is None:
        raise InputError(problems)
    return SupplierData(
        installation_id=installation_id.strip(), operator=operator,
        installation=SupplierInstallation(name=name, country=country, **details),  # type: ignore[arg-type]
        period_start=start, period_end=end, goods=tuple(goods), verifier=verifier,
        template_version=version, source_sha256=hashlib.sha256(content).hexdigest(),
        source_file=path.name, sources=reader.sources, purchased_precursors=tuple(precursors))
