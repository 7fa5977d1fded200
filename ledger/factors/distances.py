"""Leg distances, each with the kind of distance it is.

Rules (the parameters come from the factor set's method table):

- ``actual``: a distance given on the record is used as is.
- ``great_circle_plus_95km`` (air): great-circle distance between the two airports (haversine,
  mean Earth radius 6371.0088 km) rounded half up to whole km, plus the uplift (95 km, GLEC).
- ``sea_route`` / ``sea_route_avoiding_suez``: the shortest feasible route on the maritime graph
  of the ``searoute`` package (version pinned by the factor set), rounded half up to whole km.
- ``estimated_great_circle`` (road, rail): great-circle distance times the mode's distance
  adjustment factor, rounded half up to whole km, and flagged as estimated.

Rounding works on the shortest decimal text of the computed float (``repr``), so the result is
the same on any IEEE-754 machine. Locations are UN/LOCODEs (the port list shipped with
``searoute``), IATA airport codes (``airportsdata``) or ``geo:LAT,LON``.
"""

from __future__ import annotations

import json
import math
import re
import warnings
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from ledger.factors.tables import MethodParameters

__all__ = [
    "EARTH_RADIUS_KM",
    "Distance",
    "Location",
    "LocationBook",
    "Router",
    "great_circle_km",
    "location_syntax_problem",
]

EARTH_RADIUS_KM = 6371.0088

_LOCODE = re.compile(r"^[A-Z]{2}[A-Z2-9]{3}$")
_IATA = re.compile(r"^[A-Z]{3}$")
_GEO = re.compile(r"^geo:(-?\d{1,2}(?:\.\d+)?),(-?\d{1,3}(?:\.\d+)?)$")


def location_syntax_problem(text: str) -> str | None:
    """Why ``text`` is not a location reference, or None if its form is valid."""
    if _LOCODE.match(text) or _IATA.match(text):
        return None
    geo = _GEO.match(text)
    if geo:
        lat, lon = float(geo.group(1)), float(geo.group(2))
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            return None
        return f"coordinates out of range in {text!r}"
    return (f"{text!r} is not a location: expected a UN/LOCODE (e.g. CNNGB), an IATA airport "
            "code (e.g. PVG) or geo:LAT,LON")


@dataclass(frozen=True)
class Location:
    """A resolved place: the reference as written and its coordinates in degrees."""

    ref: str
    lat: float
    lon: float


@lru_cache(maxsize=1)
def _airport_table() -> dict[str, tuple[float, float]]:
    """IATA code -> (lat, lon) from the airportsdata package (read once per process)."""
    import airportsdata

    return {code: (float(a["lat"]), float(a["lon"]))
            for code, a in airportsdata.load("IATA").items()}


@lru_cache(maxsize=1)
def _port_table() -> dict[str, tuple[float, float]]:
    """UN/LOCODE -> (lat, lon) from the port list shipped in searoute (read once)."""
    from searoute.data.ports_dict import node_list

    ports: dict[str, tuple[float, float, int]] = {}
    # A code listed twice keeps the terminal entry, then the smallest (lon, lat).
    for (lon, lat), props in sorted(node_list.items()):
        code = str(props.get("port", ""))
        rank = 0 if props.get("t") == 1.0 else 1
        if code and (code not in ports or rank < ports[code][2]):
            ports[code] = (float(lat), float(lon), rank)
    return {code: (v[0], v[1]) for code, v in ports.items()}


class LocationBook:
    """Resolves location references against the airport and port lists of the packages."""

    def resolve(self, text: str) -> Location | str:
        """The location, or a message naming the unknown reference."""
        problem = location_syntax_problem(text)
        if problem is not None:
            return problem
        geo = _GEO.match(text)
        if geo:
            return Location(text, float(geo.group(1)), float(geo.group(2)))
        if _IATA.match(text):
            found = _airport_table().get(text)
            if found is None:
                return f"unknown IATA airport code {text!r}"
            return Location(text, *found)
        port = _port_table().get(text)
        if port is None:
            return (f"unknown location code {text!r} (UN/LOCODEs are looked up in the port "
                    "list of the searoute package; give geo:LAT,LON or distance_km instead)")
        return Location(text, *port)


def great_circle_km(a: Location, b: Location) -> float:
    """Haversine distance in km on a sphere of the mean Earth radius."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def _whole_km(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Distance:
    """A leg distance in whole metres and how it was obtained."""

    distance_m: int
    method: str
    estimated: bool


class Router:
    """Computes leg distances; results are cached per (mode, origin, destination, options).

    ``cache_path`` keeps sea routes across runs (a JSON file written by :meth:`save`).
    """

    def __init__(self, cache_path: Path | None = None,
                 locations: LocationBook | None = None) -> None:
        self.locations = locations or LocationBook()
        self.cache_path = cache_path
        self._memo: dict[tuple[Any, ...], Distance | tuple[str, str]] = {}
        self._sea: dict[str, int] = {}
        self.sea_routes_computed = 0
        self._installed: str | None = None
        if cache_path is not None and cache_path.is_file():
            try:
                loaded = json.loads(cache_path.read_text(encoding="utf-8"))
                self._sea = {str(k): int(v) for k, v in loaded.items()}
            except (OSError, ValueError, AttributeError):
                self._sea = {}

    def save(self) -> None:
        """Write the sea-route cache to ``cache_path`` (if one was given)."""
        if self.cache_path is not None:
            self.cache_path.write_text(json.dumps(self._sea, sort_keys=True, indent=0),
                                       encoding="utf-8")

    def distance(self, mode: str, origin: str, destination: str, params: MethodParameters,
                 avoid_suez: bool = False) -> Distance | tuple[str, str]:
        """The distance of a leg with no given distance, or (field, message) saying why not."""
        key = (mode, origin, destination, bool(avoid_suez), id(params.table))
        found = self._memo.get(key)
        if found is None:
            found = self._compute(mode, origin, destination, params, avoid_suez)
            self._memo[key] = found
        return found

    def _compute(self, mode: str, origin: str, destination: str, params: MethodParameters,
                 avoid_suez: bool) -> Distance | tuple[str, str]:
        if mode not in ("air", "sea", "road", "rail"):
            return "distance_km", f"no distance method for mode {mode!r}: give distance_km"
        a = self.locations.resolve(origin)
        if isinstance(a, str):
            return "origin", a
        b = self.locations.resolve(destination)
        if isinstance(b, str):
            return "destination", b
        if mode == "sea":
            found = self._sea_route(a, b, params, avoid_suez)
            return found if isinstance(found, Distance) else ("destination", found)
        if avoid_suez:
            return "avoid_suez", "avoid_suez applies to sea legs only"
        gc = Decimal(repr(great_circle_km(a, b)))
        if mode == "air":
            km = _whole_km(gc) + _whole_km(params.decimal("air.distance_uplift_km"))
            return Distance(km * 1000, "great_circle_plus_95km", False)
        daf = params.decimal(f"{mode}.distance_adjustment_factor")
        return Distance(_whole_km(gc * daf) * 1000, "estimated_great_circle", True)

    def _sea_route(self, a: Location, b: Location, params: MethodParameters,
                   avoid_suez: bool) -> Distance | str:
        wanted = params.require("sea.router")
        if self._installed is None:
            self._installed = f"searoute {metadata.version('searoute')}"
        installed = self._installed
        if installed != wanted:
            return (f"sea routing in this factor set needs {wanted}; {installed} is installed "
                    "(give distance_km or install the pinned version)")
        restrictions = [p for p in params.require("sea.restrictions").split() if p]
        if avoid_suez:
            restrictions.append("suez")
        method = "sea_route_avoiding_suez" if avoid_suez else "sea_route"
        cache_key = f"{wanted}|{a.lat},{a.lon}|{b.lat},{b.lon}|{','.join(restrictions)}"
        km = self._sea.get(cache_key)
        if km is None:
            import searoute

            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    route = searoute.searoute([a.lon, a.lat], [b.lon, b.lat], units="km",
                                              restrictions=restrictions)
                length = float(route["properties"]["length"])
            except Exception as exc:  # the package raises plain exceptions
                return f"no sea route from {a.ref} to {b.ref}: {exc}"
            if not math.isfinite(length) or length <= 0:
                return f"no sea route from {a.ref} to {b.ref}"
            km = _whole_km(Decimal(repr(length)))
            self._sea[cache_key] = km
            self.sea_routes_computed += 1
        return Distance(km * 1000, method, False)
