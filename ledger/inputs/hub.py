"""The hub operator's description of a hub operation: hub type, energy carriers, temperature.

Optional fields of a hub leg (``mode`` ``hub``), all given by the hub operator with its
intensities per tonne (``hub_co2e_ttw_kg_per_t``, ``hub_co2e_wtw_kg_per_t``); with them a report
states the hub operation as an iLEAP Hub Operation Category (HOC, iLEAP Technical Specifications
v1.0.0 §6.4; :mod:`ledger.reports.hoc`). Values are written as iLEAP spells them:

- ``hub_type``: a ``HubType`` (§6.6.4), e.g. ``Transshipment``;
- ``hub_energy_carriers``: a non-empty list of the energy the hub uses, each with
  ``energy_carrier`` (an ``EnergyCarrierType``, §6.6.7, e.g. ``Diesel``, ``Electric``),
  ``relative_share`` (of the hub activity, above 0 and at most 1; the shares sum to exactly 1,
  §6.4.1), ``emission_factor_ttw`` and ``emission_factor_wtw`` (kg CO2e per
  ``energy_consumption_unit``; WTW >= TTW) and ``energy_consumption_unit`` (``l``, ``kg``,
  ``kWh`` or ``MJ``, §6.6.6);
- ``hub_temperature_control``: ``ambient``, ``refrigerated`` or ``mixed`` (§6.4.1,
  ``temperatureControl``, a property of the HOC, not of an energy carrier).

``hub_type`` and ``hub_energy_carriers`` come together (a HOC needs both); the temperature
control is optional with them. A problem of any of these fields is recorded by the caller's
reader (naming shipment, leg and field), and the leg is then refused whole. The ledger does
not check the operator's figures against any table: they are the operator's primary data,
carried as given.

JSON only: the CSV form (one row per leg) has no columns for them (a list of energy carriers
per leg does not fit one row); a CSV naming such a column is refused as an unknown column.

These fields are inputs: they are in the shipment's dict (and so in the anchored record) when
given, and absent otherwise, so a shipment without them keeps the record it had before.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ledger.inputs.consignment import Fields

__all__ = [
    "ENERGY_CARRIER_KEYS",
    "ENERGY_CARRIER_TYPES",
    "ENERGY_CONSUMPTION_UNITS",
    "HUB_KEYS",
    "HUB_TYPES",
    "TEMPERATURE_CONTROLS",
    "HubEnergyCarrier",
    "HubOperation",
    "hub_operation_from_mapping",
]

#: iLEAP v1.0.0 §6.6.4 ``HubType`` (as the iLEAP ``hoc.json`` schema spells the values).
HUB_TYPES = ("Transshipment", "StorageAndTransshipment", "Warehouse", "LiquidBulkTerminal",
             "MaritimeContainerTerminal")
#: iLEAP v1.0.0 §6.6.7 ``EnergyCarrierType``.
ENERGY_CARRIER_TYPES = ("Diesel", "HVO", "Petrol", "CNG", "LNG", "LPG", "HFO", "MGO",
                        "Aviation fuel", "Hydrogen", "Methanol", "Electric")
#: iLEAP v1.0.0 §6.6.6 ``energyConsumptionUnit``.
ENERGY_CONSUMPTION_UNITS = ("l", "kg", "kWh", "MJ")
#: iLEAP v1.0.0 §6.4.1 ``temperatureControl`` of a HOC.
TEMPERATURE_CONTROLS = ("ambient", "refrigerated", "mixed")

#: The keys of a hub leg that describe the operation (besides its intensities).
HUB_KEYS = ("hub_type", "hub_energy_carriers", "hub_temperature_control")
ENERGY_CARRIER_KEYS = ("energy_carrier", "relative_share", "emission_factor_ttw",
                       "emission_factor_wtw", "energy_consumption_unit")


def _plain(value: Decimal) -> str:
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


@dataclass(frozen=True)
class HubEnergyCarrier:
    """One energy carrier of a hub, with the operator's factors per energy consumption unit."""

    energy_carrier: str
    relative_share: Decimal
    emission_factor_ttw: Decimal
    emission_factor_wtw: Decimal
    energy_consumption_unit: str

    def to_dict(self) -> dict[str, str]:
        return {"energy_carrier": self.energy_carrier,
                "relative_share": _plain(self.relative_share),
                "emission_factor_ttw": _plain(self.emission_factor_ttw),
                "emission_factor_wtw": _plain(self.emission_factor_wtw),
                "energy_consumption_unit": self.energy_consumption_unit}


@dataclass(frozen=True)
class HubOperation:
    """The hub operator's description of a hub operation (see the module docstring)."""

    hub_type: str
    energy_carriers: tuple[HubEnergyCarrier, ...]
    temperature_control: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The leg keys (:data:`HUB_KEYS`) of the operation."""
        out: dict[str, Any] = {"hub_type": self.hub_type,
                               "hub_energy_carriers": [c.to_dict() for c in self.energy_carriers]}
        if self.temperature_control is not None:
            out["hub_temperature_control"] = self.temperature_control
        return out


def _choice(f: Fields, name: str, allowed: tuple[str, ...], what: str) -> str | None:
    value = f.text(name)
    if value is not None and value not in allowed:
        f.problem(name, f"unknown {what} {value!r}; expected one of {', '.join(allowed)} "
                  "(iLEAP v1.0.0, spelt as there)")
        return None
    return value


def _carrier(data: Any, index: int, f: Fields) -> HubEnergyCarrier | None:
    name = f"hub_energy_carriers[{index}]"
    if not isinstance(data, Mapping):
        f.problem(name, "expected an object")
        return None
    c = f.nested(data, name + ".")
    c.only(ENERGY_CARRIER_KEYS)
    carrier = _choice(c, "energy_carrier", ENERGY_CARRIER_TYPES, "energy_carrier")
    unit = _choice(c, "energy_consumption_unit", ENERGY_CONSUMPTION_UNITS,
                   "energy_consumption_unit")
    share = c.decimal("relative_share")
    ttw = c.decimal("emission_factor_ttw", positive=False)
    wtw = c.decimal("emission_factor_wtw", positive=False)
    for key, value in (("energy_carrier", carrier), ("relative_share", share),
                       ("emission_factor_ttw", ttw), ("emission_factor_wtw", wtw),
                       ("energy_consumption_unit", unit)):
        if value is None and data.get(key) in (None, ""):
            c.problem(key, f"{key} is required for each energy carrier of the hub")
    if ttw is not None and wtw is not None and wtw < ttw:
        c.problem("emission_factor_wtw", f"WTW factor {_plain(wtw)} is below the TTW factor "
                  f"{_plain(ttw)} (WTW = WTT + TTW)")
    if carrier is None or unit is None or share is None or ttw is None or wtw is None \
            or wtw < ttw:
        return None
    return HubEnergyCarrier(carrier, share, ttw, wtw, unit)


def hub_operation_from_mapping(data: Mapping[str, Any], f: Fields) -> HubOperation | None:
    """The operation described by a leg's :data:`HUB_KEYS` (``f`` reads the leg), or None when
    none is given or one is wrong (each problem recorded in ``f``, naming the field)."""
    given = [key for key in HUB_KEYS if data.get(key) not in (None, "", [])]
    if not given:
        return None
    hub_type = _choice(f, "hub_type", HUB_TYPES, "hub_type")
    temperature = _choice(f, "hub_temperature_control", TEMPERATURE_CONTROLS,
                          "hub_temperature_control")
    raw = data.get("hub_energy_carriers")
    carriers: list[HubEnergyCarrier | None] = []
    if raw not in (None, "", []):
        if not isinstance(raw, list):
            f.problem("hub_energy_carriers", "expected a list of energy carriers (objects)")
            return None
        carriers = [_carrier(item, i, f) for i, item in enumerate(raw, start=1)]
    if "hub_type" not in given or not carriers:
        missing = "hub_energy_carriers" if "hub_type" in given else "hub_type"
        f.problem(missing, f"{missing} is required with the hub operator's {', '.join(given)} "
                  "(an iLEAP HOC needs the hub type and the energy carriers, §6.4.1)")
        return None
    if hub_type is None or any(c is None for c in carriers):
        return None
    found = tuple(c for c in carriers if c is not None)
    total = sum((c.relative_share for c in found), Decimal(0))
    if total != 1:
        f.problem("hub_energy_carriers", f"the relative shares sum to {_plain(total)}; they "
                  "must sum to exactly 1 (iLEAP §6.4.1)")
        return None
    return HubOperation(hub_type, found, temperature)
