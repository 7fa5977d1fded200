"""EU CBAM embedded emissions of a shipment's goods (Regulation (EU) 2023/956, definitive period).

Scope comes from the Annex I table (longest CN prefix wins; excluded lines are rows too). A CBAM
good uses the installation's actual emissions when the record carries them, otherwise the
Commission's default value for its code and country of origin (Annex I of Implementing
Regulation (EU) 2025/2621, as corrected by Implementing Regulation (EU) 2026/1740 in the default
factor set) with the mark-up of the import year; :mod:`ledger.factors.cbam_defaults` resolves
the code to an annex line and applies the annex's rule for a country without a value. A code or
country with no default is a problem that says so; nothing is guessed.

For goods listed in Annex II (iron and steel except agglomerated iron ore, aluminium, hydrogen)
only direct emissions count. A default value is one figure (the annex's direct value for those
goods, its total otherwise), reported as direct, with no separate indirect component.
Embedded emissions in grams: ``net_mass_kg × value_t_per_t × 1000``, exact, rounded half up.
Electricity (CN 2716 00 00) has no default value in the loaded tables (Annex I gives values per
tonne of goods; the electricity default is the exporting country's CO2 emission factor,
Regulation (EU) 2023/956, Annex IV, point 4.2): without actual data it is refused, naming the
missing figure.

The import year is the year of the customs release date when the consignment gives one (the
result then carries ``import_date``, ``import_quarter`` and ``year_source``); files of the first
form give ``cbam_year`` instead, and their results are serialised exactly as before (no
``year_source`` key: its absence means ``cbam_year``), so records computed then recompute to the
same hash. An import date before 2026 is outside the definitive period (Regulation (EU)
2023/956, Art. 32: the transitional period ran until 31 December 2025) and is refused.
Codes: CN codes of 2, 4, 6 or 8 digits and TARIC codes of 10 digits, spaces and dots ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from ledger.factors.cbam_defaults import CbamDefaults, DefaultValue, spaced
from ledger.factors.tables import FactorTable

__all__ = [
    "ELECTRICITY",
    "CbamResult",
    "CbamScope",
    "ScopeMatch",
    "electricity_default_problem",
    "embedded_emissions",
    "normalise_cn",
    "out_of_scope",
]

_CN_LENGTHS = (2, 4, 6, 8, 10)
#: The scope table's sector of CN 2716 00 00 (electrical energy).
ELECTRICITY = "electricity"


def normalise_cn(code: str) -> str | None:
    """The digits of a CN or TARIC code ("7318 15" -> "731815"), or None.

    CN codes have 2, 4, 6 or 8 digits, TARIC codes 10; spaces and dots are ignored.
    """
    digits = code.replace(" ", "").replace(".", "")
    if not digits.isdigit() or len(digits) not in _CN_LENGTHS:
        return None
    return digits


_spaced = spaced


@dataclass(frozen=True)
class ScopeMatch:
    """Where a CN code falls in Annex I."""

    in_scope: bool
    line: str
    sector: str
    annex_ii: bool


class CbamScope:
    """CBAM Annex I lines, matched by longest CN prefix."""

    def __init__(self, table: FactorTable) -> None:
        self.table = table
        self._rows = sorted(table.rows, key=lambda r: -len(r["cn_prefix"]))
        self._cache: dict[str, ScopeMatch | str] = {}

    def classify(self, cn: str) -> ScopeMatch | str:
        """The Annex I status of a normalised code, or why it cannot be decided."""
        found = self._cache.get(cn)
        if found is None:
            found = self._cache[cn] = self._classify(cn)
        return found

    def _classify(self, cn: str) -> ScopeMatch | str:
        match = next((r for r in self._rows if cn.startswith(r["cn_prefix"])), None)
        longer = [r for r in self._rows
                  if r["cn_prefix"].startswith(cn) and len(r["cn_prefix"]) > len(cn)]
        status = match["scope"] if match is not None else "out"
        mixed = sorted({_spaced(r["cn_prefix"]) for r in longer if r["scope"] != status})
        if mixed:
            return (f"CN {_spaced(cn)} is only partly covered by CBAM Annex I (lines "
                    f"{', '.join(mixed)} differ); give the full 8-digit CN code")
        if match is None or match["scope"] != "in":
            return ScopeMatch(False, match["key"] if match else "", "", False)
        return ScopeMatch(True, match["key"], match["sector"], match["annex_ii"] == "yes")


@dataclass(frozen=True)
class CbamResult:
    """CBAM embedded emissions of a shipment's goods, or why they do not apply."""

    in_scope: bool
    reason: str | None = None
    cn_code: str | None = None
    sector: str | None = None
    country_of_origin: str | None = None
    method: str | None = None
    markup_year: str | None = None
    net_mass_kg: str | None = None
    specific_direct_t_per_t: str | None = None
    specific_indirect_t_per_t: str | None = None
    indirect_counted: bool | None = None
    embedded_direct_g: int = 0
    embedded_indirect_g: int = 0
    embedded_g: int = 0
    factor_ref: str | None = None
    annex_line: str | None = None
    default_row: str | None = None
    default_rule: str | None = None
    #: ``default``, ``actual``, ``actual-unverified`` or ``actual-verified`` where the record
    #: states it (None: a record of the first form, which did not).
    data_type: str | None = None
    import_date: str | None = None
    #: Where the import year came from: ``customs_release_date`` or ``cbam_year``.
    year_source: str | None = None

    @property
    def import_quarter(self) -> str | None:
        if self.import_date is None:
            return None
        return f"{self.import_date[:4]}-Q{(int(self.import_date[5:7]) + 2) // 3}"

    @property
    def warning(self) -> str | None:
        """What a reader of the result should know about it, or None."""
        if self.in_scope and self.year_source == "cbam_year":
            return ("the import year is taken from cbam_year: the consignment gives no "
                    "customs_release_date (the import date that decides the CBAM year)")
        return None

    def to_dict(self) -> dict[str, Any]:
        if not self.in_scope:
            return {"in_scope": False, "reason": self.reason}
        return {
            "in_scope": True,
            "cn_code": self.cn_code,
            "sector": self.sector,
            "country_of_origin": self.country_of_origin,
            "method": self.method,
            "markup_year": self.markup_year,
            "net_mass_kg": self.net_mass_kg,
            "specific_direct_t_per_t": self.specific_direct_t_per_t,
            "specific_indirect_t_per_t": self.specific_indirect_t_per_t,
            "indirect_counted": self.indirect_counted,
            "embedded_direct_g": self.embedded_direct_g,
            "embedded_indirect_g": self.embedded_indirect_g,
            "embedded_g": self.embedded_g,
            "factor_ref": self.factor_ref,
            **{name: value for name, value in (
                ("annex_line", self.annex_line), ("default_row", self.default_row),
                ("default_rule", self.default_rule), ("data_type", self.data_type)
            ) if value is not None},
            **({"import_date": self.import_date, "import_quarter": self.import_quarter,
                "year_source": self.year_source}
               if self.year_source == "customs_release_date" else {}),
        }


def out_of_scope(reason: str) -> CbamResult:
    return CbamResult(in_scope=False, reason=reason)


def _grams(mass_g: int, per_t_u: int) -> int:
    """``mass_g`` grams of goods times ``per_t_u`` 10**-6 t/t, in whole grams (half up)."""
    return (mass_g * per_t_u + 500_000) // 1_000_000


def _fmt(value_u: int) -> str:
    whole, frac = divmod(value_u, 1_000_000)
    text = f"{whole}.{frac:06d}".rstrip("0").rstrip(".")
    return text


def embedded_emissions(
    scope: CbamScope, defaults: CbamDefaults, *, cn: str, country: str | None,
    year: int | None, mass_g: int, net_mass_kg: str,
    actual_u: tuple[int, int] | None, import_date: date | None = None,
    data_type: str | None = None,
) -> CbamResult | tuple[str, str]:
    """CBAM embedded emissions for ``mass_g`` grams of goods, or (field, problem) preventing them.

    ``actual_u`` is the installation's (direct, indirect) specific emissions in 10**-6 t CO2e
    per tonne when the record declares actual data. ``import_date`` (the customs release
    date), when given, decides the import year instead of ``year``; problems about it name the
    field ``customs_release_date``. ``data_type`` is stated in the result.
    """
    match = scope.classify(cn)
    if isinstance(match, str):
        return "cn_code", match
    if not match.in_scope:
        return out_of_scope(f"CN {_spaced(cn)} is not a CBAM good (Regulation (EU) 2023/956 "
                            "Annex I)")
    if country is None:
        return "country_of_origin", "a CBAM good needs its country of origin"
    indirect_counted = not match.annex_ii
    year_field = "cbam_year"
    if import_date is not None:
        year, year_field = import_date.year, "customs_release_date"
        if import_date.year < 2026:
            return year_field, (
                f"customs_release_date {import_date.isoformat()} is before the CBAM definitive "
                "period (from 1 January 2026; Regulation (EU) 2023/956, Art. 32): no "
                "definitive-period figure for goods imported then")
    common = CbamResult(in_scope=True, cn_code=_spaced(cn), sector=match.sector,
                        country_of_origin=country, net_mass_kg=net_mass_kg,
                        indirect_counted=indirect_counted, data_type=data_type,
                        import_date=None if import_date is None else import_date.isoformat(),
                        year_source=year_field if year is not None else None)
    if actual_u is not None:
        direct_u, indirect_u = actual_u
        direct_g = _grams(mass_g, direct_u)
        indirect_g = _grams(mass_g, indirect_u) if indirect_counted else 0
        return replace(common, method="actual",
                       specific_direct_t_per_t=_fmt(direct_u),
                       specific_indirect_t_per_t=_fmt(indirect_u),
                       embedded_direct_g=direct_g, embedded_indirect_g=indirect_g,
                       embedded_g=direct_g + indirect_g)
    if match.sector == ELECTRICITY:
        return "cn_code", electricity_default_problem(country, defaults.table.name)
    if defaults.legacy:
        return _legacy_default(defaults, common, cn=cn, country=country, year=year,
                               mass_g=mass_g)
    year_problem = _year_problem(year)
    if year_problem is not None or year is None:
        return "cbam_year", year_problem or ""
    found = defaults.resolve(cn, country, year, direct_only=match.annex_ii,
                             sector=match.sector)
    if isinstance(found, tuple):
        return (year_field if found[0] == "cbam_year" else found[0]), found[1]
    return _with_default(common, found, mass_g)


def electricity_default_problem(country: str, table: str) -> str:
    """Why imported electricity has no default value here: the figure that would be needed."""
    return (f"CN 2716 00 00 (electrical energy) from {country}: no default value for imported "
            f"electricity in table {table}. Annex I of Implementing Regulation (EU) 2025/2621 "
            "gives default values per tonne of goods, none for electricity; the default for "
            "electricity is the CO2 emission factor of the exporting country in t CO2 per MWh "
            "(Regulation (EU) 2023/956, Annex IV, point 4.2), and no such figure for country "
            f"{country} is loaded. Declare the actual emissions of the electricity instead")


def _year_problem(year: int | None) -> str | None:
    if year is None:
        return ("a CBAM good on default values needs its import date (the consignment's "
                "customs_release_date) or, in files of the first form, cbam_year (the import "
                "year) to choose the mark-up of that year")
    if year < 2026:
        return (f"cbam_year {year}: the definitive-period default values apply from 2026 (no "
                "transitional-period defaults are loaded)")
    return None


def _fmt_e8(value_e8: int) -> str:
    whole, frac = divmod(value_e8, 100_000_000)
    return f"{whole}.{frac:08d}".rstrip("0").rstrip(".")


def _with_default(common: CbamResult, found: DefaultValue, mass_g: int) -> CbamResult:
    embedded_g = (mass_g * found.marked_e8 + 50_000_000) // 100_000_000
    row = "Other countries and territories" if found.rule else found.annex_country
    return replace(common, method="default", markup_year=found.markup_label,
                   specific_direct_t_per_t=_fmt_e8(found.marked_e8),
                   specific_indirect_t_per_t="0", embedded_direct_g=embedded_g,
                   embedded_indirect_g=0, embedded_g=embedded_g, factor_ref=found.ref,
                   annex_line=_spaced(found.line), default_row=row,
                   default_rule=found.rule)


def _legacy_default(defaults: CbamDefaults, common: CbamResult, *, cn: str, country: str,
                    year: int | None, mass_g: int) -> CbamResult | tuple[str, str]:
    """A value of the first China-only table, from its published mark-up columns."""
    found = defaults.lookup(cn, country)
    if isinstance(found, str):
        return ("cn_code" if "narrower" in found else "country_of_origin"), found
    key = found[0]
    year_problem = _year_problem(year)
    if year_problem is not None or year is None:
        return "cbam_year", year_problem or ""
    total_u, _, label = defaults.value(key, year)
    direct_g = _grams(mass_g, total_u)
    return replace(common, method="default", markup_year=label,
                   specific_direct_t_per_t=_fmt(total_u), specific_indirect_t_per_t="0",
                   embedded_direct_g=direct_g, embedded_indirect_g=0,
                   embedded_g=direct_g, factor_ref=defaults.table.ref(key))
