"""The vectorised footprint path: many shipments at once, same integers as the single path.

Factor resolution and routing run once per distinct leg category and per distinct
origin-destination pair (with the single path's functions); the arithmetic runs on int64
columns with :func:`ledger.footprint_exact.mul3_round_vec`. The goods' emissions (production,
CBAM) are per-shipment rules and use the single path's :func:`ledger.footprint.goods_emissions`
for the shipments that carry product data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ledger.cbam import CbamResult, out_of_scope
from ledger.distances import Distance, Router
from ledger.errors import InputError, InputProblem
from ledger.factors import FreightFactor
from ledger.factorset import FactorSet
from ledger.footprint import goods_emissions, grand_total, hub_refs
from ledger.footprint_exact import (
    format_scaled,
    intensity_mg_per_tkm,
    mul2_split_vec,
    mul3_round_vec,
)
from ledger.footprint_input import ShipmentFrame
from ledger.footprint_models import LegFootprint, ProductionResult, ShipmentFootprint
from ledger.shipments import Shipment

__all__ = ["METHODS", "BatchFootprint", "compute_batch"]

#: Distance methods by code in :attr:`BatchFootprint.legs` ``method``.
METHODS = ("actual", "great_circle_plus_95km", "sea_route", "sea_route_avoiding_suez",
           "estimated_great_circle", "hub")
_METHOD_CODE = {m: i for i, m in enumerate(METHODS)}
_HUB = _METHOD_CODE["hub"]
_NONE = -1
_NO_CBAM = out_of_scope("no CN code on the record: not a declared CBAM good")

Int64Array = npt.NDArray[np.int64]


@dataclass
class BatchFootprint:
    """Footprints of a batch as columns; :meth:`footprint` builds one shipment's result.

    ``legs``: ship, order, mode, distance_m, method, ttw_g, wtt_g, wtw_g, act_hi, act_lo
    (activity = act_hi + act_lo/10**9 t·km), ref (index into ``refs``).
    ``shipments``: ttw_g, wtt_g, wtw_g, transport_wtw_g, act_hi, act_lo, total_g.
    """

    factor_set_id: str
    ids: npt.NDArray[np.object_]
    legs: pd.DataFrame
    shipments: pd.DataFrame
    starts: npt.NDArray[np.intp]
    refs: list[tuple[str, str]]
    productions: dict[int, ProductionResult]
    cbams: dict[int, CbamResult]
    total_basis: list[str]

    def __len__(self) -> int:
        return len(self.ids)

    def _ship_int(self, column: str, i: int) -> int:
        return int(self.shipments[column].to_numpy()[i])

    def intensity_mg(self, i: int) -> int | None:
        activity = self._ship_int("act_hi", i) * 10**9 + self._ship_int("act_lo", i)
        return intensity_mg_per_tkm(self._ship_int("transport_wtw_g", i), activity)

    def footprint(self, i: int) -> ShipmentFootprint:
        """The result of shipment ``i``, equal to the single path's."""
        start = int(self.starts[i])
        end = int(self.starts[i + 1]) if i + 1 < len(self.starts) else len(self.legs)
        legs = []
        cols = {name: self.legs[name].to_numpy()[start:end] for name in (
            "order", "mode", "distance_m", "method", "ttw_g", "wtt_g", "wtw_g", "act_hi",
            "act_lo", "ref", "mass_g")}
        for j in range(end - start):
            method = METHODS[int(cols["method"][j])]
            hub = method == "hub"
            activity = int(cols["act_hi"][j]) * 10**9 + int(cols["act_lo"][j])
            ref_ttw, ref_wtt = self.refs[int(cols["ref"][j])]
            legs.append(LegFootprint(
                order=int(cols["order"][j]), mode=str(cols["mode"][j]),
                distance_km="0" if hub else format_scaled(int(cols["distance_m"][j]), 3),
                distance_method=method, distance_estimated=method == "estimated_great_circle",
                activity_tkm=format_scaled(activity, 9),
                hub_activity_t=format_scaled(int(cols["mass_g"][j]), 6) if hub else None,
                co2e_ttw_g=int(cols["ttw_g"][j]), co2e_wtt_g=int(cols["wtt_g"][j]),
                co2e_wtw_g=int(cols["wtw_g"][j]), factor_ttw=ref_ttw, factor_wtt=ref_wtt))
        intensity = self.intensity_mg(i)
        activity = self._ship_int("act_hi", i) * 10**9 + self._ship_int("act_lo", i)
        return ShipmentFootprint(
            shipment_id=str(self.ids[i]), factor_set_id=self.factor_set_id, legs=tuple(legs),
            activity_tkm=format_scaled(activity, 9), co2e_ttw_g=self._ship_int("ttw_g", i),
            co2e_wtt_g=self._ship_int("wtt_g", i), co2e_wtw_g=self._ship_int("wtw_g", i),
            intensity_g_per_tkm=None if intensity is None else format_scaled(intensity, 3),
            production=self.productions.get(i), cbam=self.cbams.get(i, _NO_CBAM),
            total_co2e_g=self._ship_int("total_g", i), total_basis=self.total_basis[i])

    def footprints(self) -> list[ShipmentFootprint]:
        return [self.footprint(i) for i in range(len(self.ids))]

    def shipment_table(self) -> pd.DataFrame:
        """One row per shipment, decimals as text, for CSV output."""
        s = self.shipments
        n = len(s)
        cbam = [self.cbams.get(i, _NO_CBAM) for i in range(n)]
        prod = [self.productions.get(i) for i in range(n)]
        intensity = [self.intensity_mg(i) for i in range(n)]
        activity = [format_scaled(h * 10**9 + lo, 9)
                    for h, lo in zip(s["act_hi"].tolist(), s["act_lo"].tolist(), strict=True)]
        return pd.DataFrame({
            "shipment_id": self.ids,
            "legs": np.diff(np.append(self.starts, len(self.legs))),
            "activity_tkm": activity,
            "co2e_ttw_g": s["ttw_g"].to_numpy(),
            "co2e_wtt_g": s["wtt_g"].to_numpy(),
            "co2e_wtw_g": s["wtw_g"].to_numpy(),
            "intensity_g_per_tkm": ["" if v is None else format_scaled(v, 3) for v in intensity],
            "production_method": [p.method if p else "" for p in prod],
            "production_co2e_g": [p.co2e_g if p else "" for p in prod],
            "cbam_in_scope": [c.in_scope for c in cbam],
            "cbam_method": [c.method or "" for c in cbam],
            "cbam_markup_year": [c.markup_year or "" for c in cbam],
            "cbam_embedded_g": [c.embedded_g if c.in_scope else "" for c in cbam],
            "total_co2e_g": s["total_g"].to_numpy(),
            "total_basis": self.total_basis,
            "factor_set_id": self.factor_set_id,
        })


def _resolve_factors(legs: pd.DataFrame, factor_set: FactorSet, is_hub: npt.NDArray[np.bool_],
                     ) -> tuple[Int64Array, Int64Array, Int64Array, list[tuple[str, str]],
                                dict[int, tuple[str, str]]]:
    """Per leg: TTW and WTT factors (10**-6 kg/t·km), reference index; problems by leg."""
    dims = [legs[c].cat.codes.to_numpy().astype(np.int64) + 1
            for c in ("mode", "vehicle_class", "laden_state")]
    key = dims[0]
    for col, width in ((dims[1], len(legs["vehicle_class"].cat.categories) + 1),
                       (dims[2], len(legs["laden_state"].cat.categories) + 1)):
        key = key * width + col
    key = key * 3 + legs["refrigerated"].to_numpy().astype(np.int64) + 1
    key = key * 3 + legs["radiative_forcing"].to_numpy().astype(np.int64) + 1
    codes, uniques = pd.factorize(key, sort=False)
    first = np.zeros(len(uniques), dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
    ttw = np.zeros(len(uniques), dtype=np.int64)
    wtt = np.zeros(len(uniques), dtype=np.int64)
    ref = np.zeros(len(uniques), dtype=np.int64)
    refs: list[tuple[str, str]] = []
    ref_index: dict[tuple[str, str], int] = {}
    failed: dict[int, tuple[str, str]] = {}
    mode = legs["mode"].astype(object).to_numpy()
    vclass = legs["vehicle_class"].astype(object).to_numpy()
    laden = legs["laden_state"].astype(object).to_numpy()
    refr = legs["refrigerated"].to_numpy()
    rf = legs["radiative_forcing"].to_numpy()
    for u, i in enumerate(first.tolist()):
        if is_hub[i]:
            continue

        def text(value: Any) -> str | None:
            return None if value is None or pd.isna(value) else str(value)

        found = factor_set.freight.resolve(
            str(mode[i]), text(vclass[i]), text(laden[i]),
            None if refr[i] == _NONE else bool(refr[i]),
            None if rf[i] == _NONE else bool(rf[i]))
        if isinstance(found, tuple):
            failed[u] = found
            continue
        assert isinstance(found, FreightFactor)
        pair = (found.ttw_ref, found.wtt_ref)
        ref[u] = ref_index.setdefault(pair, len(refs))
        if ref[u] == len(refs):
            refs.append(pair)
        ttw[u], wtt[u] = found.ttw_u, found.wtt_u
    leg_failed = {i: failed[int(c)] for i, c in enumerate(codes.tolist())
                  if int(c) in failed} if failed else {}
    return ttw[codes], wtt[codes], ref[codes], refs, leg_failed


def _resolve_distances(legs: pd.DataFrame, factor_set: FactorSet, router: Router,
                       need: npt.NDArray[np.bool_],
                       ) -> tuple[Int64Array, npt.NDArray[np.int8], dict[int, tuple[str, str]]]:
    """Per leg: distance in m and method code; routing problems by leg."""
    distance = legs["distance_m"].to_numpy().copy()
    method = np.zeros(len(legs), dtype=np.int8)
    failed: dict[int, tuple[str, str]] = {}
    rows = np.nonzero(need)[0]
    if len(rows) == 0:
        return distance, method, failed
    sub = legs.iloc[rows]
    key = ((sub["mode"].cat.codes.to_numpy().astype(np.int64) + 1)
           * (len(legs["origin"].cat.categories) + 1)
           + sub["origin"].cat.codes.to_numpy() + 1)
    key = key * (len(legs["destination"].cat.categories) + 1) \
        + sub["destination"].cat.codes.to_numpy() + 1
    key = key * 3 + sub["avoid_suez"].to_numpy().astype(np.int64) + 1
    codes, uniques = pd.factorize(key, sort=False)
    first = np.zeros(len(uniques), dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
    mode = sub["mode"].astype(object).to_numpy()
    origin = sub["origin"].astype(object).to_numpy()
    dest = sub["destination"].astype(object).to_numpy()
    suez = sub["avoid_suez"].to_numpy()
    dist_u = np.zeros(len(uniques), dtype=np.int64)
    method_u = np.zeros(len(uniques), dtype=np.int8)
    bad_u: dict[int, tuple[str, str]] = {}
    for u, i in enumerate(first.tolist()):
        found = router.distance(str(mode[i]), str(origin[i]), str(dest[i]), factor_set.params,
                                bool(suez[i] == 1))
        if isinstance(found, Distance):
            dist_u[u], method_u[u] = found.distance_m, _METHOD_CODE[found.method]
        else:
            bad_u[u] = found
    distance[rows] = dist_u[codes]
    method[rows] = method_u[codes]
    for j, c in enumerate(codes.tolist()):
        if c in bad_u:
            failed[int(rows[j])] = bad_u[c]
    return distance, method, failed


def compute_batch(shipments: Sequence[Shipment] | ShipmentFrame, factor_set: FactorSet, *,
                  router: Router | None = None) -> BatchFootprint:
    """Footprints of all shipments; InputError lists every problem of the batch."""
    frame = shipments if isinstance(shipments, ShipmentFrame) else \
        ShipmentFrame.from_shipments(list(shipments))
    router = router or Router()
    legs = frame.legs
    ship = legs["ship"].to_numpy()
    mass = legs["mass_g"].to_numpy()
    is_hub = (legs["mode"] == "hub").to_numpy()
    ttw_u, wtt_u, ref, refs, factor_failed = _resolve_factors(legs, factor_set, is_hub)
    need = ~is_hub & (legs["distance_m"].to_numpy() == _NONE)
    distance, method, distance_failed = _resolve_distances(legs, factor_set, router, need)
    method[is_hub] = _HUB
    problems: list[InputProblem] = []
    leg_rows = legs["row"].to_numpy()
    for failed in (factor_failed, distance_failed):
        for i, (name, message) in failed.items():
            row = int(leg_rows[i])
            problems.append(InputProblem(message, str(frame.ids[ship[i]]),
                                         None if row == _NONE else row, name))
    transport = ~is_hub
    d = np.where(transport, distance, 1000)
    hub_ttw = legs["hub_ttw_u"].to_numpy()
    hub_wtt = legs["hub_wtw_u"].to_numpy() - hub_ttw
    f_ttw = np.where(transport, ttw_u, hub_ttw)
    f_wtt = np.where(transport, wtt_u, hub_wtt)
    if (factor_failed or distance_failed):
        ok = np.ones(len(legs), dtype=bool)
        ok[list(factor_failed) + list(distance_failed)] = False
        d, f_ttw, f_wtt = np.where(ok, d, 0), np.where(ok, f_ttw, 0), np.where(ok, f_wtt, 0)
    ttw_g = mul3_round_vec(mass, d, f_ttw)
    wtt_g = mul3_round_vec(mass, d, f_wtt)
    wtw_g = ttw_g + wtt_g
    act_hi, act_lo = mul2_split_vec(mass, np.where(transport, d, 0))
    hub_refs_start = len(refs)
    hub_rows = np.nonzero(is_hub)[0]
    for i in hub_rows.tolist():
        refs.append(hub_refs(int(hub_ttw[i]), int(hub_ttw[i] + hub_wtt[i])))
    ref = ref.copy()
    ref[hub_rows] = np.arange(hub_refs_start, hub_refs_start + len(hub_rows))
    starts = np.flatnonzero(np.r_[True, ship[1:] != ship[:-1]])
    sums = {name: np.add.reduceat(values, starts) for name, values in (
        ("ttw_g", ttw_g), ("wtt_g", wtt_g), ("transport_wtw_g", np.where(transport, wtw_g, 0)),
        ("act_hi", act_hi), ("act_lo", act_lo))}
    sums["act_hi"] = sums["act_hi"] + sums["act_lo"] // 10**9
    sums["act_lo"] = sums["act_lo"] % 10**9
    wtw_total = sums["ttw_g"] + sums["wtt_g"]
    position = np.arange(len(legs))
    first_transport = np.minimum.reduceat(np.where(transport, position, len(legs)), starts)
    first_transport = np.where(first_transport < len(legs), first_transport, starts)
    first_mass = mass[first_transport]
    productions: dict[int, ProductionResult] = {}
    cbams: dict[int, CbamResult] = {}
    total = wtw_total.copy()
    basis = ["transport_wtw"] * len(frame)
    for i, product in enumerate(frame.products):
        if product is None:
            continue
        production, cbam, goods = goods_emissions(product, int(first_mass[i]), factor_set)
        row = int(frame.rows[i])
        for name, message in goods:
            problems.append(InputProblem(message, str(frame.ids[i]),
                                         None if row == _NONE else row, name))
        if production is not None:
            productions[i] = production
        cbams[i] = cbam
        total[i], basis[i] = grand_total(int(wtw_total[i]), production, cbam)
    if problems:
        raise InputError(problems)
    leg_table = pd.DataFrame({
        "ship": ship, "order": legs["order"].to_numpy(), "mode": legs["mode"],
        "mass_g": mass, "distance_m": distance, "method": method, "ttw_g": ttw_g,
        "wtt_g": wtt_g, "wtw_g": wtw_g, "act_hi": act_hi, "act_lo": act_lo, "ref": ref})
    ship_table = pd.DataFrame({
        "ttw_g": sums["ttw_g"], "wtt_g": sums["wtt_g"], "wtw_g": wtw_total,
        "transport_wtw_g": sums["transport_wtw_g"], "act_hi": sums["act_hi"],
        "act_lo": sums["act_lo"], "total_g": total})
    return BatchFootprint(factor_set_id=factor_set.id, ids=frame.ids, legs=leg_table,
                          shipments=ship_table, starts=starts, refs=refs,
                          productions=productions, cbams=cbams, total_basis=basis)
