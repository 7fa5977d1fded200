"""Footprints of a batch as columns, and each shipment's result built from them.

:class:`BatchFootprint` is what :func:`ledger.footprint.batch.compute_batch` returns: leg and
shipment columns of integers, the factor references, the goods' results; :meth:`footprint`
gives one shipment's :class:`~ledger.footprint.models.ShipmentFootprint` (equal to the single
path's), :meth:`shipment_columns` and :meth:`leg_columns` the tables written out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ledger.factors.air import HAULS
from ledger.factors.cbam import CbamResult, out_of_scope
from ledger.factors.distances import SEA_ROUTE_METHODS
from ledger.footprint.exact import format_scaled
from ledger.footprint.models import LegFootprint, ProductionResult, ShipmentFootprint
from ledger.footprint.rules import hub_refs, primary_share
from ledger.inputs.frame import Int64Array

__all__ = ["METHODS", "METHOD_CODE", "BatchFootprint"]

#: Distance methods by code in :attr:`BatchFootprint.legs` ``method``.
METHODS = ("actual", "great_circle_plus_95km", *SEA_ROUTE_METHODS, "estimated_great_circle",
           "hub", "great_circle")
METHOD_CODE = {m: i for i, m in enumerate(METHODS)}
_HUB = METHOD_CODE["hub"]
_NO_CBAM = out_of_scope("no CN code on the record: not a declared CBAM good")



@dataclass
class BatchFootprint:
    """Footprints of a batch as columns; :meth:`footprint` builds one shipment's result.

    ``legs`` (one entry per leg, sorted by shipment and order): ship, order, mass_g,
    distance_m, method (index into :data:`METHODS`), ttw_g, wtt_g, hub_ttw_u, hub_wtw_u, ref
    (index into ``refs``; -1 for a hub). ``shipments``: ttw_g, wtt_g, wtw_g, transport_wtw_g,
    act_hi, act_lo (activity = act_hi + act_lo / 10**9 t·km), intensity_mg (-1: none),
    total_g. Optional leg columns: ``band`` (haul band index of an air leg under the
    great-circle method, -1 otherwise) and ``primary`` (1: the carrier's own intensity);
    ``carriers`` holds the source, period and verification of each primary leg.
    ``set_ids`` and ``ship_set``: the ids of the sets and each shipment's index into them when
    the batch was computed under several sets (:func:`compute_batch_by_set`); empty and None
    when every shipment has ``factor_set_id``.
    """

    factor_set_id: str
    ids: npt.NDArray[np.object_]
    legs: dict[str, npt.NDArray[Any]]
    leg_modes: pd.Categorical
    shipments: dict[str, Int64Array]
    starts: npt.NDArray[np.intp]
    refs: list[tuple[str, str]]
    productions: dict[int, ProductionResult]
    cbams: dict[int, CbamResult]
    total_basis: list[str]
    carriers: dict[int, tuple[str | None, str | None, bool]] = field(default_factory=dict)
    set_ids: tuple[str, ...] = ()
    ship_set: npt.NDArray[np.intp] | None = None

    def set_id(self, i: int) -> str:
        """The factor-set id of shipment ``i``."""
        return self.factor_set_id if self.ship_set is None else \
            self.set_ids[int(self.ship_set[i])]

    def __len__(self) -> int:
        return len(self.ids)

    def _ship_int(self, column: str, i: int) -> int:
        return int(self.shipments[column][i])

    def intensity_mg(self, i: int) -> int | None:
        value = self._ship_int("intensity_mg", i)
        return None if value < 0 else value

    def leg_refs(self, j: int) -> tuple[str, str]:
        """The (TTW, WTT) factor references of leg ``j``."""
        if int(self.legs["method"][j]) == _HUB:
            return hub_refs(int(self.legs["hub_ttw_u"][j]), int(self.legs["hub_wtw_u"][j]))
        return self.refs[int(self.legs["ref"][j])]

    def footprint(self, i: int) -> ShipmentFootprint:
        """The result of shipment ``i``, equal to the single path's."""
        start = int(self.starts[i])
        end = int(self.starts[i + 1]) if i + 1 < len(self.starts) else len(self.legs["ship"])
        cols = {name: self.legs[name][start:end].tolist() for name in (
            "order", "distance_m", "method", "ttw_g", "wtt_g", "mass_g")}
        modes = np.asarray(self.leg_modes[start:end], dtype=object)
        bands = self.legs["band"][start:end].tolist() if "band" in self.legs else None
        primary = self.legs["primary"][start:end].tolist() if "primary" in self.legs else None
        mixed = primary is not None and any(primary)
        legs = []
        for j in range(end - start):
            method = METHODS[cols["method"][j]]
            hub = method == "hub"
            mass_g = cols["mass_g"][j]
            activity = 0 if hub else mass_g * cols["distance_m"][j]
            ref_ttw, ref_wtt = self.leg_refs(start + j)
            ttw, wtt = cols["ttw_g"][j], cols["wtt_g"][j]
            carrier = self.carriers.get(start + j)
            data_type = None
            if mixed and not hub:
                data_type = "primary" if carrier is not None else "secondary"
            legs.append(LegFootprint(
                order=cols["order"][j], mode=str(modes[j]),
                distance_km="0" if hub else format_scaled(cols["distance_m"][j], 3),
                distance_method=method, distance_estimated=method == "estimated_great_circle",
                activity_tkm=format_scaled(activity, 9),
                hub_activity_t=format_scaled(mass_g, 6) if hub else None,
                co2e_ttw_g=ttw, co2e_wtt_g=wtt, co2e_wtw_g=ttw + wtt,
                factor_ttw=ref_ttw, factor_wtt=ref_wtt,
                haul=HAULS[bands[j]] if bands is not None and bands[j] >= 0 else None,
                data_type=data_type,
                carrier_source=None if carrier is None else carrier[0],
                carrier_period=None if carrier is None else carrier[1],
                carrier_verified=None if carrier is None else carrier[2]))
        share = None
        if mixed:
            share = primary_share(sum(leg.co2e_wtw_g for leg in legs
                                      if leg.data_type == "primary"),
                                  self._ship_int("transport_wtw_g", i))
        intensity = self.intensity_mg(i)
        activity = self._ship_int("act_hi", i) * 10**9 + self._ship_int("act_lo", i)
        return ShipmentFootprint(
            shipment_id=str(self.ids[i]), factor_set_id=self.set_id(i), legs=tuple(legs),
            activity_tkm=format_scaled(activity, 9), co2e_ttw_g=self._ship_int("ttw_g", i),
            co2e_wtt_g=self._ship_int("wtt_g", i), co2e_wtw_g=self._ship_int("wtw_g", i),
            intensity_g_per_tkm=None if intensity is None else format_scaled(intensity, 3),
            production=self.productions.get(i), cbam=self.cbams.get(i, _NO_CBAM),
            total_co2e_g=self._ship_int("total_g", i), total_basis=self.total_basis[i],
            primary_data_share=share)

    def footprints(self) -> list[ShipmentFootprint]:
        return [self.footprint(i) for i in range(len(self.ids))]

    def warnings(self) -> list[tuple[str, str]]:
        """(shipment id, message) of what a reader of the results should know: e.g. a CBAM
        import year taken from ``cbam_year`` because the consignment has no customs release
        date."""
        return [(str(self.ids[i]), c.warning) for i, c in sorted(self.cbams.items())
                if c.warning is not None]

    def shipment_table(self) -> pd.DataFrame:
        """One row per shipment, decimals as text."""
        return pd.DataFrame(self.shipment_columns())

    def shipment_columns(self) -> dict[str, Any]:
        """The columns of :meth:`shipment_table` (arrays and lists), for fast CSV output."""
        s = self.shipments
        n = len(self.ids)
        activity = [f"{h}.{lo:09d}".rstrip("0") if lo else str(h)
                    for h, lo in zip(s["act_hi"].tolist(), s["act_lo"].tolist(), strict=True)]
        intensity = ["" if v < 0 else f"{v // 1000}.{v % 1000:03d}".rstrip("0").rstrip(".")
                     for v in s["intensity_mg"].tolist()]
        table: dict[str, Any] = {
            "shipment_id": self.ids,
            "legs": np.diff(np.append(self.starts, len(self.legs["ship"]))),
            "activity_tkm": activity,
            "co2e_ttw_g": s["ttw_g"],
            "co2e_wtt_g": s["wtt_g"],
            "co2e_wtw_g": s["wtw_g"],
            "intensity_g_per_tkm": intensity,
        }
        empty = np.full(n, "", dtype=object)
        goods: dict[str, npt.NDArray[Any]] = {name: empty.copy() for name in (
            "production_method", "production_co2e_g", "cbam_method", "cbam_markup_year",
            "cbam_embedded_g")}
        goods["cbam_in_scope"] = np.zeros(n, dtype=bool)
        for i, p in self.productions.items():
            goods["production_method"][i], goods["production_co2e_g"][i] = p.method, p.co2e_g
        for i, c in self.cbams.items():
            goods["cbam_in_scope"][i] = c.in_scope
            if c.in_scope:
                goods["cbam_method"][i] = c.method or ""
                goods["cbam_markup_year"][i] = c.markup_year or ""
                goods["cbam_embedded_g"][i] = c.embedded_g
        table.update({k: goods[k] for k in (
            "production_method", "production_co2e_g", "cbam_in_scope", "cbam_method",
            "cbam_markup_year", "cbam_embedded_g")})
        table.update({"total_co2e_g": s["total_g"], "total_basis": self.total_basis,
                      "factor_set_id": [self.factor_set_id] * n if self.ship_set is None
                      else [self.set_ids[k] for k in self.ship_set.tolist()]})
        if self.carriers:
            table["primary_data_share"] = [fp.primary_data_share or "" for fp in
                                           self.footprints()]
        return table

    def leg_table(self) -> pd.DataFrame:
        """One row per leg, decimals as text."""
        return pd.DataFrame(self.leg_columns())

    def leg_columns(self) -> dict[str, Any]:
        """The columns of :meth:`leg_table`, for fast CSV output."""
        legs = self.legs
        methods = legs["method"].tolist()
        refs = [self.leg_refs(j) for j in range(len(methods))]
        table: dict[str, Any] = {
            "shipment_id": self.ids[legs["ship"]],
            "leg": legs["order"],
            "mode": np.asarray(self.leg_modes, dtype=object),
            "distance_km": [format_scaled(d, 3) if m != _HUB else "0"
                            for d, m in zip(legs["distance_m"].tolist(), methods, strict=True)],
            "distance_method": [METHODS[m] for m in methods],
            "co2e_ttw_g": legs["ttw_g"],
            "co2e_wtt_g": legs["wtt_g"],
            "co2e_wtw_g": legs["ttw_g"] + legs["wtt_g"],
            "factor_ttw": [r[0] for r in refs],
            "factor_wtt": [r[1] for r in refs],
        }
        if "band" in legs:
            table["haul"] = [HAULS[b] if b >= 0 else "" for b in legs["band"].tolist()]
        if self.carriers:
            table["data_type"] = ["" if m == _HUB else
                                  "primary" if j in self.carriers else "secondary"
                                  for j, m in enumerate(methods)]
        return table
