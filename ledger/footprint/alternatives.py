"""Alternatives to a shipment's declared route: Suez against the Cape of Good Hope for its sea
legs, and rail, sea or air for the main haul of a China–Europe shipment where the places allow.

Every alternative is computed with the same factor set and the same engine as the declared
route (:func:`ledger.footprint.single.compute_shipment`), so the figures differ only by route
and mode. For each: the transport-chain WTW in grams, the transit distance (the sum of the
transport legs' distances, km) and the saving against the declared route (grams and percent;
negative when the alternative emits more).

- **Suez / Cape**: every sea leg whose distance is routed (not given) is computed with
  ``avoid_suez`` off (the shortest sea route, through Suez where it is shorter) and on (the
  route avoiding Suez, round the Cape of Good Hope for Asia–Europe).
- **Main haul by mode**: the main haul is the longest sea, rail or air leg with both places
  given. For a shipment from China (``CN``) to Europe (:data:`EUROPE`) it is replaced by one leg
  of each other mode between the same places, with the mode's default vehicle class: sea needs
  a sea port at both ends, air an airport at both ends, rail places on land (its distance is
  the estimated great-circle distance of the factor set's rail rule). An alternative the
  places do not allow is listed with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ledger.errors import InputError
from ledger.factors.distances import Router
from ledger.factors.factorset import FactorSet
from ledger.factors.place_kinds import place_country, place_kind
from ledger.footprint.models import ShipmentFootprint
from ledger.footprint.single import compute_shipment
from ledger.inputs.shipments import Leg, Shipment

__all__ = ["EUROPE", "Alternative", "RouteComparison", "compare_routes", "compare_shipments"]

#: Countries counted as Europe for the China–Europe mode alternatives (EU, EEA, UK, CH and
#: the other European states on the rail corridors).
EUROPE = frozenset([
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
    "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
    "CH", "GB", "AL", "BA", "ME", "MK", "RS", "BY", "UA", "MD"])
_MAIN_MODES = ("sea", "rail", "air")


@dataclass(frozen=True)
class Alternative:
    """One way of moving the shipment and its figures (None when not available)."""

    name: str
    co2e_wtw_g: int | None
    distance_km: str | None
    saving_g: int | None
    saving_percent: str | None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.reason is not None:
            out["available"] = False
            out["reason"] = self.reason
            return out
        out.update(available=True, co2e_wtw_g=self.co2e_wtw_g, distance_km=self.distance_km,
                   saving_g=self.saving_g, saving_percent=self.saving_percent)
        return out


@dataclass(frozen=True)
class RouteComparison:
    """A shipment's declared route and its alternatives."""

    shipment_id: str
    factor_set_id: str
    declared: Alternative
    alternatives: tuple[Alternative, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {"shipment_id": self.shipment_id, "factor_set_id": self.factor_set_id,
                "declared": self.declared.to_dict(),
                "alternatives": [a.to_dict() for a in self.alternatives]}


def _distance_m(fp: ShipmentFootprint) -> int:
    return sum(int(Decimal(leg.distance_km) * 1000) for leg in fp.legs if leg.mode != "hub")


def _km(metres: int) -> str:
    text = format(Decimal(metres) / 1000, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _percent(saving: int, declared: int) -> str:
    if declared == 0:
        return "0"
    value = (Decimal(saving) * 100 / declared).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return format(value.normalize(), "f")


def _variant(name: str, shipment: Shipment, factor_set: FactorSet, router: Router,
             declared_g: int) -> Alternative:
    try:
        fp = compute_shipment(shipment, factor_set, router=router)
    except InputError as exc:
        return Alternative(name, None, None, None, None,
                           reason="; ".join(p.message for p in exc.problems))
    saving = declared_g - fp.co2e_wtw_g
    return Alternative(name, fp.co2e_wtw_g, _km(_distance_m(fp)), saving,
                       _percent(saving, declared_g))


def _main_haul(shipment: Shipment, fp: ShipmentFootprint) -> Leg | None:
    best: tuple[int, Leg] | None = None
    by_order = {leg.order: leg for leg in fp.legs}
    for leg in shipment.legs:
        if leg.mode in _MAIN_MODES and leg.origin and leg.destination:
            metres = int(Decimal(by_order[leg.order].distance_km) * 1000)
            if best is None or metres > best[0]:
                best = (metres, leg)
    return None if best is None else best[1]


def _country(place: str) -> str | None:
    """The country of a place; coordinates inside China's extent (18-54 N, 73-135 E, a coarse
    box) count as China."""
    found = place_country(place)
    if found is None and place.startswith("geo:"):
        lat, _, lon = place[4:].partition(",")
        try:
            if 18 <= float(lat) <= 54 and 73 <= float(lon) <= 135:
                return "CN"
        except ValueError:
            return None
    return found


def _mode_problem(mode: str, origin: str, destination: str) -> str | None:
    kinds = (place_kind(origin), place_kind(destination))
    if mode == "sea" and kinds != ("sea_port", "sea_port"):
        return f"sea needs a sea port at both ends ({origin}, {destination})"
    if mode == "air" and kinds != ("airport", "airport"):
        return f"air needs an airport at both ends ({origin}, {destination})"
    return None


def compare_routes(shipment: Shipment, factor_set: FactorSet, *,
                   router: Router | None = None) -> RouteComparison:
    """The declared route's figures and its alternatives; InputError if the declared route
    itself cannot be computed."""
    router = router or Router()
    declared_fp = compute_shipment(shipment, factor_set, router=router)
    declared_g = declared_fp.co2e_wtw_g
    declared = Alternative("declared", declared_g, _km(_distance_m(declared_fp)), 0, "0")
    out: list[Alternative] = []
    routed_sea = [leg for leg in shipment.legs if leg.mode == "sea" and leg.distance_km is None]
    if routed_sea:
        for name, avoid in (("sea via Suez (shortest sea route)", False),
                            ("sea via the Cape of Good Hope (avoiding Suez)", True)):
            legs = tuple(replace(leg, avoid_suez=avoid) if leg in routed_sea else leg
                         for leg in shipment.legs)
            out.append(_variant(name, replace(shipment, legs=legs), factor_set, router,
                                declared_g))
    main = _main_haul(shipment, declared_fp)
    origin = None if main is None else main.origin
    destination = None if main is None else main.destination
    if main is not None and origin and destination and _country(origin) == "CN" \
            and _country(destination) in EUROPE:
        for mode in _MAIN_MODES:
            if mode == main.mode:
                continue
            name = f"main haul by {mode} ({origin} to {destination})"
            problem = _mode_problem(mode, origin, destination)
            if problem is not None:
                out.append(Alternative(name, None, None, None, None, reason=problem))
                continue
            leg = Leg(main.order, mode, main.mass_kg, origin=origin, destination=destination,
                      source_row=main.source_row)
            legs = tuple(leg if x is main else x for x in shipment.legs)
            out.append(_variant(name, replace(shipment, legs=legs), factor_set, router,
                                declared_g))
    elif main is not None:
        out.append(Alternative("main haul by another mode", None, None, None, None,
                               reason="mode alternatives are computed for China-Europe main "
                               f"hauls; this one runs {origin} to {destination}"))
    return RouteComparison(shipment.shipment_id, factor_set.id, declared, tuple(out))


def compare_shipments(shipments: Iterable[Shipment], factor_set: FactorSet, *,
                      router: Router | None = None) -> list[RouteComparison]:
    """:func:`compare_routes` for many shipments (one router); problems raised together."""
    router = router or Router()
    results: list[RouteComparison] = []
    problems = []
    for shipment in shipments:
        try:
            results.append(compare_routes(shipment, factor_set, router=router))
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    return results
