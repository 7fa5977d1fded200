"""Per-leg factors of the batch path that replace their category's.

The carrier's own intensity of a primary-data leg (:func:`carrier_legs`), and the band factor
of an air leg with no vehicle class under the great-circle method, with the haul band of every
air leg of that method (:func:`air_bands`, per factor set of the batch), gathered in
:class:`Overrides`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from ledger.factors.air import band_vehicle_class, plain_great_circle
from ledger.factors.factorset import FactorSet
from ledger.factors.tables import FreightFactor
from ledger.footprint.leg_categories import KeyColumns, decode_key
from ledger.footprint.rules import carrier_factor
from ledger.inputs.frame import Int64Array, ShipmentFrame

__all__ = ["Overrides", "air_bands", "carrier_legs"]


class Overrides:
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


def carrier_legs(frame: ShipmentFrame, over: Overrides,
                  refs: list[tuple[str, str]]) -> dict[int, tuple[str | None, str | None, bool]]:
    """Mark the primary-data legs (by position in the frame's legs: by shipment, then leg
    order), from the frame's carrier data."""
    carriers: dict[int, tuple[str | None, str | None, bool]] = {}
    if not frame.carriers:
        return carriers
    legs = frame.legs
    ship = legs["ship"].to_numpy()
    order = legs["order"].to_numpy()
    mode = legs["mode"]
    for (s, o), carrier in sorted(frame.carriers.items()):
        if not carrier.primary:
            continue
        lo, hi = np.searchsorted(ship, s, "left"), np.searchsorted(ship, s, "right")
        found = np.flatnonzero(order[lo:hi] == o)
        if not len(found):
            continue
        j = int(lo + found[0])
        if mode.iat[j] == "hub":
            continue
        over.primary[j] = True
        over.index[j] = over.code(carrier_factor(carrier), refs)
        carriers[j] = (carrier.carrier_source, carrier.carrier_period,
                       bool(carrier.carrier_verified))
    return carriers


def air_bands(legs: pd.DataFrame, keys: KeyColumns, factor_set: FactorSet, *,
               distance: Int64Array, distance_failed: dict[int, tuple[str, str]],
               over: Overrides, refs: list[tuple[str, str]],
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
                _, _, laden, refr, rf = decode_key(legs, k)
                factor = factor_set.freight.resolve("air", band_vehicle_class(b, params), laden,
                                                    refr, rf)
                code = factor if isinstance(factor, tuple) else over.code(factor, refs)
                found[(k, b)] = code
            if isinstance(code, tuple):
                over.failed[j] = [code]
            else:
                over.index[j] = code
    return band
