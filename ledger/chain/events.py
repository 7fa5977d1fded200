"""Typed events of the CarbonLedger contract, decoded from raw logs.

:func:`to_event` turns a :class:`ledger.chain.abi.DecodedLog` into one of the dataclasses below
(``ShipmentRecorded`` unpacks ``exporterAndCo2e``). :func:`live_shipment_records` applies
revocations and supersessions to the records of one shipment, which is how a verifier finds two
live records of one shipment id from chain data alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from eth_utils.address import to_checksum_address

from ledger.chain.abi import DecodedLog, RawLog, SubjectKind

__all__ = [
    "AttestationRevoked",
    "Attested",
    "ChainEvent",
    "EventMeta",
    "FactorSetRegistered",
    "RecordRevoked",
    "RecordSuperseded",
    "RoleGranted",
    "RoleRevoked",
    "RootAnchored",
    "ShipmentBatchRecorded",
    "ShipmentRecorded",
    "live_shipment_records",
    "to_event",
    "unpack_exporter_and_co2e",
]

_UINT48 = (1 << 48) - 1


@dataclass(frozen=True)
class EventMeta:
    """Where an event was emitted."""

    contract: str
    block_number: int
    block_hash: bytes
    tx_hash: bytes
    log_index: int

    @classmethod
    def of(cls, log: RawLog) -> EventMeta:
        return cls(log.address, log.block_number, log.block_hash, log.tx_hash, log.log_index)


@dataclass(frozen=True)
class FactorSetRegistered:
    factor_set_id: bytes
    uri: str
    meta: EventMeta


@dataclass(frozen=True)
class ShipmentBatchRecorded:
    batch_id: bytes
    exporter: str
    factor_set_id: bytes
    count: int
    meta: EventMeta


@dataclass(frozen=True)
class ShipmentRecorded:
    shipment_id: bytes
    record_hash: bytes
    factor_set_id: bytes
    exporter: str
    co2e_wtw_g: int
    co2e_ttw_g: int
    meta: EventMeta


@dataclass(frozen=True)
class RootAnchored:
    root: bytes
    exporter: str
    factor_set_id: bytes
    count: int
    meta: EventMeta


@dataclass(frozen=True)
class RecordRevoked:
    shipment_id: bytes
    exporter: str
    record_hash: bytes
    meta: EventMeta


@dataclass(frozen=True)
class RecordSuperseded:
    shipment_id: bytes
    exporter: str
    old_record_hash: bytes
    new_record_hash: bytes
    meta: EventMeta


@dataclass(frozen=True)
class Attested:
    subject: bytes
    auditor: str
    kind: SubjectKind
    evidence: bytes
    meta: EventMeta


@dataclass(frozen=True)
class AttestationRevoked:
    subject: bytes
    auditor: str
    kind: SubjectKind
    meta: EventMeta


@dataclass(frozen=True)
class RoleGranted:
    role: bytes
    account: str
    sender: str
    meta: EventMeta


@dataclass(frozen=True)
class RoleRevoked:
    role: bytes
    account: str
    sender: str
    meta: EventMeta


ChainEvent = (
    FactorSetRegistered | ShipmentBatchRecorded | ShipmentRecorded | RootAnchored | RecordRevoked
    | RecordSuperseded | Attested | AttestationRevoked | RoleGranted | RoleRevoked
)


def unpack_exporter_and_co2e(word: int) -> tuple[str, int, int]:
    """``(exporter, co2e_wtw_g, co2e_ttw_g)`` from ``exporter << 96 | wtw << 48 | ttw``."""
    exporter = to_checksum_address((word >> 96).to_bytes(20, "big"))
    return exporter, (word >> 48) & _UINT48, word & _UINT48


def to_event(decoded: DecodedLog) -> ChainEvent | None:
    """The typed event for ``decoded``; ``None`` for an event this module does not type."""
    a = decoded.args
    meta = EventMeta.of(decoded.log)
    match decoded.name:
        case "FactorSetRegistered":
            return FactorSetRegistered(a["factorSetId"], a["uri"], meta)
        case "ShipmentBatchRecorded":
            return ShipmentBatchRecorded(
                a["batchId"], a["exporter"], a["factorSetId"], a["count"], meta
            )
        case "ShipmentRecorded":
            exporter, wtw, ttw = unpack_exporter_and_co2e(a["exporterAndCo2e"])
            return ShipmentRecorded(
                a["shipmentId"], a["recordHash"], a["factorSetId"], exporter, wtw, ttw, meta
            )
        case "RootAnchored":
            return RootAnchored(a["root"], a["exporter"], a["factorSetId"], a["count"], meta)
        case "RecordRevoked":
            return RecordRevoked(a["shipmentId"], a["exporter"], a["recordHash"], meta)
        case "RecordSuperseded":
            return RecordSuperseded(
                a["shipmentId"], a["exporter"], a["oldRecordHash"], a["newRecordHash"], meta
            )
        case "Attested":
            return Attested(a["subject"], a["auditor"], SubjectKind(a["kind"]), a["evidence"], meta)
        case "AttestationRevoked":
            return AttestationRevoked(a["subject"], a["auditor"], SubjectKind(a["kind"]), meta)
        case "RoleGranted":
            return RoleGranted(a["role"], a["account"], a["sender"], meta)
        case "RoleRevoked":
            return RoleRevoked(a["role"], a["account"], a["sender"], meta)
    return None


def live_shipment_records(events: Iterable[ChainEvent]) -> list[ShipmentRecorded]:
    """The records of a shipment that no revocation or supersession by their exporter ended.

    ``events`` are the contract's events on one shipment id (``ShipmentRecorded``,
    ``RecordRevoked``, ``RecordSuperseded``); more than one live record is a conflict.
    """
    ended: set[tuple[str, bytes]] = set()
    records: list[ShipmentRecorded] = []
    for event in events:
        if isinstance(event, ShipmentRecorded):
            records.append(event)
        elif isinstance(event, RecordRevoked):
            ended.add((event.exporter, event.record_hash))
        elif isinstance(event, RecordSuperseded):
            ended.add((event.exporter, event.old_record_hash))
    return [r for r in records if (r.exporter, r.record_hash) not in ended]
