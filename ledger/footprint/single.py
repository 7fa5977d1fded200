"""The footprint engine (ISO 14083 / GLEC method): the single-shipment path.

Per transport-chain element: distance (:mod:`ledger.factors.distances`), transport activity
``mass_t × distance_km`` t·km, and TTW and WTT emissions in whole grams::

    co2e_g = round_half_up(mass_kg / 1000 × distance_km × factor_kg_per_tkm × 1000)

computed exactly on integers (:mod:`ledger.footprint.exact`); WTW = TTW + WTT. A hub operation
uses the operator's intensities (kg CO2e per tonne handled) given on the record. Per shipment:
sums, the intensity (transport WTW grams per t·km, three decimals), production emissions and
CBAM embedded emissions of the goods, and a grand total (the rules shared with the batch path
are in :mod:`ledger.footprint.rules`).

:func:`compute_shipment` is the reference path (Python integers) used by verification;
:func:`compute_batch` (:mod:`ledger.footprint.batch`) is the vectorised path. Both give the
same integers.
"""

from __future__ import annotations

from collections.abc import Iterable

from ledger.errors import InputError, InputProblem
from ledger.factors.distances import Distance, Router
from ledger.factors.factorset import FactorSet
from ledger.footprint.exact import format_scaled, intensity_mg_per_tkm, mul3_round
from ledger.footprint.models import LegFootprint, ShipmentFootprint
from ledger.footprint.rules import goods_emissions, grand_total, hub_refs, scaled
from ledger.inputs.shipments import Leg, Shipment

__all__ = ["compute_shipment", "compute_shipments"]


def _leg_footprint(leg: Leg, factor_set: FactorSet, router: Router,
                   problems: list[tuple[str, str]]) -> tuple[LegFootprint, int] | None:
    mass_g = scaled(leg.mass_kg, 3)
    if leg.mode == "hub":
        ttw_u = scaled(leg.hub_co2e_ttw_kg_per_t, 6)
        wtw_u = scaled(leg.hub_co2e_wtw_kg_per_t, 6)
        ttw = mul3_round(mass_g, 1000, ttw_u)
        wtt = mul3_round(mass_g, 1000, wtw_u - ttw_u)
        ref_ttw, ref_wtt = hub_refs(ttw_u, wtw_u)
        return LegFootprint(leg.order, "hub", "0", "hub", False, "0", format_scaled(mass_g, 6),
                            ttw, wtt, ttw + wtt, ref_ttw, ref_wtt), 0
    factor = factor_set.freight.resolve(leg.mode, leg.vehicle_class, leg.laden_state,
                                        leg.refrigerated, leg.radiative_forcing)
    if leg.distance_km is not None:
        distance: Distance | tuple[str, str] = Distance(scaled(leg.distance_km, 3), "actual",
                                                        False)
    else:
        distance = router.distance(leg.mode, leg.origin or "", leg.destination or "",
                                   factor_set.params, bool(leg.avoid_suez),
                                   avoid_panama=bool(leg.avoid_panama))
    if isinstance(factor, tuple):
        problems.append(factor)
    if isinstance(distance, tuple):
        problems.append(distance)
    if isinstance(factor, tuple) or isinstance(distance, tuple):
        return None
    activity_gm = mass_g * distance.distance_m
    ttw = mul3_round(mass_g, distance.distance_m, factor.ttw_u)
    wtt = mul3_round(mass_g, distance.distance_m, factor.wtt_u)
    return LegFootprint(
        leg.order, leg.mode, format_scaled(distance.distance_m, 3), distance.method,
        distance.estimated, format_scaled(activity_gm, 9), None, ttw, wtt, ttw + wtt,
        factor.ttw_ref, factor.wtt_ref), activity_gm


def _compute(shipment: Shipment, factor_set: FactorSet, router: Router,
             problems: list[InputProblem]) -> ShipmentFootprint | None:
    legs: list[LegFootprint] = []
    activity_gm = 0
    transport_wtw_g = 0
    failed = False
    for leg in shipment.legs:
        found: list[tuple[str, str]] = []
        result = _leg_footprint(leg, factor_set, router, found)
        for name, message in found:
            problems.append(InputProblem(message, shipment.shipment_id, leg.source_row, name))
        if result is None:
            failed = True
            continue
        legs.append(result[0])
        activity_gm += result[1]
        if leg.mode != "hub":
            transport_wtw_g += result[0].co2e_wtw_g
    first = min((leg for leg in shipment.legs if leg.mode != "hub"), key=lambda x: x.order,
                default=shipment.legs[0])
    production, cbam, goods = goods_emissions(shipment.product, scaled(first.mass_kg, 3),
                                              factor_set, shipment.consignment)
    for name, message in goods:
        problems.append(InputProblem(message, shipment.shipment_id, shipment.source_row, name))
    if failed or goods:
        return None
    ttw = sum(leg.co2e_ttw_g for leg in legs)
    wtt = sum(leg.co2e_wtt_g for leg in legs)
    intensity = intensity_mg_per_tkm(transport_wtw_g, activity_gm)
    total, basis = grand_total(ttw + wtt, production, cbam)
    return ShipmentFootprint(
        shipment_id=shipment.shipment_id, factor_set_id=factor_set.id, legs=tuple(legs),
        activity_tkm=format_scaled(activity_gm, 9), co2e_ttw_g=ttw, co2e_wtt_g=wtt,
        co2e_wtw_g=ttw + wtt,
        intensity_g_per_tkm=None if intensity is None else format_scaled(intensity, 3),
        production=production, cbam=cbam, total_co2e_g=total, total_basis=basis)


def compute_shipment(shipment: Shipment, factor_set: FactorSet, *,
                     router: Router | None = None) -> ShipmentFootprint:
    """The footprint of one shipment; InputError lists every problem found."""
    problems: list[InputProblem] = []
    result = _compute(shipment, factor_set, router or Router(), problems)
    if problems or result is None:
        raise InputError(problems)
    return result


def compute_shipments(shipments: Iterable[Shipment], factor_set: FactorSet, *,
                      router: Router | None = None) -> list[ShipmentFootprint]:
    """Footprints of many shipments on the single path; problems of all are raised together."""
    router = router or Router()
    problems: list[InputProblem] = []
    results = [_compute(s, factor_set, router, problems) for s in shipments]
    if problems:
        raise InputError(problems)
    return [r for r in results if r is not None]

