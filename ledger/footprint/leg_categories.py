"""Leg categories of the batch path: factors resolved once per category, routes once per pair.

A leg's category (mode, vehicle class, laden state, refrigerated, radiative forcing; and its
factor set when a batch is computed under several) is a small integer key
(:class:`KeyColumns`); :func:`resolve_factors` looks each key present up once in its set's
freight tables, :func:`resolve_distances` routes each distinct origin-destination pair once,
with the single path's functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ledger.factors.air import air_distance, plain_great_circle
from ledger.factors.distances import Distance, Router
from ledger.factors.factorset import FactorSet
from ledger.factors.tables import FreightFactor
from ledger.footprint.batch_result import METHOD_CODE
from ledger.inputs.frame import Int64Array

__all__ = ["CHUNK", "KeyColumns", "decode_key", "resolve_distances", "resolve_factors"]


#: Legs per slice of the arithmetic: small temporaries are reused instead of fresh pages.
CHUNK = 1 << 16
_DIMS = ("mode", "vehicle_class", "laden_state")
_FLAGS = ("refrigerated", "radiative_forcing")


class KeyColumns:
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


def decode_key(legs: pd.DataFrame, key: int) -> tuple[Any, ...]:
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


def resolve_factors(legs: pd.DataFrame, keys: KeyColumns, sets: Sequence[FactorSet],
                     ) -> tuple[Int64Array, Int64Array, npt.NDArray[np.int32],
                                list[tuple[str, str]], dict[int, tuple[str, str]]]:
    """Per (set and) category key: TTW and WTT factors (10**-6 kg/t·km) and reference index;
    the problems of the keys that have no factor."""
    space = keys.space * len(sets)
    present = np.zeros(space, dtype=bool)
    for start in range(0, len(legs), CHUNK):
        present[keys.key(start, min(len(legs), start + CHUNK))] = True
    ttw = np.zeros(space, dtype=np.int64)
    wtt = np.zeros(space, dtype=np.int64)
    ref = np.full(space, -1, dtype=np.int32)
    refs: list[tuple[str, str]] = []
    failed: dict[int, tuple[str, str]] = {}
    for key in np.nonzero(present)[0].tolist():
        mode, vclass, laden, refr, rf = decode_key(legs, key)
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


def resolve_distances(legs: pd.DataFrame, factor_set: FactorSet, router: Router,
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
            dist_u[u], method_u[u] = found.distance_m, METHOD_CODE[found.method]
        else:
            bad_u[u] = found
    failed = {int(rows[j]): bad_u[c] for j, c in enumerate(codes.tolist()) if c in bad_u} \
        if bad_u else {}
    return dist_u[codes], method_u[codes], failed
