"""What a declarant chooses beside the data: threshold warning level, price estimates, and the
evidence of a carbon price paid in the country of origin (Art. 9 of Regulation (EU) 2023/956).

The 50 t threshold (Art. 2a as inserted by Regulation (EU) 2025/2083) is the law's; the warning
level below it (default 45 t) is the declarant's choice. A price estimate is used only for a
price period (a quarter of 2026, an ISO week from 2027) without a published price, and the
declaration labels it. A carbon price claim is always stored as evidence; it reduces
certificates only when the deduction is enabled with the reference of the implementing act that
allows it (a draft in 2026), and only on actual values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from ledger.declaration.tables import period_problem
from ledger.errors import InputError, InputProblem

__all__ = ["CarbonPriceClaim", "DeclarationOptions", "claim_from_dict", "parse_estimates"]

#: Net mass per importer and year above which CBAM applies (Reg. (EU) 2025/2083, Art. 2a).
THRESHOLD_T = Decimal(50)
#: Default warning level of the running tally (the declarant's choice).
WARNING_LEVEL_T = Decimal(45)

_CLAIM_TEXT = ("installation_id", "currency", "certified_by", "evidence_reference")
_CLAIM_DECIMALS = ("price_paid_per_t", "exchange_rate_eur", "rebates_per_t",
                   "free_allocation_per_t")


@dataclass(frozen=True)
class CarbonPriceClaim:
    """A carbon price effectively paid in the country of origin for an installation's goods.

    ``price_paid_per_t``, ``rebates_per_t`` and ``free_allocation_per_t`` are per tonne of
    embedded emissions in ``currency``; ``exchange_rate_eur`` is the annual average rate (EUR per
    unit of ``currency``). The price that counts is (paid - rebates - free allocation) x rate.
    ``certified_by`` is the independent person who certified it, on ``certification_date``.
    """

    installation_id: str
    price_paid_per_t: Decimal
    currency: str
    exchange_rate_eur: Decimal
    rebates_per_t: Decimal
    free_allocation_per_t: Decimal
    certified_by: str
    certification_date: date
    evidence_reference: str

    @property
    def effective_eur_per_t(self) -> Decimal:
        net = self.price_paid_per_t - self.rebates_per_t - self.free_allocation_per_t
        return max(Decimal(0), net) * self.exchange_rate_eur

    def to_dict(self) -> dict[str, Any]:
        return {
            "installationId": self.installation_id,
            "pricePaidPerT": str(self.price_paid_per_t), "currency": self.currency,
            "annualAverageExchangeRateEur": str(self.exchange_rate_eur),
            "rebatesPerT": str(self.rebates_per_t),
            "freeAllocationPerT": str(self.free_allocation_per_t),
            "effectivePriceEurPerT": str(self.effective_eur_per_t),
            "certifiedBy": self.certified_by,
            "certificationDate": self.certification_date.isoformat(),
            "evidenceReference": self.evidence_reference,
        }


def claim_from_dict(data: Mapping[str, Any], number: int = 1) -> CarbonPriceClaim:
    """A claim from its JSON form (the snake_case names of :class:`CarbonPriceClaim`);
    ``InputError`` names every missing or malformed field."""
    problems: list[InputProblem] = []
    where = f"carbon_price_claims[{number}]."
    values: dict[str, Any] = {}
    for name in _CLAIM_TEXT:
        value = data.get(name)
        if not isinstance(value, str) or not value.strip():
            problems.append(InputProblem(f"a carbon price claim needs {name} (the evidence of "
                                         "Art. 9 of Regulation (EU) 2023/956)",
                                         field=where + name))
        values[name] = value
    for name in _CLAIM_DECIMALS:
        try:
            values[name] = Decimal(str(data.get(name)))
            if not values[name].is_finite() or values[name] < 0:
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            problems.append(InputProblem(f"{name} must be a non-negative decimal number",
                                         field=where + name))
    try:
        values["certification_date"] = date.fromisoformat(str(data.get("certification_date")))
    except ValueError:
        problems.append(InputProblem("certification_date must be a date (YYYY-MM-DD)",
                                     field=where + "certification_date"))
    unknown = sorted(set(data) - set(_CLAIM_TEXT) - set(_CLAIM_DECIMALS)
                     - {"certification_date"})
    for name in unknown:
        problems.append(InputProblem(f"unknown field {name!r} in a carbon price claim",
                                     field=where + name))
    if problems:
        raise InputError(problems)
    return CarbonPriceClaim(**values)


def parse_estimates(items: Sequence[str]) -> dict[str, Decimal]:
    """``["2026-Q2=80.10", "2027-W05=81"]`` -> ``{"2026-Q2": Decimal("80.10"), ...}``: a quarter
    for 2026 imports, an ISO week from 2027; ``InputError`` otherwise."""
    out: dict[str, Decimal] = {}
    for item in items:
        period, _, price = item.partition("=")
        problem = period_problem(period)
        try:
            value = Decimal(price)
        except InvalidOperation:
            value = Decimal(0)
        if problem is not None or not value.is_finite() or value <= 0:
            why = f" ({problem})" if problem is not None else ""
            raise InputError([InputProblem(
                f"{item!r} is not a price estimate{why}; write YYYY-Qn=EUR for 2026 imports "
                "(e.g. 2026-Q2=80.50) or YYYY-Www=EUR, the ISO week, for imports from 2027 "
                "(e.g. 2027-W05=80.50)", field="price_estimate")])
        out[period] = value
    return out


@dataclass(frozen=True)
class DeclarationOptions:
    """Options of a declaration (see the module docstring)."""

    warning_level_t: Decimal = WARNING_LEVEL_T
    price_estimates: Mapping[str, Decimal] = field(default_factory=dict)
    carbon_price_claims: Sequence[CarbonPriceClaim] = ()
    #: Reference of the act that enables the Art. 9 deduction; None: claims are evidence only.
    deduction_act: str | None = None
    #: Embed each consignment's canonical record, so the file alone proves every line.
    embed_records: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "thresholdT": str(THRESHOLD_T), "warningLevelT": str(self.warning_level_t),
            "carbonPriceDeduction": {"enabled": self.deduction_act is not None,
                                     "act": self.deduction_act},
        }
