"""The footprint engine (ISO 14083 / GLEC method): the single-shipment path and shared rules.

Per transport-chain element: distance (:mod:`ledger.factors.distances`), transport activity
``mass_t × distance_km`` t·km, and TTW and WTT emissions in whole grams::

    co2e_g = round_half_up(mass_kg / 1000 × distance_km × factor_kg_per_tkm × 1000)

computed exactly on integers (:mod:`ledger.footprint.exact`); WTW = TTW + WTT. A hub operation
uses the operator's intensities (kg CO2e per tonne handled) given on the record. Per shipment:
sums, the intensity (transport WTW grams per t·km, three decimals), production emissions and
CBAM embedded emissions of the goods, and a grand total.

:func:`compute_shipment` is the reference path (Python integers) used by verification;
:func:`compute_batch` (:mod:`ledger.footprint.batch`) is the vectorised path. Both give the
same integers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ledger.errors import InputError, InputProblem
from ledger.factors.cbam import CbamResult, embedded_emissions, normalise_cn, out_of_scope
from ledger.factors.distances import Distance, Router
from ledger.factors.factorset import FactorSet
from ledger.footprint.exact import format_scaled, intensity_mg_per_tkm, mul3_round
from ledger.footprint.models import LegFootprint, ProductionResult, ShipmentFootprint
from ledger.inputs.shipments import Leg, Product, Shipment

if TYPE_CHECKING:
    from ledger.footprint.batch import BatchFootprint
    from ledger.inputs.frame import ShipmentFrame

__all__ = [
    "LegFootprint",
    "ProductionResult",
    "ShipmentFootprint",
    "compute_batch",
    "compute_shipment",
    "compute_shipments",
    "goods_emissions",
    "grand_total",
    "hub_refs",
]

def _scaled(value: Decimal | None, places: int) -> int:
    return int((value or Decimal(0)).scaleb(places))


def hub_refs(ttw_u: int, wtw_u: int) -> tuple[str, str]:
    """The factor references of a hub operation: the operator's intensities on the record."""
    return (f"record#hub_co2e_ttw_kg_per_t={format_scaled(ttw_u, 6)}",
            f"record#hub_co2e_wtt_kg_per_t={format_scaled(wtw_u - ttw_u, 6)}")


def goods_emissions(
    product: Product | None, first_mass_g: int, factor_set: FactorSet,
) -> tuple[ProductionResult | None, CbamResult, list[tuple[str, str]]]:
    """Production and CBAM results of a shipment's goods, and (field, message) problems."""
    problems: list[tuple[str, str]] = []
    if product is None or product.cn_code is None:
        cbam = out_of_scope("no CN code on the record: not a declared CBAM good")
    else:
        cbam = out_of_scope("not assessed")
    if product is None:
        return None, cbam, problems
    if product.net_mass_kg is not None:
        mass_g, basis = _scaled(product.net_mass_kg, 3), "net_mass_kg"
    else:
        mass_g, basis = first_mass_g, "first_leg_mass_kg"
    net_mass_kg = format_scaled(mass_g, 3)
    production: ProductionResult | None = None
    prod = product.production
    actual_u: tuple[int, int] | None = None
    if prod is not None:
        if prod.kind == "supplier":
            direct_u = _scaled(prod.direct_t_per_t, 6)
            indirect_u = _scaled(prod.indirect_t_per_t, 6)
            direct_g = mul3_round(mass_g, 10**6, direct_u)
            indirect_g = mul3_round(mass_g, 10**6, indirect_u)
            production = ProductionResult("supplier", prod.data_type, net_mass_kg, basis,
                                          direct_g, indirect_g, direct_g + indirect_g, None)
            if prod.data_type == "actual":
                actual_u = (direct_u, indirect_u)
        elif prod.kind == "electricity":
            found = factor_set.grid.get(prod.grid or "")
            if isinstance(found, str):
                problems.append(("product.production.grid", found))
            else:
                grid_u, ref = found
                indirect_g = mul3_round(mass_g, _scaled(prod.electricity_kwh_per_t, 3), grid_u)
                production = ProductionResult("electricity", None, net_mass_kg, basis, 0,
                                              indirect_g, indirect_g, ref)
        else:
            found = factor_set.product_defaults.get(prod.default_factor or "")
            if isinstance(found, str):
                problems.append(("product.production.default_factor", found))
            else:
                value_u, ref = found
                direct_g = mul3_round(mass_g, 10**6, value_u)
                production = ProductionResult("product_default", None, net_mass_kg, basis,
                                              direct_g, 0, direct_g, ref)
    if product.cn_code is not None:
        cn = normalise_cn(product.cn_code) or ""
        result = embedded_emissions(
            factor_set.cbam_scope, factor_set.cbam_defaults, cn=cn,
            country=product.country_of_origin, year=product.cbam_year, mass_g=mass_g,
            net_mass_kg=net_mass_kg, actual_u=actual_u)
        if isinstance(result, tuple):
            problems.append((f"product.{result[0]}", result[1]))
        else:
            cbam = result
    return production, cbam, problems


def grand_total(co2e_wtw_g: int, production: ProductionResult | None,
                cbam: CbamResult) -> tuple[int, str]:
    """The shipment's total and what it adds to the transport chain."""
    if production is not None:
        return co2e_wtw_g + production.co2e_g, "transport_wtw+production"
    if cbam.in_scope:
        return co2e_wtw_g + cbam.embedded_g, "transport_wtw+cbam_embedded"
    return co2e_wtw_g, "transport_wtw"


def _leg_footprint(leg: Leg, factor_set: FactorSet, router: Router,
                   problems: list[tuple[str, str]]) -> tuple[LegFootprint, int] | None:
    mass_g = _scaled(leg.mass_kg, 3)
    if leg.mode == "hub":
        ttw_u = _scaled(leg.hub_co2e_ttw_kg_per_t, 6)
        wtw_u = _scaled(leg.hub_co2e_wtw_kg_per_t, 6)
        ttw = mul3_round(mass_g, 1000, ttw_u)
        wtt = mul3_round(mass_g, 1000, wtw_u - ttw_u)
        ref_ttw, ref_wtt = hub_refs(ttw_u, wtw_u)
        return LegFootprint(leg.order, "hub", "0", "hub", False, "0", format_scaled(mass_g, 6),
                            ttw, wtt, ttw + wtt, ref_ttw, ref_wtt), 0
    factor = factor_set.freight.resolve(leg.mode, leg.vehicle_class, leg.laden_state,
                                        leg.refrigerated, leg.radiative_forcing)
    if leg.distance_km is not None:
        distance: Distance | tuple[str, str] = Distance(_scaled(leg.distance_km, 3), "actual",
                                                        False)
    else:
        distance = router.distance(leg.mode, leg.origin or "", leg.destination or "",
                                   factor_set.params, bool(leg.avoid_suez))
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
    production, cbam, goods = goods_emissions(shipment.product, _scaled(first.mass_kg, 3),
                                              factor_set)
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


def compute_batch(shipments: Sequence[Shipment] | ShipmentFrame, factor_set: FactorSet, *,
                  router: Router | None = None, **options: Any) -> BatchFootprint:
    """The vectorised path; see :func:`ledger.footprint.batch.compute_batch`."""
    from ledger.footprint.batch import compute_batch as batch

    return batch(shipments, factor_set, router=router, **options)
