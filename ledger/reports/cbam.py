"""The CBAM block of a report: what the importer's annual CBAM declaration needs.

Per CBAM good (Annex I of Reg. (EU) 2023/956): CN code, origin, net mass, specific and embedded
emissions, default or actual, and for default values the published mark-up column they were read
from; per CN code the totals; goods outside CBAM listed as out of scope with no figure.
Transport emissions are never CBAM embedded emissions.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from ledger.reports.qreport import CbamGood, OutOfScopeGood, decimal_text, tonnes_from_grams

__all__ = ["DE_MINIMIS_NET_MASS_T", "declaration_summary"]

#: Annual de minimis per importer, net mass (Reg. (EU) 2025/2083, Art. 2a); not for electricity or
#: hydrogen.
DE_MINIMIS_NET_MASS_T = Decimal(50)


def _good_summary(good: CbamGood) -> dict[str, Any]:
    return {
        "itemId": good.item_id,
        "cnCode": good.cn_code.replace(" ", ""),
        "description": good.description,
        "originCountry": good.origin_country,
        "importDate": good.import_date.isoformat(),
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
    """What the annual CBAM declaration (Art. 6(2) of Reg. 2023/956) needs, per good and CN code.

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
