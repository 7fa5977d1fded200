"""CBAM default values: Annex I of Implementing Regulation (EU) 2025/2621, line by line.

A default-value table (kind ``cbam_annex_i``) has one row per country and annex line; the line's
code is a CN code of 4, 6 or 8 digits or, where Implementing Regulation (EU) 2026/1740 split a CN
code, a TARIC code of 10 digits. A good's code is resolved to the most specific line:

- the longest line code that is a prefix of the given code (``7318 15 88`` -> line ``7318 15``);
- a line whose cell is empty (a heading such as ``7318``) is no value: the given code must then
  name one of its sub-lines;
- a code shorter than every line that starts with it resolves to its sub-line when there is exactly
  one CN sub-line, and is an error listing the candidates otherwise;
- TARIC lines (10 digits) are never chosen from a shorter code: the 10-digit code is required.

A country is looked up in the countries table (kind ``cbam_countries``; without one, the countries
of the default-value table). Annex I's rule for a country that is not listed, or that is listed
with no value (an empty cell or a dash) for the line, applies the row "Other countries and
territories" (``country`` = ``other``), and the result says so. A listed country whose rows are
not loaded in the table is an error: the fallback row would understate nothing but is not the law.

The value that counts is the ``direct`` column for lines where only direct emissions count
(Annex II of Regulation (EU) 2023/956, the ``annex_ii`` column of the scope table) and the
``total`` column otherwise, times the mark-up of the sector and import year in the mark-up table
(kind ``cbam_markups``): the corrected act states the mark-ups in the introduction of Annex I and
deleted the marked-up columns of the act as adopted. Those columns stay in the as-adopted table
for reference only (a few of them are inconsistent with the act's own percentages). Values are
exact integers: 10**-6 t CO2e per tonne, and 10**-8 after a mark-up in percent.

The first factor sets named a table of kind ``cbam_defaults`` (China only, published mark-up
columns, CN codes of up to 8 digits): it is still read, with its own rules, so that records
computed with it recompute to the same figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ledger.errors import FactorError
from ledger.factors.tables import FactorTable, scaled_int

__all__ = [
    "OTHER",
    "CbamDefaults",
    "DefaultValue",
    "spaced",
]

#: The ``country`` of the rows "Other countries and territories".
OTHER = "other"
_TARIC_LENGTH = 10
_LISTED_CANDIDATES = 12


def spaced(code: str) -> str:
    """A CN or TARIC code written as the regulations do: ``7318 15 90``, ``2523 10 00 90``."""
    return code[:4] + "".join(" " + code[i:i + 2] for i in range(4, len(code), 2))


@dataclass(frozen=True)
class DefaultValue:
    """The default value that applies to a good, and where it was read."""

    ref: str
    line: str
    row_country: str
    annex_country: str
    rule: str | None
    column: str
    value_u: int
    marked_e8: int
    markup_label: str
    markup_source: str


def _markup_label(year: int) -> str:
    return "2028+" if year >= 2028 else str(year)


class _Markups:
    """Mark-up percentages by sector and import year (kind ``cbam_markups``)."""

    def __init__(self, table: FactorTable) -> None:
        self.table = table
        self._rows: dict[str, list[tuple[int, int | None, int, str]]] = {}
        for row in table.rows:
            cells = (row["first_year"], row["last_year"] or "0", row["markup_percent"])
            if not all(c.isdigit() for c in cells):
                raise FactorError(f"table {table.name}, row {row['key']}: first_year, "
                                  "last_year (or empty) and markup_percent must be whole numbers")
            last = int(row["last_year"]) if row["last_year"] else None
            self._rows.setdefault(row["sector"], []).append(
                (int(row["first_year"]), last, int(row["markup_percent"]), row["key"]))

    def percent(self, sector: str, year: int) -> tuple[int, str] | str:
        for first, last, percent, key in self._rows.get(sector, ()):
            if first <= year and (last is None or year <= last):
                return percent, self.table.ref(key)
        return (f"no CBAM default-value mark-up for sector {sector} in {year} in table "
                f"{self.table.name}")


class CbamDefaults:
    """Default values by annex line and country of origin, with the annex's rules."""

    def __init__(self, table: FactorTable, markups: FactorTable | None = None,
                 countries: FactorTable | None = None) -> None:
        self.table = table
        self.legacy = table.kind == "cbam_defaults"
        self._ambiguous: dict[tuple[str, str], list[Mapping[str, str]]] = {}
        if self.legacy:
            return
        if markups is None:
            raise FactorError(f"table {table.name} has no published mark-up columns for every "
                              "row: the factor set must name a table of kind cbam_markups")
        self._markups = _Markups(markups)
        self._rows: dict[tuple[str, str], Mapping[str, str]] = {}
        lines: set[str] = set()
        for row in table.rows:
            code = row["cn_code"]
            if not code.isdigit() or len(code) not in (4, 6, 8, _TARIC_LENGTH):
                raise FactorError(f"table {table.name}, row {row['key']}: cn_code {code!r} is "
                                  "not 4, 6, 8 or 10 digits")
            slot = (row["country"], code)
            if slot in self._rows:
                # the act as adopted gives white and grey clinker (and hydraulic cement) on one
                # CN code; the code cannot choose between them
                self._ambiguous.setdefault(slot, [self._rows[slot]]).append(row)
            self._rows[slot] = row
            lines.add(code)
        self._lines = sorted(lines)
        self._line_set = lines
        if countries is not None:
            self._listed = {r["country"]: (r["annex_country"], r["rows_loaded"] == "yes")
                            for r in countries.rows}
        else:
            self._listed = {r["country"]: (r["annex_country"], True) for r in table.rows}
        self._cache: dict[tuple[str, str, int, bool, str], DefaultValue | tuple[str, str]] = {}

    # -- lines -----------------------------------------------------------------------------

    def _has_value(self, code: str) -> bool:
        row = self._rows.get((OTHER, code))
        return row is not None and row["total_t_per_t"] != ""

    def line(self, code: str) -> str | tuple[str, str]:
        """The annex line of a code (4 to 10 digits), or (field, problem)."""
        prefix = max((c for c in self._lines if code.startswith(c) and self._has_value(c)),
                     key=len, default=None)
        if prefix is not None:
            return prefix
        below = [c for c in self._lines if c.startswith(code) and len(c) > len(code)
                 and self._has_value(c)]
        if len(below) == 1 and len(below[0]) < _TARIC_LENGTH:
            return below[0]
        if below:
            shown = ", ".join(spaced(c) for c in below[:_LISTED_CANDIDATES])
            more = (f" and {len(below) - _LISTED_CANDIDATES} more"
                    if len(below) > _LISTED_CANDIDATES else "")
            if all(len(c) == _TARIC_LENGTH for c in below):
                return ("cn_code", f"Annex I gives CN {spaced(code)} per TARIC code ({shown}); "
                        "give the 10-digit TARIC code")
            return ("cn_code", f"CN {spaced(code)} covers several lines of Annex I with "
                    f"different default values ({shown}{more}); give the code of one of them")
        return ("cn_code", f"CN {spaced(code)} has no line of CBAM Annex I default values in "
                f"table {self.table.name}; declare the installation's actual emissions instead")

    # -- values ----------------------------------------------------------------------------

    def resolve(self, code: str, country: str, year: int, *, direct_only: bool,
                sector: str) -> DefaultValue | tuple[str, str]:
        """The default value of a good in an import year, or (field, problem)."""
        args = (code, country, year, direct_only, sector)
        found = self._cache.get(args)
        if found is None:
            found = self._resolve(*args)
            self._cache[args] = found
        return found

    def _resolve(self, code: str, country: str, year: int, direct_only: bool,
                 sector: str) -> DefaultValue | tuple[str, str]:
        line = self.line(code)
        if isinstance(line, tuple):
            return line
        column = "direct_t_per_t" if direct_only else "total_t_per_t"
        listed = self._listed.get(country)
        rule: str | None = None
        if listed is None:
            rule = (f"{country} is not listed in Annex I: the row 'Other countries and "
                    "territories' applies")
            row_country = OTHER
        elif not listed[1]:
            return ("country_of_origin",
                    f"{listed[0]} ({country}) is listed in Annex I but its default values are "
                    f"not loaded in table {self.table.name}; use a factor set whose table has "
                    "them, or declare the installation's actual emissions")
        else:
            row = self._rows.get((country, line))
            if row is not None and row[column] != "":
                row_country = country
            else:
                rule = (f"{listed[0]} has no value for CN {spaced(line)} in Annex I: the row "
                        "'Other countries and territories' applies")
                row_country = OTHER
        if (row_country, line) in self._ambiguous:
            names = ", ".join(r["description"] for r in self._ambiguous[(row_country, line)])
            return ("cn_code", f"table {self.table.name} gives CN {spaced(line)} twice "
                    f"({names}) and the code cannot tell them apart; use a factor set of the "
                    "corrected act (10-digit TARIC codes)")
        row = self._rows.get((row_country, line))
        if row is None or row[column] == "":
            return ("cn_code", f"no CBAM default value for CN {spaced(line)} in table "
                    f"{self.table.name}, not even for other countries and territories")
        value_u = scaled_int(row[column])
        label = _markup_label(year)
        found = self._markups.percent(sector, year)
        if isinstance(found, str):
            return "cbam_year", found
        percent, source = found
        marked_e8 = value_u * (100 + percent)
        return DefaultValue(
            ref=self.table.ref(row["key"]), line=line, row_country=row_country,
            annex_country=row["annex_country"], rule=rule,
            column="direct" if direct_only else "total", value_u=value_u,
            marked_e8=marked_e8, markup_label=label, markup_source=source)

    # -- the first China-only table (kind cbam_defaults) --------------------------------------

    def lookup(self, cn: str, country: str) -> tuple[str, str] | str:
        """(row key, row CN code) of the most specific row of a ``cbam_defaults`` table."""
        rows = [r for r in self.table.rows if r["country"] == country]
        match = max((r for r in rows if cn.startswith(r["cn_code"])),
                    key=lambda r: len(r["cn_code"]), default=None)
        if match is not None:
            return match["key"], match["cn_code"]
        narrower = sorted(spaced(r["cn_code"]) for r in rows if r["cn_code"].startswith(cn))
        if narrower:
            return (f"the CBAM default values for CN {spaced(cn)} from {country} are given "
                    f"per narrower code ({', '.join(narrower)}); give the full CN code")
        return (f"no CBAM default value for CN {spaced(cn)} from country {country} in table "
                f"{self.table.name}; declare the installation's actual emissions instead")

    def value(self, key: str, year: int) -> tuple[int, int, str]:
        """(marked-up total, base direct, column label) of a ``cbam_defaults`` row."""
        label = _markup_label(year)
        column = f"markup_{min(year, 2028)}_t_per_t"
        return self.table.scaled(key, column), self.table.scaled(key, "direct_t_per_t"), label
