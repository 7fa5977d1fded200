"""The report's CBAM block takes each good's import date from its consignment.

A report's period is not the import date: goods released by customs on 20 December 2026 and on
10 January 2027, reported together for December-January, are two CBAM years with two mark-ups,
and the block says so per good, per quarter and per year. Records of the first form (no dates,
``cbam_year``) keep the first day of the period, as before.
"""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from ledger.factors.factorset import FactorSet, load_factor_set
from ledger.footprint.single import compute_shipment
from ledger.inputs.shipments import Shipment
from ledger.records.record import build_record
from ledger.reports import qreport
from ledger.reports.cbam import declaration_summary
from ledger.reports.figures import figures_from_record

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
EXPORTER = "0x" + "11" * 20
PERIOD = (date(2026, 12, 1), date(2027, 1, 31))


@pytest.fixture(scope="module")
def factor_set() -> FactorSet:
    return load_factor_set()


def _bolts(shipment_id: str, released: str | None) -> dict[str, Any]:
    """The example's bolts (18 t, CN 7318 15 88, China, default values), released on a day."""
    document = json.loads((EXAMPLES / "cbam-consignments-2026.json").read_text(encoding="utf-8"))
    item = copy.deepcopy(document["shipments"][0])
    item["shipment_id"] = shipment_id
    if released is None:
        del item["consignment"]
        item["product"]["cbam_year"] = 2026
    else:
        item["consignment"].update(dispatch_date=None, arrival_date=None)
        item["consignment"] = {k: v for k, v in item["consignment"].items() if v is not None}
        item["consignment"]["customs_release_date"] = released
    return item


def _good(item: dict[str, Any], factor_set: FactorSet) -> qreport.CbamGood:
    shipment = Shipment.from_dict(item)
    footprint = compute_shipment(shipment, factor_set)
    record = build_record(shipment.to_dict(), footprint.to_dict(), exporter=EXPORTER,
                          factor_set_id=factor_set.id)
    figures = figures_from_record(record, period=PERIOD, factor_sources=[])
    assert isinstance(figures.cbam, qreport.CbamGood)
    return figures.cbam


def test_each_good_has_its_customs_release_date_year_and_mark_up(
        factor_set: FactorSet) -> None:
    december = _good(_bolts("B-DEC", "2026-12-20"), factor_set)
    january = _good(_bolts("B-JAN", "2027-01-10"), factor_set)
    assert december.import_date == date(2026, 12, 20)
    assert january.import_date == date(2027, 1, 10)
    summary = declaration_summary([december, january], [])
    goods = {g["itemId"]: g for g in summary["goods"]}
    assert goods["B-DEC"]["importDate"] == "2026-12-20"
    assert goods["B-DEC"]["importQuarter"] == "2026-Q4"
    assert goods["B-JAN"]["importQuarter"] == "2027-Q1"
    # China, CN 7318 15: 6.375 t/t (Annex I as corrected); +10 % in 2026, +20 % in 2027
    assert (goods["B-DEC"]["markupYear"], goods["B-DEC"]["embeddedTotalT"]) == \
        ("2026", "126.225")  # 18 t x 6.375 x 1.10
    assert (goods["B-JAN"]["markupYear"], goods["B-JAN"]["embeddedTotalT"]) == \
        ("2027", "137.7")  # 18 t x 6.375 x 1.20
    assert summary["byCbamYear"] == [
        {"year": 2026, "netMassT": "18", "embeddedEmissionsT": "126.225"},
        {"year": 2027, "netMassT": "18", "embeddedEmissionsT": "137.7"},
    ]


def test_a_record_without_dates_keeps_the_first_day_of_the_period(
        factor_set: FactorSet) -> None:
    undated = _good(_bolts("B-OLD", None), factor_set)
    assert undated.import_date == PERIOD[0]
    assert undated.markup_year == "2026"
