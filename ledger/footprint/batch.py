"""The vectorised footprint path: many shipments at once, same integers as the single path.

Factor resolution and routing run once per distinct leg category and per distinct
origin-destination pair (with the single path's functions); the arithmetic runs on int64
columns with :func:`ledger.footprint.exact.mul3_round_vec`. The goods' emissions (production,
CBAM) are per-shipment rules shared with the single path
(:func:`ledger.footprint.rules.goods_emissions`), applied to the shipments that carry product
data.

The parts: :mod:`ledger.footprint.batch_result` (the result columns),
:mod:`ledger.footprint.leg_categories` (factors and routes per category and pair) and
:mod:`ledger.footprint.leg_overrides` (carrier intensities, air haul bands).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from ledger.errors import FactorError, InputError, InputProblem
from ledger.factors.cbam import CbamResult
from ledger.factors.distances import Router
from ledger.factors.factorset import FactorSet
from ledger.footprint.batch_result import METHOD_CODE, BatchFootprint
from ledger.footprint.exact import intensity_mg_vec, mul_pair_vec, split_1e9_vec, times_round_vec
from ledger.footprint.leg_categories import CHUNK, KeyColumns, resolve_distances, resolve_factors
from ledger.footprint.leg_overrides import Overrides, air_bands, carrier_legs
from ledger.footprint.models import ProductionResult
from ledger.footprint.rules import goods_emissions, grand_total
from ledger.inputs.frame import Int64Array, ShipmentFrame
from ledger.inputs.shipments import Shipment

__all__ = ["compute_batch", "compute_batch_by_set"]

_HUB = METHOD_CODE["hub"]
_NONE = -1


def _segment_sums(values: Int64Array, ship: npt.NDArray[np.int64], out: Int64Array) -> None:
    """Add ``values`` into ``out`` by ``ship`` (sorted within the slice)."""
    cut = np.flatnonzero(np.r_[True, ship[1:] != ship[:-1]])
    np.add.at(out, ship[cut], np.add.reduceat(values, cut))


def compute_batch(shipments: Sequence[Shipment] | ShipmentFrame, factor_set: FactorSet, *,
                  router: Router | None = None) -> BatchFootprint:
    """Footprints of all shipments; InputError lists every problem of the batch."""
    return _compute(shipments, [factor_set], None, router)


def compute_batch_by_set(shipments: Sequence[Shipment] | ShipmentFrame,
                         sets: Sequence[FactorSet], set_of: npt.NDArray[np.intp], *,
                         router: Router | None = None) -> BatchFootprint:
    """Footprints with shipment ``i`` computed under ``sets[set_of[i]]``, in one pass over the
    legs (factors resolved per set and category, distances and air bands per set): the same
    footprints as :func:`compute_batch` of each set's shipments apart, which is its test
    oracle. InputError lists every problem of the batch."""
    if not sets:
        raise FactorError("compute_batch_by_set needs at least one factor set")
    return _compute(shipments, list(sets), np.asarray(set_of, dtype=np.intp), router)


def _compute(shipments: Sequence[Shipment] | ShipmentFrame, sets: list[FactorSet],
             set_of: npt.NDArray[np.intp] | None, router: Router | None) -> BatchFootprint:
    frame = shipments if isinstance(shipments, ShipmentFrame) else \
        ShipmentFrame.from_shipments(list(shipments))
    router = router or Router()
    legs = frame.legs
    n_legs, n_ships = len(legs), len(frame)
    ship = legs["ship"].to_numpy()
    several = set_of is not None and len(sets) > 1
    mass = legs["mass_g"].to_numpy()
    hub_ttw = legs["hub_ttw_u"].to_numpy()
    hub_wtw = legs["hub_wtw_u"].to_numpy()
    is_hub = (legs["mode"].cat.codes.to_numpy() ==
              (list(legs["mode"].cat.categories).index("hub")
               if "hub" in legs["mode"].cat.categories else -2))
    any_hub = bool(is_hub.any())
    keys = KeyColumns(legs, set_of if several else None)
    ttw_tab, wtt_tab, ref_tab, refs, key_failed = resolve_factors(legs, keys, sets)
    distance = legs["distance_m"].to_numpy()
    method = np.zeros(n_legs, dtype=np.int8)
    need = np.nonzero(~is_hub & (distance == _NONE))[0]
    problems: list[InputProblem] = []
    distance_failed: dict[int, tuple[str, str]] = {}
    if len(need):
        distance = distance.copy()
        for k, factor_set in enumerate(sets):
            mine = keys.of_set(k, need)
            rows = need if mine is None else need[mine]
            if len(rows):
                distance[rows], method[rows], unrouted = resolve_distances(
                    legs, factor_set, router, rows)
                distance_failed.update(unrouted)
    if any_hub:
        method[is_hub] = _HUB
    over = Overrides(n_legs)
    carriers = carrier_legs(frame, over, refs)
    band: npt.NDArray[np.int8] | None = None
    for k, factor_set in enumerate(sets):
        found_band = air_bands(legs, keys, factor_set, distance=distance,
                                distance_failed=distance_failed, over=over, refs=refs, set_index=k)
        if found_band is not None:
            band = found_band if band is None else np.maximum(band, found_band)
    failed: dict[int, list[tuple[str, str]]] = dict(over.failed)
    if key_failed:
        bad_keys = np.fromiter(key_failed, dtype=np.int32)
        for start in range(0, n_legs, CHUNK):
            key = keys.key(start, min(n_legs, start + CHUNK))
            for j in np.nonzero(np.isin(key, bad_keys))[0].tolist():
                if not over.skip_key(start + j):
                    failed[start + j] = [key_failed[int(key[j])]]
    for i, found in distance_failed.items():
        failed.setdefault(i, []).append(found)
    for i in sorted(failed):
        problems.extend(_problem(frame, legs, i, found) for found in failed[i])
    ok = np.ones(n_legs, dtype=bool)
    if failed:
        ok[list(failed)] = False
    ttw_g = np.empty(n_legs, dtype=np.int64)
    wtt_g = np.empty(n_legs, dtype=np.int64)
    ref = np.empty(n_legs, dtype=np.int32)
    sums = {name: np.zeros(n_ships, dtype=np.int64)
            for name in ("ttw_g", "wtt_g", "transport_wtw_g", "act_hi", "act_lo")}
    for start in range(0, n_legs, CHUNK):
        end = min(n_legs, start + CHUNK)
        key = keys.key(start, end)
        d, f_ttw, f_wtt = distance[start:end], ttw_tab[key], wtt_tab[key]
        ref[start:end] = ref_tab[key]
        if over.any:
            o = over.index[start:end]
            has = o >= 0
            if has.any():
                f_ttw = np.where(has, over.ttw_u[o], f_ttw)
                f_wtt = np.where(has, over.wtt_u[o], f_wtt)
                ref[start:end] = np.where(has, over.ref[o], ref[start:end])
        hub = is_hub[start:end]
        if any_hub and hub.any():
            d = np.where(hub, 1000, d)
            f_ttw = np.where(hub, hub_ttw[start:end], f_ttw)
            f_wtt = np.where(hub, hub_wtw[start:end] - hub_ttw[start:end], f_wtt)
        if failed:
            good = ok[start:end]
            d, f_ttw, f_wtt = np.where(good, d, 0), np.where(good, f_ttw, 0), \
                np.where(good, f_wtt, 0)
        high, low = mul_pair_vec(mass[start:end], d)
        ttw_g[start:end] = t = times_round_vec(high, low, f_ttw)
        wtt_g[start:end] = w = times_round_vec(high, low, f_wtt)
        act_hi, act_lo = split_1e9_vec(high, low)
        wtw = t + w
        if any_hub and hub.any():
            act_hi, act_lo, wtw = np.where(hub, 0, act_hi), np.where(hub, 0, act_lo), \
                np.where(hub, 0, wtw)
        s = ship[start:end]
        for name, values in (("ttw_g", t), ("wtt_g", w), ("transport_wtw_g", wtw),
                             ("act_hi", act_hi), ("act_lo", act_lo)):
            _segment_sums(values, s, sums[name])
    sums["act_hi"] += sums["act_lo"] // 10**9
    sums["act_lo"] %= 10**9
    wtw_total = sums["ttw_g"] + sums["wtt_g"]
    starts = np.flatnonzero(np.r_[True, ship[1:] != ship[:-1]]) if n_legs else \
        np.zeros(0, dtype=np.intp)
    productions: dict[int, ProductionResult] = {}
    cbams: dict[int, CbamResult] = {}
    total = wtw_total.copy()
    basis = ["transport_wtw"] * n_ships
    with_goods = [i for i, product in enumerate(frame.products) if product is not None] \
        if any(frame.products) else []
    if with_goods:
        first_mass = _first_transport_mass(mass, is_hub, starts, n_legs)
        for i in with_goods:
            production, cbam, goods = goods_emissions(
                frame.products[i], int(first_mass[i]),
                sets[int(set_of[i])] if several and set_of is not None else sets[0],
                frame.consignment(i))
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
    leg_table = {"ship": ship, "order": legs["order"].to_numpy(), "mass_g": mass,
                 "distance_m": distance, "method": method, "ttw_g": ttw_g, "wtt_g": wtt_g,
                 "hub_ttw_u": hub_ttw, "hub_wtw_u": hub_wtw, "ref": ref}
    if band is not None:
        leg_table["band"] = band
    if carriers:
        leg_table["primary"] = over.primary.astype(np.int8)
    ship_table = {
        "ttw_g": sums["ttw_g"], "wtt_g": sums["wtt_g"], "wtw_g": wtw_total,
        "transport_wtw_g": sums["transport_wtw_g"], "act_hi": sums["act_hi"],
        "act_lo": sums["act_lo"], "total_g": total,
        "intensity_mg": intensity_mg_vec(sums["transport_wtw_g"], sums["act_hi"],
                                         sums["act_lo"])}
    return BatchFootprint(factor_set_id=sets[0].id, ids=frame.ids, legs=leg_table,
                          leg_modes=legs["mode"].array, shipments=ship_table, starts=starts,
                          refs=refs, productions=productions, cbams=cbams, total_basis=basis,
                          carriers=carriers,
                          set_ids=tuple(fs.id for fs in sets) if several else (),
                          ship_set=set_of if several else None)


def _problem(frame: ShipmentFrame, legs: pd.DataFrame, i: int,
             found: tuple[str, str]) -> InputProblem:
    row = int(legs["row"].to_numpy()[i])
    return InputProblem(found[1], str(frame.ids[int(legs["ship"].to_numpy()[i])]),
                        None if row == _NONE else row, found[0])


def _first_transport_mass(mass: Int64Array, is_hub: npt.NDArray[np.bool_],
                          starts: npt.NDArray[np.intp], n_legs: int) -> Int64Array:
    """The mass of each shipment's first transport leg (its first leg if all are hubs)."""
    if not is_hub.any():
        return mass[starts]
    position = np.where(~is_hub, np.arange(n_legs), n_legs)
    first = np.minimum.reduceat(position, starts)
    return mass[np.where(first < n_legs, first, starts)]
