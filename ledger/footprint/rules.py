"""Footprint rules shared by the single path (:mod:`ledger.footprint.single`) and the batch
path (:mod:`ledger.footprint.batch`): a leg's distance and factor (the factor set's air method,
:mod:`ledger.factors.air`; the carrier's own intensity when the leg carries one), the share of
primary data, the goods' emissions (production and CBAM embedded emissions, per shipment), the
grand total, and the references of a hub operation.

Units: masses in grams, intensities in 10**-6 of their unit, emissions in whole grams, all
Python integers (:mod:`ledger.footprint.exact`).
"""

from __future__ import annotations

from decimal import Decimal

from ledger.factors.air import air_distance, band_vehicle_class, haul_band, plain_great_circle
from ledger.factors.cbam import CbamResult, embedded_emissions, normalise_cn, out_of_scope
from ledger.factors.distances import Distance, Router
from ledger.factors.factorset import FactorSet
from ledger.factors.tables import FreightFactor
from ledger.footprint.exact import format_scaled, mul3_round
from ledger.footprint.models import ProductionResult
from ledger.inputs.consignment import Consignment
from ledger.inputs.frame import LegCarrier
from ledger.inputs.shipments import Leg, Product

__all__ = [
    "carrier_factor",
    "goods_emissions",
    "grand_total",
    "hub_refs",
    "leg_distance",
    "leg_factor",
    "primary_share",
    "scaled",
]


def scaled(value: Decimal | None, places: int) -> int:
    """An exact decimal as an integer of 10**-places units (None counts as 0)."""
    return int((value or Decimal(0)).scaleb(places))


def hub_refs(ttw_u: int, wtw_u: int) -> tuple[str, str]:
    """The factor references of a hub operation: the operator's intensities on the record."""
    return (f"record#hub_co2e_ttw_kg_per_t={format_scaled(ttw_u, 6)}",
            f"record#hub_co2e_wtt_kg_per_t={format_scaled(wtw_u - ttw_u, 6)}")


def carrier_factor(leg: Leg | LegCarrier) -> FreightFactor:
    """The carrier's own intensity of a primary-data leg, referenced as given on the record."""
    ttw_u = scaled(leg.carrier_co2e_ttw_kg_per_tkm, 6)
    wtt_u = scaled(leg.carrier_co2e_wtt_kg_per_tkm, 6)
    return FreightFactor("carrier", ttw_u, wtt_u,
                         f"record#carrier_co2e_ttw_kg_per_tkm={format_scaled(ttw_u, 6)}",
                         f"record#carrier_co2e_wtt_kg_per_tkm={format_scaled(wtt_u, 6)}")


def leg_distance(leg: Leg, factor_set: FactorSet, router: Router) -> Distance | tuple[str, str]:
    """A transport leg's distance: as given, else by the factor set's method for the mode."""
    if leg.distance_km is not None:
        return Distance(scaled(leg.distance_km, 3), "actual", False)
    if leg.mode == "air" and plain_great_circle(factor_set.params):
        if leg.avoid_suez:
            return "avoid_suez", "avoid_suez applies to sea legs only"
        return air_distance(router, leg.origin or "", leg.destination or "")
    return router.distance(leg.mode, leg.origin or "", leg.destination or "",
                           factor_set.params, bool(leg.avoid_suez),
                           avoid_panama=bool(leg.avoid_panama))


def leg_factor(leg: Leg, factor_set: FactorSet, distance_m: int | None,
               ) -> tuple[FreightFactor | tuple[str, str] | None, int | None]:
    """A transport leg's factor (None if it depends on a distance that failed) and, for an
    air leg under the great-circle method, its haul band (index in
    :data:`ledger.factors.air.HAULS`)."""
    band = None
    if leg.mode == "air" and plain_great_circle(factor_set.params) and distance_m is not None:
        band = haul_band(distance_m, factor_set.params)
    if leg.primary:
        return carrier_factor(leg), band
    vehicle_class = leg.vehicle_class
    if vehicle_class is None and leg.mode == "air" and plain_great_circle(factor_set.params):
        if band is None:
            return None, None
        vehicle_class = band_vehicle_class(band, factor_set.params)
    return factor_set.freight.resolve(leg.mode, vehicle_class, leg.laden_state,
                                      leg.refrigerated, leg.radiative_forcing), band


def primary_share(primary_wtw_g: int, transport_wtw_g: int) -> str:
    """Percent of the transport-chain WTW from primary data, two decimals, rounded half up."""
    if transport_wtw_g <= 0:
        return "0"
    hundredths = (2 * primary_wtw_g * 10_000 + transport_wtw_g) // (2 * transport_wtw_g)
    return format_scaled(hundredths, 2)


def goods_emissions(
    product: Product | None, first_mass_g: int, factor_set: FactorSet,
    consignment: Consignment | None = None,
) -> tuple[ProductionResult | None, CbamResult, list[tuple[str, str]]]:
    """Production and CBAM results of a shipment's goods, and (field, message) problems.

    The CBAM import year is the year of the consignment's customs release date; without one,
    the product's ``cbam_year`` (files of the first form; the result says so). The CBAM figure
    uses the installation's actual emissions when the data type is actual
    (``actual-unverified``, ``actual-verified``, or ``actual`` of the first form), otherwise the
    default value of the import year.
    """
    problems: list[tuple[str, str]] = []
    if product is None or product.cn_code is None:
        cbam = out_of_scope("no CN code on the record: not a declared CBAM good")
    else:
        cbam = out_of_scope("not assessed")
    if product is None:
        return None, cbam, problems
    if product.net_mass_kg is not None:
        mass_g, basis = scaled(product.net_mass_kg, 3), "net_mass_kg"
    else:
        mass_g, basis = first_mass_g, "first_leg_mass_kg"
    net_mass_kg = format_scaled(mass_g, 3)
    production: ProductionResult | None = None
    prod = product.production
    actual_u: tuple[int, int] | None = None
    if prod is not None and prod.kind != "declared_default":
        if prod.kind == "supplier":
            direct_u = scaled(prod.direct_t_per_t, 6)
            indirect_u = scaled(prod.indirect_t_per_t, 6)
            direct_g = mul3_round(mass_g, 10**6, direct_u)
            indirect_g = mul3_round(mass_g, 10**6, indirect_u)
            production = ProductionResult("supplier", prod.data_type, net_mass_kg, basis,
                                          direct_g, indirect_g, direct_g + indirect_g, None)
            if prod.actual:
                actual_u = (direct_u, indirect_u)
        elif prod.kind == "electricity":
            found = factor_set.grid.get(prod.grid or "")
            if isinstance(found, str):
                problems.append(("product.production.grid", found))
            else:
                grid_u, ref = found
                indirect_g = mul3_round(mass_g, scaled(prod.electricity_kwh_per_t, 3), grid_u)
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
        import_date = None if consignment is None else consignment.customs_release_date
        if import_date is not None and product.cbam_year not in (None, import_date.year):
            problems.append(("product.cbam_year", f"cbam_year {product.cbam_year} is not the "
                             f"year of the customs_release_date {import_date.isoformat()}, "
                             "which decides the import year; leave cbam_year out"))
            return production, cbam, problems
        result = embedded_emissions(
            factor_set.cbam_scope, factor_set.cbam_defaults, cn=cn,
            country=product.country_of_origin, year=product.cbam_year, mass_g=mass_g,
            net_mass_kg=net_mass_kg, actual_u=actual_u, import_date=import_date,
            data_type=_stated_data_type(product, import_date is not None, actual_u is not None))
        if isinstance(result, tuple):
            owner = "consignment" if result[0] == "customs_release_date" else "product"
            problems.append((f"{owner}.{result[0]}", result[1]))
        else:
            cbam = result
    return production, cbam, problems


def _stated_data_type(product: Product, dated: bool, actual: bool) -> str | None:
    """The data type the CBAM result states: for records with consignment dates or a data type
    of the definitive-period form; None for records of the first form (serialised as before)."""
    prod = product.production
    declared = None if prod is None else prod.data_type
    if declared in ("actual-unverified", "actual-verified") or (
            prod is not None and prod.kind == "declared_default"):
        return declared
    if dated:
        return declared if actual else "default"
    return None


def grand_total(co2e_wtw_g: int, production: ProductionResult | None,
                cbam: CbamResult) -> tuple[int, str]:
    """The shipment's total and what it adds to the transport chain."""
    if production is not None:
        return co2e_wtw_g + production.co2e_g, "transport_wtw+production"
    if cbam.in_scope:
        return co2e_wtw_g + cbam.embedded_g, "transport_wtw+cbam_embedded"
    return co2e_wtw_g, "transport_wtw"
