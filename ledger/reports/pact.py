"""PACT v2.3 ProductFootprint documents with the iLEAP ShipmentFootprint extension.

Field names follow the PACT Technical Specifications v2.3 (``ProductFootprint`` >
``CarbonFootprint``) and iLEAP v1.0 (``ShipmentFootprint`` > ``TCE``). Numbers are decimal strings,
emissions in kg CO2e, masses in kg, distances in km and transport activity in t·km.

Two kinds of footprint:

- the **shipment** (transport) footprint, mapped as iLEAP's "PACT integration" says:
  ``declaredUnit`` ``ton kilometer``, ``unitaryProductAmount`` = sum of the TCEs' transport
  activity, ``pCfExcludingBiogenic`` = sum of the TCEs' ``co2eWTW``, ``productCategoryCpc``
  ``83117``, the ShipmentFootprint as a ``DataModelExtension``;
- the **product** (production, cradle-to-gate) footprint where the good has one:
  ``declaredUnit`` ``kilogram``, per-kilogram values.

Further extensions (the on-chain anchor) are passed in and appended as given.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from eth_utils.crypto import keccak

__all__ = [
    "ILEAP_SHIPMENT_SCHEMA",
    "PACT_SPEC_VERSION",
    "Location",
    "ProductionFigures",
    "Tce",
    "deterministic_pf_id",
    "grams_to_kg",
    "product_footprint",
    "shipment_footprint",
    "shipment_footprint_extension",
]

PACT_SPEC_VERSION = "2.3.0"
EXTENSION_SPEC_VERSION = "2.0.0"
ILEAP_SHIPMENT_SCHEMA = "https://api.ileap.sine.dev/shipment-footprint.json"
ILEAP_DOCUMENTATION = "https://sine-fdn.github.io/ileap-extension/"
TRANSPORT_CPC = "83117"
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
    out["distance"] = {tce.distance_basis: _plain(tce.distance_km)}
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
    unitary_amount: str,
    pcf_kg: str,
    reference_period: tuple[str, str],
    gwp_set: str,
    boundary: str,
    factor_sources: Sequence[tuple[str, str]],
    geography_country: str | None = None,
) -> dict[str, Any]:
    pcf: dict[str, Any] = {
        "declaredUnit": declared_unit,
        "unitaryProductAmount": unitary_amount,
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
        "productOrSectorSpecificRules": [],
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
    }
    if geography_country:
        pcf["geographyCountry"] = geography_country
    return pcf


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
        "id": pf_id,
        "specVersion": PACT_SPEC_VERSION,
        "version": 0,
        "created": created,
        "status": "Active",
        "companyName": company_name,
        "companyIds": [f"urn:pathfinder:company:customcode:vendor-assigned:{company_id}"],
        "productDescription": f"Logistics emissions of shipment {shipment_id}",
        "productIds": [f"urn:pathfinder:product:customcode:vendor-assigned:shipment:{shipment_id}"],
        "productCategoryCpc": TRANSPORT_CPC,
        "productNameCompany": f"Shipment {shipment_id}",
        "comment": comment,
        "pcf": {
            **_carbon_footprint(
                declared_unit="ton kilometer",
                unitary_amount=_plain(activity),
                pcf_kg=grams_to_kg(wtw_g),
                reference_period=reference_period,
                gwp_set=gwp_set,
                boundary=boundary,
                factor_sources=factor_sources,
            ),
            "productMassPerDeclaredUnit": _plain(mass_kg),
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
    """The production (cradle-to-gate) footprint of the shipped good, per kilogram."""
    per_kg = (Decimal(production.co2e_g) / 1000 / production.mass_kg).quantize(
        Decimal("0.000001"), rounding=ROUND_HALF_UP
    )
    return {
        "id": pf_id,
        "specVersion": PACT_SPEC_VERSION,
        "version": 0,
        "created": created,
        "status": "Active",
        "companyName": company_name,
        "companyIds": [f"urn:pathfinder:company:customcode:vendor-assigned:{company_id}"],
        "productDescription": production.product_description,
        "productIds": [
            f"urn:pathfinder:product:customcode:vendor-assigned:{production.product_id}"
        ],
        "productCategoryCpc": production.cpc_code,
        "productNameCompany": production.product_description,
        "comment": comment,
        "pcf": _carbon_footprint(
            declared_unit="kilogram",
            unitary_amount=_plain(production.mass_kg),
            pcf_kg=_plain(per_kg),
            reference_period=reference_period,
            gwp_set=gwp_set,
            boundary=f"Cradle-to-gate production emissions; source: {production.source}",
            factor_sources=factor_sources,
            geography_country=production.geography_country,
        ),
    }
