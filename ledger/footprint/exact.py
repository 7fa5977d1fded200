"""Exact integer arithmetic of the footprint, in a scalar and a vectorised form.

Every emission in the ledger is ``round_half_up(a × b × c / 10**12)`` whole grams, where
``a``, ``b``, ``c`` are non-negative integers of scaled units:

================  ===================  ====================  ======================
emission          a                    b                     c
================  ===================  ====================  ======================
transport leg     mass in g            distance in m         factor, 10**-6 kg/t·km
hub operation     mass in g            1000                  factor, 10**-6 kg/t
per-tonne value   net mass in g        10**6                 value, 10**-6 t/t
electricity use   net mass in g        use, 10**-3 kWh/t     grid, 10**-6 kg/kWh
================  ===================  ====================  ======================

(``mass_kg/1000 × distance_km × factor_kg_per_tkm`` kg = ``mass_g × distance_m × factor_u /
10**12`` g.) The scalar form uses Python integers. The vectorised form keeps ``a × b`` exactly
as two int64 parts (base 10**12), splits ``c`` in base 10**6, and carries the remainders, so
nothing overflows for the validated input ranges (it falls back to Python integers for an
array whose values could). Both give the same integers, which the property tests check.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = [
    "format_scaled",
    "intensity_mg_per_tkm",
    "intensity_mg_vec",
    "mul2_split_vec",
    "mul3_round",
    "mul3_round_vec",
    "mul_pair_vec",
    "split_1e9_vec",
    "times_round_vec",
]

_B = 10**6
_HALF = 5 * 10**11
_DIV = 10**12

Int64Array = npt.NDArray[np.int64]


def mul3_round(a: int, b: int, c: int) -> int:
    """``a × b × c / 10**12`` rounded half up to an integer (non-negative operands)."""
    return (a * b * c + _HALF) // _DIV


_T = 10**12
_LIMIT = 9 * 10**18


def mul_pair_vec(a: Int64Array, b: Int64Array) -> tuple[Int64Array, Int64Array]:
    """``a × b`` exactly, as (high, low) with ``a × b = high × 10**12 + low``.

    Operands in [0, 10**12]; the high part must stay below 9 × 10**18 / 10**12.
    """
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    a1, a0 = np.divmod(a, _B)
    b1, b0 = np.divmod(b, _B)
    mid1, mid0 = np.divmod(a1 * b0 + a0 * b1, _B)
    low = mid0 * _B + a0 * b0
    high = a1 * b1 + mid1 + low // _T
    return high, low % _T


def times_round_vec(high: Int64Array, low: Int64Array, c: Int64Array) -> Int64Array:
    """``(high × 10**12 + low) × c / 10**12`` rounded half up, exactly.

    Falls back to Python integers when an intermediate could leave int64.
    """
    c = np.asarray(c, dtype=np.int64)
    if len(c) and (int(c.max()) >= _LIMIT // _T
                   or int(high.max(initial=0)) * int(c.max()) >= _LIMIT):
        exact = [(h * _T + lo) * k for h, lo, k in zip(high.tolist(), low.tolist(), c.tolist(),
                                                       strict=True)]
        return np.asarray([(v + _HALF) // _DIV for v in exact], dtype=np.int64)
    c1, c0 = np.divmod(c, _B)
    q, r = np.divmod(low * c1, _B)
    result: Int64Array = high * c + q + (r * _B + low * c0 + _HALF) // _DIV
    return result


def mul3_round_vec(a: Int64Array, b: Int64Array, c: Int64Array) -> Int64Array:
    """Element-wise :func:`mul3_round` on int64 arrays (``a``, ``b`` in [0, 10**12])."""
    high, low = mul_pair_vec(a, b)
    return times_round_vec(high, low, c)


def split_1e9_vec(high: Int64Array, low: Int64Array) -> tuple[Int64Array, Int64Array]:
    """``high × 10**12 + low`` as (quotient, remainder) by 10**9."""
    q, r = np.divmod(low, 10**9)
    return high * 1000 + q, r


def mul2_split_vec(a: Int64Array, b: Int64Array) -> tuple[Int64Array, Int64Array]:
    """``a × b`` as (quotient, remainder) by 10**9, exactly (operands in [0, 10**12])."""
    return split_1e9_vec(*mul_pair_vec(a, b))


def intensity_mg_per_tkm(co2e_g: int, activity_gm: int) -> int | None:
    """g CO2e per t·km in thousandths (mg), rounded half up; None with no activity.

    ``activity_gm`` is the transport activity in g·m (10**-9 t·km), so the intensity in
    mg/t·km is ``co2e_g × 10**12 / activity_gm``.
    """
    if activity_gm <= 0:
        return None
    return (2 * co2e_g * 10**12 + activity_gm) // (2 * activity_gm)


def intensity_mg_vec(co2e_g: Int64Array, act_hi: Int64Array, act_lo: Int64Array,
                     ) -> Int64Array:
    """:func:`intensity_mg_per_tkm` for arrays (activity = act_hi × 10**9 + act_lo g·m);
    -1 where there is no activity.

    A float estimate is exact unless it lies near a rounding boundary; those few values are
    recomputed with Python integers.
    """
    activity = act_hi.astype(np.float64) * 1e9 + act_lo.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        estimate = co2e_g.astype(np.float64) * 1e12 / activity + 0.5
        finite = np.isfinite(estimate)
        estimate = np.where(finite, estimate, 0.0)
        rounded = np.floor(estimate)
        frac = estimate - rounded
        margin = 1e-9 * np.maximum(1.0, estimate)
        unsure = ~finite | (frac < margin) | (frac > 1 - margin) | (rounded >= 2**62)
    result = np.where(unsure, 0, rounded).astype(np.int64)
    for i in np.nonzero(unsure)[0].tolist():
        value = intensity_mg_per_tkm(int(co2e_g[i]), int(act_hi[i]) * 10**9 + int(act_lo[i]))
        result[i] = -1 if value is None else value
    return result


def format_scaled(value: int, places: int) -> str:
    """``value / 10**places`` as canonical decimal text (no trailing zeros)."""
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), 10**places)
    if places == 0 or frac == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{frac:0{places}d}".rstrip("0")
