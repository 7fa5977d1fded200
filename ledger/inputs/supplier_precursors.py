"""Purchased precursors: what an installation's template says of the precursors it buys in.

The communication template lists, per precursor produced outside the installation and consumed
in it (``A_InstData`` rows 102-121 and one block of ``E_PurchPrec`` each), its aggregated goods
category, the country where it was produced, the production routes where known, the tonnes
purchased and consumed per production process of the installation, and its own specific
embedded emissions (SEE, direct and indirect, t CO2e per tonne of precursor).
:class:`PurchasedPrecursor` carries that, as written, in the supplier-data document
(``purchased_precursors``), and :mod:`ledger.inputs.supplier_precursor_cells` reads and writes
the cells.

They are **informational**. A good's SEE, read from ``Summary_Communication``, already includes
the embedded emissions of the precursors consumed to make it (Regulation (EU) 2023/956,
Annex IV, point 3), so nothing here is added to a footprint. Nor do they become a shipment's
precursors (``production.precursors``): those need the precursor's CN code, the tonnes of
precursor per tonne of the good and the installation it came from, and the template gives an
aggregated goods category, tonnes per production process for the whole reporting period, and
a country.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["PrecursorQuantity", "PurchasedPrecursor", "precursors_from_list"]

_BLOCKS = range(1, 21)
_COUNTRY = re.compile(r"^[A-Z]{2}$")


def _text(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


@dataclass(frozen=True)
class PrecursorQuantity:
    """An amount of a purchased precursor, in the unit the template states."""

    amount: Decimal
    unit: str | None = None
    #: (a) total purchased levels: the line (1-8) of the block.
    line: int | None = None
    #: (b) consumed in the installation: the production process (1-10, ``P1``..``P10`` of
    #: ``A_InstData``).
    process: int | None = None
    #: (a): the production route of the precursor the line names.
    production_route: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in ("line", "process", "production_route", "unit"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        out["amount"] = _text(self.amount)
        return out


@dataclass(frozen=True)
class PurchasedPrecursor:
    """One purchased precursor of the installation (block ``block`` of ``E_PurchPrec``)."""

    block: int
    goods_category: str
    country: str
    see_direct_t_per_t: Decimal
    see_indirect_t_per_t: Decimal
    routes: tuple[str, ...] = ()
    purchased: tuple[PrecursorQuantity, ...] = ()
    consumed: tuple[PrecursorQuantity, ...] = ()
    other_purposes: PrecursorQuantity | None = None
    #: The source of the SEE (direct) as the block states it (measured, default, unknown).
    see_direct_source: str | None = None
    default_values_justification: str | None = None

    @property
    def precursor_id(self) -> str:
        """The template's id of the precursor: ``PP1`` .. ``PP20``."""
        return f"PP{self.block}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.precursor_id, "block": self.block,
                               "goods_category": self.goods_category, "country": self.country}
        if self.routes:
            out["routes"] = list(self.routes)
        if self.purchased:
            out["purchased"] = [q.to_dict() for q in self.purchased]
        if self.consumed:
            out["consumed"] = [q.to_dict() for q in self.consumed]
        if self.other_purposes is not None:
            out["other_purposes"] = self.other_purposes.to_dict()
        out["see_direct_t_per_t"] = _text(self.see_direct_t_per_t)
        if self.see_direct_source is not None:
            out["see_direct_source"] = self.see_direct_source
        out["see_indirect_t_per_t"] = _text(self.see_indirect_t_per_t)
        if self.default_values_justification is not None:
            out["default_values_justification"] = self.default_values_justification
        return out


_KEYS = ("id", "block", "goods_category", "country", "routes", "purchased", "consumed",
         "other_purposes", "see_direct_t_per_t", "see_direct_source", "see_indirect_t_per_t",
         "default_values_justification")
_QUANTITY_KEYS = ("line", "process", "production_route", "unit", "amount")

Bad = Callable[[str, str], None]


def _amount(value: Any, name: str, bad: Bad) -> Decimal | None:
    try:
        number = Decimal(str(value)) if isinstance(value, (str, int, Decimal)) \
            and not isinstance(value, bool) else None
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or number < 0:
        bad(name, f"{value!r} is not a number of zero or more (a decimal string)")
        return None
    return number


def _quantity(raw: Any, name: str, bad: Bad, number_key: str | None,
              numbers: range | None) -> PrecursorQuantity | None:
    if not isinstance(raw, Mapping):
        bad(name, "expected an object with at least an amount")
        return None
    for key in raw:
        allowed = [k for k in _QUANTITY_KEYS if k in ("unit", "amount")
                   or k == number_key or (k == "production_route" and number_key == "line")]
        if key not in allowed:
            bad(f"{name}.{key}", f"unknown key {key!r}; expected one of {', '.join(allowed)}")
    amount = _amount(raw.get("amount"), f"{name}.amount", bad)
    number = raw.get(number_key) if number_key else None
    if number_key is not None and numbers is not None and (
            not isinstance(number, int) or isinstance(number, bool) or number not in numbers):
        bad(f"{name}.{number_key}", f"{number_key} {number!r} is not one of "
            f"{numbers.start}-{numbers.stop - 1}")
        return None
    texts = {k: raw[k] for k in ("unit", "production_route") if k in raw}
    for key, value in texts.items():
        if not isinstance(value, str) or not value.strip():
            bad(f"{name}.{key}", f"{key} must be non-empty text")
            return None
    if amount is None:
        return None
    return PrecursorQuantity(amount=amount, **texts,
                             **({number_key: number} if number_key else {}))


def _quantities(raw: Any, name: str, bad: Bad, number_key: str,
                numbers: range) -> tuple[PrecursorQuantity, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        bad(name, "expected a list")
        return ()
    found = [_quantity(item, f"{name}[{i}]", bad, number_key, numbers)
             for i, item in enumerate(raw, start=1)]
    out = tuple(q for q in found if q is not None)
    seen = [getattr(q, number_key) for q in out]
    if len(set(seen)) != len(seen):
        bad(name, f"a {number_key} is given twice")
    return out


def _precursor(raw: Any, name: str, bad: Bad) -> PurchasedPrecursor | None:
    if not isinstance(raw, Mapping):
        bad(name, "expected an object")
        return None
    for key in raw:
        if key not in _KEYS:
            bad(f"{name}.{key}", f"unknown key {key!r}; expected one of {', '.join(_KEYS)}")
    block = raw.get("block")
    if not isinstance(block, int) or isinstance(block, bool) or block not in _BLOCKS:
        bad(f"{name}.block", f"block {block!r} is not one of 1-20 (the template's blocks)")
        block = None
    elif raw.get("id", f"PP{block}") != f"PP{block}":
        bad(f"{name}.id", f"id {raw.get('id')!r} is not PP{block}, the id of block {block}")
    texts: dict[str, str] = {}
    for key in ("goods_category", "country"):
        value = raw.get(key)
        if not isinstance(value, str) or not value.strip():
            bad(f"{name}.{key}", f"a purchased precursor needs {key} (non-empty text)")
        else:
            texts[key] = value
    if "country" in texts and not _COUNTRY.match(texts["country"]):
        bad(f"{name}.country", f"country {texts['country']!r} is not an ISO 3166 alpha-2 code")
    for key in ("see_direct_source", "default_values_justification"):
        value = raw.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            bad(f"{name}.{key}", f"{key} must be non-empty text")
    routes = raw.get("routes", [])
    if not isinstance(routes, list) or len(routes) > 5 or not all(
            isinstance(r, str) and r.strip() for r in routes):
        bad(f"{name}.routes", "expected a list of at most 5 production routes (text)")
        routes = []
    see = {key: _amount(raw.get(key), f"{name}.{key}", bad)
           for key in ("see_direct_t_per_t", "see_indirect_t_per_t")}
    purchased = _quantities(raw.get("purchased"), f"{name}.purchased", bad, "line",
                            range(1, 9))
    consumed = _quantities(raw.get("consumed"), f"{name}.consumed", bad, "process",
                           range(1, 11))
    other = None
    if raw.get("other_purposes") is not None:
        other = _quantity(raw["other_purposes"], f"{name}.other_purposes", bad, None, None)
    direct, indirect = see["see_direct_t_per_t"], see["see_indirect_t_per_t"]
    if block is None or len(texts) < 2 or direct is None or indirect is None:
        return None
    return PurchasedPrecursor(
        block=block, goods_category=texts["goods_category"], country=texts["country"],
        see_direct_t_per_t=direct, see_indirect_t_per_t=indirect, routes=tuple(routes),
        purchased=purchased, consumed=consumed, other_purposes=other,
        see_direct_source=raw.get("see_direct_source"),
        default_values_justification=raw.get("default_values_justification"))


def precursors_from_list(raw: Any, bad: Bad) -> tuple[PurchasedPrecursor, ...]:
    """The ``purchased_precursors`` of a supplier-data document; ``bad(field, message)`` is
    called for each problem (the field named ``purchased_precursors[n].key``)."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        bad("purchased_precursors", "expected a list of purchased precursors")
        return ()
    found = [_precursor(item, f"purchased_precursors[{i}]", bad)
             for i, item in enumerate(raw, start=1)]
    out = tuple(p for p in found if p is not None)
    blocks = [p.block for p in out]
    for i, block in enumerate(blocks):
        if block in blocks[:i]:
            bad(f"purchased_precursors[{i + 1}].block", f"block {block} is given twice")
    return out
