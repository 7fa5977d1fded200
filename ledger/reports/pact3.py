"""PACT Technical Specifications v3 (3.0.3) ProductFootprints, mapped from the v2.3 ones.

The signed report carries PACT v2.3 footprints (iLEAP v1 builds on PACT 2.x); a v3 buyer gets
the same footprints in the v3 data model, built here by :func:`to_v3`, a pure function of the
v2.3 document (same ``id``: one footprint, two representations). ``docs/pact.md`` has the
whole mapping, both ways. The rules:

- ``declaredUnit`` -> ``declaredUnitOfMeasurement``; ``declaredUnitAmount`` is ``1`` and every
  emission value stays per one unit (v3 expresses values per ``declaredUnitAmount`` units, v2.3
  per one unit, so amount 1 keeps the numbers identical); the v2.3 ``unitaryProductAmount``
  (the shipment's t·km) is kept in the comment and in the iLEAP extension;
- ``productMassPerDeclaredUnit``: as in v2.3 (``0`` for t·km, ``1`` for kg);
- an iLEAP HOC footprint (the HOC extension) is the one exception: iLEAP §7.2.3 states its v2.3
  values per tonne (``unitaryProductAmount`` ``1000`` kilograms, ``pCfExcludingBiogenic`` =
  the HOC's intensity per tonne), so its v3 form says ``declaredUnitAmount`` ``1000`` (values
  per 1000 kg, unchanged) and ``productMassPerDeclaredUnit`` ``1`` (a kilogram);
- ``pCfExcludingBiogenic`` / ``pCfIncludingBiogenic`` -> ``pcfExcludingBiogenicUptake`` /
  ``pcfIncludingBiogenicUptake`` (fossil fuels only: no uptake, the values are equal);
  ``dLucGhgEmissions`` -> ``landUseChangeGhgEmissions``; ``landManagementGhgEmissions`` ->
  ``landManagementFossilGhgEmissions`` and ``landManagementBiogenicCO2Emissions``;
  ``otherBiogenicGhgEmissions`` -> ``biogenicNonCO2Emissions``; ``biogenicCarbonWithdrawal``
  -> ``biogenicCO2Uptake``; ``ccsTechnologicalCO2CaptureIncluded`` is ``false`` (no CCS);
- ``productCategoryCpc`` -> ``productClassifications``
  (``urn:pact:productclassification:un-cpc:<code>``; left out when the CPC is unknown);
- ``ipccCharacterizationFactorsSources`` -> ``ipccCharacterizationFactors``;
  ``crossSectoralStandardsUsed``, ``characterizationFactors`` and ``version`` are dropped;
- numbers become decimal strings (``exemptedEmissionsPercent``, ``primaryDataShare``, DQRs);
  a v2.3 data quality rating ``r`` on the 1-3 scale becomes ``2r - 1`` on the v3 1-5 scale
  (1 -> 1, 2 -> 3, 3 -> 5: the worst stays the worst); v3 keeps three of the five ratings;
- ``validityPeriodStart`` / ``validityPeriodEnd``: the v3 default (from ``referencePeriodEnd``,
  three years), written out so filters and buyers read the same period;
- empty optional strings (``exemptedEmissionsDescription``) and arrays are left out;
  extensions (iLEAP, anchor) are carried over as they are.

:func:`matches` applies the v3 ``ListFootprints`` filters: within one criterion any value may
match (OR), across criteria all must (AND); text matches ignore case.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ledger.errors import InputError, InputProblem

__all__ = [
    "PACT3_SPEC_VERSION",
    "VALIDITY_YEARS",
    "Filters",
    "matches",
    "parse_time",
    "to_v3",
    "validity_period",
]

PACT3_SPEC_VERSION = "3.0.3"
#: Default validity of a footprint without an explicit period (PACT v3, ``validityPeriodStart``).
VALIDITY_YEARS = 3
_CPC_URN = "urn:pact:productclassification:un-cpc:"


def _text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise InputError([InputProblem(f"not a number: {value!r}", field="pcf")])
    text = format(Decimal(str(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text if text not in {"", "-0"} else "0"


def _dqr(value: Any) -> str:
    return _text(2 * Decimal(str(value)) - 1)


def parse_time(text: str, field: str = "time") -> datetime:
    """An RFC 3339 timestamp as an aware UTC datetime (``InputError`` naming ``field``)."""
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except (ValueError, AttributeError):
        raise InputError([InputProblem(f"{text!r} is not an RFC 3339 date-time", field=field)]
                         ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def validity_period(footprint: Mapping[str, Any]) -> tuple[datetime, datetime]:
    """The validity period of a v2.3 or v3 footprint: its own, or the v3 default."""
    if footprint.get("validityPeriodStart") and footprint.get("validityPeriodEnd"):
        return (parse_time(str(footprint["validityPeriodStart"])),
                parse_time(str(footprint["validityPeriodEnd"])))
    start = parse_time(str(footprint["pcf"]["referencePeriodEnd"]), "referencePeriodEnd")
    try:
        end = start.replace(year=start.year + VALIDITY_YEARS)
    except ValueError:  # 29 February
        end = start.replace(year=start.year + VALIDITY_YEARS, day=28)
    return start, end


def _pcf_v3(pcf: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "declaredUnitOfMeasurement": pcf["declaredUnit"],
        "declaredUnitAmount": "1",
        "productMassPerDeclaredUnit": _text(pcf.get("productMassPerDeclaredUnit", "0")),
        "referencePeriodStart": pcf["referencePeriodStart"],
        "referencePeriodEnd": pcf["referencePeriodEnd"],
    }
    if pcf.get("geographyCountry"):
        out["geographyCountry"] = pcf["geographyCountry"]
    if pcf.get("boundaryProcessesDescription"):
        out["boundaryProcessesDescription"] = pcf["boundaryProcessesDescription"]
    excluding = _text(pcf["pCfExcludingBiogenic"])
    out["pcfExcludingBiogenicUptake"] = excluding
    out["pcfIncludingBiogenicUptake"] = _text(pcf.get("pCfIncludingBiogenic", excluding))
    out["fossilCarbonContent"] = _text(pcf["fossilCarbonContent"])
    out["biogenicCarbonContent"] = _text(pcf["biogenicCarbonContent"])
    out["fossilGhgEmissions"] = _text(pcf["fossilGhgEmissions"])
    land_management = _text(pcf.get("landManagementGhgEmissions", "0"))
    out["landUseChangeGhgEmissions"] = _text(pcf.get("dLucGhgEmissions", "0"))
    out["landManagementFossilGhgEmissions"] = land_management
    out["landManagementBiogenicCO2Emissions"] = land_management
    out["biogenicCO2Uptake"] = _text(pcf.get("biogenicCarbonWithdrawal", "0"))
    out["biogenicNonCO2Emissions"] = _text(pcf.get("otherBiogenicGhgEmissions", "0"))
    out["packagingEmissionsIncluded"] = bool(pcf["packagingEmissionsIncluded"])
    out["ccsTechnologicalCO2CaptureIncluded"] = False
    out["ipccCharacterizationFactors"] = list(pcf["ipccCharacterizationFactorsSources"])
    out["crossSectoralStandards"] = list(pcf["crossSectoralStandards"])
    if pcf.get("productOrSectorSpecificRules"):
        out["productOrSectorSpecificRules"] = list(pcf["productOrSectorSpecificRules"])
    out["exemptedEmissionsPercent"] = _text(pcf["exemptedEmissionsPercent"])
    if pcf.get("exemptedEmissionsDescription"):
        out["exemptedEmissionsDescription"] = pcf["exemptedEmissionsDescription"]
    if pcf.get("secondaryEmissionFactorSources"):
        out["secondaryEmissionFactorSources"] = list(pcf["secondaryEmissionFactorSources"])
    out["primaryDataShare"] = _text(pcf.get("primaryDataShare", 0))
    dqi = pcf.get("dqi")
    if isinstance(dqi, Mapping):
        out["dqi"] = {name: _dqr(dqi[name])
                      for name in ("technologicalDQR", "geographicalDQR", "temporalDQR")}
    return out


#: The iLEAP HOC extension's schema (a HOC footprint is stated per tonne, see the docstring).
_ILEAP_HOC_SCHEMA = "https://api.ileap.sine.dev/hoc.json"


def to_v3(footprint: Mapping[str, Any]) -> dict[str, Any]:
    """The PACT v3 form of a PACT v2.3 ProductFootprint (same id, same values per unit)."""
    start, end = validity_period(footprint)
    out: dict[str, Any] = {
        "id": footprint["id"],
        "specVersion": PACT3_SPEC_VERSION,
        "created": footprint["created"],
        "status": footprint["status"],
        "validityPeriodStart": _stamp(start),
        "validityPeriodEnd": _stamp(end),
        "companyName": footprint["companyName"],
        "companyIds": list(footprint["companyIds"]),
        "productDescription": footprint["productDescription"],
        "productIds": list(footprint["productIds"]),
    }
    cpc = str(footprint.get("productCategoryCpc") or "")
    if cpc.isdigit():
        out["productClassifications"] = [_CPC_URN + cpc]
    out["productNameCompany"] = footprint["productNameCompany"]
    if footprint.get("comment"):
        out["comment"] = footprint["comment"]
    out["pcf"] = _pcf_v3(footprint["pcf"])
    if any(e.get("dataSchema") == _ILEAP_HOC_SCHEMA for e in footprint.get("extensions") or ()):
        out["pcf"]["declaredUnitAmount"] = _text(footprint["pcf"]["unitaryProductAmount"])
        out["pcf"]["productMassPerDeclaredUnit"] = "1"
    if footprint.get("extensions"):
        out["extensions"] = [dict(e) for e in footprint["extensions"]]
    return out


@dataclass(frozen=True)
class Filters:
    """The v3 ``ListFootprints`` criteria (each tuple: any value matches; empty: no criterion)."""

    product_id: tuple[str, ...] = ()
    company_id: tuple[str, ...] = ()
    geography: tuple[str, ...] = ()
    classification: tuple[str, ...] = ()
    valid_on: datetime | None = None
    valid_after: datetime | None = None
    valid_before: datetime | None = None
    status: tuple[str, ...] = ()

    @classmethod
    def from_lists(cls, values: Mapping[str, Sequence[str]]) -> Filters:
        """Criteria from query parameters (name -> every value given); bad times raise
        ``InputError`` naming the parameter."""

        def times(name: str) -> datetime | None:
            given = values.get(name) or ()
            if len(given) > 1:
                raise InputError([InputProblem("give this parameter once", field=name)])
            return parse_time(given[0], name) if given else None

        def many(name: str) -> tuple[str, ...]:
            return tuple(v.strip().lower() for v in values.get(name) or () if v.strip())

        return cls(product_id=many("productId"), company_id=many("companyId"),
                   geography=many("geography"), classification=many("classification"),
                   valid_on=times("validOn"), valid_after=times("validAfter"),
                   valid_before=times("validBefore"), status=many("status"))

    @property
    def empty(self) -> bool:
        return self == Filters()


def _geographies(pcf: Mapping[str, Any]) -> set[str]:
    return {str(pcf[k]).lower() for k in ("geographyCountry", "geographyRegionOrSubregion",
                                           "geographyCountrySubdivision") if pcf.get(k)}


def matches(footprint: Mapping[str, Any], filters: Filters) -> bool:
    """Whether a v3 footprint meets every criterion (OR within a criterion, AND across)."""
    if filters.product_id and not {p.lower() for p in footprint["productIds"]} \
            & set(filters.product_id):
        return False
    if filters.company_id and not {c.lower() for c in footprint["companyIds"]} \
            & set(filters.company_id):
        return False
    if filters.geography and not _geographies(footprint["pcf"]) & set(filters.geography):
        return False
    if filters.classification and not {
            c.lower() for c in footprint.get("productClassifications") or ()} \
            & set(filters.classification):
        return False
    if filters.status and str(footprint["status"]).lower() not in filters.status:
        return False
    if filters.valid_on or filters.valid_after or filters.valid_before:
        start, end = validity_period(footprint)
        if filters.valid_on and not start <= filters.valid_on <= end:
            return False
        if filters.valid_after and not start > filters.valid_after:
            return False
        if filters.valid_before and not end < filters.valid_before:
            return False
    return True
