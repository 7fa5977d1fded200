"""iLEAP Hub Operation Categories (HOC) of the hub legs whose operator describes its hub.

iLEAP Technical Specifications v1.0.0 §6.4 (data type ``HOC``), §6.6.6 (``EnergyCarrier``) and
§7.2.3 (a HOC as a PACT ProductFootprint). A HOC needs the hub type and the energy carriers with
their emission factors (§6.4.1). A hub leg gives the operator's intensities per tonne
(``hub_co2e_ttw_kg_per_t``, ``hub_co2e_wtw_kg_per_t``); where the operator also gives its hub
type and energy carriers (:mod:`ledger.inputs.hub`), the leg's HOC is stated from these figures
only, as given (primary data of the operator; the ledger adds no factor):

- ``hocId``: ``operator:<hubType>:<16 hex digits>``, the first digits of the SHA-256 of the
  operator's data (hub type, temperature control, energy carriers, intensities) in canonical
  JSON, so the same data give the same id and other data another;
- ``hubType``, ``energyCarriers`` (each with ``relativeShare``, ``emissionFactorTTW`` and
  ``emissionFactorWTW`` in kg CO2e per ``energyConsumptionUnit``; no ``energyConsumption``:
  not given), ``temperatureControl`` where the operator gives it;
- ``co2eIntensityTTW`` / ``co2eIntensityWTW``: the operator's kg CO2e per tonne, with
  ``hubActivityUnit`` ``tonnes`` (tonnes leaving the hub, §6.4.1): the intensities the leg was
  computed with.

The TCE of such a leg names the ``hocId``; a hub leg without the operator's description keeps
naming the operation ``hub`` and no HOC is listed for it (iLEAP Appendix C TC003 is then not met
for its shipment).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from ledger.reports import pact

__all__ = ["ILEAP_HOC_SCHEMA", "Hoc", "hoc_footprint", "hoc_for_leg", "leg_hocs",
           "with_hoc_ids"]

ILEAP_HOC_SCHEMA = "https://api.ileap.sine.dev/hoc.json"
#: §7.2.3: a HOC footprint is per tonne leaving the hub, in kilograms.
_TONNE_KG = Decimal(1000)


@dataclass(frozen=True)
class Hoc:
    """The HOC of one hub operation as its operator describes it (kg CO2e per tonne)."""

    hoc_id: str
    hub_type: str
    energy_carriers: tuple[Mapping[str, str], ...]  # the leg's hub_energy_carriers
    temperature_control: str | None
    co2e_ttw_kg_per_t: Decimal
    co2e_wtw_kg_per_t: Decimal

    @property
    def description(self) -> str:
        carriers = ", ".join(
            f"{c['energy_carrier']} {c['relative_share']} (TTW {c['emission_factor_ttw']}, "
            f"WTW {c['emission_factor_wtw']} kg CO2e per {c['energy_consumption_unit']})"
            for c in self.energy_carriers)
        temperature = (f", {self.temperature_control}" if self.temperature_control else "")
        return (f"Hub operation ({self.hub_type}{temperature}) as its operator states it: "
                f"TTW {pact._plain(self.co2e_ttw_kg_per_t)} and WTW "
                f"{pact._plain(self.co2e_wtw_kg_per_t)} kg CO2e per tonne leaving the hub; "
                f"energy carriers (relative share): {carriers}. Primary data of the hub "
                "operator, carried as given; not certified.")

    def to_ileap(self) -> dict[str, Any]:
        out: dict[str, Any] = {"hocId": self.hoc_id, "description": self.description,
                               "hubType": self.hub_type}
        if self.temperature_control:
            out["temperatureControl"] = self.temperature_control
        out["energyCarriers"] = [{
            "energyCarrier": c["energy_carrier"], "relativeShare": c["relative_share"],
            "energyConsumptionUnit": c["energy_consumption_unit"],
            "emissionFactorWTW": c["emission_factor_wtw"],
            "emissionFactorTTW": c["emission_factor_ttw"]} for c in self.energy_carriers]
        out["co2eIntensityWTW"] = pact._plain(self.co2e_wtw_kg_per_t)
        out["co2eIntensityTTW"] = pact._plain(self.co2e_ttw_kg_per_t)
        out["hubActivityUnit"] = "tonnes"
        return out


def hoc_for_leg(leg: Mapping[str, Any]) -> Hoc | None:
    """The HOC of a hub leg of a canonical record (``Shipment.to_dict()`` form), or None when
    the leg is not a hub operation its operator describes."""
    carriers = leg.get("hub_energy_carriers")
    if leg.get("mode") != "hub" or not leg.get("hub_type") or not carriers:
        return None
    data = {key: leg.get(key) for key in ("hub_type", "hub_temperature_control",
                                          "hub_energy_carriers", "hub_co2e_ttw_kg_per_t",
                                          "hub_co2e_wtw_kg_per_t")}
    digest = hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":"),
                                       ensure_ascii=False).encode()).hexdigest()[:16]
    hub_type = str(leg["hub_type"])
    return Hoc(hoc_id=f"operator:{hub_type}:{digest}", hub_type=hub_type,
               energy_carriers=tuple({k: str(v) for k, v in c.items()} for c in carriers),
               temperature_control=leg.get("hub_temperature_control"),
               co2e_ttw_kg_per_t=Decimal(str(leg["hub_co2e_ttw_kg_per_t"])),
               co2e_wtw_kg_per_t=Decimal(str(leg["hub_co2e_wtw_kg_per_t"])))


def leg_hocs(record: Mapping[str, Any]) -> dict[int, Hoc]:
    """The HOC of each hub leg (by leg number) of a canonical record that has one."""
    out = {}
    for leg in (record.get("shipment") or {}).get("legs") or []:
        found = hoc_for_leg(leg)
        if found is not None:
            out[int(leg["leg"])] = found
    return out


def with_hoc_ids(tces: Sequence[pact.Tce], record: Mapping[str, Any]) -> tuple[pact.Tce, ...]:
    """The TCEs with ``hoc_id`` naming the HOC of their hub leg where it has one; other TCEs
    are kept as given."""
    hocs = leg_hocs(record)
    out = []
    for tce in tces:
        number = tce.tce_id.rsplit("#", 1)[-1]
        found = hocs.get(int(number)) if tce.hoc_id is not None and number.isdecimal() else None
        out.append(tce if found is None else replace(tce, hoc_id=found.hoc_id))
    return tuple(out)


def hoc_footprint(
    hoc: Hoc,
    *,
    pf_id: str,
    created: str,
    company_name: str,
    company_id: str,
    reference_period: tuple[str, str],
    gwp_set: str,
) -> dict[str, Any]:
    """The HOC as a PACT v2.3 ProductFootprint, as iLEAP v1.0.0 §7.2.3 maps it:
    ``productIds`` ``...:vendor-assigned:hoc:<hocId>``, CPC ``83117``, ``declaredUnit``
    ``kilogram``, ``unitaryProductAmount`` and ``productMassPerDeclaredUnit`` ``1000`` (one
    tonne leaving the hub), ``pCfExcludingBiogenic`` = ``co2eIntensityWTW`` (kg CO2e per tonne),
    ``packagingEmissionsIncluded`` false, the HOC as a ``DataModelExtension``.
    ``primaryDataShare`` is 100: the figures are all the operator's; no secondary emission
    factor source is named (none is used). The other attributes are those of every footprint of
    :mod:`ledger.reports.pact`."""
    wtw, ttw = hoc.co2e_wtw_kg_per_t, hoc.co2e_ttw_kg_per_t
    boundary = (
        f"Hub operation category {hoc.hoc_id}: {hoc.hub_type} hub operation, well-to-wheel "
        f"emissions per tonne leaving the hub (WTW {pact._plain(wtw)} kg = TTW "
        f"{pact._plain(ttw)} kg + WTT {pact._plain(wtw - ttw)} kg CO2e), the hub operator's "
        "figures; excludes transport legs and production of the goods")
    pcf = pact._carbon_footprint(
        declared_unit="kilogram", unitary_amount=_TONNE_KG, total_kg=wtw * _TONNE_KG,
        mass_per_unit="1000", reference_period=reference_period, gwp_set=gwp_set,
        boundary=boundary, factor_sources=())
    pcf.pop("secondaryEmissionFactorSources")  # none: PACT's set is non-empty when present
    pcf["pCfExcludingBiogenic"] = pcf["pCfIncludingBiogenic"] = pcf["fossilGhgEmissions"] = \
        pact._plain(wtw)  # §7.2.3: the intensity per tonne, as given (no rounding)
    pcf["primaryDataShare"] = 100
    pcf["crossSectoralStandards"] = ["ISO14083"]
    comment = (
        f"{hoc.description} Values below are per tonne (1000 kg) leaving the hub, as iLEAP "
        "v1.0.0 §7.2.3 maps a HOC. Data quality: every data quality rating is the worst of the "
        "PACT matrix (3): the ledger does not assess the operator's figures.")
    return pact.category_footprint(
        kind="HOC", category_id=hoc.hoc_id, title="Hub operation category", pf_id=pf_id,
        created=created, company_name=company_name, company_id=company_id, comment=comment,
        pcf=pcf, schema=ILEAP_HOC_SCHEMA, data=hoc.to_ileap())
