"""From a canonical record to the figures a report states, and the engine recomputation.

:func:`figures_from_record` reads a canonical record (``Shipment.to_dict()`` + footprint, see
:mod:`ledger.records.record`) into :class:`~ledger.reports.model.ShipmentFigures`: the transport
chain elements, the production footprint and the CBAM data, every number as the footprint engine
wrote it. CBAM figures come from the record alone: the specific value is the one the engine took
from the published column of the default-value table for the import year (Implementing Regulation
(EU) 2025/2621), and the column is named, never re-derived from a percentage.

:func:`engine_recompute` is the :data:`Recompute` used when issuing and when verifying: it runs
the footprint engine on a record's embedded inputs with exactly the factor set the record names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ledger.errors import FactorError
from ledger.factors.distances import LocationBook, Router, great_circle_km
from ledger.factors.factorset import FactorSet, load_shipped_factor_set
from ledger.records import record as records
from ledger.reports import pact, qreport
from ledger.reports.model import ShipmentFigures

__all__ = [
    "DEFAULT_GWP_SET",
    "Recompute",
    "engine_recompute",
    "factor_sources",
    "figures_from_record",
    "shipped_recompute",
]

#: GWP set of the DESNZ/DEFRA 2025 conversion factors (AR5, the DESNZ convention; see
#: ``emission_factors/README.md``).
DEFAULT_GWP_SET = "AR5"

#: Recomputes one shipment from its embedded record and the report's period: the report figures
#: and the rebuilt record. Raises ``FactorError`` when the record's factor set is not shipped.
Recompute = Callable[[Mapping[str, Any], tuple[date, date]],
                     tuple[ShipmentFigures, Mapping[str, Any]]]


def _distance_basis(method: str) -> str:
    lowered = method.lower()
    if "gcd" in lowered or "great" in lowered:
        return "gcd"
    if "sea" in lowered or "sfd" in lowered or "route" in lowered:
        return "sfd"
    return "actual"


def _gcd_km(leg: Mapping[str, Any], book: LocationBook) -> Decimal | None:
    """Great-circle distance between a leg's two locations, whole km (half up), or None."""
    if not leg.get("origin") or not leg.get("destination"):
        return None
    a, b = book.resolve(str(leg["origin"])), book.resolve(str(leg["destination"]))
    if isinstance(a, str) or isinstance(b, str):
        return None
    return Decimal(repr(great_circle_km(a, b))).quantize(Decimal(1), rounding=ROUND_HALF_UP)


def _cbam_from_record(shipment_id: str, product: Mapping[str, Any],
                      cbam: Mapping[str, Any], period: tuple[date, date]
                      ) -> qreport.CbamGood | qreport.OutOfScopeGood | None:
    if not cbam.get("in_scope"):
        if not product:
            return None
        return qreport.OutOfScopeGood(
            item_id=shipment_id, cn_code=product.get("cn_code"),
            description=str(product.get("description") or "goods"),
            reason=str(cbam.get("reason") or "not a CBAM good"))
    default = cbam.get("method") == "default"
    # the consignment's customs release date (the engine records it as import_date); records
    # without one (files of the first form, cbam_year) keep the first day of the period
    recorded = cbam.get("import_date")
    import_date = date.fromisoformat(str(recorded)) if recorded else period[0]
    indirect_g = int(cbam.get("embedded_indirect_g") or 0)
    indirect = cbam.get("specific_indirect_t_per_t")
    # a default value is one total with no indirect component; actual data may have one
    counted = bool(cbam.get("indirect_counted")) and indirect is not None and not (
        default and indirect_g == 0)
    return qreport.CbamGood(
        item_id=shipment_id,
        cn_code=str(cbam["cn_code"]),
        description=str(product.get("description") or cbam.get("sector") or "CBAM good"),
        origin_country=str(cbam.get("country_of_origin") or product.get("country_of_origin")),
        net_mass_kg=Decimal(str(cbam["net_mass_kg"])),
        embedded_direct_g=int(cbam["embedded_direct_g"]),
        see_direct_t_per_t=Decimal(str(cbam["specific_direct_t_per_t"])),
        method=str(cbam["method"]),
        value_source=str(cbam.get("factor_ref") or "installation data in the record"),
        import_date=import_date,
        embedded_indirect_g=indirect_g if counted else None,
        see_indirect_t_per_t=Decimal(str(indirect)) if counted else None,
        markup_year=str(cbam["markup_year"]) if default and cbam.get("markup_year") else None,
        annex_ii=not bool(cbam.get("indirect_counted")),
    )


def figures_from_record(
    record: Mapping[str, Any],
    *,
    period: tuple[date, date],
    factor_sources: Sequence[tuple[str, str]],
    gwp_set: str = DEFAULT_GWP_SET,
) -> ShipmentFigures:
    """The report figures of one canonical record (``Shipment.to_dict()`` + footprint)."""
    shipment, footprint = record["shipment"], record["footprint"]
    shipment_id = str(record["shipment_id"])
    legs_in = {int(leg["leg"]): leg for leg in shipment["legs"]}
    tces: list[pact.Tce] = []
    book = LocationBook()
    for result in footprint["legs"]:
        leg = legs_in[int(result["leg"])]
        mode = str(result["mode"])
        category = mode + (f":{leg['vehicle_class']}" if leg.get("vehicle_class") else "")
        is_hub = mode == "hub"
        basis = _distance_basis(str(result.get("distance_method", "")))
        tces.append(pact.Tce(
            tce_id=f"{shipment_id}#{result['leg']}",
            mass_kg=Decimal(str(leg["mass_kg"])),
            distance_km=Decimal(str(result["distance_km"])),
            distance_basis=basis,
            gcd_km=_gcd_km(leg, book) if basis == "gcd" else None,
            activity_tkm=Decimal(str(result["activity_tkm"])),
            co2e_wtw_g=int(result["co2e_wtw_g"]),
            co2e_ttw_g=int(result["co2e_ttw_g"]),
            toc_id=None if is_hub else category,
            hoc_id=category if is_hub else None,
            prev_tce_ids=(tces[-1].tce_id,) if tces else (),
        ))
    product = shipment.get("product") or {}
    production = footprint.get("production")
    figures_production = None
    if production:
        figures_production = pact.ProductionFigures(
            product_description=str(product.get("description") or f"goods of {shipment_id}"),
            product_id=str(product.get("cn_code") or shipment_id),
            cpc_code=str(product.get("cpc_code") or ""),
            mass_kg=Decimal(str(production["net_mass_kg"])),
            co2e_g=int(production["co2e_g"]),
            geography_country=str(product.get("country_of_origin") or ""),
            source=str(production.get("factor_ref") or production.get("method")),
        )
    masses = [t.mass_kg for t in tces if t.hoc_id is None] or [Decimal(0)]
    return ShipmentFigures(
        shipment_id=shipment_id,
        exporter_name=str(shipment.get("exporter") or record["exporter"]),
        exporter_id=str(record["exporter"]),
        mass_kg=max(masses),
        tces=tuple(tces),
        factor_sources=tuple(factor_sources),
        gwp_set=gwp_set,
        production=figures_production,
        cbam=_cbam_from_record(shipment_id, product, footprint.get("cbam") or {}, period),
        production_detail=None if not production else {
            "method": production.get("method"), "dataType": production.get("data_type"),
            "netMassKg": production.get("net_mass_kg"),
            "co2eDirectKg": pact.grams_to_kg(int(production["co2e_direct_g"])),
            "co2eIndirectKg": pact.grams_to_kg(int(production["co2e_indirect_g"])),
            "co2eKg": pact.grams_to_kg(int(production["co2e_g"])),
            "source": production.get("factor_ref"),
        },
    )


def factor_sources(factor_set: FactorSet) -> list[tuple[str, str]]:
    """PACT ``secondaryEmissionFactorSources`` of a factor set: each table file and its digest."""
    described = factor_set.describe()
    return [(str(t["name"]), "sha256:" + str(t["sha256"])[:16])
            for _, t in sorted(described["tables"].items())]


def engine_recompute(factor_sets: Sequence[FactorSet], router: Router | None = None
                     ) -> Recompute:
    """A :data:`Recompute` over the footprint engine and the given (shipped) factor sets.

    All recomputations share one distance router (``router``, or a new one), so a route is
    computed once however many reports are checked.
    """
    from ledger.footprint.single import compute_shipment
    from ledger.inputs.shipments import Shipment

    shared = router if router is not None else Router()

    by_id = {str(fs.id).lower(): fs for fs in factor_sets}
    sources = {key: factor_sources(fs) for key, fs in by_id.items()}

    def recompute(record: Mapping[str, Any], period: tuple[date, date]
                  ) -> tuple[ShipmentFigures, Mapping[str, Any]]:
        wanted = str(record.get("factor_set_id", "")).lower()
        factor_set = by_id.get(wanted)
        if factor_set is None:
            raise FactorError(
                f"factor set {wanted} is not shipped with this installation "
                f"(known: {', '.join(sorted(by_id)) or 'none'}); the footprint cannot be "
                "recomputed with the exact tables it names")
        shipment = Shipment.from_dict(record["shipment"])
        footprint = compute_shipment(shipment, factor_set, router=shared)
        rebuilt = records.build_record(shipment.to_dict(), footprint.to_dict(),
                                       exporter=str(record["exporter"]),
                                       factor_set_id=str(factor_set.id))
        figures = figures_from_record(rebuilt, period=period, factor_sources=sources[wanted])
        return figures, rebuilt

    return recompute


def shipped_recompute(router: Any = None, *, also: Sequence[FactorSet] = ()) -> Recompute:
    """:func:`~ledger.reports.figures.engine_recompute` over the factor sets shipped with this
    installation and the sets in ``also`` (e.g. a service's own): each record is recomputed
    with the set its ``factor_set_id`` names (a shipped one loaded once, when a record first
    names it). A set neither shipped nor given fails the record's recomputation with a
    ``FactorError`` naming the set and the shipped ones."""
    shared = router if router is not None else Router()
    by_set: dict[str, Recompute] = {
        given.id.lower(): engine_recompute([given], shared) for given in also}

    def recompute(record: Mapping[str, Any], period: tuple[date, date]
                  ) -> tuple[ShipmentFigures, Mapping[str, Any]]:
        wanted = str(record.get("factor_set_id", "")).lower()
        if wanted not in by_set:
            by_set[wanted] = engine_recompute([load_shipped_factor_set(wanted)], shared)
        return by_set[wanted](record, period)

    return recompute
