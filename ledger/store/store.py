"""The local ledger store: records, batches, outbox transactions, attempts and receipts.

The store is the only part of the library that talks to the database; it is cut along its
concepts, and :class:`LedgerStore` is the one door to all of them:

- :mod:`ledger.store.schema`: the tables (as the alembic revisions build them) and the states of
  a transaction;
- :mod:`ledger.store.rows`: the values written (``New*``) and read back (``*Row``);
- :mod:`ledger.store.engine`: URLs, engines (SQLite pragmas, PostgreSQL), migrations,
  transactions, error types and the writer lock;
- :mod:`ledger.store.records`, :mod:`ledger.store.txs`, :mod:`ledger.store.bulk`: the queries
  of records and batches, of the outbox, and the bulk record-block writer.

Every method is one database transaction (a write commits all of itself or nothing), so a crash
at any point leaves either the state before or the state after it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from ledger.errors import RecordConflict
from ledger.store import cbam, records, txs, versions
from ledger.store import engine as db
from ledger.store.bulk import BulkBatches
from ledger.store.rows import (
    BatchRow,
    BatchStatus,
    LostAnchor,
    NewAttempt,
    NewBatch,
    NewReceipt,
    RecordRow,
    RecordVersion,
    Scope,
    StoredKey,
    TxRow,
)
from ledger.types import Bytes32

__all__ = ["LedgerStore", "open_store"]

T = TypeVar("T")


def open_store(target: str | Path) -> LedgerStore:
    """Opens (creating or upgrading as needed) the store at a SQLAlchemy URL or a SQLite path."""
    url = db.store_url(target)
    return LedgerStore(db.connect(url), url)


class LedgerStore:
    """Typed access to the store. Build it with :func:`open_store`; close it when done."""

    def __init__(self, engine: Engine, url: str) -> None:
        self._engine = engine
        self.url = url
        self._thread_locks: dict[str, threading.Lock] = {}

    # ------------------------------------------------------------------ plumbing

    def close(self) -> None:
        self._engine.dispose()

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, for modules that add their own tables through migrations
        (the service store) on the same database and pragmas."""
        return self._engine

    def __enter__(self) -> LedgerStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def write(self, what: str = "ledger store") -> contextlib.AbstractContextManager[Connection]:
        """One transaction on the database: committed when the block ends, rolled back on any
        error; a refused write becomes :class:`~ledger.errors.WriteRefused` and an unreachable
        database :class:`~ledger.errors.StoreUnavailable`, each naming ``what``."""
        return db.write(self._engine, what)

    def read(self, what: str = "ledger store") -> contextlib.AbstractContextManager[Connection]:
        """A connection for reads; an unreachable database becomes
        :class:`~ledger.errors.StoreUnavailable`."""
        return db.read(self._engine, what)

    def writer_lock(self, chain_id: int, sender: str) -> contextlib.AbstractContextManager[None]:
        """Holds the one-writer-per-key lock; raises :class:`~ledger.errors.StoreBusy` when
        another run holds it.

        SQLite files use an OS file lock beside the database, PostgreSQL a session advisory
        lock; both are released when the holding process dies, so a crash never leaves it held.
        """
        return db.writer_lock(self._engine, self._thread_locks, chain_id, sender)

    # ------------------------------------------------------------------ records and batches

    def find_records(self, scope: Scope, shipment_ids: Iterable[str]) -> dict[str, StoredKey]:
        """What the store holds for these shipments in ``scope``, by shipment id."""
        with self.read() as conn:
            return records.find_records(conn, scope, shipment_ids)

    def record(self, scope: Scope, shipment_id: str) -> RecordRow | None:
        """The stored record of one shipment in ``scope``."""
        with self.read() as conn:
            return records.record(conn, scope, shipment_id)

    def add_batches(self, scope: Scope, new_batches: Sequence[NewBatch]) -> list[int]:
        """Stores batches with their records in one transaction; returns the batch ids."""
        at = db.now()
        with self.write() as conn:
            return records.insert_batches(conn, scope, new_batches, at)

    @contextlib.contextmanager
    def bulk_batches(self, scope: Scope) -> Iterator[BulkBatches]:
        """One transaction for batches whose records arrive in pieces (:class:`BulkBatches`):
        committed when the block ends with every batch it opened sealed, else rolled back.
        A record whose shipment the scope holds already (or holds twice) rolls it back with
        :class:`~ledger.errors.RecordConflict`."""
        with self.write() as conn:
            scope_id = records.scope_id(conn, scope, create=True)
            assert scope_id is not None
            bulk = BulkBatches(conn, scope_id)
            try:
                yield bulk
            except IntegrityError as exc:
                # SQLite names the columns, PostgreSQL the constraint
                if not any(name in str(exc.orig)
                           for name in ("records.shipment_id", "uq_records_idempotency")):
                    raise
                raise RecordConflict(
                    f"a record of this bulk write is in the store already, or given twice: "
                    f"{exc.orig}") from exc
            bulk.check_sealed()

    def batch(self, batch_id: int) -> BatchRow:
        with self.read() as conn:
            return records.batch(conn, batch_id)

    def batch_tree(self, batch_id: int) -> bytes | None:
        """The stored Merkle tree nodes of a root-path batch (32 bytes each)."""
        with self.read() as conn:
            return records.batch_tree(conn, batch_id)

    def batch_records(self, batch_id: int) -> list[RecordRow]:
        """The records of a batch in batch order."""
        with self.read() as conn:
            return records.batch_records(conn, batch_id)

    def batch_leaves(self, batch_id: int) -> list[tuple[Bytes32, Bytes32, int, int]]:
        """The leaf values of a batch's records in batch order: on-chain shipment id, record
        hash, WTW and TTW grams; without reading the records themselves."""
        with self.read() as conn:
            return records.batch_leaves(conn, batch_id)

    def batch_shipment_ids(self, batch_id: int) -> list[str]:
        """The exporter's shipment ids of a batch's records, in batch order (the order of
        :meth:`batch_leaves`)."""
        with self.read() as conn:
            return records.batch_shipment_ids(conn, batch_id)

    def unstarted_batches(self, scope: Scope) -> list[BatchRow]:
        """Batches of ``scope`` that need a transaction: none yet, or only dropped or failed."""
        with self.read() as conn:
            return records.unstarted_batches(conn, scope)

    def batch_statuses(self, scope: Scope) -> list[BatchStatus]:
        """Every batch of ``scope`` with its newest transaction, oldest batch first."""
        with self.read() as conn:
            rows = records.scope_batches(conn, scope)
            carried = txs.batch_txs(conn, [row.id for row in rows], light=True) if rows else []
        by_batch: dict[int | None, TxRow] = {}
        for tx in sorted(carried, key=lambda t: t.id):
            by_batch[tx.batch_id] = tx  # the newest transaction of each batch
        out = []
        for row in rows:
            newest = by_batch.get(row.id)
            out.append(BatchStatus(row, newest.state if newest else "unstarted", newest))
        return out

    def scope_records(self, scope: Scope) -> list[RecordRow]:
        """Every record of ``scope`` (batch by batch, in batch order)."""
        with self.read() as conn:
            return records.scope_records(conn, scope)

    def scopes(self) -> list[Scope]:
        """Every (chain, contract, exporter) known to this store."""
        with self.read() as conn:
            return records.all_scopes(conn)

    def corrected_shipments(self, scope: Scope) -> dict[str, int]:
        """The shipments of ``scope`` with corrected versions, each with its newest version."""
        with self.read() as conn:
            return versions.corrected_shipments(conn, scope)

    def record_versions(self, scope: Scope, shipment_id: str) -> list[RecordVersion]:
        """The corrected records that superseded the shipment's anchored one (version 2, ...)."""
        with self.read() as conn:
            return versions.versions_of(conn, scope, shipment_id)

    def add_record_version(self, scope: Scope, shipment_id: str, *, record_hash: str,
                           supersedes: str, bundle: dict[str, Any]) -> int:
        """Keeps a corrected record with its proof bundle as the shipment's next version (the
        same record again: its version); returns the version."""
        with self.write() as conn:
            return versions.add_version(conn, scope, shipment_id, record_hash=record_hash,
                                        supersedes=supersedes, bundle=bundle)

    def records_of_shipment(self, shipment_id: str) -> list[tuple[Scope, RecordRow]]:
        """Every stored record of a shipment id, whatever its chain, contract or exporter."""
        with self.read() as conn:
            return records.records_of_shipment(conn, shipment_id)

    # ------------------------------------------------------------------ declaration index

    def index_cbam(self, read: Callable[[str, bytes], cbam.IndexEntry]) -> int:
        """Indexes the records the declaration index does not hold yet (one transaction);
        ``read`` says what a record is (:mod:`ledger.store.cbam`). Returns how many."""
        with self.write("declaration index") as conn:
            return cbam.index_missing(conn, read)

    def cbam_index_is_clean(self) -> bool:
        """Whether every indexed CBAM record is a consignment with a declarant and a release
        date (else a declaration reads the records one by one)."""
        with self.read() as conn:
            return not cbam.has_odd_rows(conn)

    def cbam_consignments(self, declarant: str, year: int
                          ) -> tuple[list[Any], dict[int, tuple[str, ...]]]:
        """The indexed consignments of ``declarant`` released in ``year``
        (:class:`~ledger.store.cbam.DeclarantRow` fields) and their profiles by id."""
        with self.read() as conn:
            rows = cbam.declarant_rows(conn, declarant, year)
            return rows, cbam.profiles(conn, {row[8] for row in rows})

    def cbam_consignment_tuples(self, declarant: str, year: int
                                ) -> tuple[list[tuple[Any, ...]], dict[int, tuple[str, ...]]]:
        """:meth:`cbam_consignments` as plain tuples fetched by the database driver (no row
        object per consignment: a declaration reads a million at a time)."""
        with self.read() as conn:
            rows = cbam.declarant_tuples(conn, declarant, year)
            return rows, cbam.profiles(conn, {row[8] for row in rows}) if rows else {}

    def record_bodies(self, wanted: dict[tuple[str, str], T],
                      share: cbam.BodyShare | None = None) -> Iterator[tuple[T, bytes]]:
        """For each stored record, scope by scope, whose (exporter, shipment id) is a key of
        ``wanted``: the key's value, popped (the first record stored under a key is the one
        given), and the record's canonical bytes; the others are passed over without being read
        out of their blocks. ``share``: only the records of that share
        (:class:`~ledger.store.cbam.BodyShare`; two readers of the two shares read each record
        once between them where :meth:`bodies_shareable`)."""
        with self.read() as conn:
            for scope_id, exporter in cbam.scope_ids(conn):
                yield from cbam.scope_bodies(conn, scope_id, exporter, wanted, share)

    def bodies_shareable(self) -> bool:
        """Whether no exporter has two scopes here, so that each (exporter, shipment id) names
        at most one stored record and :meth:`record_bodies` may be read in two shares (by two
        readers, each with all the keys) without both finding a record under one key."""
        with self.read() as conn:
            exporters = [exporter.lower() for _, exporter in cbam.scope_ids(conn)]
        return len(set(exporters)) == len(exporters)

    # ------------------------------------------------------------------ outbox

    def add_signed_tx(
        self, *, chain_id: int, sender: str, nonce: int, to_address: str, data: bytes,
        gas_limit: int, batch_id: int | None, confirmations: int, finalized_tag: bool,
        attempt: NewAttempt,
    ) -> TxRow:
        """Stores a signed transaction and its first attempt (one commit, before any send)."""
        with self.write() as conn:
            return txs.add_signed_tx(
                conn, chain_id=chain_id, sender=sender, nonce=nonce, to_address=to_address,
                data=data, gas_limit=gas_limit, batch_id=batch_id, confirmations=confirmations,
                finalized_tag=finalized_tag, attempt=attempt,
            )

    def add_attempt(self, tx_id: int, attempt: NewAttempt) -> TxRow:
        """Stores a replacement (same nonce, higher fees) before it is broadcast."""
        with self.write() as conn:
            return txs.add_attempt(conn, tx_id, attempt)

    def note_broadcast(self, tx_id: int, attempt_id: int, error: str | None = None) -> None:
        """Records that an attempt was sent (its outcome unknown) and any error the node gave."""
        with self.write() as conn:
            txs.note_broadcast(conn, tx_id, attempt_id, error)

    def store_receipt(self, tx_id: int, receipt: NewReceipt) -> TxRow:
        """Stores the receipt seen for the transaction: ``mined`` (status 1) or ``failed``."""
        with self.write() as conn:
            return txs.store_receipt(conn, tx_id, receipt)

    def mark_final(self, tx_id: int) -> None:
        with self.write() as conn:
            txs.mark_final(conn, tx_id)

    def mark_reorged(self, tx_id: int, reason: str) -> None:
        """The stored receipt is no longer in the chain: back to ``broadcast``, count the reorg."""
        with self.write() as conn:
            txs.mark_reorged(conn, tx_id, reason)

    def mark_dropped(self, tx_id: int, reason: str) -> None:
        """The nonce went to another transaction: this one can never be mined."""
        with self.write() as conn:
            txs.mark_dropped(conn, tx_id, reason)

    def note_error(self, tx_id: int, error: str) -> None:
        with self.write() as conn:
            txs.note_error(conn, tx_id, error)

    def open_txs(self, chain_id: int, sender: str) -> list[TxRow]:
        """Transactions of ``sender`` not yet final, failed or dropped, by nonce."""
        with self.read() as conn:
            return txs.open_txs(conn, chain_id, sender)

    def final_txs_above(self, chain_id: int, sender: str, block_number: int) -> list[TxRow]:
        """Final transactions of ``sender`` whose receipt is in a block above ``block_number``."""
        with self.read() as conn:
            return txs.final_txs_above(conn, chain_id, sender, block_number)

    def tx(self, tx_id: int) -> TxRow:
        with self.read() as conn:
            return txs.tx(conn, tx_id)

    def batch_txs(self, batch_id: int, *, light: bool = False) -> list[TxRow]:
        """Every transaction that carried a batch (dropped ones included), oldest first."""
        with self.read() as conn:
            return txs.batch_txs(conn, [batch_id], light=light)

    def tx_states(self, tx_ids: Iterable[int]) -> dict[int, str]:
        """The state of each of these transactions."""
        with self.read() as conn:
            return txs.tx_states(conn, tx_ids)

    def next_nonce(self, chain_id: int, sender: str) -> int | None:
        """One past the highest nonce stored for ``sender`` (None when it has none)."""
        with self.read() as conn:
            return txs.next_nonce(conn, chain_id, sender)

    # ------------------------------------------------------------------ lost anchorings

    def mark_lost(self, lost: Sequence[LostAnchor]) -> int:
        """Marks these transactions ``lost`` (their chain no longer holds them) and keeps what
        each was, all in one commit; returns how many were not marked before."""
        with self.write("lost anchorings") as conn:
            return sum(txs.mark_lost(conn, item) for item in lost)

    def mark_lost_history(self, lost: Sequence[LostAnchor],
                          rekeyed: Sequence[tuple[int, str, str, bytes | None]]) -> int:
        """Marks these transactions ``lost`` and gives their batches the new keys of
        ``rekeyed`` (batch id, old key, new key, new tree or ``None``), all in one commit;
        returns how many transactions were not marked before. A batch whose key changed
        meanwhile is left as it is (another run re-keyed it)."""
        with self.write("lost anchorings") as conn:
            marked = sum(txs.mark_lost(conn, item) for item in lost)
            for batch_id, old_key, new_key, tree in rekeyed:
                records.rekey_batch(conn, batch_id, old_key=old_key, new_key=new_key, tree=tree)
            return marked

    def lost_anchors(self, scope: Scope) -> list[LostAnchor]:
        """The lost anchorings kept for ``scope``, oldest first."""
        with self.read() as conn:
            return txs.lost_anchors_of(conn, scope.chain_id, scope.contract, scope.exporter)

    def has_attempt(self, tx_hash: str) -> bool:
        """Whether a stored attempt (of any transaction, lost ones included) has this hash."""
        with self.read() as conn:
            return txs.has_attempt(conn, tx_hash)

    def tx_of_attempt(self, tx_hash: str) -> TxRow | None:
        """The stored transaction one of whose attempts has this hash, if any."""
        with self.read() as conn:
            return txs.tx_of_attempt(conn, tx_hash)

    def revive_lost(self, tx_id: int, note: str) -> None:
        """A ``lost`` transaction the chain holds after all goes back to ``broadcast``."""
        with self.write("lost anchorings") as conn:
            txs.revive_lost(conn, tx_id, note)

    def txs_in_states(self, chain_id: int, sender: str, states: Sequence[str], *,
                      light: bool = False) -> list[TxRow]:
        """The sender's transactions in these states, by nonce; ``light`` leaves out their
        bytes (as :meth:`batch_statuses` does)."""
        with self.read() as conn:
            return txs.txs_in_states(conn, chain_id, sender, states, light=light)
