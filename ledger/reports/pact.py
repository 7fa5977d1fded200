"""PACT v2.3 ProductFootprint documents with the iLEAP ShipmentFootprint extension.

Field names follow the PACT Technical Specifications v2.3 (``ProductFootprint`` >
``CarbonFootprint``) and iLEAP v1.0 (``ShipmentFootprint`` > ``TCE``). Numbers are decimal strings,
emissions in kg CO2e, masses in kg, distances in km and transport activity in t·km.

Two kinds of footprint:

- the **shipment** (transport) footprint, mapped as iLEAP's "PACT integration" (Appendix B)
  says: ``declaredUnit`` ``ton kilometer``, ``unitaryProductAmount`` = sum of the TCEs'
  transport activity, ``productCategoryCpc`` ``83117``, the ShipmentFootprint as a
  ``DataModelExtension``;
- the **product** (production, cradle-to-gate) footprint of every good with production
  emissions: ``declaredUnit`` ``kilogram``, ``unitaryProductAmount`` = the net mass shipped.

Rules an integrator checks against PACT v2.3 (CarbonFootprint properties):

- every emission value is **per declared unit** (kg CO2e per t·km, per kg): the shipment's
  whole WTW divided by its t·km, rounded half up to :data:`PER_UNIT_QUANTUM` (the exact totals
  stay in the iLEAP extension, in the TCEs' ``co2eWTW`` / ``co2eTTW``);
- ``productMassPerDeclaredUnit`` is ``0`` for a logistics (t·km) footprint and ``1`` for a
  per-kilogram one;
- ``productOrSectorSpecificRules`` is left out (no product or sector rules are followed; the
  official schema rejects an empty array);
- the attributes marked ``O*`` (mandatory for reference periods from 2025) are always present:
  ``pCfIncludingBiogenic``, ``dLucGhgEmissions``, ``landManagementGhgEmissions``,
  ``otherBiogenicGhgEmissions``, ``biogenicCarbonWithdrawal`` (all fossil fuel, so ``0``
  besides the fossil value), ``biogenicAccountingMethodology`` (``GHGP``, the standard the
  footprint's ``crossSectoralStandardsUsed`` names), ``primaryDataShare`` (``0``: the emission
  factors are secondary data) and ``dqi``: :data:`DQR_SECONDARY`, the worst rating of the PACT
  data quality matrix in every dimension, with full coverage. The ledger does not assess data
  quality better than that; the comment of each footprint says so.

iLEAP ``distance``: ``actual`` for a given distance, ``sfd`` for a routed sea distance and
``gcd`` for the great-circle distance between the leg's two locations (for air legs without the
95 km uplift, for estimated road and rail legs without the distance adjustment factor; the
distance used is ``transportActivity`` / ``mass``).

Further extensions (the on-chain anchor) are passed in and appended as given. The PACT v3 form
of the same footprints is :mod:`ledger.reports.pact3`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from eth_utils.crypto import keccak

from ledger.errors import InputError, InputProblem

__all__ = [
    "BIOGENIC_ACCOUNTING",
    "CPC_UNKNOWN",
    "DQR_SECONDARY",
    "ILEAP_SHIPMENT_SCHEMA",
    "PACT_SPEC_VERSION",
    "PER_UNIT_QUANTUM",
    "Location",
    "ProductionFigures",
    "Tce",
    "category_footprint",
    "deterministic_pf_id",
    "grams_to_kg",
    "per_unit",
    "product_footprint",
    "shipment_footprint",
    "shipment_footprint_extension",
]

PACT_SPEC_VERSION = "2.3.0"
EXTENSION_SPEC_VERSION = "2.0.0"
ILEAP_SHIPMENT_SCHEMA = "https://api.ileap.sine.dev/shipment-footprint.json"
ILEAP_DOCUMENTATION = "https://sine-fdn.github.io/ileap-extension/"
TRANSPORT_CPC = "83117"
#: ``productCategoryCpc`` of a good whose UN CPC code the shipment does not give (never guessed
#: from its CN code: no correspondence table is shipped).
CPC_UNKNOWN = "unknown"
#: Per-declared-unit values are rounded half up to this many kg CO2e (one microgram).
PER_UNIT_QUANTUM = Decimal("0.000000001")
#: PACT data quality ratings (v2.3 scale 1 good .. 3 poor) of footprints built from secondary
#: emission factors only: the worst rating in every dimension, over all of the footprint.
DQR_SECONDARY = 3
#: ``biogenicAccountingMethodology``: the GHG Protocol, as ``crossSectoralStandardsUsed`` says.
BIOGENIC_ACCOUNTING = "GHGP"
DQI_COMMENT = ("Data quality: the emission factors are secondary data; every data quality "
               "rating is the worst of the PACT matrix (3), not an assessment of better quality.")
_PF_NAMESPACE = b"carbon-ledger/reports/pact-pf-id/v1"


@dataclass(frozen=True)
class Location:
    """An iLEAP ``Location`` (``city`` and ISO 3166-1 alpha-2 ``country`` are mandatory)."""

    city: str
    country: str
    locode: str | None = None
    iata: str | None = None

    def to_ileap(self) -> dict[str, str]:
        out = {"city": self.city, "country": self.country}
        if self.locode:
            out["locode"] = self.locode
        if self.iata:
            out["iata"] = self.iata
        return out


@dataclass(frozen=True)
class Tce:
    """One transport chain element with its figures (grams are integers, as in the record)."""

    tce_id: str
    mass_kg: Decimal
    distance_km: Decimal
    distance_basis: str  # "actual" | "gcd" | "sfd"
    activity_tkm: Decimal
    co2e_wtw_g: int
    co2e_ttw_g: int
    toc_id: str | None = None
    hoc_id: str | None = None
    prev_tce_ids: tuple[str, ...] = ()
    origin: Location | None = None
    destination: Location | None = None
    gcd_km: Decimal | None = None  # great-circle distance between origin and destination


@dataclass(frozen=True)
class ProductionFigures:
    """Cradle-to-gate emissions of the shipped good (integer grams for the whole quantity)."""

    product_description: str
    product_id: str
    cpc_code: str
    mass_kg: Decimal
    co2e_g: int
    geography_country: str
    source: str


def grams_to_kg(grams: int) -> str:
    """Integer grams as an exact decimal string of kilograms (``1234`` -> ``"1.234"``)."""
    return _plain(Decimal(grams) / 1000)


def _plain(value: Decimal) -> str:
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text if text not in {"", "-0"} else "0"


def per_unit(total_kg: Decimal, amount: Decimal) -> str:
    """``total_kg`` per one of ``amount`` declared units, rounded to :data:`PER_UNIT_QUANTUM`."""
    if amount <= 0:
        return "0"
    return _plain((total_kg / amount).quantize(PER_UNIT_QUANTUM, rounding=ROUND_HALF_UP))


def _distance(tce: Tce) -> dict[str, str]:
    if tce.distance_basis == "gcd":
        if tce.gcd_km is None:
            raise InputError([InputProblem(
                "the great-circle distance of this leg is unknown (its origin or destination "
                "is not a location)", field="distance", shipment_id=tce.tce_id)])
        return {"gcd": _plain(tce.gcd_km)}
    return {tce.distance_basis: _plain(tce.distance_km)}


def _head(pf_id: str, created: str, company_name: str, company_id: str) -> dict[str, Any]:
    """The members every footprint of a report begins with: id, versions, status, company."""
    return {
        "id": pf_id,
        "specVersion": PACT_SPEC_VERSION,
        "version": 0,
        "created": created,
        "status": "Active",
        "companyName": company_name,
        "companyIds": [f"urn:pathfinder:company:customcode:vendor-assigned:{company_id}"],
    }


def category_footprint(*, kind: str, category_id: str, title: str, pf_id: str, created: str,
                       company_name: str, company_id: str, comment: str, pcf: dict[str, Any],
                       schema: str, data: dict[str, Any]) -> dict[str, Any]:
    """An iLEAP operation category (``kind`` ``TOC`` or ``HOC``) as a PACT v2.3
    ProductFootprint (iLEAP v1.0.0 §7.2.2 and §7.2.3): ``productIds``
    ``...:vendor-assigned:<kind>:<id>``, CPC ``83117``, the category's ``pcf`` and the category
    itself as the one ``DataModelExtension``; ``title`` names it in the description."""
    return {
        **_head(pf_id, created, company_name, company_id),
        "productDescription": f"{title} {category_id}",
        "productIds": [f"urn:pathfinder:product:customcode:vendor-assigned:{kind.lower()}:"
                       f"{category_id}"],
        "productCategoryCpc": TRANSPORT_CPC,
        "productNameCompany": f"{kind} {category_id}",
        "comment": comment,
        "pcf": pcf,
        "extensions": [{
            "specVersion": EXTENSION_SPEC_VERSION,
            "dataSchema": schema,
            "documentation": ILEAP_DOCUMENTATION,
            "data": data,
        }],
    }


def deterministic_pf_id(*parts: str) -> str:
    """A UUID in version-4 form derived from ``parts``, so a verifier can recompute it."""
    digest = bytearray(keccak(_PF_NAMESPACE + b"\x00" + "\x00".join(parts).encode())[:16])
    digest[6] = (digest[6] & 0x0F) | 0x40
    digest[8] = (digest[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(digest)))


def _tce(shipment_id: str, tce: Tce) -> dict[str, Any]:
    out: dict[str, Any] = {"tceId": tce.tce_id}
    if tce.prev_tce_ids:
        out["prevTceIds"] = list(tce.prev_tce_ids)
    if tce.toc_id is not None:
        out["tocId"] = tce.toc_id
    if tce.hoc_id is not None:
        out["hocId"] = tce.hoc_id
    out["shipmentId"] = shipment_id
    out["mass"] = _plain(tce.mass_kg)
    out["distance"] = _distance(tce)
    out["transportActivity"] = _plain(tce.activity_tkm)
    if tce.origin is not None:
        out["origin"] = tce.origin.to_ileap()
    if tce.destination is not None:
        out["destination"] = tce.destination.to_ileap()
    out["co2eWTW"] = grams_to_kg(tce.co2e_wtw_g)
    out["co2eTTW"] = grams_to_kg(tce.co2e_ttw_g)
    return out


def shipment_footprint_extension(
    shipment_id: str, mass_kg: Decimal, tces: Sequence[Tce]
) -> dict[str, Any]:
    """The iLEAP ShipmentFootprint wrapped as a PACT ``DataModelExtension``."""
    return {
        "specVersion": EXTENSION_SPEC_VERSION,
        "dataSchema": ILEAP_SHIPMENT_SCHEMA,
        "documentation": ILEAP_DOCUMENTATION,
        "data": {
            "mass": _plain(mass_kg),
            "shipmentId": shipment_id,
            "tces": [_tce(shipment_id, t) for t in tces],
        },
    }


def _carbon_footprint(
    *,
    declared_unit: str,
    unitary_amount: Decimal,
    total_kg: Decimal,
    mass_per_unit: str,
    reference_period: tuple[str, str],
    gwp_set: str,
    boundary: str,
    factor_sources: Sequence[tuple[str, str]],
    geography_country: str | None = None,
) -> dict[str, Any]:
    pcf_kg = per_unit(total_kg, unitary_amount)
    pcf: dict[str, Any] = {
        "declaredUnit": declared_unit,
        "unitaryProductAmount": _plain(unitary_amount),
        "productMassPerDeclaredUnit": mass_per_unit,
        "pCfExcludingBiogenic": pcf_kg,
        "pCfIncludingBiogenic": pcf_kg,
        "fossilGhgEmissions": pcf_kg,
        "fossilCarbonContent": "0",
        "biogenicCarbonContent": "0",
        "dLucGhgEmissions": "0",
        "landManagementGhgEmissions": "0",
        "otherBiogenicGhgEmissions": "0",
        "biogenicCarbonWithdrawal": "0",
        "characterizationFactors": gwp_set,
        "ipccCharacterizationFactorsSources": [gwp_set],
        "crossSectoralStandardsUsed": ["GHG Protocol Product standard"],
        "crossSectoralStandards": ["GHGP-Product"],
        "biogenicAccountingMethodology": BIOGENIC_ACCOUNTING,
        "boundaryProcessesDescription": boundary,
        "referencePeriodStart": reference_period[0],
        "referencePeriodEnd": reference_period[1],
        "secondaryEmissionFactorSources": [
            {"name": name, "version": version} for name, version in factor_sources
        ],
        "exemptedEmissionsPercent": 0,
        "exemptedEmissionsDescription": "",
        "packagingEmissionsIncluded": False,
        "primaryDataShare": 0,
        "dqi": {
            "coveragePercent": 100,
            "technologicalDQR": DQR_SECONDARY,
            "temporalDQR": DQR_SECONDARY,
            "geographicalDQR": DQR_SECONDARY,
            "completenessDQR": DQR_SECONDARY,
            "reliabilityDQR": DQR_SECONDARY,
        },
    }
    if geography_country:
        pcf["geographyCountry"] = geography_country
    return pcf


def _comment(*parts: str) -> str:
    return " ".join(p for p in (*parts, DQI_COMMENT) if p)


def shipment_footprint(
    *,
    pf_id: str,
    created: str,
    company_name: str,
    company_id: str,
    shipment_id: str,
    mass_kg: Decimal,
    tces: Sequence[Tce],
    reference_period: tuple[str, str],
    gwp_set: str,
    factor_sources: Sequence[tuple[str, str]],
    extensions: Sequence[dict[str, Any]] = (),
    comment: str = "",
) -> dict[str, Any]:
    """The transport footprint of one shipment as a PACT v2.3 ProductFootprint."""
    activity = sum((t.activity_tkm for t in tces), Decimal(0))
    wtw_g = sum(t.co2e_wtw_g for t in tces)
    ttw_g = sum(t.co2e_ttw_g for t in tces)
    boundary = (
        "ISO 14083 / GLEC-aligned transport chain emissions, well-to-wheel "
        f"(WTW {grams_to_kg(wtw_g)} kg = TTW {grams_to_kg(ttw_g)} kg + WTT "
        f"{grams_to_kg(wtw_g - ttw_g)} kg CO2e); excludes production of the goods"
    )
    return {
        **_head(pf_id, created, company_name, company_id),
        "productDescription": f"Logistics emissions of shipment {shipment_id}",
        "productIds": [f"urn:pathfinder:product:customcode:vendor-assigned:shipment:{shipment_id}"],
        "productCategoryCpc": TRANSPORT_CPC,
        "productNameCompany": f"Shipment {shipment_id}",
        "comment": _comment(
            f"Shipment total: {_plain(activity)} t·km, WTW {grams_to_kg(wtw_g)} kg CO2e "
            "(values below are per t·km).", comment),
        "pcf": {
            **_carbon_footprint(
                declared_unit="ton kilometer",
                unitary_amount=activity,
                total_kg=Decimal(wtw_g) / 1000,
                mass_per_unit="0",
                reference_period=reference_period,
                gwp_set=gwp_set,
                boundary=boundary,
                factor_sources=factor_sources,
            ),
            "crossSectoralStandards": ["ISO14083"],
        },
        "extensions": [shipment_footprint_extension(shipment_id, mass_kg, tces), *extensions],
    }


def product_footprint(
    *,
    pf_id: str,
    created: str,
    company_name: str,
    company_id: str,
    production: ProductionFigures,
    reference_period: tuple[str, str],
    gwp_set: str,
    factor_sources: Sequence[tuple[str, str]],
    comment: str = "",
) -> dict[str, Any]:
    """The production (cradle-to-gate) footprint of the shipped good, per kilogram.

    The good is supplied in bulk, so ``unitaryProductAmount`` is ``1`` kilogram (PACT v2.3:
    "if the product is supplied in bulk in kg ... please enter 1"); the shipped quantity and
    its total are stated in the comment. Without a UN CPC code the footprint is still issued and
    ``productCategoryCpc`` says :data:`CPC_UNKNOWN` rather than a guessed code.
    """
    return {
        **_head(pf_id, created, company_name, company_id),
        "productDescription": production.product_description,
        "productIds": [
            "urn:pathfinder:product:customcode:vendor-assigned:"
            + "".join(production.product_id.split())
        ],
        "productCategoryCpc": production.cpc_code or CPC_UNKNOWN,
        "productNameCompany": production.product_description,
        "comment": _comment(
            f"Production total: {_plain(production.mass_kg)} kg, "
            f"{grams_to_kg(production.co2e_g)} kg CO2e (values below are per kg).", comment),
        "pcf": _carbon_footprint(
            declared_unit="kilogram",
            unitary_amount=Decimal(1),
            total_kg=Decimal(production.co2e_g) / 1000 / production.mass_kg,
            mass_per_unit="1",
            reference_period=reference_period,
            gwp_set=gwp_set,
            boundary=f"Cradle-to-gate production emissions; source: {production.source}",
            factor_sources=factor_sources,
            geography_country=production.geography_country,
        ),
    }
