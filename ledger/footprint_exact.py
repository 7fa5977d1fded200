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
10**12`` g.) The scalar form uses Python integers; the vectorised form splits each operand
into base-10**6 limbs held in int64 and never overflows for operands up to 10**12 and results
below 9.2 × 10**18. Both give the same integers, which the property tests check.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = [
    "MAX_OPERAND",
    "format_scaled",
    "intensity_mg_per_tkm",
    "mul2_split_vec",
    "mul3_round",
    "mul3_round_vec",
]

MAX_OPERAND = 10**12
_B = 10**6
_HALF = 5 * 10**11
_DIV = 10**12

Int64Array = npt.NDArray[np.int64]


def mul3_round(a: int, b: int, c: int) -> int:
    """``a × b × c / 10**12`` rounded half up to an integer (non-negative operands)."""
    return (a * b * c + _HALF) // _DIV


def _split(x: Int64Array) -> tuple[Int64Array, Int64Array]:
    return x // _B, x % _B


def _mul_ab(a: Int64Array, b: Int64Array) -> tuple[Int64Array, ...]:
    """``a × b`` as four base-10**6 limbs (least significant first)."""
    a1, a0 = _split(a)
    b1, b0 = _split(b)
    t0 = a0 * b0
    t1 = a1 * b0 + a0 * b1
    t2 = a1 * b1
    x0, carry = t0 % _B, t0 // _B
    t1 = t1 + carry
    x1, carry = t1 % _B, t1 // _B
    t2 = t2 + carry
    x2, x3 = t2 % _B, t2 // _B
    return x0, x1, x2, x3


def mul3_round_vec(a: Int64Array, b: Int64Array, c: Int64Array) -> Int64Array:
    """Element-wise :func:`mul3_round` on int64 arrays with operands in [0, 10**12]."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    c = np.asarray(c, dtype=np.int64)
    x0, x1, x2, x3 = _mul_ab(a, b)
    c1, c0 = _split(c)
    q0 = x0 * c0
    q1 = x1 * c0 + x0 * c1
    q2 = x2 * c0 + x1 * c1
    q3 = x3 * c0 + x2 * c1
    q4 = x3 * c1
    p0, carry = q0 % _B, q0 // _B
    q1 = q1 + carry
    p1, carry = q1 % _B, q1 // _B
    q2 = q2 + carry
    p2, carry = q2 % _B, q2 // _B
    q3 = q3 + carry
    p3, carry = q3 % _B, q3 // _B
    q4 = q4 + carry
    # result = q4·B² + p3·B + p2, plus one when the dropped part p1·B + p0 is at least B²/2
    result: Int64Array = q4 * _DIV + p3 * _B + p2
    rounded: Int64Array = result + ((p1 * _B + p0) >= _HALF).astype(np.int64)
    return rounded


def mul2_split_vec(a: Int64Array, b: Int64Array) -> tuple[Int64Array, Int64Array]:
    """``a × b`` as (quotient, remainder) by 10**9, exactly (operands in [0, 10**12])."""
    x0, x1, x2, x3 = _mul_ab(np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64))
    hi = x3 * 10**9 + x2 * 1000 + x1 // 1000
    lo = (x1 % 1000) * _B + x0
    return hi, lo


def intensity_mg_per_tkm(co2e_g: int, activity_gm: int) -> int | None:
    """g CO2e per t·km in thousandths (mg), rounded half up; None with no activity.

    ``activity_gm`` is the transport activity in g·m (10**-9 t·km), so the intensity in
    mg/t·km is ``co2e_g × 10**12 / activity_gm``.
    """
    if activity_gm <= 0:
        return None
    return (2 * co2e_g * 10**12 + activity_gm) // (2 * activity_gm)


def format_scaled(value: int, places: int) -> str:
    """``value / 10**places`` as canonical decimal text (no trailing zeros)."""
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), 10**places)
    if places == 0 or frac == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{frac:0{places}d}".rstrip("0")
