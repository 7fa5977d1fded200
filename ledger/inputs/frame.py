"""Columnar shipment input for the batch path, and the CSV columns it is read from.

A :class:`ShipmentFrame` holds legs as columns (sorted by shipment, then leg order) with masses
in grams, distances in metres and hub intensities in 10**-6 kg/t, all int64 (-1: not given);
text columns are pandas categoricals. :mod:`ledger.inputs.csvreader` reads one from a CSV file.
Each shipment's dispatch date is a column too (``dispatch_day``: an int32 proleptic ordinal,
:meth:`datetime.date.toordinal`), so that choosing factor sets by date touches no Python
object per shipment; :func:`dispatch_days_of` reads the same numbers from the consignments
(the simple path, and the test oracle of the readers' column).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ledger.inputs.consignment import Consignment, parse_date_text
from ledger.inputs.hub import HubOperation
from ledger.inputs.shipments import (
    CARRIER_KEYS,
    Leg,
    Product,
    Shipment,
)

__all__ = [
    "CSV_COLUMN_OF",
    "GOODS_COLUMNS",
    "LEG_COLUMNS",
    "NONE",
    "REQUIRED_COLUMNS",
    "Int32Array",
    "Int64Array",
    "LegCarrier",
    "ShipmentFrame",
    "dispatch_days_from_text",
    "dispatch_days_of",
]

LEG_COLUMNS = (
    "shipment_id", "leg", "mode", "mass_kg", "origin", "destination", "distance_km",
    "vehicle_class", "laden_state", "refrigerated", "radiative_forcing", "avoid_suez",
    "hub_co2e_ttw_kg_per_t", "hub_co2e_wtw_kg_per_t", "avoid_panama",
)
GOODS_COLUMNS = (
    "exporter", "product_description", "cn_code", "country_of_origin", "net_mass_kg",
    "cbam_year", "production_data_type", "production_direct_t_per_t",
    "production_indirect_t_per_t", "electricity_kwh_per_t", "electricity_grid",
    "production_default_factor",
    # consignment (per shipment)
    "dispatch_date", "arrival_date", "customs_release_date", "importer_name", "importer_eori",
    "declarant_name", "declarant_eori", "consignee", "bill_of_lading", "invoice_number",
    "customs_declaration_number", "incoterm", "incoterm_place",
    # installation and actual data of the good
    "installation_operator", "installation_id", "installation_country", "production_route",
    "production_electricity_factor_t_per_mwh", "verifier_name", "verifier_accreditation",
    "verification_date",
    *(f"precursor_{n}_{name}" for n in range(1, 10)
      for name in ("cn_code", "quantity_t_per_t", "embedded_t_per_t")),
)
REQUIRED_COLUMNS = ("shipment_id", "leg", "mode", "mass_kg")

#: Field of the nested form -> CSV column, for problems about a shipment's goods.
CSV_COLUMN_OF = {
    "product.description": "product_description",
    "product.cn_code": "cn_code",
    "product.country_of_origin": "country_of_origin",
    "product.net_mass_kg": "net_mass_kg",
    "product.cbam_year": "cbam_year",
    "product.production": "production_direct_t_per_t",
    "product.production.data_type": "production_data_type",
    "product.production.direct_t_per_t": "production_direct_t_per_t",
    "product.production.indirect_t_per_t": "production_indirect_t_per_t",
    "product.production.electricity_kwh_per_t": "electricity_kwh_per_t",
    "product.production.grid": "electricity_grid",
    "product.production.default_factor": "production_default_factor",
    "product.production.electricity_factor_t_per_mwh": "production_electricity_factor_t_per_mwh",
    "product.production.verification": "verifier_name",
    "product.production.verification.verifier": "verifier_name",
    "product.production.verification.accreditation": "verifier_accreditation",
    "product.production.verification.date": "verification_date",
    "product.production.precursors": "precursor_1_cn_code",
    **{f"product.production.precursors[{n}].{name}": f"precursor_{n}_{name}"
       for n in range(1, 10) for name in ("cn_code", "quantity_t_per_t", "embedded_t_per_t")},
    "product.installation": "installation_id",
    "product.installation.operator": "installation_operator",
    "product.installation.installation_id": "installation_id",
    "product.installation.country": "installation_country",
    "product.installation.production_route": "production_route",
    **{f"consignment.{name}": name for name in (
        "dispatch_date", "arrival_date", "customs_release_date", "consignee", "bill_of_lading",
        "invoice_number", "customs_declaration_number", "incoterm", "incoterm_place")},
    **{f"consignment.{party}.{name}": f"{party}_{name}" for party in ("importer", "declarant")
       for name in ("name", "eori")},
    "consignment": "customs_release_date",
    "exporter": "exporter",
}
Int64Array = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]
#: The value of an integer column that was not given.
NONE = -1
_NONE = NONE


def dispatch_days_of(consignments: Sequence[Consignment | None], count: int) -> Int32Array:
    """Each shipment's ``consignment.dispatch_date`` as a proleptic ordinal (NONE: no date or
    no consignment; ``consignments`` empty: none has one), read object by object."""
    if not consignments:
        return np.full(count, _NONE, dtype=np.int32)
    return np.fromiter((_NONE if c is None or c.dispatch_date is None
                        else c.dispatch_date.toordinal() for c in consignments),
                       dtype=np.int32, count=count)


def dispatch_days_from_text(texts: npt.NDArray[np.object_]) -> Int32Array:
    """ISO dates (``2026-03-31``, as a reader's cells give them) as proleptic ordinals, each
    distinct text parsed once by the consignment's own rule (NONE where it is not a date)."""
    codes, distinct = pd.factorize(texts)
    ordinals = np.fromiter((d.toordinal() if not isinstance(d, str) else _NONE
                            for d in map(parse_date_text, distinct.tolist())),
                           dtype=np.int32, count=len(distinct))
    return ordinals[codes]


@dataclass(frozen=True)
class LegCarrier:
    """The carrier's own intensity of a leg (primary data, ISO 14083) and its provenance, as
    given on the leg (:data:`ledger.inputs.shipments.CARRIER_KEYS`)."""

    carrier_co2e_ttw_kg_per_tkm: Decimal | None = None
    carrier_co2e_wtt_kg_per_tkm: Decimal | None = None
    carrier_source: str | None = None
    carrier_period: str | None = None
    carrier_verified: bool | None = None

    @classmethod
    def of(cls, leg: Leg) -> LegCarrier:
        """The carrier fields of ``leg``."""
        return cls(**{name: getattr(leg, name) for name in CARRIER_KEYS})

    @property
    def primary(self) -> bool:
        """Whether the leg carries the carrier's own intensity (as :attr:`Leg.primary`)."""
        return self.carrier_co2e_ttw_kg_per_tkm is not None

    def fields(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in CARRIER_KEYS}


@dataclass
class ShipmentFrame:
    """Shipments as columns: one entry per shipment, one row of ``legs`` per leg."""

    ids: npt.NDArray[np.object_]
    rows: Int64Array
    exporters: list[str | None]
    products: list[Product | None]
    legs: pd.DataFrame
    #: Consignment data per shipment; empty when no shipment of the frame has any.
    consignments: list[Consignment | None] = field(default_factory=list)
    #: The hub operator's description of hub legs, by (shipment index, leg order); only the
    #: legs that have one (it is not used in computing, so it is not a column).
    hub_operations: dict[tuple[int, int], HubOperation] = field(default_factory=dict)
    #: Each shipment's dispatch date as a proleptic ordinal (NONE: not given), filled where
    #: the frame is built; None when the builder left it out (then read from
    #: ``consignments``, see :meth:`dispatch_days`).
    dispatch_day: Int32Array | None = None
    #: The carrier's own intensity and its provenance, by (shipment index, leg order); only
    #: the legs that give one (few legs do, so it is not a column).
    carriers: dict[tuple[int, int], LegCarrier] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    def consignment(self, i: int) -> Consignment | None:
        return self.consignments[i] if self.consignments else None

    def dispatch_days(self) -> Int32Array:
        """Each shipment's dispatch date as a proleptic ordinal (NONE: not given)."""
        if self.dispatch_day is not None:
            return self.dispatch_day
        return dispatch_days_of(self.consignments, len(self))

    def without(self, shipment_ids: set[str]) -> ShipmentFrame:
        """The frame less the named shipments."""
        if not shipment_ids:
            return self
        keep = np.asarray([str(s) not in shipment_ids for s in self.ids], dtype=bool)
        new_index = np.cumsum(keep) - 1
        legs = self.legs[keep[self.legs["ship"].to_numpy()]].reset_index(drop=True)
        legs["ship"] = new_index[legs["ship"].to_numpy()]
        kept = np.nonzero(keep)[0].tolist()
        return ShipmentFrame(ids=self.ids[keep], rows=self.rows[keep],
                             exporters=[self.exporters[i] for i in kept],
                             products=[self.products[i] for i in kept], legs=legs,
                             consignments=[self.consignments[i] for i in kept]
                             if self.consignments else [],
                             hub_operations={(int(new_index[s]), order): found for (s, order), found
                                             in self.hub_operations.items() if keep[s]},
                             carriers={(int(new_index[s]), order): found for (s, order), found
                                       in self.carriers.items() if keep[s]},
                             dispatch_day=None if self.dispatch_day is None
                             else self.dispatch_day[keep])

    @classmethod
    def from_shipments(cls, shipments: Sequence[Shipment]) -> ShipmentFrame:
        cols: dict[str, list[Any]] = {name: [] for name in (
            "ship", "order", "mode", "mass_g", "distance_m", "origin", "destination",
            "vehicle_class", "laden_state", "refrigerated", "radiative_forcing", "avoid_suez",
            "avoid_panama", "hub_ttw_u", "hub_wtw_u", "row")}

        def tri(value: bool | None) -> int:
            return _NONE if value is None else int(value)

        hubs: dict[tuple[int, int], HubOperation] = {}
        carriers: dict[tuple[int, int], LegCarrier] = {}

        def scaled(value: Decimal | None, places: int) -> int:
            return _NONE if value is None else int(value.scaleb(places))

        for i, s in enumerate(shipments):
            for leg in s.legs:
                cols["ship"].append(i)
                cols["order"].append(leg.order)
                cols["mode"].append(leg.mode)
                cols["mass_g"].append(int(leg.mass_kg.scaleb(3)))
                cols["distance_m"].append(scaled(leg.distance_km, 3))
                cols["origin"].append(leg.origin)
                cols["destination"].append(leg.destination)
                cols["vehicle_class"].append(leg.vehicle_class)
                cols["laden_state"].append(leg.laden_state)
                cols["refrigerated"].append(tri(leg.refrigerated))
                cols["radiative_forcing"].append(tri(leg.radiative_forcing))
                cols["avoid_suez"].append(tri(leg.avoid_suez))
                cols["avoid_panama"].append(tri(leg.avoid_panama))
                cols["hub_ttw_u"].append(scaled(leg.hub_co2e_ttw_kg_per_t, 6))
                cols["hub_wtw_u"].append(scaled(leg.hub_co2e_wtw_kg_per_t, 6))
                cols["row"].append(leg.source_row if leg.source_row is not None else _NONE)
                if leg.hub_operation is not None:
                    hubs[(i, leg.order)] = leg.hub_operation
                if leg.carrier_co2e_ttw_kg_per_tkm is not None or leg.carrier_source is not None \
                        or leg.carrier_co2e_wtt_kg_per_tkm is not None \
                        or leg.carrier_period is not None or leg.carrier_verified is not None:
                    carriers[(i, leg.order)] = LegCarrier.of(leg)
        legs = pd.DataFrame({
            **{k: np.asarray(cols[k], dtype=np.int64) for k in (
                "ship", "order", "mass_g", "distance_m", "hub_ttw_u", "hub_wtw_u", "row")},
            **{k: np.asarray(cols[k], dtype=np.int8) for k in (
                "refrigerated", "radiative_forcing", "avoid_suez", "avoid_panama")},
            **{k: pd.Categorical(cols[k]) for k in (
                "mode", "origin", "destination", "vehicle_class", "laden_state")},
        })
        legs = legs.sort_values(["ship", "order"], kind="stable", ignore_index=True)
        consignments = [s.consignment for s in shipments] \
            if any(s.consignment is not None for s in shipments) else []
        return cls(
            ids=np.asarray([s.shipment_id for s in shipments], dtype=object),
            rows=np.asarray([s.source_row if s.source_row is not None else _NONE
                             for s in shipments], dtype=np.int64),
            exporters=[s.exporter for s in shipments],
            products=[s.product for s in shipments],
            legs=legs,
            consignments=consignments,
            dispatch_day=dispatch_days_of(consignments, len(shipments)),
            hub_operations=hubs,
            carriers=carriers,
        )

    def to_shipments(self) -> list[Shipment]:
        """The frame as :class:`Shipment` objects (for the single path)."""
        legs_by_ship: list[list[Leg]] = [[] for _ in range(len(self.ids))]
        frame = self.legs
        cols = {name: frame[name].tolist() for name in frame.columns}

        def dec(value: int, places: int) -> Decimal | None:
            return None if value == _NONE else Decimal(value).scaleb(-places)

        def tri(value: int) -> bool | None:
            return None if value == _NONE else bool(value)

        def text(value: Any) -> str | None:
            return None if value is None or pd.isna(value) else str(value)

        for i in range(len(frame)):
            legs_by_ship[cols["ship"][i]].append(Leg(
                order=cols["order"][i], mode=str(cols["mode"][i]),
                mass_kg=Decimal(cols["mass_g"][i]).scaleb(-3),
                origin=text(cols["origin"][i]), destination=text(cols["destination"][i]),
                distance_km=dec(cols["distance_m"][i], 3),
                vehicle_class=text(cols["vehicle_class"][i]),
                laden_state=text(cols["laden_state"][i]),
                refrigerated=tri(cols["refrigerated"][i]),
                radiative_forcing=tri(cols["radiative_forcing"][i]),
                avoid_suez=tri(cols["avoid_suez"][i]),
                avoid_panama=tri(cols["avoid_panama"][i]),
                hub_co2e_ttw_kg_per_t=dec(cols["hub_ttw_u"][i], 6),
                hub_co2e_wtw_kg_per_t=dec(cols["hub_wtw_u"][i], 6),
                source_row=None if cols["row"][i] == _NONE else cols["row"][i]))
        for (ship, order), found in self.hub_operations.items():
            legs = legs_by_ship[ship]
            legs[:] = [replace(leg, hub_operation=found) if leg.order == order else leg
                       for leg in legs]
        for (ship, order), carrier in self.carriers.items():
            legs = legs_by_ship[ship]
            legs[:] = [replace(leg, **carrier.fields()) if leg.order == order else leg
                       for leg in legs]
        return [Shipment(shipment_id=str(sid), legs=tuple(legs), exporter=exp, product=prod,
                         source_row=None if row == _NONE else int(row),
                         consignment=self.consignment(i))
                for i, (sid, legs, exp, prod, row) in enumerate(zip(
                    self.ids, legs_by_ship, self.exporters, self.products, self.rows.tolist(),
                    strict=True))]
