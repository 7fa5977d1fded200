"""Imports from 2027 are priced per ISO week (Regulation (EU) 2023/956 Art. 21(1)); 2026 imports
per quarter (Art. 21(1a)). A week without a published price is an error naming the week unless
the declarant gives a labelled estimate."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from ledger.declaration.build import declaration_factor_set
from ledger.declaration.consignments import Anchoring, ConsignmentRow
from ledger.declaration.document import Entry, declaration_subject
from ledger.declaration.options import DeclarationOptions, parse_estimates
from ledger.declaration.tables import DeclarationTables, Price, period_days, pricing_period
from ledger.errors import FactorError, InputError
from ledger.factors.factorset import FactorSet
from ledger.factors.tables import parse_table

ANNEX = "eu-cbam-2025-2621-annex-i-corrected-2026-1740"
ANCHOR = Anchoring(31337, "0x" + "11" * 20, "0x" + "22" * 20, "root", "0x" + "33" * 32,
                   "0x" + "44" * 32, "0x" + "55" * 32, 7)


def _row(n: int, released: date, mass_g: int, embedded_g: int) -> ConsignmentRow:
    """Coach screws (CN 7318 11 00) from China on the default value, whose Annex I row names
    route C (Column B benchmark 1.364 t/t)."""
    return ConsignmentRow(
        shipment_id=f"S-{n}", exporter="0x" + "22" * 20, declarant="NL009900001",
        import_date=released, cn8="73181100", cn_code="73181100", sector="iron_and_steel",
        country="CN", installation_id="", operator="", route_text="", data_type="default",
        method="default", verifier="", net_mass_g=mass_g, embedded_g=embedded_g,
        default_ref=f"{ANNEX}#CN.73181100", specific_direct="2.738", specific_indirect="0",
        markup_year=str(released.year))


@pytest.fixture(scope="module")
def factor_set() -> FactorSet:
    return declaration_factor_set()


def _subject(rows: list[ConsignmentRow], factor_set: FactorSet, year: int,
             estimates: dict[str, Decimal]) -> dict[str, object]:
    return declaration_subject(
        [Entry(r, "0x" + "66" * 32, 0, 0, 0) for r in rows], [ANCHOR], declarant="NL009900001",
        year=year, factor_set=factor_set,
        options=DeclarationOptions(price_estimates=estimates), consignment_factor_set_id="0x",
        proofs=lambda _n, _m: [])


def test_the_price_period_is_the_quarter_in_2026_and_the_iso_week_from_2027() -> None:
    assert pricing_period(date(2026, 5, 14), 2026) == "2026-Q2"
    assert pricing_period(date(2027, 2, 3), 2027) == "2027-W05"
    # 1 January 2027 is a Friday: ISO week 53 of 2026 (Monday 28 December to Sunday 3 January).
    assert pricing_period(date(2027, 1, 1), 2027) == "2026-W53"
    assert period_days("2026-W53") == (date(2026, 12, 28), date(2027, 1, 3))
    assert period_days("2027-W05") == (date(2027, 2, 1), date(2027, 2, 7))
    assert period_days("2026-Q4") == (date(2026, 10, 1), date(2026, 12, 31))
    assert period_days("2027-W53") is None  # 2027 has 52 ISO weeks


def test_2027_consignments_are_priced_at_the_estimated_price_of_their_week(
        factor_set: FactorSet) -> None:
    rows = [_row(1, date(2027, 2, 1), 10_000_000, 30_000_000),   # Monday of 2027-W05
            _row(2, date(2027, 2, 7), 5_000_000, 15_000_000),    # Sunday of 2027-W05
            _row(3, date(2027, 2, 8), 2_000_000, 6_000_000)]     # Monday of 2027-W06
    subject = _subject(rows, factor_set, 2027,
                       {"2027-W05": Decimal("80.50"), "2027-W06": Decimal("82.00")})
    assert subject["containsEstimates"] is True
    prices = subject["prices"]
    assert isinstance(prices, list)
    assert [(p["period"], p["priceEur"], p["estimate"], p["firstDay"], p["lastDay"])
            for p in prices] == [("2027-W05", "80.50", True, "2027-02-01", "2027-02-07"),
                                 ("2027-W06", "82.00", True, "2027-02-08", "2027-02-14")]
    assert all("ISO week" in p["basis"] for p in prices)
    lines = subject["lines"]
    assert isinstance(lines, list) and len(lines) == 1
    line = lines[0]
    assert "quarters" not in line
    # By hand, 2027 (CBAM factor 95 %), benchmark 1.364 t/t:
    # W05: 15 t, embedded 45 t; adjustment 15 x 1.364 x 0.95 = 19.437 t; certificates
    #      45 - 19.437 = 25.563 t; cost 25.563 x 80.50 = EUR 2,057.8215 -> 2,057.82.
    # W06: 2 t, embedded 6 t; adjustment 2 x 1.364 x 0.95 = 2.5916 t; certificates 3.4084 t;
    #      cost 3.4084 x 82.00 = EUR 279.4888 -> 279.49.
    assert [(w["period"], w["consignments"], w["freeAllocationAdjustmentG"],
             w["certificatesG"], w["priceEur"], w["costCents"]) for w in line["weeks"]] == [
        ("2027-W05", 2, 19_437_000, 25_563_000, "80.50", 205_782),
        ("2027-W06", 1, 2_591_600, 3_408_400, "82.00", 27_949)]
    assert line["certificatesG"] == 28_971_400
    assert line["costEur"] == "2337.31"


def test_a_week_without_a_published_price_is_refused_naming_the_week(
        factor_set: FactorSet) -> None:
    rows = [_row(1, date(2027, 2, 1), 10_000_000, 30_000_000),
            _row(2, date(2027, 1, 1), 10_000_000, 30_000_000)]
    with pytest.raises(InputError) as refused:
        _subject(rows, factor_set, 2027, {"2027-W05": Decimal("80.50")})
    # Only the week without a price is refused; the estimated week 2027-W05 is not.
    assert len(refused.value.problems) == 1
    problem = refused.value.problems[0]
    assert problem.field == "price"
    assert "no published CBAM certificate price for week 2026-W53 (2026-12-28 to 2027-01-03)" \
        in str(problem)
    assert "--price-estimate 2026-W53=EUR" in str(problem)


def test_a_quarterly_estimate_does_not_price_2027_imports(factor_set: FactorSet) -> None:
    rows = [_row(1, date(2027, 2, 1), 10_000_000, 30_000_000)]
    with pytest.raises(InputError, match="week 2027-W05"):
        _subject(rows, factor_set, 2027, {"2027-Q1": Decimal("80.50")})


def test_2026_declarations_keep_quarters(factor_set: FactorSet) -> None:
    subject = _subject([_row(1, date(2026, 2, 2), 10_000_000, 30_000_000)], factor_set, 2026,
                       {})
    assert subject["prices"] == [{"period": "2026-Q1", "priceEur": "75.36", "source":
                                  subject["prices"][0]["source"], "estimate": False}]
    line = subject["lines"][0]
    assert "weeks" not in line and [q["period"] for q in line["quarters"]] == ["2026-Q1"]


def test_price_estimates_take_quarters_and_iso_weeks() -> None:
    assert parse_estimates(["2026-Q2=80.10", "2027-W05=81", "2026-W53=79.99"]) == {
        "2026-Q2": Decimal("80.10"), "2027-W05": Decimal("81"), "2026-W53": Decimal("79.99")}
    for bad, why in (("2027-W53=80", "not an ISO week"), ("2027-W00=80", "not an ISO week"),
                     ("2027-05=80", "not a price period"), ("2027-W05=-1", "YYYY-Www=EUR"),
                     ("2027-W05=abc", "YYYY-Www=EUR")):
        with pytest.raises(InputError, match=why):
            parse_estimates([bad])


PRICE_HEADER = "key,period,first_day,last_day,price_eur,published,act,status,source\n"


def _with_prices(factor_set: FactorSet, rows: str) -> FactorSet:
    """The declaration factor set with a price table of the given rows (fictitious test data:
    no weekly price is published yet)."""
    table = parse_table("test-prices", "cbam_prices", (PRICE_HEADER + rows).encode())
    return replace(factor_set, tables={**factor_set.tables, "cbam_prices": table})


def test_a_weekly_row_of_the_price_table_prices_its_week(factor_set: FactorSet) -> None:
    tables = DeclarationTables(_with_prices(
        factor_set, "price.2027-W05,2027-W05,2027-02-01,2027-02-07,99.99,2027-02-08,2025/2548,"
                    "secondary,fictitious test row\n"))
    price = tables.price("2027-W05")
    assert isinstance(price, Price)
    assert (price.cents, price.estimate, price.ref) == (9999, False,
                                                        "test-prices#price.2027-W05")


def test_a_price_row_whose_days_are_not_its_period_is_refused(factor_set: FactorSet) -> None:
    bad = _with_prices(factor_set, "price.2027-W05,2027-W05,2027-02-02,2027-02-08,99.99,"
                                   "2027-02-09,2025/2548,secondary,fictitious test row\n")
    with pytest.raises(FactorError, match=r"row price\.2027-W05: period '2027-W05' with days "
                                          r"2027-02-02 to 2027-02-08"):
        DeclarationTables(bad)
