"""The purchased precursors of a communication template: read from and written to their cells.

:func:`read_precursors` reads, for each purchased precursor listed in ``A_InstData`` rows
102-121 or filled in its block of ``E_PurchPrec``, what the template says of it
(:class:`~ledger.inputs.supplier_precursors.PurchasedPrecursor`, informational: the goods' SEE
include it); :func:`write_precursors` writes the same cells. The cells and their public source
are in :mod:`ledger.inputs.supplier_layout`.

A block whose input cells are all empty is no precursor. A block with some filled needs the
aggregated goods category and country (``A_InstData`` E and F), at least one total purchased
level, the SEE (direct) and the SEE (indirect); each missing one is a problem naming its sheet,
cell and meaning, as is a number that is not one, a negative amount, an SEE unit other than
t CO2e per tonne, a label that is not the template's, and a formula saved without its value.

Not read, because the public reading of the Commission's file does not establish what they
hold (they are formulas of the template, empty in the blank file): the name cells of the block
(``E_PurchPrec`` G and L of the block's first row, E of the lines), the totals and the control
of (a) and (d), ii. the specific electricity consumption and iii. the electricity emission
factor behind the SEE (indirect), and ``A_InstData`` L ("Name").
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from ledger.inputs.supplier_cells import CellReader
from ledger.inputs.supplier_layout import (
    CONSUMED_PROCESSES,
    INSTALLATION_SHEET,
    PRECURSOR_BLOCKS,
    PRECURSOR_HEADERS,
    PRECURSOR_LIST_COLUMNS,
    PRECURSOR_LIST_HEADER_ROW,
    PRECURSOR_OFFSETS,
    PRECURSOR_SHEET,
    PURCHASED_LINES,
    UNIT,
    block_row,
)
from ledger.inputs.supplier_precursors import PrecursorQuantity, PurchasedPrecursor

__all__ = ["LAST_PRECURSOR_ROW", "read_precursors", "write_precursors"]

#: The last row of ``E_PurchPrec`` read (v. of block 20).
LAST_PRECURSOR_ROW = block_row(PRECURSOR_BLOCKS, PRECURSOR_OFFSETS["justification"])
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_LIST_HEADERS = {"E": "Production process", "F": "Country code"}
_P = PRECURSOR_OFFSETS


def _list_row(k: int) -> int:
    return PRECURSOR_LIST_HEADER_ROW + k


def _input_refs(k: int) -> tuple[list[str], list[str]]:
    """The cells an operator fills for precursor ``k``: in A_InstData, in E_PurchPrec."""
    row = _list_row(k)
    inst = [f"{c}{row}" for c in ("E", "F", *PRECURSOR_LIST_COLUMNS["routes"])]
    amounts = [block_row(k, _P["purchased"] + i) for i in PURCHASED_LINES] + \
        [block_row(k, _P["consumed"] + i) for i in CONSUMED_PROCESSES] + \
        [block_row(k, _P["other"]), block_row(k, _P["see_direct"])]
    block = [f"L{r}" for r in amounts] + [f"M{block_row(k, _P['see_direct'])}",
                                          f"K{block_row(k, _P['justification'])}"]
    return inst, block


def _filled(reader: CellReader, k: int) -> bool:
    inst, block = _input_refs(k)
    if any(reader.sheets[INSTALLATION_SHEET].value(ref) is not None for ref in inst):
        return True
    sheet = reader.sheets.get(PRECURSOR_SHEET)
    return sheet is not None and any(sheet.value(ref) is not None for ref in block)


def _labels(reader: CellReader, k: int) -> bool:
    """True when block ``k`` carries the template's labels (problems noted otherwise)."""
    fine = True
    for offset, column, label in PRECURSOR_HEADERS:
        ref, expected = f"{column}{block_row(k, offset)}", label.format(k=k)
        found = reader.text(PRECURSOR_SHEET, ref, f"label {expected!r}")
        if found is None or not found.startswith(expected):
            reader.problem(PRECURSOR_SHEET, ref, f"expected the label {expected!r}…, found "
                           f"{found!r}: the sheet is not laid out as the template")
            fine = False
    return fine


def _quantity(reader: CellReader, row: int, meaning: str, key: str,
              **number: int) -> PrecursorQuantity | None:
    s = PRECURSOR_SHEET
    amount = reader.number(s, f"L{row}", meaning, key=f"{key}.amount")
    if amount is None:
        return None
    route = reader.text(s, f"H{row}", f"production route of {meaning}",
                        key=f"{key}.production_route") if "line" in number else None
    unit = reader.text(s, f"K{row}", f"unit of {meaning}", key=f"{key}.unit")
    return PrecursorQuantity(amount=amount, unit=unit, production_route=route, **number)


def _see(reader: CellReader, row: int, meaning: str, key: str) -> Decimal | None:
    s = PRECURSOR_SHEET
    value = reader.number(s, f"L{row}", meaning, key=key, required=True)
    unit = reader.text(s, f"K{row}", f"unit of {meaning}")
    if unit is not None and unit.replace(" ", "").lower() != UNIT.lower():
        reader.problem(s, f"K{row}", f"unit of {meaning} is {unit!r}; it must be in {UNIT} "
                       "(tonnes of CO2e per tonne of precursor)")
        return None
    return value


def _precursor(reader: CellReader, k: int, index: int) -> PurchasedPrecursor | None:
    inst, s = INSTALLATION_SHEET, PRECURSOR_SHEET
    row, key, who = _list_row(k), f"purchased_precursors[{index}]", f"purchased precursor PP{k}"
    category = reader.text(inst, f"E{row}", f"aggregated goods category of {who}",
                           key=f"{key}.goods_category", required=True)
    country = reader.text(inst, f"F{row}", f"country of production of {who}",
                          key=f"{key}.country", required=True)
    if country is not None and not _COUNTRY.match(country):
        reader.problem(inst, f"F{row}", f"country {country!r} of {who} is not an ISO 3166 "
                       "alpha-2 code (CN)")
        country = None
    routes: list[str] = []
    for column in PRECURSOR_LIST_COLUMNS["routes"]:
        route = reader.text(inst, f"{column}{row}", f"production route of {who}",
                            key=f"{key}.routes[{len(routes) + 1}]")
        if route is not None:
            routes.append(route)
    if s not in reader.sheets:
        reader.problem(inst, f"E{row}", f"{who} is listed but the workbook has no sheet "
                       f"{s!r} with its purchased levels and embedded emissions")
        return None
    if not _labels(reader, k):
        return None
    purchased = [q for i in PURCHASED_LINES if (q := _quantity(
        reader, block_row(k, _P["purchased"] + i), f"amount purchased (line {i}) of {who}",
        f"{key}.purchased[{i}]", line=i)) is not None]
    consumed = [q for i in CONSUMED_PROCESSES if (q := _quantity(
        reader, block_row(k, _P["consumed"] + i),
        f"amount of {who} consumed in production process {i}", f"{key}.consumed[{i}]",
        process=i)) is not None]
    other = _quantity(reader, block_row(k, _P["other"]),
                      f"amount of {who} consumed for other purposes", f"{key}.other_purposes")
    first = block_row(k, _P["purchased"] + 1)
    lines = [f"L{block_row(k, _P['purchased'] + i)}" for i in PURCHASED_LINES]
    sheet = reader.sheets[s]
    if all(sheet.value(ref) is None and sheet.uncomputed(ref) is None for ref in lines):
        reader.problem(s, f"L{first}", f"{who} gives no total purchased level (L{first}:L"
                       f"{block_row(k, _P['purchased'] + len(PURCHASED_LINES))}); a listed "
                       "precursor needs the amount purchased in the reporting period")
    direct = _see(reader, block_row(k, _P["see_direct"]), f"SEE (direct) of {who}",
                  f"{key}.see_direct_t_per_t")
    indirect = _see(reader, block_row(k, _P["see_indirect"]), f"SEE (indirect) of {who}",
                    f"{key}.see_indirect_t_per_t")
    source = reader.text(s, f"M{block_row(k, _P['see_direct'])}",
                         f"source of the SEE (direct) of {who}", key=f"{key}.see_direct_source")
    justification = reader.text(s, f"K{block_row(k, _P['justification'])}",
                                f"justification for default values of {who}",
                                key=f"{key}.default_values_justification")
    if category is None or country is None or direct is None or indirect is None \
            or not purchased:
        return None
    return PurchasedPrecursor(
        block=k, goods_category=category, country=country, see_direct_t_per_t=direct,
        see_indirect_t_per_t=indirect, routes=tuple(routes), purchased=tuple(purchased),
        consumed=tuple(consumed), other_purposes=other, see_direct_source=source,
        default_values_justification=justification)


def read_precursors(reader: CellReader) -> list[PurchasedPrecursor]:
    """The purchased precursors of the template, in block order (problems noted in
    ``reader``); blocks whose input cells are all empty are skipped."""
    blocks = [k for k in range(1, PRECURSOR_BLOCKS + 1) if _filled(reader, k)]
    if not blocks:
        return []
    for column, label in _LIST_HEADERS.items():
        ref = f"{column}{PRECURSOR_LIST_HEADER_ROW}"
        found = reader.text(INSTALLATION_SHEET, ref, f"header {label!r}")
        if found is None or not found.startswith(label):
            reader.problem(INSTALLATION_SHEET, ref, f"expected the header {label!r} of the "
                           f"purchased precursors, found {found!r}: the sheet is not laid out "
                           "as the template")
            return []
    out: list[PurchasedPrecursor] = []
    for k in blocks:
        precursor = _precursor(reader, k, len(out) + 1)
        if precursor is not None:
            out.append(precursor)
    return out


def _labels_of(k: int) -> dict[str, str]:
    cells = {f"{column}{block_row(k, offset)}": label.format(k=k)
             for offset, column, label in PRECURSOR_HEADERS}
    cells[f"D{block_row(k, 0)}"] = f"Purchased precursor {k}:"
    cells[f"R{block_row(k, 0)}"] = f"PP{k}"
    for offset, text in ((_P["purchased"], "Total purchased levels:"),
                         (_P["consumed"], "Consumed in 'production processes' within the "
                                          "installation:"),
                         (_P["other"], "Consumed for other purposes, e.g. sold or used for "
                                       "non-CBAM goods:"),
                         (_P["justification"], "Justification for use of default values (if "
                                               "relevant):")):
        cells[f"E{block_row(k, offset)}"] = text
    cells[f"H{block_row(k, _P['purchased'])}"] = "Production route"
    for offset in (_P["purchased"], _P["consumed"]):
        cells[f"K{block_row(k, offset)}"] = "Unit"
    cells[f"E{block_row(k, _P['see_direct'])}"] = \
        "Specific embedded direct emissions (SEE (direct))"
    cells[f"E{block_row(k, _P['see_indirect'])}"] = \
        "Specific embedded indirect emissions (SEE (indirect))"
    return cells


def _put(sheet: Any, row: int, quantity: PrecursorQuantity) -> None:
    sheet[f"L{row}"] = float(quantity.amount)
    sheet[f"K{row}"] = quantity.unit
    if quantity.production_route is not None:
        sheet[f"H{row}"] = quantity.production_route


def write_precursors(book: Any, precursors: tuple[PurchasedPrecursor, ...]) -> None:
    """Write ``precursors`` into ``book`` (an openpyxl workbook with ``A_InstData``): their
    rows of ``A_InstData`` and their blocks of a new ``E_PurchPrec`` sheet."""
    if not precursors:
        return
    inst = book[INSTALLATION_SHEET]
    for column, label in _LIST_HEADERS.items():
        inst[f"{column}{PRECURSOR_LIST_HEADER_ROW}"] = label
    for i, column in enumerate(PRECURSOR_LIST_COLUMNS["routes"], start=1):
        inst[f"{column}{PRECURSOR_LIST_HEADER_ROW}"] = f"Route {i}"
    sheet = book.create_sheet(PRECURSOR_SHEET)
    for p in precursors:
        row, k = _list_row(p.block), p.block
        inst[f"D{row}"], inst[f"E{row}"], inst[f"F{row}"] = p.precursor_id, \
            p.goods_category, p.country
        for column, route in zip(PRECURSOR_LIST_COLUMNS["routes"], p.routes, strict=False):
            inst[f"{column}{row}"] = route
        for ref, text in _labels_of(k).items():
            sheet[ref] = text
        for q in p.purchased:
            _put(sheet, block_row(k, _P["purchased"] + (q.line or 0)), q)
        for q in p.consumed:
            _put(sheet, block_row(k, _P["consumed"] + (q.process or 0)), q)
        if p.other_purposes is not None:
            _put(sheet, block_row(k, _P["other"]), p.other_purposes)
        for offset, value in ((_P["see_direct"], p.see_direct_t_per_t),
                              (_P["see_indirect"], p.see_indirect_t_per_t)):
            sheet[f"L{block_row(k, offset)}"] = float(value)
            sheet[f"K{block_row(k, offset)}"] = UNIT
        sheet[f"M{block_row(k, _P['see_direct'])}"] = p.see_direct_source
        sheet[f"K{block_row(k, _P['justification'])}"] = p.default_values_justification
