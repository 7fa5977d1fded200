"""The verifier's column-by-column reading of a declaration's records gives what the row-by-row
one gives: the rows in file order from the readings of two processes, and the same verdict on
each record's embedded emissions (the first wrong one named), including where the grams could
leave int64."""

from __future__ import annotations

from array import array
from datetime import date

import pytest

from ledger.declaration.build import declaration_factor_set
from ledger.declaration.consignments import ConsignmentRow
from ledger.errors import FactorError
from ledger.factors.factorset import FactorSet
from ledger.verify.declaration import _CbamRules, _check_cbam, _check_cbam_columns, _grams
from ledger.verify.declaration_records import FileRows, Inputs, ReadRows, file_rows
from ledger.verify.verdict import CheckFailed

ANNEX = "eu-cbam-2025-2621-annex-i-corrected-2026-1740"


@pytest.fixture(scope="module")
def factor_set() -> FactorSet:
    return declaration_factor_set()


def _row(n: int, *, default: bool, mass_g: int, day: date) -> ConsignmentRow:
    return ConsignmentRow(
        shipment_id=f"S-{n:03d}", exporter="0x" + "22" * 20, declarant="NL009900001",
        import_date=day, cn8="73181100", cn_code="73181100", sector="iron_and_steel",
        country="CN", installation_id="I-1" if default else "I-2", operator="Op",
        route_text="BF-BOF", data_type="default" if default else "actual-verified",
        method="default" if default else "actual", verifier="" if default else "V",
        net_mass_g=mass_g, embedded_g=0,
        default_ref=f"{ANNEX}#CN.73181100" if default else "", specific_direct="3.0118",
        specific_indirect="0", markup_year="2026")


def _inputs(row: ConsignmentRow) -> Inputs:
    return ("7318 11 00", "0", "0") if row.method == "default" else ("7318 11 00", "1.9", "0.3")


def _consistent(rows: list[ConsignmentRow], factor_set: FactorSet) -> list[ConsignmentRow]:
    """The rows with the embedded grams their inputs give."""
    rules = _CbamRules(factor_set)
    out = []
    for row in rows:
        rule = rules.rule(row, row.import_date, _inputs(row))  # type: ignore[arg-type]
        assert isinstance(rule, tuple)
        out.append(row._replace(embedded_g=_grams(rule, row.net_mass_g)))
    return out


def _reading(rows: list[ConsignmentRow], inputs: list[Inputs], numbers: list[int]) -> ReadRows:
    """What one process's reading of these rows (consignments ``numbers``) holds."""
    out = ReadRows([], array("q"), array("q"), [], array("q"), [], [], [])
    places: dict[tuple[object, ...], int] = {}
    for number, row, given in zip(numbers, rows, inputs, strict=True):
        key = (*row[1:3], *row[4:14], *row[16:], given)
        if key not in places:
            places[key] = len(out.common)
            out.common.append((row, given))
        assert row.import_date is not None
        out.numbers.append(number)
        out.places.append(places[key])
        out.shipment_ids.append(row.shipment_id)
        out.days.append(row.import_date.toordinal())
        out.masses.append(row.net_mass_g)
        out.embedded.append(row.embedded_g)
    return out


def _file_rows(rows: list[ConsignmentRow], inputs: list[Inputs]) -> FileRows:
    """The rows as two processes read them (every third by the side), put in file order."""
    side = [n for n in range(len(rows)) if n % 3 == 0]
    main = [n for n in range(len(rows)) if n % 3]
    consignments = [{"shipmentId": row.shipment_id} for row in rows]
    return file_rows(consignments, [
        _reading([rows[n] for n in main], [inputs[n] for n in main], main),
        _reading([rows[n] for n in side], [inputs[n] for n in side], side)])


def _sample(factor_set: FactorSet, count: int = 60) -> list[ConsignmentRow]:
    return _consistent([_row(n, default=n % 2 == 0, mass_g=1000 * (n + 1) + n,
                             day=date(2026, 1 + n % 12, 1 + n % 28)) for n in range(count)],
                       factor_set)


def _verdict(rows: FileRows, fast: bool, factor_set: FactorSet) -> str:
    rules = _CbamRules(factor_set)
    try:
        count = _check_cbam_columns(rows, rules) if fast else \
            _check_cbam(rows.rows(), rows.row_inputs(), rules)
    except CheckFailed as exc:
        return f"failed: {exc}"
    except FactorError as exc:
        return f"raised: {type(exc).__name__}: {exc}"
    return f"{count} recomputed"


def test_two_readings_give_the_rows_in_file_order(factor_set: FactorSet) -> None:
    rows = _sample(factor_set)
    inputs = [_inputs(r) for r in rows]
    ordered = _file_rows(rows, inputs)
    assert ordered.rows() == rows
    assert ordered.row_inputs() == inputs
    assert len(ordered.profiles) == 4  # two profiles, read by each process
    # a consignment that no reading holds is named, the first in file order
    consignments = [{"shipmentId": row.shipment_id} for row in rows]
    with pytest.raises(CheckFailed, match=r"consignment 6 \(S-005\): its record is neither"):
        file_rows(consignments, [_reading(rows[:5] + rows[6:8], inputs[:5] + inputs[6:8],
                                          [0, 1, 2, 3, 4, 6, 7])])
    # a problem a reading found comes before a later missing record
    found = _reading(rows[:3], inputs[:3], [0, 1, 2])
    found.failed.append((3, "consignment S-003: the record does not hash to its record hash"))
    with pytest.raises(CheckFailed, match="S-003: the record does not hash"):
        file_rows(consignments, [found])


@pytest.mark.parametrize("change", ["none", "grams", "inputs", "scope", "values", "huge",
                                    "huge-wrong", "beyond-int64"])
def test_embedded_emissions_columns_and_rows_agree(factor_set: FactorSet, change: str) -> None:
    rows = _sample(factor_set)
    inputs: list[Inputs] = [_inputs(r) for r in rows]
    if change == "grams":  # two wrong: the first in file order is named
        rows[41] = rows[41]._replace(embedded_g=rows[41].embedded_g + 1)
        rows[17] = rows[17]._replace(embedded_g=rows[17].embedded_g - 1)
    elif change == "inputs":
        inputs[23] = "KeyError: 'product'"
    elif change == "scope":  # a code outside CBAM: no rule
        rows[30] = rows[30]._replace(cn_code="84181020", cn8="84181020")
        inputs[30] = ("8418 10 20", "0", "0")
    elif change == "values":  # actual values that are not numbers
        inputs[9] = ("7318 11 00", "1.9x", "0.3")
    elif change.startswith("huge"):  # grams that could leave int64: Python integers, row by row
        rows[12] = _consistent([rows[12]._replace(net_mass_g=5 * 10**18)], factor_set)[0]
        if change == "huge-wrong":
            rows[12] = rows[12]._replace(embedded_g=rows[12].embedded_g + 1)
    elif change == "beyond-int64":
        rows[50] = _consistent([rows[50]._replace(net_mass_g=10**20)], factor_set)[0]
    ordered = _file_rows(rows, inputs)
    fast = _verdict(ordered, True, factor_set)
    assert fast == _verdict(ordered, False, factor_set)
    expected = {"none": "60 recomputed", "huge": "60 recomputed",
                "beyond-int64": "60 recomputed",
                "grams": "failed: consignment S-017: embedded emissions",
                "inputs": "failed: consignment S-023: KeyError: 'product'",
                "scope": "failed: consignment S-030: cn_code: CN 8418 10 20 is not a CBAM good",
                "values": "raised: FactorError: '1.9x' is not",
                "huge-wrong": "failed: consignment S-012: embedded emissions"}[change]
    assert fast.startswith(expected), fast
