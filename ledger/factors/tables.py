"""Emission-factor tables: their schemas, validation and lookups.

A table is one CSV file of one source and version (``emission_factors/*.csv``). Every row has a
stable ``key``; numeric cells are non-negative decimals written without exponent. Values are
kept as integers scaled by 10**6 (micro-units), so that every later product is exact.

Lookups raise no exception for a missing row: they return the problem as text, so the caller can
report every problem of an input file together.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from ledger.errors import FactorError

__all__ = [
    "REEFER_CONTAINER_REFUSAL",
    "REEFER_VESSEL_CLASS",
    "SCALE",
    "SCHEMAS",
    "FactorTable",
    "FreightFactor",
    "FreightFactors",
    "MethodParameters",
    "ScaledLookup",
    "TableSchema",
    "canonical_bytes",
    "parse_table",
    "scaled_int",
]

#: Decimal places kept for factor values: 10**-6 of the table unit.
SCALE_PLACES = 6
SCALE = 10**SCALE_PLACES

_DECIMAL = re.compile(r"^(\d+)(?:\.(\d+))?$")
_KEY = re.compile(r"^[A-Za-z0-9_.+\-]+$")


def canonical_bytes(raw: bytes) -> bytes:
    """The canonical form of a table file: UTF-8 without BOM, LF line ends, one final LF."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FactorError(f"table is not UTF-8 text: {exc}") from exc
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return (text.rstrip("\n") + "\n").encode("utf-8")


def scaled_int(text: str, places: int = SCALE_PLACES) -> int:
    """``text`` (a non-negative decimal) times 10**places, exactly; FactorError if impossible."""
    match = _DECIMAL.match(text)
    if match is None:
        raise FactorError(f"{text!r} is not a non-negative decimal number")
    whole, frac = match.group(1), match.group(2) or ""
    frac = frac.rstrip("0")
    if len(frac) > places:
        raise FactorError(f"{text!r} has more than {places} decimal places")
    return int(whole) * int(10**places) + (int(frac.ljust(places, "0")) if frac else 0)


@dataclass(frozen=True)
class TableSchema:
    """Columns of one kind of table, which of them are decimals, and fixed-value columns."""

    kind: str
    columns: tuple[str, ...]
    decimals: tuple[str, ...] = ()
    optional_decimals: tuple[str, ...] = ()
    fixed: Mapping[str, str] = field(default_factory=dict)
    enums: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


_FREIGHT_COLUMNS = (
    "key", "mode", "vehicle_class", "laden_state", "refrigerated", "radiative_forcing",
    "defra_id", "defra_level_2", "defra_level_3", "defra_level_4", "defra_column_text", "unit",
    "kg_co2e_per_tkm",
)
_FREIGHT_ENUMS = {
    "mode": ("road", "rail", "sea", "air", "inland_waterway"),
    "laden_state": ("", "average", "50", "100"),
    "refrigerated": ("yes", "no"),
    "radiative_forcing": ("", "with", "without"),
}

SCHEMAS: Mapping[str, TableSchema] = {
    "freight_ttw": TableSchema(
        "freight_ttw", _FREIGHT_COLUMNS, decimals=("kg_co2e_per_tkm",),
        fixed={"unit": "kg CO2e per tonne.km"}, enums=_FREIGHT_ENUMS,
    ),
    "freight_wtt": TableSchema(
        "freight_wtt", _FREIGHT_COLUMNS, decimals=("kg_co2e_per_tkm",),
        fixed={"unit": "kg CO2e per tonne.km"}, enums=_FREIGHT_ENUMS,
    ),
    "cbam_defaults": TableSchema(
        "cbam_defaults",
        ("key", "cn_code", "description", "country", "direct_t_per_t", "indirect_t_per_t",
         "total_t_per_t", "markup_2026_t_per_t", "markup_2027_t_per_t", "markup_2028_t_per_t",
         "route", "status", "source_url"),
        decimals=("direct_t_per_t", "total_t_per_t", "markup_2026_t_per_t",
                  "markup_2027_t_per_t", "markup_2028_t_per_t"),
        optional_decimals=("indirect_t_per_t",),
        enums={"status": ("official", "secondary")},
    ),
    "cbam_annex_i": TableSchema(
        "cbam_annex_i",
        ("key", "country", "annex_country", "sector", "cn_code", "description",
         "direct_t_per_t", "indirect_t_per_t", "total_t_per_t", "markup_2026_t_per_t",
         "markup_2027_t_per_t", "markup_2028_t_per_t", "route", "act", "edition", "status"),
        optional_decimals=("direct_t_per_t", "indirect_t_per_t", "total_t_per_t",
                           "markup_2026_t_per_t", "markup_2027_t_per_t",
                           "markup_2028_t_per_t"),
        enums={"sector": ("iron_and_steel", "aluminium", "cement", "fertilisers", "hydrogen"),
               "status": ("official", "secondary")},
    ),
    "cbam_countries": TableSchema(
        "cbam_countries", ("key", "country", "annex_country", "rows_loaded"),
        enums={"rows_loaded": ("yes", "no")},
    ),
    "cbam_markups": TableSchema(
        "cbam_markups",
        ("key", "sector", "first_year", "last_year", "markup_percent", "act", "status",
         "source"),
        enums={"sector": ("iron_and_steel", "aluminium", "cement", "fertilisers", "hydrogen"),
               "status": ("official", "secondary")},
    ),
    "cbam_benchmarks": TableSchema(
        "cbam_benchmarks",
        ("key", "sector", "cn_code", "column", "route", "benchmark_t_per_t", "act", "edition",
         "status", "source"),
        decimals=("benchmark_t_per_t",),
        enums={"sector": ("iron_and_steel", "aluminium", "cement", "fertilisers", "hydrogen"),
               "column": ("A", "B"), "status": ("official", "secondary")},
    ),
    "cbam_factors": TableSchema(
        "cbam_factors", ("key", "year", "cbam_factor_percent", "act", "status", "source"),
        decimals=("cbam_factor_percent",), enums={"status": ("official", "secondary")},
    ),
    "cbam_prices": TableSchema(
        "cbam_prices",
        ("key", "period", "first_day", "last_day", "price_eur", "published", "act", "status",
         "source"),
        decimals=("price_eur",), enums={"status": ("official", "secondary")},
    ),
    "cbam_scope": TableSchema(
        "cbam_scope",
        ("key", "cn_prefix", "scope", "sector", "ghg", "annex_ii", "description"),
        enums={"scope": ("in", "excluded"), "annex_ii": ("", "yes", "no")},
    ),
    "grid_electricity": TableSchema(
        "grid_electricity",
        ("key", "series", "region", "year", "kg_co2_per_kwh", "gas_basis", "status",
         "source_url"),
        decimals=("kg_co2_per_kwh",),
        enums={"gas_basis": ("CO2", "CO2e"), "status": ("official", "secondary")},
    ),
    "product_defaults": TableSchema(
        "product_defaults",
        ("key", "product", "data_year", "t_per_t", "gas_basis", "boundary", "status",
         "source_url"),
        decimals=("t_per_t",),
        enums={"gas_basis": ("CO2", "CO2e"), "status": ("official", "secondary")},
    ),
    "method_parameters": TableSchema(
        "method_parameters", ("key", "value", "unit", "basis"),
    ),
}


@dataclass(frozen=True)
class FactorTable:
    """One validated table: rows by key, in file order."""

    name: str
    kind: str
    sha256: str
    rows: tuple[Mapping[str, str], ...]
    by_key: Mapping[str, Mapping[str, str]]

    def ref(self, key: str) -> str:
        """The traceable reference of a row: ``<table name>#<row key>``."""
        return f"{self.name}#{key}"

    def scaled(self, key: str, column: str) -> int:
        """A decimal cell of a row, times 10**6."""
        return scaled_int(self.by_key[key][column])


def parse_table(name: str, kind: str, raw: bytes) -> FactorTable:
    """Validate a table's canonical bytes against its schema; FactorError lists every problem."""
    schema = SCHEMAS.get(kind)
    if schema is None:
        raise FactorError(f"table {name}: unknown table kind {kind!r}; expected one of "
                          + ", ".join(sorted(SCHEMAS)))
    data = canonical_bytes(raw)
    reader = csv.DictReader(io.StringIO(data.decode("utf-8"), newline=""))
    header = tuple(reader.fieldnames or ())
    if header != schema.columns:
        raise FactorError(f"table {name}: columns {list(header)} do not match the {kind} "
                          f"schema {list(schema.columns)}")
    problems: list[str] = []
    rows: list[Mapping[str, str]] = []
    by_key: dict[str, Mapping[str, str]] = {}
    for line, row in enumerate(reader, start=2):
        if None in row or any(v is None for v in row.values()):
            problems.append(f"line {line}: wrong number of cells")
            continue
        key = row["key"]
        if not _KEY.match(key):
            problems.append(f"line {line}: key {key!r} is empty or has characters other than "
                            "letters, digits and _ . + -")
        elif key in by_key:
            problems.append(f"line {line}: duplicate key {key!r}")
        for column, value in schema.fixed.items():
            if row[column] != value:
                problems.append(f"line {line}: {column} is {row[column]!r}, expected {value!r}")
        for column, choices in schema.enums.items():
            if row[column] not in choices:
                problems.append(f"line {line}: {column} {row[column]!r} is not one of "
                                f"{', '.join(repr(c) for c in choices)}")
        for column in schema.decimals + schema.optional_decimals:
            value = row[column]
            if value == "" and column in schema.optional_decimals:
                continue
            try:
                scaled_int(value)
            except FactorError as exc:
                problems.append(f"line {line}: {column}: {exc} (values must be non-negative, "
                                f"at most {SCALE_PLACES} decimal places)")
        rows.append(row)
        by_key.setdefault(key, row)
    if not rows:
        problems.append("the table has no rows")
    if problems:
        raise FactorError(f"table {name} ({kind}) is invalid:\n"
                          + "\n".join(f"  - {p}" for p in problems))
    return FactorTable(name=name, kind=kind, sha256=hashlib.sha256(data).hexdigest(),
                       rows=tuple(rows), by_key=by_key)


class MethodParameters:
    """Named method parameters (defaults, distance adjustments) of a method table."""

    def __init__(self, table: FactorTable) -> None:
        self.table = table

    def get(self, key: str) -> str | None:
        row = self.table.by_key.get(key)
        return row["value"] if row is not None else None

    def require(self, key: str) -> str:
        value = self.get(key)
        if value is None:
            raise FactorError(f"method parameter {key!r} is missing from table {self.table.name}")
        return value

    def decimal(self, key: str) -> Decimal:
        return Decimal(self.require(key))


#: The DESNZ sea class of refrigerated cargo vessels (reefer ships, not reefer containers).
REEFER_VESSEL_CLASS = "refrigerated_cargo"

#: Why a refrigerated container on a container ship has no default intensity.
REEFER_CONTAINER_REFUSAL = (
    "no cited intensity for refrigerated (reefer) containers on container ships: DESNZ "
    "publishes 'Refrigerated cargo, All dwt' for reefer vessels only, which is lower than its "
    "container-ship figures and would understate a reefer container; the reefer-container "
    "intensities of GLEC and Clean Cargo are per TEU-km and are not loaded (no tonnes-per-TEU "
    "conversion is sourced). Give the carrier's own intensity for the leg "
    "(carrier_co2e_ttw_kg_per_tkm, carrier_co2e_wtt_kg_per_tkm, carrier_source, "
    "carrier_period), or vehicle_class 'refrigerated_cargo' for a reefer vessel")


@dataclass(frozen=True)
class FreightFactor:
    """The TTW and WTT factors of one transport category, in 10**-6 kg CO2e per t·km."""

    key: str
    ttw_u: int
    wtt_u: int
    ttw_ref: str
    wtt_ref: str


class FreightFactors:
    """Freight factors joined from a TTW and a WTT table on their common row keys."""

    def __init__(self, ttw: FactorTable, wtt: FactorTable, params: MethodParameters) -> None:
        missing = sorted(set(ttw.by_key) ^ set(wtt.by_key))
        if missing:
            raise FactorError(f"tables {ttw.name} and {wtt.name} must have the same keys; "
                              f"unmatched: {', '.join(missing[:10])}")
        self.ttw, self.wtt, self.params = ttw, wtt, params
        self._index: dict[tuple[str, str, str, str, str], str] = {}
        self._classes: dict[str, dict[str, list[Mapping[str, str]]]] = {}
        for row in ttw.rows:
            dims = (row["mode"], row["vehicle_class"], row["laden_state"], row["refrigerated"],
                    row["radiative_forcing"])
            if dims in self._index:
                raise FactorError(f"table {ttw.name}: rows {self._index[dims]!r} and "
                                  f"{row['key']!r} describe the same category")
            self._index[dims] = row["key"]
            self._classes.setdefault(row["mode"], {}).setdefault(row["vehicle_class"], []).append(
                row)
        self._cache: dict[tuple[str, str | None, str | None, bool | None, bool | None],
                          FreightFactor | tuple[str, str]] = {}

    @property
    def modes(self) -> tuple[str, ...]:
        return tuple(self._classes)

    def factor(self, key: str) -> FreightFactor:
        return FreightFactor(key, self.ttw.scaled(key, "kg_co2e_per_tkm"),
                             self.wtt.scaled(key, "kg_co2e_per_tkm"),
                             self.ttw.ref(key), self.wtt.ref(key))

    def resolve(self, mode: str, vehicle_class: str | None, laden_state: str | None,
                refrigerated: bool | None, radiative_forcing: bool | None,
                ) -> FreightFactor | tuple[str, str]:
        """The factor for a leg's category, or (field, message) saying why there is none."""
        args = (mode, vehicle_class, laden_state, refrigerated, radiative_forcing)
        found = self._cache.get(args)
        if found is None:
            found = self._resolve(*args)
            self._cache[args] = found
        return found

    def _resolve(self, mode: str, vehicle_class: str | None, laden_state: str | None,
                 refrigerated: bool | None, radiative_forcing: bool | None,
                 ) -> FreightFactor | tuple[str, str]:
        classes = self._classes.get(mode)
        if classes is None:
            return ("mode", f"no emission factor for mode {mode!r} in tables {self.ttw.name} / "
                    f"{self.wtt.name} (modes covered: {', '.join(self.modes)})")
        vc = vehicle_class or self.params.get(f"default.{mode}.vehicle_class")
        if vc is None:
            return ("vehicle_class", f"vehicle_class is required for mode {mode!r}")
        rows = classes.get(vc)
        if rows is None:
            return ("vehicle_class", f"unknown vehicle class {vc!r} for mode {mode!r}; expected "
                    "one of " + ", ".join(sorted(classes)))
        laden_states = {r["laden_state"] for r in rows}
        if laden_states == {""}:
            if laden_state is not None:
                return ("laden_state", f"laden_state does not apply to vehicle class {vc!r}")
            ls = ""
        else:
            ls = laden_state or self.params.get(f"default.{mode}.laden_state") or "average"
            if ls not in laden_states:
                return ("laden_state", f"laden_state {ls!r} has no factor for vehicle class "
                        f"{vc!r}; expected one of " + ", ".join(sorted(laden_states - {""})))
        refr = "yes" if refrigerated else "no"
        if refrigerated and mode != "road":
            if mode != "sea":
                return ("refrigerated", f"no refrigerated factor for mode {mode!r} in tables "
                        f"{self.ttw.name} / {self.wtt.name}; give the carrier's own intensity "
                        "(carrier_co2e_ttw_kg_per_tkm, carrier_co2e_wtt_kg_per_tkm)")
            if vc != REEFER_VESSEL_CLASS:
                return ("refrigerated", REEFER_CONTAINER_REFUSAL)
            refr = "no"  # a reefer vessel: the class is refrigerated as a whole
        if mode == "air":
            rf_default = self.params.get("default.air.radiative_forcing") or "without"
            rf = rf_default if radiative_forcing is None else (
                "with" if radiative_forcing else "without")
        else:
            if radiative_forcing is not None:
                return ("radiative_forcing", "radiative_forcing applies to air legs only")
            rf = ""
        key = self._index.get((mode, vc, ls, refr, rf))
        if key is None:
            what = "refrigerated " if refrigerated else ""
            return ("vehicle_class",
                    f"no factor for {what}vehicle class {vc!r} (laden state {ls or 'n/a'})")
        return self.factor(key)


class ScaledLookup:
    """Rows of a table by key, one decimal column scaled by 10**6 (grid or product factors)."""

    def __init__(self, table: FactorTable, column: str) -> None:
        self.table, self.column = table, column

    def get(self, key: str) -> tuple[int, str] | str:
        """(value times 10**6, reference) or a message naming the missing key."""
        if key not in self.table.by_key:
            return (f"unknown factor {key!r} in table {self.table.name}; expected one of "
                    + ", ".join(sorted(self.table.by_key)))
        return self.table.scaled(key, self.column), self.table.ref(key)
