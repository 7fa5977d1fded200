"""Footprint results: per transport-chain element, per shipment. Integers of grams, no floats."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledger.factors.cbam import CbamResult

__all__ = ["LegFootprint", "ProductionResult", "ShipmentFootprint"]


@dataclass(frozen=True)
class LegFootprint:
    """One transport-chain element (TCE): a transport leg or a hub operation.

    ``distance_km`` and ``activity_tkm`` are decimal strings; a hub has distance "0", activity
    "0" t·km and its throughput in ``hub_activity_t``. WTW = TTW + WTT, in whole grams.

    The optional fields are serialised only when set, so results of factor sets and inputs
    without them keep their form: ``haul`` (an air leg under the DESNZ great-circle method:
    ``short-haul`` or ``long-haul``), ``data_type`` (``primary``: the carrier's own intensity;
    ``secondary``: a default factor; set on every transport leg of a shipment that has a
    primary leg) and, for a primary leg, the carrier's source, period and verification.
    """

    order: int
    mode: str
    distance_km: str
    distance_method: str
    distance_estimated: bool
    activity_tkm: str
    hub_activity_t: str | None
    co2e_ttw_g: int
    co2e_wtt_g: int
    co2e_wtw_g: int
    factor_ttw: str
    factor_wtt: str
    haul: str | None = None
    data_type: str | None = None
    carrier_source: str | None = None
    carrier_period: str | None = None
    carrier_verified: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "leg": self.order,
            "mode": self.mode,
            "distance_km": self.distance_km,
            "distance_method": self.distance_method,
            "distance_estimated": self.distance_estimated,
            "activity_tkm": self.activity_tkm,
            "co2e_ttw_g": self.co2e_ttw_g,
            "co2e_wtt_g": self.co2e_wtt_g,
            "co2e_wtw_g": self.co2e_wtw_g,
            "factor_ttw": self.factor_ttw,
            "factor_wtt": self.factor_wtt,
        }
        if self.hub_activity_t is not None:
            out["hub_activity_t"] = self.hub_activity_t
        for name in ("haul", "data_type", "carrier_source", "carrier_period",
                     "carrier_verified"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


@dataclass(frozen=True)
class ProductionResult:
    """Cradle-to-gate (production) emissions of the shipment's goods."""

    method: str
    data_type: str | None
    net_mass_kg: str
    mass_basis: str
    co2e_direct_g: int
    co2e_indirect_g: int
    co2e_g: int
    factor_ref: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "data_type": self.data_type,
            "net_mass_kg": self.net_mass_kg,
            "mass_basis": self.mass_basis,
            "co2e_direct_g": self.co2e_direct_g,
            "co2e_indirect_g": self.co2e_indirect_g,
            "co2e_g": self.co2e_g,
            "factor_ref": self.factor_ref,
        }


@dataclass(frozen=True)
class ShipmentFootprint:
    """The footprint of one shipment under one factor set.

    The transport-chain totals ``co2e_wtw_g`` and ``co2e_ttw_g`` are the figures anchored on
    chain. ``total_co2e_g`` adds the goods' emissions as ``total_basis`` says: the production
    figure when the record declares one, else the CBAM embedded emissions of a CBAM good.
    ``primary_data_share`` (percent of the transport-chain WTW computed from carriers' own
    intensities, two decimals; iLEAP/PACT ``primaryDataShare``) is serialised only for a
    shipment with a primary leg.
    """

    shipment_id: str
    factor_set_id: str
    legs: tuple[LegFootprint, ...]
    activity_tkm: str
    co2e_ttw_g: int
    co2e_wtt_g: int
    co2e_wtw_g: int
    intensity_g_per_tkm: str | None
    production: ProductionResult | None
    cbam: CbamResult
    total_co2e_g: int
    total_basis: str
    primary_data_share: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {
            "shipment_id": self.shipment_id,
            "factor_set_id": self.factor_set_id,
            "legs": [leg.to_dict() for leg in self.legs],
            "activity_tkm": self.activity_tkm,
            "co2e_ttw_g": self.co2e_ttw_g,
            "co2e_wtt_g": self.co2e_wtt_g,
            "co2e_wtw_g": self.co2e_wtw_g,
            "intensity_g_per_tkm": self.intensity_g_per_tkm,
            "production": self.production.to_dict() if self.production else None,
            "cbam": self.cbam.to_dict(),
            "total_co2e_g": self.total_co2e_g,
            "total_basis": self.total_basis,
        }
        if self.primary_data_share is not None:
            out["primary_data_share"] = self.primary_data_share
        return out
