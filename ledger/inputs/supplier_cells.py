"""Cells of a workbook as a spreadsheet program stored them, read with their meaning.

:class:`CellReader` is what :mod:`ledger.inputs.supplier_template` and
:mod:`ledger.inputs.supplier_precursor_cells` read the communication template through: the value
a spreadsheet program stored in each cell (openpyxl does not calculate), the formulas that have
no stored value (noted once per sheet: the file must be recalculated), and every problem named
by sheet, cell and meaning. Figures read keep the cell they came from (``sources``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from openpyxl.utils.datetime import from_excel

from ledger.errors import InputProblem
from ledger.inputs.consignment import parse_date_text

__all__ = ["CellReader", "Sheet", "column_index", "split_ref"]


def column_index(letters: str) -> int:
    """1 for A, 26 for Z, 27 for AA."""
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def split_ref(ref: str) -> tuple[int, int]:
    """(row, column) of a cell reference such as ``L49``."""
    match = re.fullmatch(r"([A-Z]{1,2})([0-9]+)", ref)
    if match is None:  # pragma: no cover - only the module's own constants reach this
        raise ValueError(ref)
    return int(match.group(2)), column_index(match.group(1))


@dataclass
class Sheet:
    """The values a spreadsheet program stored, and the formulas, of one sheet's top-left area."""

    name: str
    values: dict[tuple[int, int], Any]
    formulas: dict[tuple[int, int], str]

    def value(self, ref: str) -> Any:
        found = self.values.get(split_ref(ref))
        if isinstance(found, str) and not found.strip():
            return None
        return found

    def uncomputed(self, ref: str) -> str | None:
        """The formula of ``ref`` when it has no stored value, else None."""
        spot = split_ref(ref)
        formula = self.formulas.get(spot)
        if formula is not None and self.values.get(spot) is None:
            return formula
        return None


@dataclass
class CellReader:
    sheets: dict[str, Sheet]
    epoch: datetime
    problems: list[InputProblem] = field(default_factory=list)
    uncomputed: dict[str, list[str]] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    def problem(self, sheet: str, ref: str, message: str) -> None:
        self.problems.append(InputProblem(message, field=f"{sheet}!{ref}"))

    def raw(self, sheet: str, ref: str, meaning: str) -> Any:
        """The stored value of a cell; a formula without one is noted (reported once per sheet)."""
        data = self.sheets[sheet]
        if data.uncomputed(ref) is not None:
            self.uncomputed.setdefault(sheet, []).append(f"{ref} ({meaning})")
            return None
        return data.value(ref)

    def text(self, sheet: str, ref: str, meaning: str, *, key: str | None = None,
             required: bool = False) -> str | None:
        value = self.raw(sheet, ref, meaning)
        if value is None:
            if required and self.sheets[sheet].uncomputed(ref) is None:
                self.problem(sheet, ref, f"{meaning} is empty; the template requires it")
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if key is not None:
            self.sources[key] = f"{sheet}!{ref}"
        return str(value).strip()

    def number(self, sheet: str, ref: str, meaning: str, *, key: str | None = None,
               required: bool = False, upper: Decimal | None = None) -> Decimal | None:
        value = self.raw(sheet, ref, meaning)
        if value is None:
            if required and self.sheets[sheet].uncomputed(ref) is None:
                self.problem(sheet, ref, f"{meaning} is empty; the template requires it")
            return None
        number: Decimal | None = None
        if isinstance(value, bool):
            number = None
        elif isinstance(value, int):
            number = Decimal(value)
        elif isinstance(value, float):
            number = Decimal(repr(value))
        elif isinstance(value, str):
            try:
                number = Decimal(value.strip())
            except InvalidOperation:
                number = None
        if number is None or not number.is_finite():
            self.problem(sheet, ref, f"{meaning} is {value!r}, not a number")
            return None
        if number < 0 or (upper is not None and number > upper):
            limit = f" and at most {upper}" if upper is not None else ""
            self.problem(sheet, ref, f"{meaning} is {number}; it must be zero or more{limit}")
            return None
        if key is not None:
            self.sources[key] = f"{sheet}!{ref}"
        return number

    def day(self, sheet: str, ref: str, meaning: str, *, key: str) -> date | None:
        value = self.raw(sheet, ref, meaning)
        if value is None:
            if self.sheets[sheet].uncomputed(ref) is None:
                self.problem(sheet, ref, f"{meaning} is empty; the template requires it")
            return None
        found: date | str
        if isinstance(value, datetime):
            found = value.date()
        elif isinstance(value, date):
            found = value
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            converted = from_excel(value, epoch=self.epoch)
            found = converted.date() if isinstance(converted, datetime) else \
                f"{value!r} is not a date"
        elif isinstance(value, str):
            found = parse_date_text(value)
        else:
            found = f"{value!r} is not a date"
        if isinstance(found, str):
            self.problem(sheet, ref, f"{meaning}: {found}")
            return None
        self.sources[key] = f"{sheet}!{ref}"
        return found
