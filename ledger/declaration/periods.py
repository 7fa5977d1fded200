"""A declaration line's sums per price period: the quarter for 2026 imports, the ISO week from
2027 (see :func:`ledger.declaration.tables.pricing_period`).

Quarters come from the line's quarterly sums (:mod:`ledger.declaration.compute`); weeks are
summed here from the line's consignments, with the same rules (whole grams; the default-value
counterfactual of :func:`ledger.declaration.compute.default_embedded_g`).
"""

from __future__ import annotations

from collections.abc import Sequence

from ledger.declaration.compute import LineFigures, QuarterFigures, default_embedded_g
from ledger.declaration.consignments import ConsignmentRow
from ledger.declaration.tables import WEEKLY_FROM, pricing_period

__all__ = ["line_periods", "periods_key"]


def periods_key(year: int) -> str:
    """The key of a line's per-period list in the declaration: ``quarters`` or ``weeks``."""
    return "quarters" if year < WEEKLY_FROM else "weeks"


def line_periods(line: LineFigures, rows: Sequence[ConsignmentRow], year: int
                 ) -> dict[str, QuarterFigures]:
    """The line's sums per price period, keyed ``2026-Q2`` or ``2027-W05``."""
    if year < WEEKLY_FROM:
        return {f"{year}-Q{q}": f for q, f in line.quarters.items()}
    out: dict[str, QuarterFigures] = {}
    for index in line.members:
        row = rows[index]
        assert row.import_date is not None
        sums = out.setdefault(pricing_period(row.import_date, year), QuarterFigures())
        sums.mass_g += row.net_mass_g
        sums.embedded_g += row.embedded_g
        sums.default_embedded_g += default_embedded_g(row, line.resolved) or 0
        sums.consignments += 1
    return out
