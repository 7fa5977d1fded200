"""The CBAM block of a report: what the importer's annual CBAM declaration needs.

Per CBAM good (Annex I of Reg. (EU) 2023/956): CN code, origin, import date and quarter, net
mass, specific and embedded emissions, default or actual, and for default values the mark-up
year; per CN code and per CBAM year the totals; goods outside CBAM listed as out of scope with
no figure. Transport emissions are never CBAM embedded emissions.

The import date of a good is its consignment's customs release date: its year is the CBAM year
(the annual declaration covers the goods imported in the preceding calendar year: Reg. (EU)
2023/956, Art. 6(1) as replaced by Reg. (EU) 2025/2083) and chose the mark-up of the default
value, its quarter the price of 2026 certificates (Art. 21(1a): the quarterly average of the
quarter of importation). A record of the first form (``cbam_year``, no dates) has no import date;
its good carries the first day of the report's period, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from ledger.reports.qreport import CbamGood, OutOfScopeGood, decimal_text, tonnes_from_grams

__all__ = ["DE_MINIMIS_NET_MASS_T", "declaration_summary", "import_quarter"]

#: Annual de minimis per importer, net mass (Reg. (EU) 2023/956, Art. 2a, inserted by Reg. (EU)
#: 2025/2083); not for electricity or hydrogen (Art. 2a(4)).
DE_MINIMIS_NET_MASS_T = Decimal(50)


def import_quarter(day: date) -> str:
    """The CBAM year and quarter of an import date: ``2026-Q1``."""
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def _by_year(goods: Sequence[CbamGood]) -> list[dict[str, Any]]:
    """Net mass and embedded emissions per CBAM year (the year of the import date)."""
    years: dict[int, tuple[Decimal, int]] = {}
    for good in goods:
        mass, grams = years.get(good.import_date.year, (Decimal(0), 0))
        years[good.import_date.year] = (mass + good.net_mass_t, grams + good.embedded_total_g)
    return [{"year": year, "netMassT": decimal_text(mass, 6),
             "embeddedEmissionsT": decimal_text(tonnes_from_grams(grams), 6)}
            for year, (mass, grams) in sorted(years.items())]


def _good_summary(good: CbamGood) -> dict[str, Any]:
    return {
        "itemId": good.item_id,
        "cnCode": good.cn_code.replace(" ", ""),
        "description": good.description,
        "originCountry": good.origin_country,
        "importDate": good.import_date.isoformat(),
        "importQuarter": import_quarter(good.import_date),
        "netMassT": decimal_text(good.net_mass_t, 6),
        "specificEmbeddedEmissionsDirectTPerT": decimal_text(good.see_direct_t_per_t, 7),
        "specificEmbeddedEmissionsIndirectTPerT": (
            None if good.see_indirect_t_per_t is None
            else decimal_text(good.see_indirect_t_per_t, 7)),
        "embeddedDirectT": decimal_text(tonnes_from_grams(good.embedded_direct_g), 6),
        "embeddedIndirectT": (None if good.embedded_indirect_g is None
                              else decimal_text(tonnes_from_grams(good.embedded_indirect_g), 6)),
        "embeddedTotalT": decimal_text(tonnes_from_grams(good.embedded_total_g), 6),
        "determination": good.method,
        "markupYear": good.markup_year,
        "annexII": good.annex_ii,
        "valueSource": good.value_source,
    }


def declaration_summary(
    goods: Sequence[CbamGood], out_of_scope: Sequence[OutOfScopeGood]
) -> dict[str, Any]:
    """What the annual CBAM declaration (its content: Art. 6(2) of Reg. 2023/956) needs, per good,
    per CN code and per CBAM year.

    Certificates to surrender are not estimated: that needs the carbon price paid in the country
    of origin (Art. 9) and the free-allocation adjustment (Art. 31), which the shipment data lack.
    """
    by_cn: dict[str, dict[str, Decimal | int]] = {}
    for good in goods:
        entry = by_cn.setdefault(good.cn_code.replace(" ", ""),
                                 {"netMassT": Decimal(0), "embeddedG": 0})
        entry["netMassT"] = Decimal(entry["netMassT"]) + good.net_mass_t
        entry["embeddedG"] = int(entry["embeddedG"]) + good.embedded_total_g
    total_mass = sum((g.net_mass_t for g in goods), Decimal(0))
    return {
        "regulation": "Regulation (EU) 2023/956, Art. 6(2); default values Reg. (EU) 2025/2621",
        "goods": [_good_summary(g) for g in goods],
        "byCnCode": [
            {"cnCode": cn, "netMassT": decimal_text(Decimal(v["netMassT"]), 6),
             "embeddedEmissionsT": decimal_text(tonnes_from_grams(int(v["embeddedG"])), 6)}
            for cn, v in sorted(by_cn.items())
        ],
        "byCbamYear": _by_year(goods),
        "totalNetMassT": decimal_text(total_mass, 6),
        "totalEmbeddedEmissionsT": decimal_text(
            tonnes_from_grams(sum(g.embedded_total_g for g in goods)), 6),
        "deMinimis": {
            "thresholdNetMassT": str(DE_MINIMIS_NET_MASS_T),
            "note": ("50 t net mass per importer per calendar year across iron & steel, "
                     "aluminium, fertilisers and cement (Reg. (EU) 2025/2083); the importer's "
                     "other imports of the year decide whether it is exceeded"),
        },
        "certificates": {
            "estimated": False,
            "note": ("needs the carbon price paid in the country of origin (Art. 9) and the "
                     "free-allocation adjustment (Art. 31)"),
        },
        "transportEmissionsIncluded": False,
        "outOfScope": [
            {"itemId": g.item_id, "cnCode": g.cn_code, "description": g.description,
             "reason": g.reason}
            for g in out_of_scope
        ],
    }
