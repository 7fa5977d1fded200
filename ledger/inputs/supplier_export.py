"""Supplier data written in the layout of the Commission's communication template (xlsx).

:func:`template_bytes` writes the cells :mod:`ledger.inputs.supplier_template` reads (version
2.1.1 of the template; the layout and its sources are in :mod:`ledger.inputs.supplier_layout`),
so that reading the file back gives the same supplier data. The workbook holds values where the
Commission's holds formulas, and only the sheets the reader reads (plus the version in
``0_Versions``): it carries the data in the template's layout; it is not the Commission's
workbook.
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

from openpyxl import Workbook

from ledger.errors import InputError
from ledger.inputs.supplier_data import SupplierData
from ledger.inputs.supplier_layout import (
    FIRST_GOOD_ROW,
    GOOD_COLUMNS,
    INST_INSTALLATION,
    INST_PERIOD,
    INSTALLATION_SHEET,
    LAST_GOOD_ROW,
    PERIOD_CELLS,
    SUMMARY_INSTALLATION,
    SUMMARY_SHEET,
    UNIT,
    VERIFIER,
    VERSIONS_SHEET,
)
from ledger.inputs.supplier_precursor_cells import write_precursors

__all__ = ["template_bytes"]


def _headers() -> dict[str, str]:
    return {"D25": "Production process", "E25": "Aggregated goods category",
            "F25": "CN Codes", "G25": "CN Name", "H25": "Product name",
            "I25": "SEE (direct)", "J25": "SEE (indirect)", "K25": "SEE (total)",
            "L25": "Unit", "M25": "Share of emissions by default value",
            "N25": "Source for electricity EF", "O25": "Embedded electricity (MWh/t)",
            "P25": "Electricity EF (tCO2/MWh)",
            "Q25": "The main reducing agent of the precursor, if known"}


def _cell(value: Decimal | str | None) -> float | str | None:
    """A cell value: numbers as numbers (as a spreadsheet holds them), text as text."""
    if isinstance(value, Decimal):
        return float(value)
    return value


def template_bytes(data: SupplierData) -> bytes:
    """``data`` as an xlsx workbook in the template's layout (version 2.1.1 cells; see the
    module docstring)."""
    book = Workbook()
    versions = book.active
    assert versions is not None
    versions.title = VERSIONS_SHEET
    versions["E9"] = "2.1.1"
    versions["F9"] = date(2024, 12, 13)
    inst = book.create_sheet(INSTALLATION_SHEET)
    summary = book.create_sheet(SUMMARY_SHEET)
    installation = data.installation
    inst[INST_PERIOD[0]] = data.period_start
    inst[INST_PERIOD[1]] = data.period_end
    summary[PERIOD_CELLS[0]] = data.period_start
    summary[PERIOD_CELLS[1]] = data.period_end
    for key, ref in SUMMARY_INSTALLATION.items():
        summary[ref] = getattr(installation, key)
    for key, ref in INST_INSTALLATION.items():
        if hasattr(installation, key):
            inst[ref] = getattr(installation, key)
    if data.verifier is not None:
        for key, ref in VERIFIER.items():
            inst[ref] = getattr(data.verifier, key)
    for ref, label in _headers().items():
        summary[ref] = label
    if len(data.goods) > LAST_GOOD_ROW - FIRST_GOOD_ROW + 1:
        raise InputError(f"the template has room for {LAST_GOOD_ROW - FIRST_GOOD_ROW + 1} "
                         f"goods; the supplier data have {len(data.goods)}")
    c = GOOD_COLUMNS
    for row, good in enumerate(data.goods, start=FIRST_GOOD_ROW):
        for key, value in (("production_process", good.production_process),
                           ("goods_category", good.goods_category),
                           ("cn_code", good.cn_code), ("product_name", good.product_name),
                           ("direct", good.direct_t_per_t), ("indirect", good.indirect_t_per_t),
                           ("total", good.total_t_per_t), ("unit", UNIT),
                           ("default_share", good.default_share),
                           ("electricity_factor_source", good.electricity_factor_source),
                           ("embedded_electricity", good.embedded_electricity_mwh_per_t)):
            summary[f"{c[key]}{row}"] = _cell(value)
        summary[f"P{row}"] = _cell(good.electricity_factor_t_per_mwh)
        summary[f"Q{row}"] = good.main_reducing_agent
    write_precursors(book, data.purchased_precursors)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
