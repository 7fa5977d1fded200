"""The air-freight method of a factor set: which distance, which haul band, which factor.

Two methods exist, chosen by the factor set's method table (never mixed):

- ``great_circle`` (``air.distance_method`` = ``great_circle``; method parameters v2): DESNZ
  freight-flight factors already include a distance uplift, so the leg distance is the plain
  great-circle distance between the airports (haversine on the mean Earth radius, rounded half
  up to whole km). The haul band follows DESNZ: short-haul under ``air.short_haul_below_km``
  (3,700 km), long-haul from there on; a leg with no vehicle class takes the band's default
  class (``default.air.short_haul.vehicle_class`` / ``default.air.long_haul.vehicle_class``).
  A given ``distance_km`` is taken as the great-circle distance (the factor includes the
  uplift).
- ``great_circle_plus_95km`` (no ``air.distance_method``; method parameters v1, kept so that
  records computed with those factor sets recompute to the same figures): great-circle distance
  plus GLEC's 95 km with the DESNZ factors; it counts the distance uplift twice, which is why
  the factor sets of method v2 replace it.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from ledger.factors.distances import Distance, Router, great_circle_km
from ledger.factors.tables import MethodParameters

__all__ = [
    "AIR_GREAT_CIRCLE",
    "HAULS",
    "air_distance",
    "band_vehicle_class",
    "haul_band",
    "plain_great_circle",
]

#: The distance method of the DESNZ air method.
AIR_GREAT_CIRCLE = "great_circle"
#: Haul bands, by code (the batch path stores the index).
HAULS = ("short-haul", "long-haul")


def plain_great_circle(params: MethodParameters) -> bool:
    """Whether the factor set computes air legs on the plain great-circle distance (DESNZ)."""
    return params.get("air.distance_method") == AIR_GREAT_CIRCLE


def air_distance(router: Router, origin: str, destination: str) -> Distance | tuple[str, str]:
    """The great-circle distance between two airports (or places), whole km, or (field,
    message) naming the unknown place."""
    a = router.locations.resolve(origin)
    if isinstance(a, str):
        return "origin", a
    b = router.locations.resolve(destination)
    if isinstance(b, str):
        return "destination", b
    km = Decimal(repr(great_circle_km(a, b))).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return Distance(int(km) * 1000, AIR_GREAT_CIRCLE, False)


def haul_band(distance_m: int, params: MethodParameters) -> int:
    """The index in :data:`HAULS` of a flight of ``distance_m`` metres."""
    limit_m = int(params.decimal("air.short_haul_below_km") * 1000)
    return 0 if distance_m < limit_m else 1


def band_vehicle_class(band: int, params: MethodParameters) -> str:
    """The default vehicle class of a haul band."""
    return params.require(f"default.air.{HAULS[band].replace('-', '_')}.vehicle_class")
