"""The vectorised footprint path: many shipments at once, same integers as the single path.

Factor resolution and routing run once per distinct leg category and per distinct
origin-destination pair (with the single path's functions); the arithmetic runs on int64
columns with :func:`ledger.footprint.exact.mul3_round_vec`. The goods' emissions (production,
CBAM) are per-shipment rules shared with the single path
(:func:`ledger.footprint.rules.goods_emissions`), applied to the shipments that carry product
data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ledger.errors import FactorError, InputError, InputProblem
from ledger.factors.air import HAULS, air_distance, band_vehicle_class, plain_great_circle
from ledger.factors.cbam import CbamResult, out_of_scope
from ledger.factors.distances import SEA_ROUTE_METHODS, Distance, Router
from ledger.factors.factorset import FactorSet
from ledger.factors.tables import FreightFactor
from ledger.footprint.exact import (
    format_scaled,
    intensity_mg_vec,
    mul_pair_vec,
    split_1e9_vec,
    times_round_vec,
)
from ledger.footprint.models import LegFootprint, ProductionResult, ShipmentFootprint
from ledger.footprint.rules import (
    carrier_factor,
    goods_emissions,
    grand_total,
    hub_refs,
    primary_share,
)
from ledger.inputs.frame import ShipmentFrame
from ledger.inputs.shipments import Shipment

__all__ = ["METHODS", "BatchFootprint", "compute_batch", "compute_batch_by_set"]

#: Distance methods by code in :attr:`BatchFootprint.legs` ``method``.
METHODS = ("actual", "great_circle_plus_95km", *SEA_ROUTE_METHODS, "estimated_great_circle",
           "hub", "great_circle")
_METHOD_CODE = {m: i for i, m in enumerate(METHODS)}
_HUB = _METHOD_CODE["hub"]
_NONE = -1
_NO_CBAM = out_of_scope("no CN code on the record: not a declared CBAM good")

Int64Array = npt.NDArray[np.int64]


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


#: Legs per slice of the arithmetic: small temporaries are reused instead of fresh pages.
_CHUNK = 1 << 16
_DIMS = ("mode", "vehicle_class", "laden_state")
_FLAGS = ("refrigerated", "radiative_forcing")


class _KeyColumns:
    """The code arrays a leg's category key is made of (read once from the frame).

    ``set_of`` (several factor sets): each shipment's set index, which the key of its legs
    then carries too (``key = set * space + category``)."""

    def __init__(self, legs: pd.DataFrame,
                 set_of: npt.NDArray[np.intp] | None = None) -> None:
        self.codes = [legs[c].cat.codes.to_numpy() for c in _DIMS]
        self.widths = [len(legs[c].cat.categories) + 1 for c in _DIMS]
        self.flags = [legs[c].to_numpy() for c in _FLAGS]
        self.space = 9 * int(np.prod(self.widths))
        self.offset = None if set_of is None else \
            (set_of.astype(np.int32) * np.int32(self.space))[legs["ship"].to_numpy()]

    def of_set(self, k: int, rows: npt.NDArray[np.intp] | None = None
               ) -> npt.NDArray[np.bool_] | None:
        """Which legs (of ``rows``, default all) belong to set ``k`` (None: one set only)."""
        if self.offset is None:
            return None
        offset = self.offset if rows is None else self.offset[rows]
        mine: npt.NDArray[np.bool_] = offset == k * self.space
        return mine

    def key(self, start: int, end: int) -> npt.NDArray[np.int32]:
        """A small integer naming each leg's (set,) mode, class, laden, refrigerated, RF."""
        key = self.codes[0][start:end].astype(np.int32) + 1
        for codes, width in zip(self.codes[1:], self.widths[1:], strict=True):
            key *= width
            key += codes[start:end]
            key += 1
        for flag in self.flags:
            key *= 3
            key += flag[start:end]
            key += 1
        if self.offset is not None:
            key += self.offset[start:end]
        return key


def _decode_key(legs: pd.DataFrame, key: int) -> tuple[Any, ...]:
    widths = [len(legs[c].cat.categories) + 1 for c in _DIMS]
    key %= 9 * int(np.prod(widths))  # without the set index
    key, rf = divmod(key, 3)
    key, refr = divmod(key, 3)
    key, laden = divmod(key, widths[2])
    mode, vclass = divmod(key, widths[1])

    def name(column: str, code: int) -> str | None:
        return None if code == 0 else str(legs[column].cat.categories[code - 1])

    return (name("mode", mode), name("vehicle_class", vclass), name("laden_state", laden),
            None if refr == 0 else bool(refr - 1), None if rf == 0 else bool(rf - 1))


def _resolve_factors(legs: pd.DataFrame, keys: _KeyColumns, sets: Sequence[FactorSet],
                     ) -> tuple[Int64Array, Int64Array, npt.NDArray[np.int32],
                                list[tuple[str, str]], dict[int, tuple[str, str]]]:
    """Per (set and) category key: TTW and WTT factors (10**-6 kg/t·km) and reference index;
    the problems of the keys that have no factor."""
    space = keys.space * len(sets)
    present = np.zeros(space, dtype=bool)
    for start in range(0, len(legs), _CHUNK):
        present[keys.key(start, min(len(legs), start + _CHUNK))] = True
    ttw = np.zeros(space, dtype=np.int64)
    wtt = np.zeros(space, dtype=np.int64)
    ref = np.full(space, -1, dtype=np.int32)
    refs: list[tuple[str, str]] = []
    failed: dict[int, tuple[str, str]] = {}
    for key in np.nonzero(present)[0].tolist():
        mode, vclass, laden, refr, rf = _decode_key(legs, key)
        if mode == "hub" or mode is None:
            continue
        found = sets[key // keys.space].freight.resolve(mode, vclass, laden, refr, rf)
        if isinstance(found, tuple):
            failed[key] = found
            continue
        assert isinstance(found, FreightFactor)
        ttw[key], wtt[key] = found.ttw_u, found.wtt_u
        pair = (found.ttw_ref, found.wtt_ref)
        if pair not in refs:
            refs.append(pair)
        ref[key] = refs.index(pair)
    return ttw, wtt, ref, refs, failed


def _resolve_distances(legs: pd.DataFrame, factor_set: FactorSet, router: Router,
                       rows: npt.NDArray[np.intp],
                       ) -> tuple[Int64Array, npt.NDArray[np.int8], dict[int, tuple[str, str]]]:
    """For the legs ``rows`` with no given distance: distance in m, method code, problems."""
    sub = legs.iloc[rows]
    key = ((sub["mode"].cat.codes.to_numpy().astype(np.int64) + 1)
           * (len(legs["origin"].cat.categories) + 1)
           + sub["origin"].cat.codes.to_numpy() + 1)
    key = key * (len(legs["destination"].cat.categories) + 1) \
        + sub["destination"].cat.codes.to_numpy() + 1
    key = key * 3 + sub["avoid_suez"].to_numpy().astype(np.int64) + 1
    key = key * 3 + sub["avoid_panama"].to_numpy().astype(np.int64) + 1
    codes, uniques = pd.factorize(key, sort=False)
    first = np.zeros(len(uniques), dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
    mode = np.asarray(sub["mode"].array[first], dtype=object)
    origin = np.asarray(sub["origin"].array[first], dtype=object)
    dest = np.asarray(sub["destination"].array[first], dtype=object)
    suez = sub["avoid_suez"].to_numpy()[first]
    panama = sub["avoid_panama"].to_numpy()[first]
    dist_u = np.zeros(len(uniques), dtype=np.int64)
    method_u = np.zeros(len(uniques), dtype=np.int8)
    bad_u: dict[int, tuple[str, str]] = {}
    gc = plain_great_circle(factor_set.params)
    for u in range(len(uniques)):
        if gc and mode[u] == "air":
            found = (("avoid_suez", "avoid_suez applies to sea legs only") if suez[u] == 1
                     else air_distance(router, str(origin[u]), str(dest[u])))
        else:
            found = router.distance(str(mode[u]), str(origin[u]), str(dest[u]),
                                    factor_set.params, bool(suez[u] == 1),
                                    avoid_panama=bool(panama[u] == 1))
        if isinstance(found, Distance):
            dist_u[u], method_u[u] = found.distance_m, _METHOD_CODE[found.method]
        else:
            bad_u[u] = found
    failed = {int(rows[j]): bad_u[c] for j, c in enumerate(codes.tolist()) if c in bad_u} \
        if bad_u else {}
    return dist_u[codes], method_u[codes], failed


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
    keys = _KeyColumns(legs, set_of if several else None)
    ttw_tab, wtt_tab, ref_tab, refs, key_failed = _resolve_factors(legs, keys, sets)
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
                distance[rows], method[rows], unrouted = _resolve_distances(
                    legs, factor_set, router, rows)
                distance_failed.update(unrouted)
    if any_hub:
        method[is_hub] = _HUB
    over = _Overrides(n_legs)
    carriers = {} if isinstance(shipments, ShipmentFrame) else \
        _carrier_legs(shipments, over, refs)
    band: npt.NDArray[np.int8] | None = None
    for k, factor_set in enumerate(sets):
        found_band = _air_bands(legs, keys, factor_set, distance=distance,
                                distance_failed=distance_failed, over=over, refs=refs, set_index=k)
        if found_band is not None:
            band = found_band if band is None else np.maximum(band, found_band)
    failed: dict[int, list[tuple[str, str]]] = dict(over.failed)
    if key_failed:
        bad_keys = np.fromiter(key_failed, dtype=np.int32)
        for start in range(0, n_legs, _CHUNK):
            key = keys.key(start, min(n_legs, start + _CHUNK))
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
    for start in range(0, n_legs, _CHUNK):
        end = min(n_legs, start + _CHUNK)
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


class _Overrides:
    """Per-leg factors that replace the category's: the carrier's own intensity, and the band
    factor of an air leg with no vehicle class under the great-circle method."""

    def __init__(self, n_legs: int) -> None:
        self.index = np.full(n_legs, -1, dtype=np.int32)
        self.primary = np.zeros(n_legs, dtype=bool)
        self.band_auto = np.zeros(n_legs, dtype=bool)
        self.factors: list[FreightFactor] = []
        self.failed: dict[int, list[tuple[str, str]]] = {}
        self.any = False
        self.ttw_u = np.zeros(0, dtype=np.int64)
        self.wtt_u = np.zeros(0, dtype=np.int64)
        self.ref = np.zeros(0, dtype=np.int32)

    def code(self, factor: FreightFactor, refs: list[tuple[str, str]]) -> int:
        """The override index of ``factor`` (its references joined to ``refs``)."""
        if factor not in self.factors:
            self.factors.append(factor)
            pair = (factor.ttw_ref, factor.wtt_ref)
            if pair not in refs:
                refs.append(pair)
            self.ttw_u = np.append(self.ttw_u, factor.ttw_u)
            self.wtt_u = np.append(self.wtt_u, factor.wtt_u)
            self.ref = np.append(self.ref, np.int32(refs.index(pair)))
        self.any = True
        return self.factors.index(factor)

    def skip_key(self, j: int) -> bool:
        """Whether leg ``j``'s category factor does not apply (so its problem is not one)."""
        return bool(self.primary[j] or self.band_auto[j])


def _carrier_legs(shipments: Sequence[Shipment], over: _Overrides,
                  refs: list[tuple[str, str]]) -> dict[int, tuple[str | None, str | None, bool]]:
    """Mark the primary-data legs (in the frame's order: by shipment, then leg order)."""
    carriers: dict[int, tuple[str | None, str | None, bool]] = {}
    j = 0
    for s in shipments:
        for leg in sorted(s.legs, key=lambda x: x.order):
            if leg.primary and leg.mode != "hub":
                over.primary[j] = True
                over.index[j] = over.code(carrier_factor(leg), refs)
                carriers[j] = (leg.carrier_source, leg.carrier_period,
                               bool(leg.carrier_verified))
            j += 1
    return carriers


def _air_bands(legs: pd.DataFrame, keys: _KeyColumns, factor_set: FactorSet, *,
               distance: Int64Array, distance_failed: dict[int, tuple[str, str]],
               over: _Overrides, refs: list[tuple[str, str]],
               set_index: int = 0) -> npt.NDArray[np.int8] | None:
    """Haul bands of the air legs (of factor set ``set_index`` when ``keys`` holds several) under
    the great-circle method (-1 elsewhere; None when the factor set has another air method or
    there is no air leg), and the band factor of those with no vehicle class."""
    categories = list(legs["mode"].cat.categories)
    if not plain_great_circle(factor_set.params) or "air" not in categories:
        return None
    air = legs["mode"].cat.codes.to_numpy() == categories.index("air")
    mine = keys.of_set(set_index)
    if mine is not None:
        air &= mine
    if not air.any():
        return None
    params = factor_set.params
    limit_m = int(params.decimal("air.short_haul_below_km") * 1000)
    known = air.copy()
    if distance_failed:
        known[list(distance_failed)] = False
    at = np.flatnonzero(known)
    band = np.full(len(legs), -1, dtype=np.int8)
    band[at] = np.where(distance[at] < limit_m, 0, 1)
    auto = at[legs["vehicle_class"].cat.codes.to_numpy()[at] == -1]
    over.band_auto[np.flatnonzero(air)] = \
        legs["vehicle_class"].cat.codes.to_numpy()[air] == -1
    over.band_auto &= ~over.primary
    rows = auto[~over.primary[auto]]
    if len(rows):
        key = keys.key(0, len(legs))[rows]
        found: dict[tuple[int, int], int | tuple[str, str]] = {}
        for j, k, b in zip(rows.tolist(), key.tolist(), band[rows].tolist(), strict=True):
            code = found.get((k, b))
            if code is None:
                _, _, laden, refr, rf = _decode_key(legs, k)
                factor = factor_set.freight.resolve("air", band_vehicle_class(b, params), laden,
                                                    refr, rf)
                code = factor if isinstance(factor, tuple) else over.code(factor, refs)
                found[(k, b)] = code
            if isinstance(code, tuple):
                over.failed[j] = [code]
            else:
                over.index[j] = code
    return band


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
