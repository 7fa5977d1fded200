"""Plausibility warnings: inputs that compute but look wrong. Never errors.

Each warning names the shipment, the row (CSV line, or the shipment's position in a JSON file)
and the field, and says what looks wrong:

- ``mass_kg`` outside the usual range of one leg of the mode (:data:`MASS_RANGE_KG`; e.g.
  14.5 kg on a container ship is more likely 14.5 t);
- a chain with a gap: leg n's destination is not leg n+1's origin (legs without places and
  hub operations are skipped);
- a sea leg from or to a place that is not a sea port of the port list (an airport, or a
  UN/LOCODE the list does not hold: an inland place);
- a road leg longer than 5,000 km (:data:`ROAD_LONGEST_KM`);
- the goods' net mass above the mass carried on the first transport leg;
- an air leg from or to a sea port rather than an airport.

The ranges and the 5,000 km limit are project conventions for catching unit slips (kg for t,
m for km); they are not from a standard and change no figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ledger.factors.place_kinds import place_kind
from ledger.inputs.frame import ShipmentFrame

__all__ = ["MASS_RANGE_KG", "ROAD_LONGEST_KM", "PlausibilityWarning", "plausibility_warnings"]

#: (smallest, largest) usual mass of one leg, kg (project convention, see the module text).
MASS_RANGE_KG: dict[str, tuple[float, float]] = {
    "road": (0.1, 100_000),
    "rail": (50, 5_000_000),
    "sea": (50, 250_000_000),
    "air": (0.1, 150_000),
    "inland_waterway": (50, 20_000_000),
}
#: The longest plausible road leg, km (project convention).
ROAD_LONGEST_KM = 5_000


@dataclass(frozen=True)
class PlausibilityWarning:
    """One plausibility warning."""

    shipment_id: str
    row: int | None
    field: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"shipment_id": self.shipment_id, "row": self.row, "field": self.field,
                "message": self.message}


def plausibility_warnings(frame: ShipmentFrame, distance_m: npt.NDArray[np.int64] | None = None,
                          *, csv_fields: bool = False) -> list[PlausibilityWarning]:
    """The warnings of a frame's shipments; ``distance_m`` (aligned with ``frame.legs``, -1
    where unknown) adds the checks of computed distances."""
    legs = frame.legs
    if not len(legs):
        return []
    ship = legs["ship"].to_numpy()
    order = legs["order"].to_numpy()
    rows = legs["row"].to_numpy()
    modes = np.asarray(legs["mode"].array, dtype=object)
    origins = np.asarray(legs["origin"].array, dtype=object)
    dests = np.asarray(legs["destination"].array, dtype=object)
    mass = legs["mass_g"].to_numpy()
    dist = legs["distance_m"].to_numpy() if distance_m is None else distance_m
    out: list[PlausibilityWarning] = []

    def name(j: int, column: str) -> str:
        return column if csv_fields else f"legs[{int(order[j])}].{column}"

    def add(j: int, column: str, message: str) -> None:
        row = int(rows[j])
        out.append(PlausibilityWarning(str(frame.ids[int(ship[j])]), None if row < 0 else row,
                            name(j, column), message))

    for mode, (low, high) in MASS_RANGE_KG.items():
        at = modes == mode
        odd = np.flatnonzero(at & ((mass < low * 1000) | (mass > high * 1000)))
        for j in odd.tolist():
            kg = mass[j] / 1000
            add(j, "mass_kg", f"{kg:g} kg is unusual for one {mode} leg (usual range "
                f"{low:,g} to {high:,.0f} kg): check the unit (kg, not t)")
    road = np.flatnonzero((modes == "road") & (dist > ROAD_LONGEST_KM * 1000))
    for j in road.tolist():
        add(j, "distance_km", f"a road leg of {dist[j] / 1000:g} km is longer than "
            f"{ROAD_LONGEST_KM:,} km: check the distance and the mode")
    kinds: dict[Any, str] = {}

    def kind(value: Any) -> str | None:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return None
        found = kinds.get(value)
        if found is None:
            found = kinds[value] = place_kind(str(value))
        return found

    for j in np.flatnonzero((modes == "sea") | (modes == "air")).tolist():
        for column, value in (("origin", origins[j]), ("destination", dests[j])):
            k = kind(value)
            if modes[j] == "sea" and k in ("airport", "locode"):
                add(j, column, f"sea leg {column} {value} is not a sea port of the port list "
                    "(an inland place or an airport?)")
            elif modes[j] == "air" and k == "sea_port":
                add(j, column, f"air leg {column} {value} is a sea port, not an airport "
                    "(give the IATA code of the airport)")
    names: dict[str, int] = {}
    dest_id = _place_ids(legs["destination"], names)
    origin_id = _place_ids(legs["origin"], names)
    placed = np.flatnonzero(modes != "hub")
    a, b = placed[:-1], placed[1:]
    gap = (ship[a] == ship[b]) & (dest_id[a] >= 0) & (origin_id[b] >= 0) & \
        (dest_id[a] != origin_id[b])
    for x, y in zip(a[gap].tolist(), b[gap].tolist(), strict=True):
        add(y, "origin", f"leg {int(order[y])} starts at {origins[y]} but leg "
            f"{int(order[x])} ends at {dests[x]}: a gap in the transport chain")
    first = _first_transport(ship, modes, len(frame))
    for i, product in enumerate(frame.products):
        if product is None or product.net_mass_kg is None or first[i] < 0:
            continue
        carried_g = int(mass[first[i]])
        if int(product.net_mass_kg.scaleb(3)) > carried_g:
            row = int(frame.rows[i])
            out.append(PlausibilityWarning(
                str(frame.ids[i]), None if row < 0 else row,
                "net_mass_kg" if csv_fields else "product.net_mass_kg",
                f"net mass {product.net_mass_kg} kg is above the {carried_g / 1000:g} kg "
                "carried on the first transport leg"))
    out.sort(key=lambda w: (w.row or 0, w.shipment_id, w.field))
    return out


def _place_ids(column: Any, names: dict[str, int]) -> npt.NDArray[np.int64]:
    """Per leg, an id of the place (spaces and case ignored; -1: none), shared via ``names``."""
    ids = np.asarray([names.setdefault(str(c).replace(" ", "").upper(), len(names))
                      for c in column.cat.categories] + [-1], dtype=np.int64)
    found: npt.NDArray[np.int64] = ids[column.cat.codes.to_numpy()]
    return found


def _first_transport(ship: npt.NDArray[np.int64], modes: npt.NDArray[Any],
                     count: int) -> npt.NDArray[np.int64]:
    first = np.full(count, -1, dtype=np.int64)
    transport = np.flatnonzero(modes != "hub")
    ships, at = np.unique(ship[transport], return_index=True)
    first[ships] = transport[at]
    return first
