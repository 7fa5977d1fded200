"""The values the ledger store takes and gives: ``New*`` to write, ``*Row`` as read back.

Hashes and addresses are ``0x``-prefixed lowercase hex text, as stored (see
:mod:`ledger.store.schema`); canonical records, raw transactions and Merkle trees are bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

__all__ = [
    "AttemptRow",
    "BatchRow",
    "BatchStatus",
    "BlockRecords",
    "LostAnchor",
    "NewAttempt",
    "NewBatch",
    "NewReceipt",
    "NewRecord",
    "ReceiptRow",
    "RecordRow",
    "RecordVersion",
    "Scope",
    "StoredKey",
    "TxRow",
]


@dataclass(frozen=True)
class Scope:
    """Where records live: one contract on one chain, written by one exporter address."""

    chain_id: int
    contract: str
    exporter: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "contract", self.contract.lower())
        object.__setattr__(self, "exporter", self.exporter.lower())


class NewRecord(NamedTuple):
    """A record to store with its batch. ``position`` is its place in the batch.

    Its canonical bytes are ``record_json``, or, in the rows
    :meth:`ledger.store.bulk.BulkBatches.add_block` writes (``record_json`` None), the
    ``block_length`` bytes at ``block_offset`` of record block ``block_id``.
    """

    shipment_id: str
    shipment_key: str
    record_hash: str
    co2e_wtw_g: int
    co2e_ttw_g: int
    record_json: bytes | None
    position: int
    leaf_hash: str | None = None
    tree_index: int | None = None
    block_offset: int | None = None
    block_length: int | None = None
    block_id: int | None = None


@dataclass(frozen=True)
class NewBatch:
    """A batch to store: ``batch_key`` is the batch id (events path) or the Merkle root."""

    path: str
    batch_key: str
    factor_set_id: str
    records: Sequence[NewRecord]
    tree: bytes | None = None


@dataclass(frozen=True)
class BatchRow:
    id: int
    chain_id: int
    contract: str
    exporter: str
    path: str
    batch_key: str
    factor_set_id: str
    shipment_count: int
    created_at: datetime


@dataclass(frozen=True)
class RecordRow:
    shipment_id: str
    shipment_key: str
    record_hash: str
    leaf_hash: str | None
    co2e_wtw_g: int
    co2e_ttw_g: int
    record_json: bytes
    batch_id: int
    position: int
    tree_index: int | None


@dataclass(frozen=True)
class RecordVersion:
    """A corrected record that superseded an anchored one: version 2, 3, ... of a shipment."""

    shipment_id: str
    version: int
    record_hash: str
    supersedes: str
    bundle: dict[str, Any]


@dataclass(frozen=True)
class StoredKey:
    """What the idempotency check needs of a stored record."""

    record_hash: str
    batch_id: int


@dataclass(frozen=True)
class NewAttempt:
    """A signed raw transaction, stored before it is ever broadcast."""

    tx_hash: str
    raw: bytes
    max_fee_per_gas: int
    max_priority_fee_per_gas: int


@dataclass(frozen=True)
class AttemptRow:
    id: int
    tx_hash: str
    raw: bytes
    max_fee_per_gas: int
    max_priority_fee_per_gas: int
    broadcast_count: int
    last_error: str | None


@dataclass(frozen=True)
class NewReceipt:
    tx_hash: str
    block_number: int
    block_hash: str
    status: int
    gas_used: int
    effective_gas_price: int
    first_log_index: int | None = None


@dataclass(frozen=True)
class ReceiptRow:
    attempt_id: int | None
    tx_hash: str
    block_number: int
    block_hash: str
    status: int
    gas_used: int
    effective_gas_price: int
    first_log_index: int | None


@dataclass(frozen=True)
class TxRow:
    """An outbox transaction with every attempt (oldest first) and its current receipt.

    Rows read for display (``light``:
    :meth:`ledger.store.store.LedgerStore.batch_statuses`) leave ``data`` and the attempts'
    ``raw`` empty.
    """

    id: int
    chain_id: int
    sender: str
    nonce: int
    to_address: str
    data: bytes
    gas_limit: int
    batch_id: int | None
    state: str
    confirmations: int
    finalized_tag: bool
    reorg_count: int
    last_error: str | None
    attempts: tuple[AttemptRow, ...]
    receipt: ReceiptRow | None


@dataclass(frozen=True)
class BatchStatus:
    """A batch and where it stands: ``unstarted`` when no live transaction carries it yet."""

    batch: BatchRow
    state: str
    tx: TxRow | None



class BlockRecords(NamedTuple):
    """The records of one record block, column by column: record ``i`` is ``shipment_ids[i]``,
    the ``i``-th 32 bytes of each hash column, grams ``grams[2 * i]`` (WTW) and
    ``grams[2 * i + 1]`` (TTW), and the ``lengths[i]`` bytes of the block after the ones
    before it."""

    shipment_ids: Sequence[str]
    shipment_keys: bytes
    record_hashes: bytes
    leaf_hashes: bytes
    grams: Sequence[int]
    lengths: Sequence[int]


@dataclass(frozen=True)
class LostAnchor:
    """A transaction that was mined (its batch anchored) on a chain that no longer holds it,
    as ``carbon-ledger recover`` found it; ``found_at`` is set by the store."""

    tx_id: int
    batch_id: int | None
    chain_id: int
    contract: str
    sender: str
    nonce: int
    tx_hash: str | None
    block_number: int | None
    block_hash: str | None
    chain_height: int
    reason: str
    found_at: datetime | None = None
    batch_key: str | None = None
    """The batch id or root the lost transaction anchored (a batch anchored again after a node
    lost its history has a new key since)."""
