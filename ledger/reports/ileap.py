"""iLEAP Transport Activity Data (TAD) of published shipment footprints, and its filters.

iLEAP Technical Specifications v1.0.0 (2025-05-27), §6.5 "Transport Activity Data" and §7.1
"Action TransportActivityData". A TAD is one consignment, one leg and one mode of transport. It is
read from a PACT v2.3 ProductFootprint of :mod:`ledger.reports.pact` (the iLEAP ShipmentFootprint
extension) and the shipment record that its anchor extension carries:

- ``activityId``: ``<footprint id>/<tceId>`` (a TCE id is the shipment id and the leg number; the
  footprint id makes it unique in the service, whoever the exporter);
- ``consignmentIds``: ``[shipmentId]`` (the ledger records one consignment per shipment);
- ``mass``, ``distance``: the TCE's (kg; ``actual``, ``gcd`` or ``sfd`` km, as in the TCE);
- ``origin``, ``destination``: the leg's UN/LOCODE (``city`` is the UN/LOCODE place name,
  ``country`` the code's first two letters, ``locode``) or IATA airport (``city`` and ``country``
  from the airportsdata package; ``iata`` on air legs only, as §6.6.2 says);
- ``departureAt``, ``arrivalAt``: the consignment's ``dispatch_date`` and ``arrival_date`` at
  00:00 UTC. The ledger records dates per consignment, not per leg, so every leg of a shipment
  states the consignment's dispatch and arrival: the window in which the leg ran;
- ``mode``: the leg's mode (``Road``, ``Rail``, ``Air``, ``Sea``, ``InlandWaterway``);
- ``temperatureControl``: ``refrigerated`` / ``ambient`` where the leg says ``refrigerated``.

Nothing else is stated: load factor, empty distance, packaging and energy carriers are not in
the ledger's data, and these properties are optional. A leg gets no TAD when a mandatory property
is unknown: a hub operation (not a transport activity), a place given as coordinates or by
distance only (no city), a shipment without both consignment dates, or a footprint served
without its record (the grant withholds the evidence). :func:`transport_activities` returns the
reason of each leg left out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from ledger.factors.places import normalise_locode, place
from ledger.reports.model import ANCHOR_SCHEMA
from ledger.reports.pact import ILEAP_SHIPMENT_SCHEMA

__all__ = ["FILTERABLE", "MODES", "Skipped", "filter_problem", "matches", "tad_location",
           "transport_activities"]

#: Leg mode of the ledger -> iLEAP ``TransportMode`` (§6.6.3).
MODES = {"road": "Road", "rail": "Rail", "air": "Air", "sea": "Sea",
         "inland_waterway": "InlandWaterway"}

#: TAD properties a filter may name (§7.1.3: the name is case-sensitive, the value is not):
#: a string property equals the value, ``consignmentIds`` contains it.
FILTERABLE = ("activityId", "consignmentIds", "mode", "temperatureControl", "mass",
              "departureAt", "arrivalAt")

_IATA = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class Skipped:
    """A leg of a footprint that has no TAD, and why."""

    footprint_id: str
    tce_id: str
    reason: str


@lru_cache(maxsize=1)
def _airports() -> dict[str, tuple[str, str]]:
    """IATA code -> (city, country) from the airportsdata package (read once per process)."""
    import airportsdata

    return {code: (str(a["city"]), str(a["country"]))
            for code, a in airportsdata.load("IATA").items() if a.get("city") and a.get("country")}


def tad_location(ref: str, mode: str) -> dict[str, str] | None:
    """An iLEAP ``Location`` for a leg's place reference, or None when it has no named place
    (coordinates, or a code the reference lists do not hold)."""
    if _IATA.match(ref):
        airport = _airports().get(ref)
        if airport is None:
            return None
        out = {"city": airport[0], "country": airport[1]}
        if mode == "air":
            out["iata"] = ref
        return out
    code = normalise_locode(ref)
    entry = place(code) if code else None
    if code is None or entry is None or not entry.name:
        return None
    return {"city": entry.name, "country": code[:2], "locode": code}


def _utc_midnight(text: Any) -> str | None:
    try:
        day = date.fromisoformat(str(text))
    except ValueError:
        return None
    return f"{day.isoformat()}T00:00:00Z"


def _extension(footprint: Mapping[str, Any], schema: str) -> Mapping[str, Any] | None:
    for extension in footprint.get("extensions") or []:
        if isinstance(extension, Mapping) and extension.get("dataSchema") == schema:
            data = extension.get("data")
            return data if isinstance(data, Mapping) else None
    return None


def transport_activities(footprint: Mapping[str, Any]
                         ) -> tuple[list[dict[str, Any]], list[Skipped]]:
    """The TADs of one served PACT v2.3 footprint (none for a product footprint), in leg order,
    and the legs left out with the reason (see the module docstring)."""
    pf_id = str(footprint.get("id"))
    shipment = _extension(footprint, ILEAP_SHIPMENT_SCHEMA)
    if shipment is None:
        return [], []
    tces: Sequence[Mapping[str, Any]] = shipment.get("tces") or []
    anchor = _extension(footprint, ANCHOR_SCHEMA)
    record = anchor.get("record") if anchor is not None else None
    if not isinstance(record, Mapping):
        return [], [Skipped(pf_id, str(t.get("tceId")), "the shipment record is not disclosed "
                            "to this reader (departure and arrival are unknown)") for t in tces]
    data = record.get("shipment") or {}
    consignment = data.get("consignment") or {}
    departure = _utc_midnight(consignment.get("dispatch_date"))
    arrival = _utc_midnight(consignment.get("arrival_date"))
    legs = {int(leg["leg"]): leg for leg in data.get("legs") or []}
    shipment_id = str(shipment.get("shipmentId"))
    found: list[dict[str, Any]] = []
    skipped: list[Skipped] = []
    for tce in tces:
        tce_id = str(tce.get("tceId"))
        number = tce_id.rsplit("#", 1)[-1]
        leg = legs.get(int(number)) if "#" in tce_id and number.isdecimal() else None
        reason, tad = _tad(pf_id, shipment_id, tce, leg, (departure, arrival))
        if tad is None:
            skipped.append(Skipped(pf_id, tce_id, reason))
        else:
            found.append(tad)
    return found, skipped


def _tad(pf_id: str, shipment_id: str, tce: Mapping[str, Any], leg: Mapping[str, Any] | None,
         window: tuple[str | None, str | None]) -> tuple[str, dict[str, Any] | None]:
    departure, arrival = window
    if leg is None:
        return "the record holds no leg of this TCE", None
    mode = str(leg.get("mode"))
    if mode not in MODES:
        return f"a {mode} operation is not a transport activity", None
    if departure is None or arrival is None:
        return ("the consignment has no dispatch_date and arrival_date (departureAt and "
                "arrivalAt are mandatory)"), None
    origin = tad_location(str(leg.get("origin") or ""), mode)
    destination = tad_location(str(leg.get("destination") or ""), mode)
    if origin is None or destination is None:
        return ("the origin or destination is not a named place (a UN/LOCODE or an IATA "
                "airport; the city is mandatory)"), None
    tad: dict[str, Any] = {
        "activityId": f"{pf_id}/{tce.get('tceId')}",
        "consignmentIds": [shipment_id],
        "distance": dict(tce["distance"]),
        "mass": str(tce["mass"]),
        "origin": origin,
        "destination": destination,
        "departureAt": departure,
        "arrivalAt": arrival,
        "mode": MODES[mode],
    }
    if leg.get("refrigerated") is not None:
        tad["temperatureControl"] = "refrigerated" if leg["refrigerated"] else "ambient"
    return "", tad


def filter_problem(name: str) -> str | None:
    """Why the TAD list cannot be filtered by ``name``, or None."""
    if name in FILTERABLE:
        return None
    return (f"filtering TransportActivityData by {name!r} is not implemented; filter by one of "
            f"{', '.join(FILTERABLE)} (names are case-sensitive)")


def matches(tad: Mapping[str, Any], filters: Mapping[str, Sequence[str]]) -> bool:
    """Whether a TAD passes every filter pair (the values of one name: any of them)."""
    for name, values in filters.items():
        wanted = {v.casefold() for v in values}
        value = tad.get(name)
        held = [str(v) for v in value] if isinstance(value, list) else \
            [] if value is None else [str(value)]
        if not any(v.casefold() in wanted for v in held):
            return False
    return True
