"""Leg distances, each with the kind of distance it is.

Rules (the parameters come from the factor set's method table):

- ``actual``: a distance given on the record is used as is.
- ``great_circle_plus_95km`` (air): great-circle distance between the two airports (haversine,
  mean Earth radius 6371.0088 km) rounded half up to whole km, plus the uplift (95 km, GLEC).
- ``sea_route_<passage>``: the shortest feasible route on the maritime graph of the ``searoute``
  package (version pinned by the factor set), rounded half up to whole km. The name says the
  passage the route takes: ``suez``, ``panama``, ``cape`` (Cape of Good Hope), ``cape_horn``
  (round South America), several joined by ``_and_`` (e.g. ``sea_route_panama_and_suez``), or
  ``direct`` (none of them). ``avoid_suez``: when the shortest route passes the Suez Canal, the
  route that passes neither Suez nor Panama, i.e. round the Cape of Good Hope for Asia-Europe
  (a Suez service diverted round Africa, not a Panama service); a route that does not pass Suez
  is unchanged. ``avoid_panama``: when the shortest route passes the Panama Canal, the shortest
  route that does not. Both together: neither canal.
- ``estimated_great_circle`` (road, rail): great-circle distance times the mode's distance
  adjustment factor, rounded half up to whole km, and flagged as estimated.

Rounding works on the shortest decimal text of the computed float (``repr``), so the result is
the same on any IEEE-754 machine.

Locations (:class:`LocationBook`): ``geo:LAT,LON``; an IATA airport code (``airportsdata``,
with the shipped corrections and refusals of :mod:`ledger.factors.places`); or a UN/LOCODE,
written ``CNNGB``, ``CN NGB`` or in lower case: a sea port of the ``searoute`` port list takes
its position on the maritime graph when that lies within 50 km of the UN/LOCODE table's checked
position of the code (or the table has none); otherwise, and for every other entry, the table's
position (inland places included, e.g. ``CNYIU`` Yiwu, ``DEMUC`` Munich).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.factors.places import airport_override, normalise_locode, place
from ledger.factors.tables import MethodParameters

if TYPE_CHECKING:
    from ledger.factors.sea_graph import SeaGraph

__all__ = [
    "EARTH_RADIUS_KM",
    "PASSAGES",
    "SEA_ROUTE_METHODS",
    "Distance",
    "Location",
    "LocationBook",
    "Router",
    "great_circle_km",
    "location_syntax_problem",
]

EARTH_RADIUS_KM = 6371.0088

_LOCODE = re.compile(r"^[A-Za-z]{2} ?[A-Za-z2-9]{3}$")
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
    return (f"{text!r} is not a location: expected a UN/LOCODE (e.g. CNNGB or CN NGB), an IATA "
            "airport code (e.g. PVG) or geo:LAT,LON")


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


def _airport(code: str) -> Location | str:
    fixed = airport_override(code)
    if fixed is not None:
        if fixed.lat is None or fixed.lon is None:
            return f"IATA airport {code!r} ({fixed.icao}): position refused: {fixed.source}"
        return Location(code, fixed.lat, fixed.lon)
    found = _airport_table().get(code)
    if found is None:
        return f"unknown IATA airport code {code!r}"
    return Location(code, *found)


#: A sea port of the searoute list farther than this from the UN/LOCODE table's position of its
#: code is not that place (the list has wrong codes and signs, e.g. ZAPOR at Zaporizhzhia for
#: Porterville, South Africa; CRSJO at 84.05 E for San Jose, Costa Rica): the table wins.
PORT_AGREEMENT_KM = 50.0


def _locode(text: str) -> Location | str:
    code = normalise_locode(text) or text
    port = _port_table().get(code)
    entry = place(code)
    if entry is not None and entry.lat is not None and entry.lon is not None:
        listed = Location(text, entry.lat, entry.lon)
        if port is not None and great_circle_km(Location(text, *port), listed) \
                <= PORT_AGREEMENT_KM:
            return Location(text, *port)
        return listed
    if port is not None:
        return Location(text, *port)
    if entry is not None:
        why = {"refused": "its geocoded position was refused (not within the UNECE positions "
                          "of its subdivision or country)",
               "invalid": "the source gives it a position out of range"}.get(
                   entry.coordinates, "UN/LOCODE gives it no position")
        return (f"UN/LOCODE {code} ({entry.name}) has no checked position: {why}; give "
                "geo:LAT,LON or distance_km instead")
    hint = ""
    if _airport_country().get(code[2:]) == code[:2]:
        hint = f" ({code[2:]} is an IATA airport code in {code[:2]}: write {code[2:]})"
    return (f"unknown location code {code!r}: not in the UN/LOCODE list{hint}; give "
            "geo:LAT,LON or distance_km instead")


@lru_cache(maxsize=1)
def _airport_country() -> dict[str, str]:
    import airportsdata

    return {code: str(a["country"]) for code, a in airportsdata.load("IATA").items()}


class LocationBook:
    """Resolves location references: airports, UN/LOCODEs (ports first) and coordinates."""

    def resolve(self, text: str) -> Location | str:
        """The location, or a message naming the unknown reference."""
        problem = location_syntax_problem(text)
        if problem is not None:
            return problem
        geo = _GEO.match(text)
        if geo:
            return Location(text, float(geo.group(1)), float(geo.group(2)))
        if _IATA.match(text):
            return _airport(text)
        return _locode(text)


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


#: Passages named in a sea route's method, in this order: searoute's passage -> our name.
PASSAGES = (("suez", "suez"), ("panama", "panama"), ("south_africa", "cape"),
            ("chili", "cape_horn"))


def _route_label(traversed: frozenset[str]) -> str:
    names = [ours for theirs, ours in PASSAGES if theirs in traversed]
    return "_and_".join(names) if names else "direct"


def _all_sea_methods() -> tuple[str, ...]:
    names = [ours for _, ours in PASSAGES]
    labels = ["direct"]
    for mask in range(1, 1 << len(names)):
        labels.append("_and_".join(n for i, n in enumerate(names) if mask >> i & 1))
    return tuple(f"sea_route_{label}" for label in labels)


#: Every method name a sea route can have (``sea_route_suez``, ``sea_route_cape``, ...).
SEA_ROUTE_METHODS = _all_sea_methods()


@dataclass(frozen=True)
class _SeaRoute:
    km: int
    passages: frozenset[str]


class Router:
    """Computes leg distances; results are cached per (mode, origin, destination, options).

    ``cache_path`` keeps sea routes across runs (a JSON file written by :meth:`save`): per
    router version, positions and avoided passages, the length in whole km and the passages
    the route takes.

    Sea routes are searched over searoute's graph held as arrays (:mod:`ledger.factors.sea_graph`,
    one search per origin port and set of avoided passages, same result as searoute): the
    process's shared graph unless ``sea_graph`` is given; with ``graph_search=False`` every sea
    route is one plain searoute call, the reference.
    """

    def __init__(self, cache_path: Path | None = None,
                 locations: LocationBook | None = None, *, graph_search: bool = True,
                 sea_graph: SeaGraph | None = None) -> None:
        self.locations = locations or LocationBook()
        self.cache_path = cache_path
        self.graph_search = graph_search
        self._graph = sea_graph if graph_search else None
        self._memo: dict[tuple[Any, ...], Distance | tuple[str, str]] = {}
        self._sea: dict[str, _SeaRoute] = {}
        self.sea_routes_computed = 0
        #: Of those, routes the array search left to one searoute call (ties, or it is off).
        self.sea_routes_by_searoute = 0
        self._installed: str | None = None
        if cache_path is not None and cache_path.is_file():
            try:
                loaded = json.loads(cache_path.read_text(encoding="utf-8"))
                # entries of an older cache (a bare length, no passages) are routed again
                self._sea = {str(k): _SeaRoute(int(v[0]), frozenset(str(p) for p in v[1]))
                             for k, v in loaded.items() if isinstance(v, list) and len(v) == 2}
            except (OSError, ValueError, AttributeError, TypeError):
                self._sea = {}

    def save(self) -> None:
        """Write the sea-route cache to ``cache_path`` (if one was given)."""
        if self.cache_path is not None:
            data = {k: [v.km, sorted(v.passages)] for k, v in self._sea.items()}
            self.cache_path.write_text(json.dumps(data, sort_keys=True, indent=0),
                                       encoding="utf-8")

    def distance(self, mode: str, origin: str, destination: str, params: MethodParameters,
                 avoid_suez: bool = False, *, avoid_panama: bool = False
                 ) -> Distance | tuple[str, str]:
        """The distance of a leg with no given distance, or (field, message) saying why not."""
        key = (mode, origin, destination, bool(avoid_suez), bool(avoid_panama), id(params.table))
        found = self._memo.get(key)
        if found is None:
            found = self._compute(mode, origin, destination, params,
                                  avoid_suez=bool(avoid_suez), avoid_panama=bool(avoid_panama))
            self._memo[key] = found
        return found

    def _compute(self, mode: str, origin: str, destination: str, params: MethodParameters, *,
                 avoid_suez: bool, avoid_panama: bool) -> Distance | tuple[str, str]:
        if mode not in ("air", "sea", "road", "rail"):
            return "distance_km", f"no distance method for mode {mode!r}: give distance_km"
        a = self.locations.resolve(origin)
        if isinstance(a, str):
            return "origin", a
        b = self.locations.resolve(destination)
        if isinstance(b, str):
            return "destination", b
        if mode == "sea":
            found = self._sea_leg(a, b, params, avoid_suez, avoid_panama)
            return found if isinstance(found, Distance) else ("destination", found)
        if avoid_suez:
            return "avoid_suez", "avoid_suez applies to sea legs only"
        if avoid_panama:
            return "avoid_panama", "avoid_panama applies to sea legs only"
        gc = Decimal(repr(great_circle_km(a, b)))
        if mode == "air":
            km = _whole_km(gc) + _whole_km(params.decimal("air.distance_uplift_km"))
            return Distance(km * 1000, "great_circle_plus_95km", False)
        daf = params.decimal(f"{mode}.distance_adjustment_factor")
        return Distance(_whole_km(gc * daf) * 1000, "estimated_great_circle", True)

    def _sea_leg(self, a: Location, b: Location, params: MethodParameters, avoid_suez: bool,
                 avoid_panama: bool) -> Distance | str:
        wanted = params.require("sea.router")
        if self._installed is None:
            self._installed = f"searoute {metadata.version('searoute')}"
        if self._installed != wanted:
            return (f"sea routing in this factor set needs {wanted}; {self._installed} is "
                    "installed (give distance_km or install the pinned version)")
        always = frozenset(p for p in params.require("sea.restrictions").split() if p)
        route = self._sea_route(a, b, wanted, always)
        if isinstance(route, str):
            return route
        avoided = set(always)
        if avoid_suez and "suez" in route.passages:
            avoided |= {"suez", "panama"}
        if avoid_panama and "panama" in route.passages:
            avoided.add("panama")
        if avoided != always:
            route = self._sea_route(a, b, wanted, frozenset(avoided))
            if isinstance(route, str):
                return route
        return Distance(route.km * 1000, f"sea_route_{_route_label(route.passages)}", False)

    def _sea_route(self, a: Location, b: Location, wanted: str,
                   restrictions: frozenset[str]) -> _SeaRoute | str:
        avoided = ",".join(sorted(restrictions))
        cache_key = f"{wanted}|{a.lat},{a.lon}|{b.lat},{b.lon}|{avoided}"
        found = self._sea.get(cache_key)
        if found is not None:
            return found
        from ledger.factors.sea_graph import searoute_route, shared_sea_graph

        if self.graph_search and self._graph is None:
            self._graph = shared_sea_graph()
        try:
            route = self._graph.route((a.lon, a.lat), (b.lon, b.lat), restrictions) \
                if self._graph is not None else None
            if route is None:  # a tie between paths of least weight, or graph_search off
                self.sea_routes_by_searoute += 1
                route = searoute_route((a.lon, a.lat), (b.lon, b.lat), restrictions)
            length, traversed = route.length_km, route.passages
        except Exception as exc:  # the package raises plain exceptions
            return f"no sea route from {a.ref} to {b.ref}: {exc}"
        if not math.isfinite(length) or length <= 0:
            extra = f" avoiding {', '.join(sorted(restrictions))}" if restrictions else ""
            return f"no sea route from {a.ref} to {b.ref}{extra}"
        found = _SeaRoute(_whole_km(Decimal(repr(length))), traversed)
        self._sea[cache_key] = found
        self.sea_routes_computed += 1
        return found
