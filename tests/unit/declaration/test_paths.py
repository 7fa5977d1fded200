"""The vectorised sums of a declaration give the same dataset as the per-consignment loop."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from ledger.declaration.build import declaration_factor_set
from ledger.declaration.consignments import Anchoring, ConsignmentRow
from ledger.declaration.document import (
    Columns,
    Entry,
    declaration_subject,
    declaration_subject_columns,
)
from ledger.declaration.options import DeclarationOptions
from ledger.errors import InputError
from ledger.factors.factorset import FactorSet

ANNEX = "eu-cbam-2025-2621-annex-i-corrected-2026-1740"
ANCHOR = Anchoring(31337, "0x" + "11" * 20, "0x" + "22" * 20, "root", "0x" + "33" * 32,
                   "0x" + "44" * 32, "0x" + "55" * 32, 7)
ESTIMATES = {"2026-Q2": Decimal("70.10"), "2026-Q3": Decimal("71.00"),
             "2026-Q4": Decimal("72.95")}


def _row(rng: random.Random, n: int) -> ConsignmentRow:
    steel = rng.random() < 0.5
    default = rng.random() < 0.5
    mass_g = rng.randint(1, 40_000) * 1000 + rng.randint(0, 999)
    if steel:
        cn, value, route = "73181100", "3.0118", "BF-BOF"
    else:
        cn, value, route = "76041090", "5.3691", "(K) primary"
    specific = Decimal(value) if default else Decimal(rng.randint(100, 9000)) / 1000
    embedded = int((mass_g * specific).to_integral_value())
    return ConsignmentRow(
        shipment_id=f"S-{n}", exporter="0x" + "22" * 20, declarant="NL009900001",
        import_date=date(2026, rng.randint(1, 12), rng.randint(1, 28)), cn8=cn, cn_code=cn,
        sector="iron_and_steel" if steel else "aluminium", country="CN",
        installation_id=f"I-{rng.randint(1, 3)}", operator="Op", route_text=route,
        data_type="default" if default else "actual-verified",
        method="default" if default else "actual",
        verifier="" if default else "V", net_mass_g=mass_g, embedded_g=embedded,
        default_ref=f"{ANNEX}#CN.{cn}" if default else "", specific_direct=value,
        specific_indirect="0", markup_year="2026")


@pytest.fixture(scope="module")
def factor_set() -> FactorSet:
    return declaration_factor_set()


def _subject(rows: list[ConsignmentRow], factor_set: FactorSet, fast: bool) -> dict[str, object]:
    entries = [Entry(r, "0x" + "66" * 32, 0, 0, 0) for r in rows]
    return declaration_subject(
        entries, [ANCHOR], declarant="NL009900001", year=2026, factor_set=factor_set,
        options=DeclarationOptions(price_estimates=ESTIMATES), consignment_factor_set_id="0x",
        proofs=lambda _n, _m: [], fast=fast)


def test_fast_path_equals_the_per_consignment_loop(factor_set: FactorSet) -> None:
    rng = random.Random(2026)
    for size in (1, 7, 300, 3000):
        rows = [_row(rng, n) for n in range(size)]
        fast = _subject(rows, factor_set, fast=True)
        assert fast == _subject(rows, factor_set, fast=False)
        totals = fast["totals"]
        assert isinstance(totals, dict) and totals["consignments"] == size


def test_a_year_without_cbam_factor_is_refused(factor_set: FactorSet) -> None:
    row = _row(random.Random(1), 1)
    entries = [Entry(row, "0x" + "66" * 32, 0, 0, 0)]
    with pytest.raises(InputError, match="no CBAM factor for 2035"):
        declaration_subject(entries, [ANCHOR], declarant="NL009900001", year=2035,
                            factor_set=factor_set, options=DeclarationOptions(),
                            consignment_factor_set_id="0x", proofs=lambda _n, _m: [])


def _columns(rows: list[ConsignmentRow]) -> Columns:
    """The rows column by column, one profile per distinct set of profile fields."""
    profiles: dict[tuple[object, ...], int] = {}
    for r in rows:
        profiles.setdefault((*r[1:3], *r[4:14], *r[16:20], repr(r.supplier_document)),
                            len(profiles))
    firsts: dict[int, ConsignmentRow] = {}
    ids = []
    for r in rows:
        pid = profiles[(*r[1:3], *r[4:14], *r[16:20], repr(r.supplier_document))]
        firsts.setdefault(pid, r._replace(shipment_id="", import_date=None, net_mass_g=0,
                                          embedded_g=0))
        ids.append(pid)
    return Columns(
        [r.shipment_id for r in rows], ["0x" + f"{n:064x}" for n in range(len(rows))],
        np.arange(len(rows), dtype=np.int64) * 3, np.arange(len(rows), dtype=np.int64),
        np.zeros(len(rows), dtype=np.int64),
        [r.import_date.isoformat() for r in rows if r.import_date is not None],
        np.array([r.net_mass_g for r in rows], dtype=np.int64),
        np.array([r.embedded_g for r in rows], dtype=np.int64), np.array(ids, dtype=np.int64),
        [firsts[p] for p in range(len(profiles))])


def test_the_column_path_equals_the_per_consignment_loop(factor_set: FactorSet) -> None:
    rng = random.Random(2027)
    document = {"file_name": "supplier.xlsx", "sha256": "ab" * 32, "installation_id": "I-2",
                "reporting_period": {"start": "2025-01-01", "end": "2025-12-31"}}
    for size, year in ((1, 2026), (40, 2026), (3000, 2026), (500, 2027), (30, 2026)):
        rows = [_row(rng, n) for n in range(size)]
        if size == 30:  # a mass whose sums could leave int64: summed one by one
            rows[7] = rows[7]._replace(net_mass_g=4 * 10**18)
        rows = [r._replace(import_date=r.import_date.replace(year=year),
                           markup_year=str(year),
                           supplier_document=document if r.installation_id == "I-2"
                           and r.method == "actual" else None)
                for r in rows if r.import_date is not None]
        columns = _columns(rows)
        if size == 40:  # some consignments' records embedded in the document
            columns = columns._replace(records=[{"record": n} if n % 5 == 0 else None
                                                for n in range(size)])
        entries = columns.entries()
        assert [e.row for e in entries] == rows
        estimates = ESTIMATES if year == 2026 else {
            **{f"2027-W{w:02d}": Decimal("75.25") for w in range(1, 53)},
            "2026-W53": Decimal("74.00")}
        options = DeclarationOptions(price_estimates=estimates)
        args: dict[str, Any] = {"declarant": "NL009900001", "year": year,
                                "factor_set": factor_set, "options": options,
                                "consignment_factor_set_id": "0x",
                                "proofs": lambda n, m: [{"line": n, "members": m}]}
        fast = declaration_subject_columns(columns, [ANCHOR], **args)
        assert fast == declaration_subject(entries, [ANCHOR], fast=False, **args)
        embedded = [c for line in fast["lines"] for c in line["consignments"]  # type: ignore[index]
                    if "record" in c]
        assert len(embedded) == (8 if size == 40 else 0)
        assert fast["totals"]["consignments"] == size  # type: ignore[index]
