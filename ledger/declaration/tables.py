"""The pinned tables of a CBAM declaration: benchmarks, CBAM factors, certificate prices.

All three are tables of the factor set (kinds ``cbam_benchmarks``, ``cbam_factors`` and
``cbam_prices``, see ``emission_factors/README.md``); no value lives in code.

- **Benchmarks** (Implementing Regulation (EU) 2025/2620): per 8-digit CN code, Column A (used
  with actual values) and Column B (used with default values), one row per production route
  where the code has several. A code with several routes needs the route: with default values
  the route of the default-value row (Annex I of Implementing Regulation (EU) 2025/2621), with
  actual values the installation's ``production_route`` naming the route letter (``C``,
  ``(K)``...). A code, column or route without a row is an error that says so: the loaded
  Column A is partial (see the table's README), so an actual-value line may be refused. Column B
  is complete against its source, but two kinds of its rows are never chosen between: values
  marked with the workbook's footnotes ``(1)``/``(2)`` (whose text the source does not give)
  and a default-value row naming several routes (``C/F``); the error names the code, the route
  and why.
- **CBAM factor** of the import year (percent of free allocation still given, Directive
  2003/87/EC Art. 10a(1a), which Art. 31 of Regulation (EU) 2023/956 applies).
- **Certificate price** of a pricing period (:func:`pricing_period`). For goods imported in 2026
  the period is the quarter of importation (``2026-Q2``: the quarterly average of EU ETS auction
  prices, Art. 21(1a) of Regulation (EU) 2023/956 as inserted by Regulation (EU) 2025/2083;
  Implementing Regulation (EU) 2025/2548). From 2027 the Commission calculates a price for each
  calendar week (Art. 21(1) of Regulation (EU) 2023/956), published on the first working day of
  the following week and applying to certificates sold until the first working day of the week
  after; a certificate costs the weekly price in force when it is bought, which no import date
  fixes. A declaration for imports from 2027 therefore values the certificates of each
  consignment at the price calculated for the ISO week of its customs release date
  (``2027-W05``), and says so (``basis``). A period without a published price is an error
  naming the period unless the caller gives an estimate, which the declaration labels as such.

Values are exact integers: benchmarks in 10**-6 t CO2e per tonne, percentages in 10**-6 percent,
prices in euro cents.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ledger.errors import FactorError
from ledger.factors.cbam_defaults import spaced
from ledger.factors.factorset import DECLARATION_KINDS, FactorSet
from ledger.factors.tables import FactorTable, scaled_int

__all__ = [
    "WEEKLY_BASIS",
    "WEEKLY_FROM",
    "Benchmark",
    "DeclarationTables",
    "Price",
    "normalise_route",
    "period_days",
    "period_problem",
    "pricing_period",
    "quarter_of",
]

#: First import year priced per calendar week (Art. 21(1) of Regulation (EU) 2023/956; the
#: quarterly derogation of Art. 21(1a), inserted by Regulation (EU) 2025/2083, covers 2026 only).
WEEKLY_FROM = 2027
#: How a declaration for imports from 2027 chooses the weekly price of a consignment.
WEEKLY_BASIS = (
    "price calculated for the ISO week of the consignment's customs release date; certificates "
    "are sold at the weekly price in force on the day of purchase (Regulation (EU) 2023/956 "
    "Art. 20(1) and 21(1) as amended by Regulation (EU) 2025/2083; Implementing Regulation (EU) "
    "2025/2548), so the cost is a valuation, not the price paid")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")

_ROUTE = re.compile(r"^\(?([A-Z0-9]{1,2})\)?(?:\(([A-Z0-9])\))?$")
_LEADING_ROUTE = re.compile(r"^((?:\([A-Z0-9]{1,2}\))+)\s")


def normalise_route(text: str | None) -> str | None:
    """A route as the benchmark table writes it (``C``, ``K``, ``F1``) from ``C``, ``(C)``,
    ``(F)(1)`` or a text starting with the marker (``(K) primary smelting``); None otherwise."""
    if not text:
        return None
    stripped = text.strip().upper()
    match = _ROUTE.match(stripped)
    if match is None:
        lead = _LEADING_ROUTE.match(text.strip())
        if lead is None:
            return None
        return "".join(re.findall(r"\(([A-Z0-9]+)\)", lead.group(1)))
    return match.group(1) + (match.group(2) or "")


def quarter_of(month: int) -> int:
    return (month + 2) // 3


def pricing_period(day: date, year: int) -> str:
    """The price period of goods released on ``day`` and declared for ``year``: the quarter
    (``2026-Q3``) before :data:`WEEKLY_FROM`, else the ISO week (``2027-W05``; 1 January 2027
    falls in ``2026-W53``)."""
    if year < WEEKLY_FROM:
        return f"{day.year}-Q{quarter_of(day.month)}"
    iso = day.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def period_days(period: str) -> tuple[date, date] | None:
    """First and last day of a quarter (``2026-Q2``) or ISO week (``2027-W05``, Monday to
    Sunday); None when the text is neither, or names a week its year does not have."""
    quarter = _QUARTER.match(period)
    if quarter is not None:
        year, q = int(quarter.group(1)), int(quarter.group(2))
        last = date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)
        return date(year, 3 * q - 2, 1), date.fromordinal(last.toordinal() - 1)
    week = _WEEK.match(period)
    if week is None:
        return None
    year, number = int(week.group(1)), int(week.group(2))
    try:
        monday = date.fromisocalendar(year, number, 1)
    except ValueError:
        return None
    return monday, date.fromisocalendar(year, number, 7)


def period_problem(period: str) -> str | None:
    """Why ``period`` is not a price period (None when it is one)."""
    if period_days(period) is not None:
        return None
    if _WEEK.match(period):
        return (f"{period} is not an ISO week: week numbers run from 01 to 52, or 53 in a year "
                "whose 31 December or 1 January is a Thursday")
    return (f"{period!r} is not a price period: write YYYY-Qn for 2026 imports (quarterly "
            "prices) or YYYY-Www, the ISO week, for imports from 2027 (weekly prices)")


@dataclass(frozen=True)
class Benchmark:
    """One benchmark row: value in 10**-6 t CO2e per tonne, and where it was read."""

    cn8: str
    column: str
    route: str
    value_u: int
    ref: str


@dataclass(frozen=True)
class Price:
    """A certificate price of one quarter or ISO week in euro cents, published or an
    estimate."""

    period: str
    cents: int
    ref: str
    estimate: bool

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "period": self.period, "priceEur": f"{self.cents // 100}.{self.cents % 100:02d}",
            "source": self.ref, "estimate": self.estimate}
        days = period_days(self.period)
        if _WEEK.match(self.period) and days is not None:
            out.update(firstDay=days[0].isoformat(), lastDay=days[1].isoformat(),
                       basis=WEEKLY_BASIS)
        return out


class DeclarationTables:
    """Lookups over the declaration tables of a factor set."""

    def __init__(self, factor_set: FactorSet) -> None:
        missing = [k for k in DECLARATION_KINDS if k not in factor_set.tables]
        if missing:
            raise FactorError(
                f"factor set {factor_set.name} ({factor_set.id}) names no table of kind "
                f"{', '.join(missing)}: a CBAM declaration needs benchmarks, CBAM factors and "
                "certificate prices; use emission_factors/factor-set-2026-declaration.json")
        self.factor_set = factor_set
        self.benchmarks: FactorTable = factor_set.tables["cbam_benchmarks"]
        self.factors: FactorTable = factor_set.tables["cbam_factors"]
        self.prices: FactorTable = factor_set.tables["cbam_prices"]
        self._bench: dict[tuple[str, str], list[Benchmark]] = {}
        for row in self.benchmarks.rows:
            self._bench.setdefault((row["cn_code"], row["column"]), []).append(Benchmark(
                row["cn_code"], row["column"], row["route"], scaled_int(row["benchmark_t_per_t"]),
                self.benchmarks.ref(row["key"])))
        self._factor = {int(r["year"]): (scaled_int(r["cbam_factor_percent"]),
                                         self.factors.ref(r["key"])) for r in self.factors.rows}
        self._price = {r["period"]: (scaled_int(r["price_eur"], 2), self.prices.ref(r["key"]))
                       for r in self.prices.rows}
        for r in self.prices.rows:
            days = period_days(r["period"])
            if days is None or (r["first_day"], r["last_day"]) != (days[0].isoformat(),
                                                                  days[1].isoformat()):
                raise FactorError(
                    f"table {self.prices.name}, row {r['key']}: period {r['period']!r} with days "
                    f"{r['first_day']} to {r['last_day']} is not a quarter (YYYY-Qn) or ISO week "
                    "(YYYY-Www) with its first and last day")
        self._cache: dict[tuple[str, str, str | None], Benchmark | str] = {}

    # ---------------------------------------------------------------- benchmarks

    def benchmark(self, cn: str, column: str, route: str | None) -> Benchmark | str:
        """The benchmark of an 8-digit CN code, column and route, or why there is none."""
        key = (cn, column, route)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._benchmark(cn, column, route)
        return found

    def _benchmark(self, cn: str, column: str, route: str | None) -> Benchmark | str:
        use = "actual" if column == "A" else "default"
        rows = self._bench.get((cn, column), [])
        if not rows:
            loaded = " (Column A is loaded only for some codes; see the table's README)" \
                if column == "A" else ""
            return (f"no CBAM benchmark in Column {column} (used with {use} values) for CN "
                    f"{spaced(cn)} in table {self.benchmarks.name}{loaded}")
        if len(rows) == 1 and rows[0].route == "":
            return rows[0]
        if route is not None:
            match = [r for r in rows if r.route in (route, "")]
            if len(match) == 1:
                return match[0]
        routes = ", ".join(sorted(r.route for r in rows if r.route))
        named = f"route {route!r} is not one of them" if route else "no route is given"
        where = ("the default-value row's route" if column == "B"
                 else "the installation's production_route (e.g. \"C\" or \"(K) ...\")")
        why = ""
        if route is not None and "/" in route:
            why += (f" The route {route!r} names several routes, and the table gives one value "
                    "per route: which one applies is not decided here.")
        if any(ch.isdigit() for r in rows for ch in r.route):
            why += (" The digits are the workbook's footnote markers ((1), (2)) written after "
                    "the route: the loaded source does not give the footnotes' text, so the "
                    "value that applies is not chosen here (see the table's README).")
        return (f"CN {spaced(cn)} has CBAM benchmarks per production route ({routes}) in Column "
                f"{column} of table {self.benchmarks.name}, and {named}; {where} must name "
                f"one.{why}")

    # ---------------------------------------------------------------- factor and price

    def cbam_factor(self, year: int) -> tuple[int, str] | str:
        """(CBAM factor of ``year`` in 10**-6 percent, its reference), or why there is none."""
        found = self._factor.get(year)
        if found is None:
            return (f"no CBAM factor for {year} in table {self.factors.name} (it has "
                    f"{', '.join(str(y) for y in sorted(self._factor))})")
        return found

    def price(self, period: str, estimates: Mapping[str, Decimal] | None = None
              ) -> Price | str:
        """The certificate price of a quarter (``2026-Q2``) or ISO week (``2027-W05``), or why
        there is none."""
        problem = period_problem(period)
        if problem is not None:
            return problem
        found = self._price.get(period)
        if found is not None:
            return Price(period, found[0], found[1], False)
        estimate = (estimates or {}).get(period)
        if estimate is not None:
            cents = estimate * 100
            if cents != cents.to_integral_value() or cents <= 0:
                return f"the price estimate for {period} must be positive, in whole cents"
            return Price(period, int(cents), "estimate given by the declarant (not published)",
                         True)
        published = ", ".join(sorted(self._price)) or "none"
        days = period_days(period)
        what = period
        if days is not None and _WEEK.match(period):
            what = f"week {period} ({days[0].isoformat()} to {days[1].isoformat()})"
        return (f"no published CBAM certificate price for {what} in table {self.prices.name} "
                f"(published: {published}); wait for the Commission's publication, or give an "
                f"explicit estimate (--price-estimate {period}=EUR), which the declaration "
                "labels as an estimate")

    def describe(self) -> dict[str, str]:
        return {kind: f"{self.factor_set.tables[kind].name} sha256:"
                f"{self.factor_set.tables[kind].sha256}" for kind in DECLARATION_KINDS}
