"""The vectorised CSV reader of shipment legs (one row per leg) into a :class:`ShipmentFrame`.

Each distinct value of a text column is validated once, with the same functions as the JSON
reader (:mod:`ledger.inputs.shipments`); decimal columns are parsed exactly on byte matrices, and
any value the fast parser is not sure of goes through the scalar rule, which decides and explains.
So both file forms accept and reject the same things.

**Spreadsheet exports.** The file is read by :mod:`ledger.inputs.sheet` (separator and
encoding detected, column names in any case, named extra columns left out, blank rows skipped
with line numbers kept); codes of a fixed vocabulary are then read regardless of case and
spacing (``Road`` = ``road``, ``Inland waterway`` = ``inland_waterway``, ``HGV all`` =
``hgv_all``, ``cn`` = ``CN``, ``fob`` = ``FOB``, ``Actual verified`` = ``actual-verified``);
free text (ids, places, names, EORI numbers) is kept as written, and a decimal comma is named
in the problem with the value to write.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ledger.errors import InputError, InputProblem
from ledger.factors.distances import location_syntax_problem
from ledger.inputs.consignment import Consignment, consignment_from_mapping
from ledger.inputs.frame import (
    CSV_COLUMN_OF,
    GOODS_COLUMNS,
    LEG_COLUMNS,
    NONE,
    Int32Array,
    Int64Array,
    ShipmentFrame,
    dispatch_days_from_text,
)
from ledger.inputs.sheet import code_of, column_key, comma_problem, header_problems, read_table
from ledger.inputs.shipments import (
    LIMITS,
    TRANSPORT_MODES,
    FieldReader,
    Leg,
    Product,
    leg_problems,
    mode_problem,
    parse_bool_text,
    parse_decimal_text,
    parse_int_text,
    parse_laden_text,
    product_from_mapping,
)

__all__ = ["decimal_fast", "read_csv_frame"]

#: CSV column -> field of the nested form (the most specific field a column names).
_NESTED_OF = {v: k for k, v in CSV_COLUMN_OF.items()
              if not any(o.startswith((k + ".", k + "[")) for o in CSV_COLUMN_OF)}
_PATH_PART = re.compile(r"([a-z_]+)(?:\[([0-9]+)\])?")
_NONE = NONE


class _Bad(str):
    """A validation message standing in for a parsed value."""


def _required(name: str, parse: Callable[[str], Any]) -> Callable[[str], Any]:
    def wrapped(text: str) -> Any:
        if text.strip() == "":
            return _Bad(f"{name} is required")
        return parse(text)
    return wrapped


def _optional(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    def wrapped(text: str) -> Any:
        return None if text.strip() == "" else parse(text)
    return wrapped


def _decimal(name: str, places: int, positive: bool = True) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        comma = comma_problem(text) if "," in text else None
        if comma is not None:
            return _Bad(comma)
        value = parse_decimal_text(text.strip(), name, positive=positive)
        return _Bad(value) if isinstance(value, str) else int(value.scaleb(places))
    return parse


def _problem_or(value: str | None, ok: Any) -> Any:
    return ok if value is None else _Bad(value)


def _shipment_id(text: str) -> Any:
    sid = text.strip()
    if not sid:
        return _Bad("shipment_id is required (non-empty text)")
    if len(sid) > 128:
        return _Bad("shipment_id is longer than 128 characters")
    return sid


def _int(low: int, high: int) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        value = parse_int_text(text, low, high)
        return _Bad(value) if isinstance(value, str) else value
    return parse


def _bool(text: str) -> Any:
    value = parse_bool_text(text)
    return _Bad(value) if isinstance(value, str) else int(value)


def _laden(text: str) -> Any:
    value = parse_laden_text(text)
    return _Bad(value[0]) if isinstance(value, tuple) else value


def _mode(text: str) -> Any:
    code = code_of(text)
    return _problem_or(mode_problem(code) and mode_problem(text.strip()), code)


_PARSERS: dict[str, Callable[[str], Any]] = {
    "shipment_id": _shipment_id,
    "leg": _required("leg (the order of the leg, 1, 2, ...)", _int(1, 10_000)),
    "mode": _required("mode", _mode),
    "mass_kg": _required("mass_kg", _decimal("mass_kg", 3)),
    "distance_km": _optional(_decimal("distance_km", 3)),
    "origin": _optional(lambda t: _problem_or(location_syntax_problem(t.strip()), t.strip())),
    "destination": _optional(
        lambda t: _problem_or(location_syntax_problem(t.strip()), t.strip())),
    "vehicle_class": _optional(code_of),
    "laden_state": _optional(_laden),
    "refrigerated": _optional(_bool),
    "radiative_forcing": _optional(_bool),
    "avoid_suez": _optional(_bool),
    "avoid_panama": _optional(_bool),
    "hub_co2e_ttw_kg_per_t": _optional(_decimal("hub_co2e_ttw_kg_per_t", 6, positive=False)),
    "hub_co2e_wtw_kg_per_t": _optional(_decimal("hub_co2e_wtw_kg_per_t", 6, positive=False)),
}
_DECIMAL_COLUMNS = {"mass_kg": 3, "distance_km": 3, "hub_co2e_ttw_kg_per_t": 6,
                    "hub_co2e_wtw_kg_per_t": 6}
_CATEGORY_COLUMNS = ("leg", "mode", "origin", "destination", "vehicle_class", "laden_state",
                     "refrigerated", "radiative_forcing", "avoid_suez", "avoid_panama")
_CSV_DTYPES: dict[str, Any] = {c: ("category" if c in _CATEGORY_COLUMNS else object)
                               for c in (*LEG_COLUMNS, *GOODS_COLUMNS)}
_INT_DEFAULTS = {"leg": 0, "mass_kg": 0, "distance_km": _NONE, "refrigerated": _NONE,
                 "radiative_forcing": _NONE, "avoid_suez": _NONE, "avoid_panama": _NONE,
                 "hub_co2e_ttw_kg_per_t": _NONE, "hub_co2e_wtw_kg_per_t": _NONE}


def _parse_column(series: pd.Series, parse: Callable[[str], Any],
                  ) -> tuple[npt.NDArray[np.intp], list[Any], npt.NDArray[np.bool_]]:
    """Codes per row, parsed value per distinct text, and which distinct values are bad."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes = series.cat.codes.to_numpy().astype(np.intp)
        uniques: Any = series.cat.categories
    else:
        codes, uniques = pd.factorize(series.to_numpy(object), sort=False)
    parsed = [parse(str(u)) for u in uniques]
    bad = np.fromiter((isinstance(p, _Bad) for p in parsed), dtype=bool, count=len(parsed))
    return codes, parsed, bad


_DIGIT0, _DIGIT9, _DOT = ord("0"), ord("9"), ord(".")
_POW10 = np.asarray([10**k for k in range(19)], dtype=np.int64)


def decimal_fast(values: npt.NDArray[np.object_], places: int,
                 ) -> tuple[Int64Array, npt.NDArray[np.bool_]]:
    """Plain decimals ("123", "12.5") times 10**places, where the text is surely valid.

    Returns (scaled values, sure): rows not ``sure`` (empty, other characters, over 18 digits,
    more than ``places`` significant decimals) must go through
    :func:`ledger.inputs.shipments.parse_decimal_text`, which decides and explains.
    """
    n = len(values)
    out = np.zeros(n, dtype=np.int64)
    sure = np.zeros(n, dtype=bool)
    for start in range(0, n, _CHUNK):
        end = min(n, start + _CHUNK)
        part = values[start:end]
        try:
            text = part.astype(np.bytes_)
        except UnicodeEncodeError:
            ascii_rows = np.fromiter((str(v).isascii() for v in part), dtype=bool,
                                     count=len(part))
            text = np.where(ascii_rows, part, "").astype(np.bytes_)
        out[start:end], sure[start:end] = _decimal_chunk(text, places)
    return out, sure


_CHUNK = 1 << 16


def _decimal_chunk(text: npt.NDArray[np.bytes_], places: int,
                   ) -> tuple[Int64Array, npt.NDArray[np.bool_]]:
    n, width = len(text), text.dtype.itemsize
    if width == 0 or width > 40:
        return np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool)
    chars = text.view(np.uint8).reshape(n, width)
    value = np.zeros(n, dtype=np.int64)
    ok = np.ones(n, dtype=bool)
    ended = np.zeros(n, dtype=bool)
    seen_dot = np.zeros(n, dtype=bool)
    before = np.zeros(n, dtype=np.int64)
    after = np.zeros(n, dtype=np.int64)
    for j in range(width):
        c = chars[:, j]
        digit = (c >= _DIGIT0) & (c <= _DIGIT9)
        dot = c == _DOT
        pad = c == 0
        ok &= (digit | dot | pad) & ~(ended & ~pad) & ~(dot & seen_dot)
        ended |= pad
        value = np.where(digit, value * 10 + c - _DIGIT0, value)
        after += digit & seen_dot
        before += digit & ~seen_dot
        seen_dot |= dot
    ok &= (before >= 1) & (~seen_dot | (after >= 1)) & (before + after <= 18)
    ok &= (before + np.maximum(places - after, 0)) <= 18
    divisor = _POW10[np.clip(after - places, 0, 18)]
    ok &= (value % divisor) == 0
    scaled = (value // divisor) * _POW10[np.clip(places - after, 0, 18)]
    return np.where(ok, scaled, 0), ok


def _not_blank(df: pd.DataFrame, no_id: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_] | None:
    """Which rows to keep: a row without a shipment id whose other cells are blank too (a
    sheet's empty rows) is left out; None when every row is kept."""
    maybe = np.nonzero(no_id)[0]
    if len(maybe) == 0:
        return None
    part = df.iloc[maybe]
    blank = np.ones(len(maybe), dtype=bool)
    for column in part.columns:
        blank &= (part[column].astype(str).str.strip() == "").to_numpy()
    if not blank.any():
        return None
    keep = np.ones(len(df), dtype=bool)
    keep[maybe[blank]] = False
    return keep


def read_csv_frame(path: Path | str, *,
                   collect: list[InputProblem] | None = None,
                   separator: str | None = None,
                   encoding: str | None = None,
                   ignore_columns: Collection[str] = (),
                   warnings: list[str] | None = None) -> ShipmentFrame:
    """Read and validate a CSV of legs; InputError lists every problem of the file.

    With ``collect``, problems are appended there instead and the frame holds only the
    shipments without problems (so later checks can report theirs in the same run).
    ``separator`` (``,``, ``;``, tab, or comma / semicolon / tab) and ``encoding`` override
    detection; ``ignore_columns`` names extra columns to leave out, each noted in ``warnings``
    (any other unknown column is a problem).
    """
    path = Path(path)
    ignore = frozenset(column_key(c) for c in ignore_columns)
    df, dropped = read_table(path, separator, encoding, ignore, _CSV_DTYPES)
    for name in dropped:
        if warnings is not None:
            warnings.append(f"column {name!r} ignored (not read)")
    problems = header_problems(df, ignore)
    if problems:
        raise InputError(problems)
    sid_codes, sid_values, sid_bad = _shipment_ids(df.pop("shipment_id").to_numpy(object))
    line = np.arange(2, len(df) + 2, dtype=np.int64)
    blank_id = np.zeros(len(sid_values), dtype=bool)
    blank_id[sid_bad] = [str(sid_values[i]).startswith("shipment_id is required")
                         for i in np.nonzero(sid_bad)[0].tolist()]
    keep = _not_blank(df, blank_id[sid_codes])
    if keep is not None:
        df = df[keep].reset_index(drop=True)
        sid_codes, line = sid_codes[keep], line[keep]
    if len(df) == 0:
        raise InputError(f"{path}: the file has no legs")
    n = len(df)
    row_sid = np.asarray([None if isinstance(v, _Bad) else v for v in sid_values],
                         dtype=object)[sid_codes]
    row_bad = np.zeros(n, dtype=bool)

    def report(rows: npt.NDArray[np.intp], column: str, messages: Sequence[str]) -> None:
        for i, message in zip(rows.tolist(), messages, strict=True):
            problems.append(InputProblem(str(message), row_sid[i], int(line[i]), column))

    bad_rows = np.nonzero(sid_bad[sid_codes])[0]
    report(bad_rows, "shipment_id", [sid_values[sid_codes[i]] for i in bad_rows])
    row_bad[bad_rows] = True
    columns: dict[str, Any] = {}
    for column, parse in _PARSERS.items():
        if column == "shipment_id":
            continue
        if column not in df.columns:
            columns[column] = None
            continue
        series = df.pop(column)  # free each column once it is parsed
        if column in _DECIMAL_COLUMNS:
            columns[column] = _decimal_column(series.to_numpy(object), column, report,
                                              row_bad)
            continue
        codes, parsed, bad = _parse_column(series, parse)
        rows = np.nonzero(bad[codes])[0]
        report(rows, column, [parsed[codes[i]] for i in rows])
        row_bad[rows] = True
        if column in _INT_DEFAULTS:
            table = np.asarray([_INT_DEFAULTS[column] if p is None or isinstance(p, _Bad)
                                else p for p in parsed], dtype=np.int64)
            columns[column] = table[codes]
        else:
            cats = [None if p is None or isinstance(p, _Bad) else p for p in parsed]
            columns[column] = _categorical(codes, cats)
    ship_codes, ship_ids = _ships_in_order(sid_codes, sid_values)
    legs = pd.DataFrame({
        "ship": ship_codes.astype(np.int64),
        "order": columns["leg"],
        "mode": columns["mode"],
        "mass_g": columns["mass_kg"],
        "distance_m": _int_or(columns["distance_km"], n),
        "origin": _cat_or(columns["origin"], n),
        "destination": _cat_or(columns["destination"], n),
        "vehicle_class": _cat_or(columns["vehicle_class"], n),
        "laden_state": _cat_or(columns["laden_state"], n),
        "refrigerated": _int_or(columns["refrigerated"], n).astype(np.int8),
        "radiative_forcing": _int_or(columns["radiative_forcing"], n).astype(np.int8),
        "avoid_suez": _int_or(columns["avoid_suez"], n).astype(np.int8),
        "avoid_panama": _int_or(columns["avoid_panama"], n).astype(np.int8),
        "hub_ttw_u": _int_or(columns["hub_co2e_ttw_kg_per_t"], n),
        "hub_wtw_u": _int_or(columns["hub_co2e_wtw_kg_per_t"], n),
        "row": line,
    })
    _check_leg_rules(legs, row_bad, row_sid, problems)
    valid = ship_codes >= 0
    if not valid.all():
        legs = legs[valid].reset_index(drop=True)
    ship, leg_order = legs["ship"].to_numpy(), legs["order"].to_numpy()
    same = ship[1:] == ship[:-1]
    if not ((ship[1:] >= ship[:-1]).all() and (~same | (leg_order[1:] > leg_order[:-1])).all()):
        order = np.lexsort((leg_order, ship))
        legs = legs.iloc[order].reset_index(drop=True)
    _check_shipment_rules(legs, np.asarray(ship_ids, dtype=object), problems)
    first_rows = _first_rows(legs, len(ship_ids))
    exporters, products, consignments, dispatch_day = _read_goods(
        df, ship_codes, np.asarray(ship_ids, dtype=object), line, problems)
    frame = ShipmentFrame(ids=np.asarray(ship_ids, dtype=object), rows=first_rows,
                          exporters=exporters, products=products, legs=legs,
                          consignments=consignments, dispatch_day=dispatch_day)
    if problems:
        problems.sort(key=lambda p: (p.row or 0, p.field or ""))
        if collect is None:
            raise InputError(problems)
        collect.extend(problems)
        frame = frame.without({p.shipment_id for p in problems if p.shipment_id is not None})
    return frame


def _shipment_ids(values: npt.NDArray[np.object_],
                  ) -> tuple[npt.NDArray[np.intp], list[Any], npt.NDArray[np.bool_]]:
    """Codes (in order of first appearance), distinct ids or problems, which are bad."""
    codes, uniques = pd.factorize(values, sort=False)
    text = np.asarray(uniques, dtype=object).astype(np.str_)
    length = np.char.str_len(text)
    plain = (length >= 1) & (length <= 128) & (np.char.strip(text) == text)
    parsed: list[Any] = list(uniques)
    for i in np.nonzero(~plain)[0].tolist():
        parsed[i] = _shipment_id(str(uniques[i]))
    bad = np.zeros(len(parsed), dtype=bool)
    bad[~plain] = [isinstance(parsed[i], _Bad) for i in np.nonzero(~plain)[0].tolist()]
    return codes, parsed, bad


def _ships_in_order(codes: npt.NDArray[np.intp], values: list[Any],
                    ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.object_]]:
    """Shipment number of each row (codes are in order of first appearance; -1: bad id)."""
    good = np.asarray([not isinstance(v, _Bad) for v in values], dtype=bool)
    number = np.cumsum(good) - 1
    number[~good] = -1
    ids = np.asarray([v for v in values if not isinstance(v, _Bad)], dtype=object)
    return number[codes], ids


def _decimal_column(values: npt.NDArray[np.object_], column: str,
                    report: Callable[[npt.NDArray[np.intp], str, Sequence[str]], None],
                    row_bad: npt.NDArray[np.bool_]) -> Int64Array:
    """A decimal column scaled to integers; unsure rows go through the scalar parser."""
    places = _DECIMAL_COLUMNS[column]
    scaled, sure = decimal_fast(values, places)
    parse = _PARSERS[column]
    result = np.where(sure, scaled, _INT_DEFAULTS[column])
    unsure = np.nonzero(~sure)[0]
    if len(unsure):
        codes, uniques = pd.factorize(values[unsure], sort=False)
        parsed = [parse(str(u)) for u in uniques]
        table = np.asarray([_INT_DEFAULTS[column] if p is None or isinstance(p, _Bad) else p
                            for p in parsed], dtype=np.int64)
        result[unsure] = table[codes]
        bad = np.asarray([isinstance(p, _Bad) for p in parsed], dtype=bool)[codes]
        rows = unsure[bad]
        report(rows, column, [parsed[c] for c in codes[bad].tolist()])
        row_bad[rows] = True
    if sure.any():
        largest = LIMITS[column][1]
        too_big = sure & (scaled > int(largest) * 10**places)
        positive = column in ("mass_kg", "distance_km")
        not_positive = sure & (scaled <= 0) if positive else np.zeros(len(values), dtype=bool)
        rows = np.nonzero(too_big | not_positive)[0]
        if len(rows):
            report(rows, column, [parse(str(values[i])) for i in rows.tolist()])
            row_bad[rows] = True
            result[rows] = _INT_DEFAULTS[column]
    return result


def _first_rows(legs: pd.DataFrame, count: int) -> Int64Array:
    first = np.full(count, np.iinfo(np.int64).max, dtype=np.int64)
    if len(legs):
        np.minimum.at(first, legs["ship"].to_numpy(), legs["row"].to_numpy())
    return first


def _categorical(codes: npt.NDArray[np.intp], cats: list[Any]) -> pd.Categorical:
    present = [c for c in cats if c is not None]
    categories = list(dict.fromkeys(present))
    index = {c: i for i, c in enumerate(categories)}
    remap = np.asarray([index[c] if c is not None else -1 for c in cats], dtype=np.int64)
    return pd.Categorical.from_codes(remap[codes] if len(cats) else codes,
                                     categories=pd.Index(categories, dtype=object))


def _int_or(values: Any, n: int) -> Int64Array:
    return np.full(n, _NONE, dtype=np.int64) if values is None else np.asarray(values)


def _cat_or(values: Any, n: int) -> pd.Categorical:
    if values is None:
        return pd.Categorical.from_codes(np.full(n, -1), categories=pd.Index([], dtype=object))
    return values  # type: ignore[no-any-return]


def _check_leg_rules(legs: pd.DataFrame, row_bad: npt.NDArray[np.bool_],
                     row_sid: npt.NDArray[np.object_], problems: list[InputProblem]) -> None:
    """The rules tying a leg's fields together (:func:`ledger.inputs.shipments.leg_problems`)."""
    mode = legs["mode"].astype(object).to_numpy()
    is_hub = mode == "hub"
    has_hub = (legs["hub_ttw_u"].to_numpy() != _NONE) | (legs["hub_wtw_u"].to_numpy() != _NONE)
    no_distance = legs["distance_m"].to_numpy() == _NONE
    no_place = legs["origin"].isna().to_numpy() | legs["destination"].isna().to_numpy()
    candidates = np.nonzero(~row_bad & (is_hub | has_hub | (no_distance & no_place)))[0]
    for i in candidates.tolist():
        r = legs.iloc[i]

        def dec(value: int, places: int) -> Decimal | None:
            return None if value == _NONE else Decimal(int(value)).scaleb(-places)

        leg = Leg(order=int(r["order"]), mode=str(r["mode"]),
                  mass_kg=Decimal(int(r["mass_g"])).scaleb(-3),
                  origin=None if pd.isna(r["origin"]) else str(r["origin"]),
                  destination=None if pd.isna(r["destination"]) else str(r["destination"]),
                  distance_km=dec(r["distance_m"], 3),
                  vehicle_class=None if pd.isna(r["vehicle_class"]) else str(r["vehicle_class"]),
                  laden_state=None if pd.isna(r["laden_state"]) else str(r["laden_state"]),
                  hub_co2e_ttw_kg_per_t=dec(r["hub_ttw_u"], 6),
                  hub_co2e_wtw_kg_per_t=dec(r["hub_wtw_u"], 6))
        for name, message in leg_problems(leg):
            problems.append(InputProblem(message, row_sid[i], int(r["row"]), name))


def _check_shipment_rules(legs: pd.DataFrame, ship_ids: npt.NDArray[np.object_],
                          problems: list[InputProblem]) -> None:
    """Unique leg orders per shipment; at least one transport leg."""
    ship = legs["ship"].to_numpy()
    order = legs["order"].to_numpy()
    dup = np.nonzero((ship[1:] == ship[:-1]) & (order[1:] == order[:-1]))[0] + 1
    rows = legs["row"].to_numpy()
    for i in dup.tolist():
        problems.append(InputProblem(f"duplicate leg order {int(order[i])}",
                                     ship_ids[ship[i]], int(rows[i]), "leg"))
    transport = np.isin(legs["mode"].astype(object).to_numpy(), TRANSPORT_MODES)
    has_transport = np.zeros(len(ship_ids), dtype=bool)
    np.logical_or.at(has_transport, ship, transport)
    valid_mode = legs["mode"].notna().to_numpy()
    seen = np.zeros(len(ship_ids), dtype=bool)
    seen[ship[valid_mode]] = True
    for s in np.nonzero(seen & ~has_transport)[0].tolist():
        first = int(rows[np.argmax(ship == s)])
        problems.append(InputProblem("a shipment needs at least one transport leg",
                                     ship_ids[s], first, "mode"))


def _steps(path: str) -> tuple[list[tuple[str, int | None]], str]:
    """(key, list index or None) of each parent of a nested field, and its last key."""
    *parents, last = path.split(".")
    steps: list[tuple[str, int | None]] = []
    for part in parents:
        match = _PATH_PART.fullmatch(part)
        assert match is not None
        steps.append((match.group(1), None if match.group(2) is None else int(match.group(2))))
    return steps, last


_STEPS = {column: _steps(path) for column, path in _NESTED_OF.items()}


def _nested(chosen: dict[str, str]) -> dict[str, Any]:
    """The nested form of a shipment's columns (``precursor_2_cn_code`` ->
    ``product.production.precursors[2].cn_code``)."""
    out: dict[str, Any] = {}
    for column, value in chosen.items():
        steps, last = _STEPS[column]
        node = out
        for name, index in steps:
            if index is None:
                node = node.setdefault(name, {})
                continue
            items = node.setdefault(name, [])
            while len(items) < index:
                items.append({})
            node = items[index - 1]
        node[last] = value
    return out


def _upper_code(text: str) -> str:
    return text.upper()


def _data_type(text: str) -> str:
    return re.sub(r"[\s_-]+", "-", text.lower())


#: Shipment-level columns holding codes of a fixed vocabulary, and how a spreadsheet's spelling
#: is brought to it (case and spacing only; the value is still validated as in JSON).
_GOODS_CODES: dict[str, Callable[[str], str]] = {
    "country_of_origin": _upper_code,
    "installation_country": _upper_code,
    "incoterm": _upper_code,
    "production_data_type": _data_type,
}
_PRODUCT_COLUMNS = frozenset(c for c, path in _NESTED_OF.items() if path.startswith("product."))


def _read_goods(df: pd.DataFrame, ship_codes: npt.NDArray[np.intp],
                ship_ids: npt.NDArray[np.object_], line: Int64Array,
                problems: list[InputProblem],
                ) -> tuple[list[str | None], list[Product | None], list[Consignment | None],
                           Int32Array]:
    """Shipment-level columns: the same on every row that gives them, then validated; and
    the dispatch date column (NONE where not given or not a date, which is then a problem)."""
    count = len(ship_ids)
    exporters: list[str | None] = [None] * count
    products: list[Product | None] = [None] * count
    consignments: list[Consignment | None] = []
    dispatch_day = np.full(count, NONE, dtype=np.int32)
    present = [c for c in GOODS_COLUMNS if c in df.columns]
    if not present:
        return exporters, products, consignments, dispatch_day
    valid = ship_codes >= 0
    first_line = np.full(count, np.iinfo(np.int64).max, dtype=np.int64)
    chosen: dict[int, dict[str, str]] = {}
    #: per column: shipments that give it (sorted) and the line where each first does
    where_of: dict[str, tuple[npt.NDArray[np.intp], Int64Array]] = {}
    for column in present:
        raw = df[column]
        given = (raw != "").to_numpy() & valid
        if not given.any():
            continue
        rows = np.nonzero(given)[0]
        np.minimum.at(first_line, ship_codes[rows], line[rows])
        text = raw.iloc[rows].str.strip().to_numpy(object)
        code = _GOODS_CODES.get(column)
        if code is not None:
            text = np.asarray([code(t) for t in text.tolist()], dtype=object)
        keep = text != ""
        rows, text = rows[keep], text[keep]
        ships = ship_codes[rows]
        unique, first_at = np.unique(ships, return_index=True)
        values = text[first_at]
        where_of[column] = (unique, line[rows[first_at]])
        differs = np.nonzero(text != values[np.searchsorted(unique, ships)])[0]
        for k in differs.tolist():
            u = int(np.searchsorted(unique, ships[k]))
            problems.append(InputProblem(
                f"conflicting values for a shipment-level column: {values[u]!r} "
                f"(row {int(line[rows[first_at[u]]])}) and {text[k]!r}", str(ship_ids[ships[k]]),
                int(line[rows[k]]), column))
        if column == "dispatch_date":  # read once for all: no Python object per shipment
            dispatch_day[unique] = dispatch_days_from_text(values)
        for ship, value in zip(unique.tolist(), values.tolist(), strict=True):
            chosen.setdefault(ship, {})[column] = value

    def where(column: str, s: int, default: int) -> int:
        found = where_of.get(column)
        if found is None:
            return default
        k = int(np.searchsorted(found[0], s))
        return int(found[1][k]) if k < len(found[0]) and found[0][k] == s else default

    # shipments of a file often carry the same goods: a valid product is read once
    known: dict[tuple[tuple[str, str], ...], Product] = {}
    for s in np.nonzero(first_line < np.iinfo(np.int64).max)[0].tolist():
        sid = str(ship_ids[s])
        shipment_chosen = chosen.get(s, {})
        product_key = tuple(sorted((c, v) for c, v in shipment_chosen.items()
                                   if c in _PRODUCT_COLUMNS))
        if product_key in known:
            products[s] = known[product_key]
            shipment_chosen = {c: v for c, v in shipment_chosen.items()
                               if c not in _PRODUCT_COLUMNS}
        first = int(first_line[s])
        found: list[InputProblem] = []
        nested = _nested(shipment_chosen)
        reader = FieldReader(nested, found, sid, first, "")
        exporters[s] = reader.text("exporter")
        if "product" in nested:
            before = len(found)
            products[s] = product = product_from_mapping(nested["product"], reader)
            if product is not None and len(found) == before:
                known[product_key] = product
        if "consignment" in nested:
            if not consignments:
                consignments = [None] * count
            consignments[s] = consignment_from_mapping(nested["consignment"], reader)
        for p in found:
            column = CSV_COLUMN_OF.get(p.field or "", p.field or "")
            written = chosen.get(s, {}).get(column, "")
            message = (comma_problem(written) or p.message) if "," in written else p.message
            problems.append(InputProblem(message, sid, where(column, s, first), column))
    return exporters, products, consignments, dispatch_day
