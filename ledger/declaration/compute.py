"""The arithmetic of a CBAM declaration, per line and quarter, in whole grams and euro cents.

A line is one CN code x country of origin x installation x data type x verifier x benchmark
route. Per line and import quarter (2026 prices are quarterly, Implementing Regulation (EU)
2025/2548):

- free-allocation adjustment ``faa_g = mass_g x benchmark x CBAM factor``
  (Implementing Regulation (EU) 2025/2620; ``mass_g x bench_u x pct_u / 10**14``, half up);
- carbon price deduction (Art. 9), only when enabled, on actual values with evidence:
  ``embedded_g x effective EUR per t / certificate price``, whole grams, half up, at most what
  remains after the adjustment;
- certificates ``cert_g = max(0, embedded_g - faa_g - deduction_g)``;
- cost ``cost_cents = cert_g x price_cents / 10**6``, half up.

The same on default values (the forecast): an actual-value consignment's embedded emissions as
the default value would have given them (per consignment, ``mass_g x marked_e8 / 10**8`` half
up, the engine's rule) with that value's Column B benchmark.

Two paths give the same integers: :func:`aggregate_simple` (a loop over consignments, the
oracle of the tests) and :func:`aggregate_fast` (numpy, int64 sums). Sums stay far below 2**63:
a consignment above 10**9 g (1,000 t) makes the fast path fall back to the simple one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from operator import itemgetter

import numpy as np

from ledger.declaration.consignments import ConsignmentRow
from ledger.declaration.resolve import Resolved

__all__ = [
    "LineFigures",
    "LineKey",
    "QuarterFigures",
    "aggregate_fast",
    "aggregate_simple",
    "certificates",
    "line_key",
]

_MAX_FAST_MASS_G = 10**9
# the fields of a consignment that make its line (with its resolved route), and the columns summed
_KEY_FIELDS = itemgetter(5, 7, 8, 11, 13)  # cn_code, country, installation_id, data_type, verifier
_IMPORT_DATE = itemgetter(3)
_METHOD = itemgetter(12)
_MASS = itemgetter(14)
_EMBEDDED = itemgetter(15)


@dataclass(frozen=True, order=True)
class LineKey:
    """What makes a declaration line."""

    cn_code: str
    country: str
    installation_id: str
    data_type: str
    verifier: str
    route: str


def line_key(row: ConsignmentRow, resolved: Resolved) -> LineKey:
    return LineKey(row.cn_code, row.country, row.installation_id, row.data_type, row.verifier,
                   resolved.route)


@dataclass
class QuarterFigures:
    """Sums of one line in one quarter (grams)."""

    mass_g: int = 0
    embedded_g: int = 0
    default_embedded_g: int = 0
    consignments: int = 0


@dataclass
class LineFigures:
    """A line's consignments (indices into the input) and its sums per quarter (1..4)."""

    key: LineKey
    resolved: Resolved
    members: list[int] = field(default_factory=list)
    quarters: dict[int, QuarterFigures] = field(default_factory=dict)


def default_embedded_g(row: ConsignmentRow, resolved: Resolved) -> int | None:
    """The consignment's embedded emissions on its default value (None: no default value)."""
    if row.method == "default":
        return row.embedded_g
    if resolved.default_marked_e8 is None:
        return None
    return (row.net_mass_g * resolved.default_marked_e8 + 50_000_000) // 100_000_000


def aggregate_simple(rows: Sequence[ConsignmentRow], resolved: Sequence[Resolved]
                     ) -> list[LineFigures]:
    """Lines in key order, consignments in input order: one loop, Python integers."""
    lines: dict[LineKey, LineFigures] = {}
    for index, (row, res) in enumerate(zip(rows, resolved, strict=True)):
        key = line_key(row, res)
        line = lines.get(key)
        if line is None:
            line = lines[key] = LineFigures(key, res)
        line.members.append(index)
        q = line.quarters.setdefault(row.quarter, QuarterFigures())
        q.mass_g += row.net_mass_g
        q.embedded_g += row.embedded_g
        q.default_embedded_g += default_embedded_g(row, res) or 0
        q.consignments += 1
    return [lines[k] for k in sorted(lines)]


def aggregate_fast(rows: Sequence[ConsignmentRow], resolved: Sequence[Resolved]
                   ) -> list[LineFigures]:
    """The same lines as :func:`aggregate_simple`, summed with numpy: one pass in C over the
    rows for each column, a dictionary of line keys, then sorts and sums."""
    count = len(rows)
    if count == 0:
        return []
    routes = [res.route for res in resolved]
    keys: dict[tuple[tuple[str, ...], str], int] = {}
    line_ids = [keys.setdefault(k, len(keys))
                for k in zip(map(_KEY_FIELDS, rows), routes, strict=True)]
    line = np.fromiter(line_ids, dtype=np.int64, count=count)
    quarter_of: dict[date | None, int] = {}
    quarter = np.fromiter(
        (quarter_of.get(d) or quarter_of.setdefault(d, (d.month + 2) // 3 if d else 0)
         for d in map(_IMPORT_DATE, rows)), dtype=np.int64, count=count)
    if int(quarter.min()) < 1:
        return aggregate_simple(rows, resolved)
    group = line * 4 + quarter - 1
    mass = np.fromiter(map(_MASS, rows), dtype=np.int64, count=count)
    embedded = np.fromiter(map(_EMBEDDED, rows), dtype=np.int64, count=count)
    is_default = np.fromiter((m == "default" for m in map(_METHOD, rows)), dtype=np.bool_,
                             count=count)
    marked = np.fromiter((r.default_marked_e8 or 0 for r in resolved), dtype=np.int64,
                         count=count)
    if int(mass.max()) > _MAX_FAST_MASS_G or int(marked.max()) > 10**10 \
            or int(mass.min()) < 0:
        return aggregate_simple(rows, resolved)
    default_emb = np.where(is_default, embedded, (mass * marked + 50_000_000) // 100_000_000)
    order = np.argsort(group, kind="stable")
    sorted_group = group[order]
    starts = np.flatnonzero(np.r_[True, sorted_group[1:] != sorted_group[:-1]])
    sums = [np.add.reduceat(a[order], starts) for a in (mass, embedded, default_emb)]
    counts = np.diff(np.r_[starts, count])
    first = np.full(len(keys), count, dtype=np.int64)
    np.minimum.at(first, line, np.arange(count))
    line_keys = {index: LineKey(*fields, route)  # type: ignore[call-arg]
                 for (fields, route), index in keys.items()}
    by_index = {index: LineFigures(key, resolved[int(first[index])])
                for index, key in line_keys.items()}
    for j, start in enumerate(starts.tolist()):
        g = int(sorted_group[start])
        by_index[g // 4].quarters[g % 4 + 1] = QuarterFigures(
            int(sums[0][j]), int(sums[1][j]), int(sums[2][j]), int(counts[j]))
    members = np.argsort(line, kind="stable")
    line_of = line[members]
    bounds = np.flatnonzero(np.r_[True, line_of[1:] != line_of[:-1]]).tolist()
    for j, start in enumerate(bounds):
        stop = bounds[j + 1] if j + 1 < len(bounds) else count
        by_index[int(line_of[start])].members = members[start:stop].tolist()
    return [by_index[i] for i in sorted(by_index, key=line_keys.__getitem__)]


@dataclass(frozen=True)
class Certificates:
    """One line-quarter's certificate arithmetic (grams, cents)."""

    faa_g: int
    deduction_g: int
    certificates_g: int
    cost_cents: int


def certificates(mass_g: int, embedded_g: int, *, bench_u: int, factor_pct_u: int,
                 price_cents: int, deduction_eur_per_t: Decimal | None = None) -> Certificates:
    """The certificate arithmetic of the module docstring for one line and quarter."""
    faa_g = (mass_g * bench_u * factor_pct_u + 50_000_000_000_000) // 100_000_000_000_000
    remaining = max(0, embedded_g - faa_g)
    deduction_g = 0
    if deduction_eur_per_t is not None and deduction_eur_per_t > 0:
        exact = Decimal(embedded_g) * deduction_eur_per_t * 100 / Decimal(price_cents)
        deduction_g = min(remaining, int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP)))
    cert_g = remaining - deduction_g
    cost = (cert_g * price_cents + 500_000) // 1_000_000
    return Certificates(faa_g, deduction_g, cert_g, cost)
