"""The canonical record of one shipment's footprint, its hash, and its Merkle leaf.

A record is a plain JSON object (schema ``carbon-ledger/record/v1``)::

    {
      "schema": "carbon-ledger/record/v1",
      "exporter": "0x…",          # the exporter's address, 0x + 40 lower-case hex digits
      "shipment_id": "NGB-2026-0001",   # as the exporter wrote it
      "factor_set_id": "0x…",     # bytes32 id of the emission-factor tables, lower-case hex
      "shipment": {…},            # the inputs that matter (Shipment.to_dict())
      "footprint": {…}            # per-leg results and totals (ShipmentFootprint.to_dict()),
    }                             # with integer co2e_wtw_g / co2e_ttw_g (grams)

Numbers are integers or decimal strings only. The record hash is keccak-256 of its canonical JSON
(:mod:`ledger.records.canonical`); the leaf that goes into a batch tree is
``(chain_shipment_id(exporter, shipment_id), record hash, footprint.co2e_wtw_g,
footprint.co2e_ttw_g)``. See ``docs/records.md``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ledger.errors import InputError, InputProblem
from ledger.records.canonical import (
    canonical_json,
    chain_shipment_id_bytes,
    loads_canonical_unchecked,
    normalise_address,
    parse_canonical,
)
from ledger.records.keccak import keccak256
from ledger.records.merkle import Leaf

__all__ = [
    "RECORD_SCHEMA",
    "RecordEntry",
    "build_entry",
    "build_record",
    "check_record",
    "entry_parts",
    "factor_set_id_text",
    "parse_record",
    "record_hash",
    "record_leaf",
    "record_shipment_id",
]

#: The ``schema`` value of records this module writes.
RECORD_SCHEMA = "carbon-ledger/record/v1"

_HEX32 = re.compile(r"0x[0-9a-fA-F]{64}")
_TOP_FIELDS = frozenset(
    {"schema", "exporter", "shipment_id", "factor_set_id", "shipment", "footprint"}
)



def _fail(message: str, *, field: str | None = None, shipment_id: str | None = None) -> InputError:
    return InputError([InputProblem(message, shipment_id=shipment_id, field=field)])


def _grams(footprint: Mapping[str, Any], name: str, shipment_id: str | None) -> int:
    value = footprint.get(name)
    if type(value) is not int or value < 0:
        raise _fail(
            f"footprint.{name} must be a non-negative integer of grams, got {value!r}",
            field=f"footprint.{name}", shipment_id=shipment_id,
        )
    return value


def factor_set_id_text(value: object) -> str:
    """A factor set id as records hold it (``0x`` + 64 lower-case hex digits); ``InputError``
    for anything else."""
    if not isinstance(value, str):
        raise _fail(
            f"factor set id must be 0x followed by 64 hex digits, got {value!r}",
            field="factor_set_id",
        )
    return _factor_set_id_text(value)


@lru_cache(maxsize=64)  # a batch names one factor set, many times
def _factor_set_id_text(value: str) -> str:
    if _HEX32.fullmatch(value) is None:
        raise _fail(
            f"factor set id must be 0x followed by 64 hex digits, got {value!r}",
            field="factor_set_id",
        )
    return value.lower()


@dataclass(frozen=True)
class RecordEntry:
    """A record's canonical bytes and its leaf, from one canonicalisation."""

    canonical: bytes
    """The record's canonical JSON, the bytes the record hash is taken over."""
    leaf: Leaf
    """Its Merkle leaf (``leaf.record_hash`` is the record hash)."""

    @property
    def record(self) -> dict[str, Any]:
        """The record itself, parsed afresh from :attr:`canonical` (plain JSON values)."""
        record: dict[str, Any] = loads_canonical_unchecked(self.canonical)
        return record

    @property
    def record_hash(self) -> str:
        """The record hash, ``0x`` + 64 hex digits."""
        return "0x" + self.leaf.record_hash.hex()


def build_entry(
    shipment: Mapping[str, Any],
    footprint: Mapping[str, Any],
    *,
    exporter: str,
    factor_set_id: str,
) -> RecordEntry:
    """The canonical bytes and leaf of :func:`build_record`'s record, serialising it once.

    The path for one record to anchor: ``build_record`` followed by ``record_leaf`` gives the
    same bytes and leaf but checks and serialises the record twice and copies it. Many records:
    :mod:`ledger.records.chunks`.
    """
    data, leaf = entry_parts(shipment, footprint, exporter, factor_set_id)
    return RecordEntry(data, Leaf(*leaf))


def entry_parts(
    shipment: Mapping[str, Any], footprint: Mapping[str, Any], exporter: str, factor_set_id: str,
) -> tuple[bytes, tuple[bytes, bytes, int, int]]:
    """:func:`build_entry`'s canonical bytes and leaf values, as plain bytes and a tuple."""
    if not isinstance(shipment, Mapping) or not isinstance(footprint, Mapping):
        raise _fail("shipment and footprint must be JSON objects (dicts)")
    shipment_id = shipment.get("shipment_id")
    if not isinstance(shipment_id, str) or not shipment_id:
        raise _fail("shipment has no shipment_id", field="shipment.shipment_id")
    footprint_id = footprint.get("shipment_id", shipment_id)
    if footprint_id != shipment_id:
        raise _fail(
            f"footprint is for shipment {footprint_id!r}, not {shipment_id!r}",
            field="footprint.shipment_id", shipment_id=shipment_id,
        )
    wtw_g = _grams(footprint, "co2e_wtw_g", shipment_id)
    ttw_g = _grams(footprint, "co2e_ttw_g", shipment_id)
    factor_set_id = factor_set_id_text(factor_set_id)
    computed_with = footprint.get("factor_set_id", factor_set_id)
    if not isinstance(computed_with, str) or computed_with.lower() != factor_set_id:
        raise _fail(
            f"footprint was computed with factor set {computed_with!r}, "
            f"not the record's {factor_set_id}",
            field="footprint.factor_set_id", shipment_id=shipment_id,
        )
    exporter = normalise_address(exporter)
    chain_id = chain_shipment_id_bytes(exporter, shipment_id)  # also checks the id's form
    record = {
        "schema": RECORD_SCHEMA,
        "exporter": exporter,
        "shipment_id": shipment_id,
        "factor_set_id": factor_set_id,
        "shipment": shipment,
        "footprint": footprint,
    }
    try:
        data = canonical_json(record)
    except InputError as exc:
        raise InputError([
            InputProblem(p.message, shipment_id=shipment_id, row=p.row, field=p.field)
            for p in exc.problems
        ]) from None
    return data, (chain_id, keccak256(data), wtw_g, ttw_g)


def build_record(
    shipment: Mapping[str, Any],
    footprint: Mapping[str, Any],
    *,
    exporter: str,
    factor_set_id: str,
) -> dict[str, Any]:
    """The canonical record of one shipment.

    ``shipment`` is ``Shipment.to_dict()`` (it must carry ``shipment_id``), ``footprint`` is
    ``ShipmentFootprint.to_dict()`` (integer ``co2e_wtw_g`` and ``co2e_ttw_g``; its
    ``shipment_id``, if any, must be the same). The result is a fresh plain-JSON copy: it shares
    nothing with the arguments, and ``parse_canonical(canonical_json(record)) == record``.
    Raises ``InputError`` for a float or other non-canonical value anywhere in the inputs.
    """
    return build_entry(shipment, footprint, exporter=exporter, factor_set_id=factor_set_id).record


def check_record(record: Mapping[str, Any]) -> None:
    """Raise ``InputError`` unless ``record`` has the v1 record's fields in their forms."""
    if not isinstance(record, Mapping):
        raise _fail(f"a record is a JSON object, got {type(record).__name__}")
    if record.get("schema") != RECORD_SCHEMA:
        raise _fail(
            f"record schema is {record.get('schema')!r}, expected {RECORD_SCHEMA!r}",
            field="schema",
        )
    missing = sorted(_TOP_FIELDS - set(record))
    extra = sorted(set(record) - _TOP_FIELDS)
    if missing or extra:
        raise _fail(f"record fields: missing {missing}, unexpected {extra}")
    shipment_id = record["shipment_id"]
    exporter = record["exporter"]
    if not isinstance(exporter, str) or normalise_address(exporter) != exporter:
        raise _fail("record exporter must be a lower-case 0x address", field="exporter",
                    shipment_id=shipment_id if isinstance(shipment_id, str) else None)
    chain_shipment_id_bytes(exporter, shipment_id)
    if factor_set_id_text(record["factor_set_id"]) != record["factor_set_id"]:
        raise _fail("record factor_set_id must be lower-case hex", field="factor_set_id",
                    shipment_id=shipment_id)
    shipment, footprint = record["shipment"], record["footprint"]
    if not isinstance(shipment, Mapping) or not isinstance(footprint, Mapping):
        raise _fail("record shipment and footprint must be objects", shipment_id=shipment_id)
    if shipment.get("shipment_id", shipment_id) != shipment_id:
        raise _fail("shipment.shipment_id differs from the record's shipment_id",
                    field="shipment.shipment_id", shipment_id=shipment_id)
    if footprint.get("shipment_id", shipment_id) != shipment_id:
        raise _fail("footprint.shipment_id differs from the record's shipment_id",
                    field="footprint.shipment_id", shipment_id=shipment_id)
    _grams(footprint, "co2e_wtw_g", shipment_id)
    _grams(footprint, "co2e_ttw_g", shipment_id)


def parse_record(data: bytes | str) -> dict[str, Any]:
    """A record from its canonical JSON bytes, checked (``InputError`` unless canonical and v1)."""
    record = parse_canonical(data)
    if not isinstance(record, dict):
        raise _fail("a record is a JSON object")
    check_record(record)
    return record


def record_hash(record: Mapping[str, Any]) -> str:
    """keccak-256 of the record's canonical JSON, ``0x`` + 64 hex digits."""
    return "0x" + keccak256(canonical_json(record)).hex()


def record_shipment_id(record: Mapping[str, Any]) -> str:
    """The record's on-chain shipment id as ``0x`` hex
    (``ledger.records.canonical.chain_shipment_id``)."""
    return "0x" + chain_shipment_id_bytes(record["exporter"], record["shipment_id"]).hex()


def record_leaf(record: Mapping[str, Any]) -> Leaf:
    """The record's Merkle leaf; ``leaf.record_hash`` is the record hash (no need to hash twice)."""
    if record.get("schema") != RECORD_SCHEMA:
        raise _fail(
            f"record schema is {record.get('schema')!r}, expected {RECORD_SCHEMA!r}",
            field="schema",
        )
    shipment_id = record.get("shipment_id")
    footprint = record.get("footprint")
    if not isinstance(footprint, Mapping):
        raise _fail("record has no footprint object", field="footprint",
                    shipment_id=shipment_id if isinstance(shipment_id, str) else None)
    return Leaf(
        chain_shipment_id_bytes(record.get("exporter", ""), shipment_id),  # type: ignore[arg-type]
        keccak256(canonical_json(record)),
        _grams(footprint, "co2e_wtw_g", shipment_id),  # type: ignore[arg-type]
        _grams(footprint, "co2e_ttw_g", shipment_id),  # type: ignore[arg-type]
    )
