"""The local ledger store: records, batches, outbox transactions, attempts and receipts.

This is the only module that talks to the database. Any SQLAlchemy URL works (a SQLite file is
the default, PostgreSQL where one machine is not enough); :func:`open_store` brings the schema to
the newest alembic revision in ``ledger/store/migrations`` (the ledger's tables only) before
returning.

Every write is one database transaction (SQLite: ``BEGIN IMMEDIATE``), so a crash at any point
leaves either the state before or the state after the write. Hashes and addresses are stored as
``0x``-prefixed lowercase hex; wei amounts as decimal strings.

Idempotency key of a record: ``(chain_id, contract, exporter, shipment_id)`` (unique).
A transaction's state is one of ``signed`` (raw bytes stored, maybe never sent), ``broadcast``
(sent at least once; outcome unknown until a receipt is seen), ``mined`` (receipt in the current
chain), ``final`` (receipt at the required depth), ``failed`` (mined with status 0) and
``dropped`` (its nonce was used by another transaction; its batch is sent again in a new one).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import itertools
import os
import secrets
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from ledger.errors import RecordConflict, StoreBusy, StoreError, StoreUnavailable, WriteRefused
from ledger.records.blocks import BLOCK_CODEC, unpack_block

__all__ = [
    "OPEN_STATES",
    "TX_STATES",
    "AttemptRow",
    "BatchRow",
    "BatchStatus",
    "BlockRecords",
    "BulkBatches",
    "LedgerStore",
    "NewAttempt",
    "NewBatch",
    "NewReceipt",
    "NewRecord",
    "ReceiptRow",
    "RecordRow",
    "Scope",
    "StoredKey",
    "TxRow",
    "default_store_url",
    "open_store",
]

TX_STATES = ("signed", "broadcast", "mined", "final", "failed", "dropped")
#: States of a transaction that still needs watching.
OPEN_STATES = ("signed", "broadcast", "mined")
#: States after which a batch needs another transaction.
_ENDED = ("dropped", "failed")

_MIGRATIONS = Path(__file__).with_name("migrations")
_CHUNK = 2000  # bound parameters per IN (...) query

metadata = sa.MetaData()

#: A record's canonical bytes are in its row or in a record block, never both.
_RECORD_BODY_CHECK = (
    "(record_json IS NOT NULL AND block_id IS NULL AND block_offset IS NULL "
    "AND block_length IS NULL) OR (record_json IS NULL AND block_id IS NOT NULL "
    "AND block_offset >= 0 AND block_length > 0)"
)

scopes = sa.Table(
    "scopes", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("chain_id", sa.BigInteger, nullable=False),
    sa.Column("contract", sa.String(42), nullable=False),
    sa.Column("exporter", sa.String(42), nullable=False),
    sa.UniqueConstraint("chain_id", "contract", "exporter", name="uq_scopes"),
)

batches = sa.Table(
    "batches", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("scope_id", sa.Integer, sa.ForeignKey("scopes.id", name="fk_batches_scope"),
              nullable=False),
    sa.Column("path", sa.String(8), nullable=False),
    sa.Column("batch_key", sa.String(66), nullable=False),
    sa.Column("factor_set_id", sa.String(66), nullable=False),
    sa.Column("shipment_count", sa.Integer, nullable=False),
    sa.Column("tree", sa.LargeBinary, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("path IN ('events', 'root')", name="ck_batches_path"),
    sa.CheckConstraint("shipment_count > 0", name="ck_batches_count"),
    sa.UniqueConstraint("scope_id", "batch_key", name="uq_batches_key"),
)

record_blocks = sa.Table(
    "record_blocks", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("scope_id", sa.Integer, sa.ForeignKey("scopes.id", name="fk_record_blocks_scope"),
              nullable=False),
    sa.Column("codec", sa.String(16), nullable=False),
    sa.Column("record_count", sa.Integer, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("record_count > 0", name="ck_record_blocks_count"),
)

records = sa.Table(
    "records", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("scope_id", sa.Integer, sa.ForeignKey("scopes.id", name="fk_records_scope"),
              nullable=False),
    sa.Column("shipment_id", sa.String(200), nullable=False),
    sa.Column("shipment_key", sa.String(66), nullable=False),
    sa.Column("record_hash", sa.String(66), nullable=False),
    sa.Column("leaf_hash", sa.String(66), nullable=True),
    sa.Column("co2e_wtw_g", sa.BigInteger, nullable=False),
    sa.Column("co2e_ttw_g", sa.BigInteger, nullable=False),
    sa.Column("record_json", sa.LargeBinary, nullable=True),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("batches.id", name="fk_records_batch"),
              nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("tree_index", sa.Integer, nullable=True),
    sa.Column("block_offset", sa.Integer, nullable=True),
    sa.Column("block_length", sa.Integer, nullable=True),
    sa.Column("block_id", sa.Integer,
              sa.ForeignKey("record_blocks.id", name="fk_records_block"), nullable=True),
    sa.CheckConstraint(_RECORD_BODY_CHECK, name="ck_records_body"),
    sa.UniqueConstraint("scope_id", "shipment_id", name="uq_records_idempotency"),
    sa.Index("ix_records_batch", "batch_id", "position"),
)

transactions = sa.Table(
    "transactions", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("chain_id", sa.BigInteger, nullable=False),
    sa.Column("sender", sa.String(42), nullable=False),
    sa.Column("nonce", sa.BigInteger, nullable=False),
    sa.Column("to_address", sa.String(42), nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("gas_limit", sa.BigInteger, nullable=False),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("batches.id", name="fk_transactions_batch"),
              nullable=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("confirmations", sa.Integer, nullable=False),
    sa.Column("finalized_tag", sa.Boolean, nullable=False),
    sa.Column("reorg_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint(
        "state IN ('signed', 'broadcast', 'mined', 'final', 'failed', 'dropped')",
        name="ck_transactions_state",
    ),
    sa.UniqueConstraint("chain_id", "sender", "nonce", name="uq_transactions_nonce"),
    sa.Index("ix_transactions_state", "chain_id", "sender", "state"),
    sa.Index("ix_transactions_batch", "batch_id"),
)

attempts = sa.Table(
    "attempts", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("tx_id", sa.Integer, sa.ForeignKey("transactions.id", name="fk_attempts_tx"),
              nullable=False),
    sa.Column("tx_hash", sa.String(66), nullable=False),
    sa.Column("raw", sa.LargeBinary, nullable=False),
    sa.Column("max_fee_per_gas", sa.String(78), nullable=False),
    sa.Column("max_priority_fee_per_gas", sa.String(78), nullable=False),
    sa.Column("broadcast_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_broadcast_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("tx_hash", name="uq_attempts_hash"),
    sa.Index("ix_attempts_tx", "tx_id"),
)

receipts = sa.Table(
    "receipts", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("tx_id", sa.Integer, sa.ForeignKey("transactions.id", name="fk_receipts_tx"),
              nullable=False),
    sa.Column("attempt_id", sa.Integer, sa.ForeignKey("attempts.id", name="fk_receipts_attempt"),
              nullable=True),
    sa.Column("tx_hash", sa.String(66), nullable=False),
    sa.Column("block_number", sa.BigInteger, nullable=False),
    sa.Column("block_hash", sa.String(66), nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("gas_used", sa.BigInteger, nullable=False),
    sa.Column("effective_gas_price", sa.String(78), nullable=False),
    sa.Column("first_log_index", sa.Integer, nullable=True),
    sa.Column("current", sa.Boolean, nullable=False),
    sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("reorged_at", sa.DateTime(timezone=True), nullable=True),
    sa.Index("ix_receipts_tx", "tx_id", "current"),
)


# ---------------------------------------------------------------------------------- values


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

    Its canonical bytes are ``record_json``, or, in the rows :meth:`BulkBatches.add_block`
    writes (``record_json`` None), the ``block_length`` bytes at ``block_offset`` of record block
    ``block_id``.
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

    Rows read for display (``light``: :meth:`LedgerStore.batch_statuses`) leave ``data`` and the
    attempts' ``raw`` empty.
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


def _now() -> datetime:
    return datetime.now(UTC)


def default_store_url(directory: Path | str = ".") -> str:
    """The default store: ``carbon-ledger.sqlite`` in ``directory``."""
    return f"sqlite:///{Path(directory).resolve() / 'carbon-ledger.sqlite'}"


def _url_for(target: str | Path) -> str:
    text = str(target)
    return text if "://" in text else f"sqlite:///{Path(text).resolve()}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # transactions are begun explicitly (below)
    cursor = dbapi_connection.cursor()
    # 16 KiB pages keep a ~2 KB canonical record in its leaf page (4 KiB pages spill it to
    # overflow pages: about 4x slower bulk inserts). Only takes effect on a new database.
    cursor.execute("PRAGMA page_size=16384")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "memory":
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        kwargs: dict[str, Any] = {}
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs["poolclass"] = sa.pool.StaticPool
            kwargs["connect_args"] = {"check_same_thread": False}
        engine = sa.create_engine(url, **kwargs)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def _upgrade(engine: Engine) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.set_main_option("path_separator", "os")
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def open_store(target: str | Path) -> LedgerStore:
    """Opens (creating or upgrading as needed) the store at a SQLAlchemy URL or a SQLite path."""
    url = _url_for(target)
    if url.startswith("sqlite:///") and url not in ("sqlite:///:memory:",):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = _make_engine(url)
        _upgrade(engine)
    except SQLAlchemyError as exc:
        raise StoreUnavailable(f"cannot open the ledger store at {_redact(url)}: {exc}"
                               ) from exc
    return LedgerStore(engine, url)


def _redact(url: str) -> str:
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<unparsable URL>"


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


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

    @contextlib.contextmanager
    def write(self, what: str = "ledger store") -> Iterator[Connection]:
        """One transaction on the database: committed when the block ends, rolled back on any
        error; a refused write becomes :class:`~ledger.errors.WriteRefused` and an unreachable
        database :class:`~ledger.errors.StoreUnavailable`, each naming ``what``."""
        try:
            with self._engine.begin() as conn:
                yield conn
        except IntegrityError as exc:
            raise WriteRefused(f"the {what} refused a write: {exc.orig}") from exc
        except OperationalError as exc:
            raise StoreUnavailable(f"the {what} is unavailable: {exc.orig}") from exc

    @contextlib.contextmanager
    def read(self, what: str = "ledger store") -> Iterator[Connection]:
        """A connection for reads; an unreachable database becomes
        :class:`~ledger.errors.StoreUnavailable`."""
        try:
            with self._engine.connect() as conn:
                yield conn
        except OperationalError as exc:
            raise StoreUnavailable(f"the {what} is unavailable: {exc.orig}") from exc

    @contextlib.contextmanager
    def writer_lock(self, chain_id: int, sender: str) -> Iterator[None]:
        """Holds the one-writer-per-key lock; raises :class:`~ledger.errors.StoreBusy` when
        another run holds it.

        SQLite files use an OS file lock beside the database, PostgreSQL a session advisory
        lock; both are released when the holding process dies, so a crash never leaves it held.
        """
        name = f"{chain_id}-{sender.lower()}"
        url = sa.engine.make_url(self.url)
        busy = StoreBusy(
            f"another run is sending transactions for {sender} on chain {chain_id} with this "
            "store; wait for it to finish (one writer per key keeps nonces in order)"
        )
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            lock_path = Path(f"{url.database}.{name}.lock")
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise busy from None
                yield
            finally:
                os.close(fd)
            return
        if url.get_backend_name() == "postgresql":
            key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
            with self._engine.connect() as conn:
                got = conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
                conn.commit()
                if not got:
                    raise busy
                try:
                    yield
                finally:
                    conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    conn.commit()
            return
        lock = self._thread_locks.setdefault(name, threading.Lock())
        if not lock.acquire(blocking=False):
            raise busy
        try:
            yield
        finally:
            lock.release()

    # ------------------------------------------------------------------ records and batches

    def _scope_id(self, conn: Connection, scope: Scope, *, create: bool) -> int | None:
        found = conn.execute(sa.select(scopes.c.id).where(
            scopes.c.chain_id == scope.chain_id, scopes.c.contract == scope.contract,
            scopes.c.exporter == scope.exporter,
        )).scalar()
        if found is not None or not create:
            return found
        return _new_id(conn.execute(scopes.insert().values(
            chain_id=scope.chain_id, contract=scope.contract, exporter=scope.exporter,
        )))

    def find_records(self, scope: Scope, shipment_ids: Iterable[str]) -> dict[str, StoredKey]:
        """What the store holds for these shipments in ``scope``, by shipment id."""
        ids = list(dict.fromkeys(shipment_ids))
        found: dict[str, StoredKey] = {}
        with self.read() as conn:
            scope_id = self._scope_id(conn, scope, create=False)
            if scope_id is None:
                return found
            cols = (records.c.shipment_id, records.c.record_hash, records.c.batch_id)
            for part in _chunks(ids):
                rows = conn.execute(sa.select(*cols).where(
                    records.c.scope_id == scope_id, records.c.shipment_id.in_(part)
                ))
                for row in rows:
                    found[row.shipment_id] = StoredKey(row.record_hash, row.batch_id)
        return found

    def record(self, scope: Scope, shipment_id: str) -> RecordRow | None:
        """The stored record of one shipment in ``scope``."""
        with self.read() as conn:
            scope_id = self._scope_id(conn, scope, create=False)
            row = None if scope_id is None else conn.execute(sa.select(records).where(
                records.c.scope_id == scope_id, records.c.shipment_id == shipment_id
            )).first()
            return None if row is None else _record_rows(conn, [row])[0]

    def add_batches(self, scope: Scope, new_batches: Sequence[NewBatch]) -> list[int]:
        """Stores batches with their records in one transaction; returns the batch ids."""
        now = _now()
        ids: list[int] = []
        with self.write() as conn:
            scope_id = self._scope_id(conn, scope, create=True)
            assert scope_id is not None
            for batch in new_batches:
                if not batch.records:
                    raise StoreError("a batch needs at least one record")
                batch_id = _insert_batch(conn, scope_id, batch.path, batch.batch_key,
                                         factor_set_id=batch.factor_set_id,
                                         shipment_count=len(batch.records), tree=batch.tree,
                                         now=now)
                ids.append(batch_id)
                head = (scope_id, batch_id)
                _insert_records(conn, [head + r for r in batch.records])
        return ids

    @contextlib.contextmanager
    def bulk_batches(self, scope: Scope) -> Iterator[BulkBatches]:
        """One transaction for batches whose records arrive in pieces (:class:`BulkBatches`):
        committed when the block ends with every batch it opened sealed, else rolled back.
        A record whose shipment the scope holds already (or holds twice) rolls it back with
        :class:`~ledger.errors.RecordConflict`."""
        with self.write() as conn:
            scope_id = self._scope_id(conn, scope, create=True)
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
            row = conn.execute(_batch_select().where(batches.c.id == batch_id)).first()
        if row is None:
            raise StoreError(f"no batch {batch_id} in the ledger store")
        return _batch_row(row)

    def batch_tree(self, batch_id: int) -> bytes | None:
        """The stored Merkle tree nodes of a root-path batch (32 bytes each)."""
        with self.read() as conn:
            value = conn.execute(sa.select(batches.c.tree).where(batches.c.id == batch_id)).scalar()
        return None if value is None else bytes(value)

    def batch_records(self, batch_id: int) -> list[RecordRow]:
        """The records of a batch in batch order."""
        with self.read() as conn:
            rows = conn.execute(
                sa.select(records).where(records.c.batch_id == batch_id)
                .order_by(records.c.position)
            )
            return _record_rows(conn, list(rows))

    def batch_leaves(self, batch_id: int) -> list[tuple[bytes, bytes, int, int]]:
        """The leaf values of a batch's records in batch order: on-chain shipment id, record
        hash (32 bytes each), WTW and TTW grams; without reading the records themselves."""
        cols = (records.c.shipment_key, records.c.record_hash, records.c.co2e_wtw_g,
                records.c.co2e_ttw_g)
        with self.read() as conn:
            rows = conn.execute(
                sa.select(*cols).where(records.c.batch_id == batch_id)
                .order_by(records.c.position)
            )
            return [(bytes.fromhex(key[2:]), bytes.fromhex(record_hash[2:]), wtw_g, ttw_g)
                    for key, record_hash, wtw_g, ttw_g in rows]

    def unstarted_batches(self, scope: Scope) -> list[BatchRow]:
        """Batches of ``scope`` that need a transaction: none yet, or only dropped or failed."""
        live = sa.select(transactions.c.id).where(
            transactions.c.batch_id == batches.c.id, transactions.c.state.not_in(_ENDED)
        )
        with self.read() as conn:
            rows = conn.execute(
                _batch_select().where(*_scope_filter(scope), ~live.exists())
                .order_by(batches.c.id)
            )
            return [_batch_row(row) for row in rows]

    def batch_statuses(self, scope: Scope) -> list[BatchStatus]:
        """Every batch of ``scope`` with its newest transaction, oldest batch first."""
        with self.read() as conn:
            rows = list(conn.execute(
                _batch_select().where(*_scope_filter(scope)).order_by(batches.c.id)
            ))
            txs = self._txs(conn, transactions.c.batch_id.in_([row.id for row in rows]),
                            light=True) if rows else []
        by_batch: dict[int | None, TxRow] = {}
        for tx in sorted(txs, key=lambda t: t.id):
            by_batch[tx.batch_id] = tx  # the newest transaction of each batch
        out = []
        for row in rows:
            newest = by_batch.get(row.id)
            out.append(BatchStatus(_batch_row(row), newest.state if newest else "unstarted",
                                   newest))
        return out

    def scope_records(self, scope: Scope) -> list[RecordRow]:
        """Every record of ``scope`` (batch by batch, in batch order)."""
        with self.read() as conn:
            scope_id = self._scope_id(conn, scope, create=False)
            if scope_id is None:
                return []
            rows = conn.execute(
                sa.select(records).where(records.c.scope_id == scope_id)
                .order_by(records.c.batch_id, records.c.position)
            )
            return _record_rows(conn, list(rows))

    def scopes(self) -> list[Scope]:
        """Every (chain, contract, exporter) known to this store."""
        with self.read() as conn:
            rows = conn.execute(sa.select(scopes).order_by(scopes.c.id))
            return [Scope(row.chain_id, row.contract, row.exporter) for row in rows]

    def records_of_shipment(self, shipment_id: str) -> list[tuple[Scope, RecordRow]]:
        """Every stored record of a shipment id, whatever its chain, contract or exporter."""
        with self.read() as conn:
            rows = conn.execute(
                sa.select(records, scopes.c.chain_id, scopes.c.contract, scopes.c.exporter)
                .join(scopes, scopes.c.id == records.c.scope_id)
                .where(records.c.shipment_id == shipment_id).order_by(records.c.id)
            )
            found = list(rows)
            return list(zip([Scope(r.chain_id, r.contract, r.exporter) for r in found],
                            _record_rows(conn, found), strict=True))

    # ------------------------------------------------------------------ outbox

    def add_signed_tx(
        self, *, chain_id: int, sender: str, nonce: int, to_address: str, data: bytes,
        gas_limit: int, batch_id: int | None, confirmations: int, finalized_tag: bool,
        attempt: NewAttempt,
    ) -> TxRow:
        """Stores a signed transaction and its first attempt (one commit, before any send)."""
        now = _now()
        with self.write() as conn:
            if batch_id is not None:
                busy = conn.execute(
                    sa.select(transactions.c.id).where(
                        transactions.c.batch_id == batch_id, transactions.c.state.not_in(_ENDED)
                    )
                ).first()
                if busy is not None:
                    raise WriteRefused(f"batch {batch_id} already has live transaction {busy.id}")
            tx_id = _new_id(conn.execute(
                transactions.insert().values(
                    chain_id=chain_id, sender=sender.lower(), nonce=nonce,
                    to_address=to_address.lower(), data=data, gas_limit=gas_limit,
                    batch_id=batch_id, state="signed", confirmations=confirmations,
                    finalized_tag=finalized_tag, reorg_count=0, created_at=now, updated_at=now,
                )
            ))
            _insert_attempt(conn, tx_id, attempt, now)
            return self._txs(conn, transactions.c.id == tx_id)[0]

    def add_attempt(self, tx_id: int, attempt: NewAttempt) -> TxRow:
        """Stores a replacement (same nonce, higher fees) before it is broadcast."""
        now = _now()
        with self.write() as conn:
            _insert_attempt(conn, tx_id, attempt, now)
            conn.execute(transactions.update().where(transactions.c.id == tx_id)
                         .values(updated_at=now))
            return self._txs(conn, transactions.c.id == tx_id)[0]

    def note_broadcast(self, tx_id: int, attempt_id: int, error: str | None = None) -> None:
        """Records that an attempt was sent (its outcome unknown) and any error the node gave."""
        now = _now()
        with self.write() as conn:
            conn.execute(
                attempts.update().where(attempts.c.id == attempt_id).values(
                    broadcast_count=attempts.c.broadcast_count + 1, last_broadcast_at=now,
                    last_error=error,
                )
            )
            conn.execute(
                transactions.update()
                .where(transactions.c.id == tx_id, transactions.c.state == "signed")
                .values(state="broadcast", updated_at=now)
            )

    def store_receipt(self, tx_id: int, receipt: NewReceipt) -> TxRow:
        """Stores the receipt seen for the transaction: ``mined`` (status 1) or ``failed``."""
        now = _now()
        with self.write() as conn:
            attempt_id = conn.execute(
                sa.select(attempts.c.id).where(attempts.c.tx_id == tx_id,
                                               attempts.c.tx_hash == receipt.tx_hash.lower())
            ).scalar()
            conn.execute(receipts.update().where(receipts.c.tx_id == tx_id, receipts.c.current)
                         .values(current=False, reorged_at=now))
            conn.execute(receipts.insert().values(
                tx_id=tx_id, attempt_id=attempt_id, tx_hash=receipt.tx_hash.lower(),
                block_number=receipt.block_number, block_hash=receipt.block_hash.lower(),
                status=receipt.status, gas_used=receipt.gas_used,
                effective_gas_price=str(receipt.effective_gas_price),
                first_log_index=receipt.first_log_index, current=True, observed_at=now,
            ))
            state = "mined" if receipt.status == 1 else "failed"
            error = None if receipt.status == 1 else "the transaction was mined but reverted"
            conn.execute(transactions.update().where(transactions.c.id == tx_id)
                         .values(state=state, last_error=error, updated_at=now))
            return self._txs(conn, transactions.c.id == tx_id)[0]

    def mark_final(self, tx_id: int) -> None:
        with self.write() as conn:
            conn.execute(transactions.update()
                         .where(transactions.c.id == tx_id, transactions.c.state == "mined")
                         .values(state="final", updated_at=_now()))

    def mark_reorged(self, tx_id: int, reason: str) -> None:
        """The stored receipt is no longer in the chain: back to ``broadcast``, count the reorg."""
        now = _now()
        with self.write() as conn:
            conn.execute(receipts.update().where(receipts.c.tx_id == tx_id, receipts.c.current)
                         .values(current=False, reorged_at=now))
            conn.execute(transactions.update().where(transactions.c.id == tx_id).values(
                state="broadcast", reorg_count=transactions.c.reorg_count + 1,
                last_error=reason, updated_at=now,
            ))

    def mark_dropped(self, tx_id: int, reason: str) -> None:
        """The nonce went to another transaction: this one can never be mined."""
        with self.write() as conn:
            conn.execute(transactions.update().where(transactions.c.id == tx_id)
                         .values(state="dropped", last_error=reason, updated_at=_now()))

    def note_error(self, tx_id: int, error: str) -> None:
        with self.write() as conn:
            conn.execute(transactions.update().where(transactions.c.id == tx_id)
                         .values(last_error=error, updated_at=_now()))

    def open_txs(self, chain_id: int, sender: str) -> list[TxRow]:
        """Transactions of ``sender`` not yet final, failed or dropped, by nonce."""
        with self.read() as conn:
            return self._txs(conn, sa.and_(
                transactions.c.chain_id == chain_id, transactions.c.sender == sender.lower(),
                transactions.c.state.in_(OPEN_STATES),
            ))

    def final_txs_above(self, chain_id: int, sender: str, block_number: int) -> list[TxRow]:
        """Final transactions of ``sender`` whose receipt is in a block above ``block_number``."""
        recent = sa.select(receipts.c.tx_id).where(
            receipts.c.current, receipts.c.block_number > block_number
        )
        with self.read() as conn:
            return self._txs(conn, sa.and_(
                transactions.c.chain_id == chain_id, transactions.c.sender == sender.lower(),
                transactions.c.state == "final", transactions.c.id.in_(recent),
            ))

    def tx(self, tx_id: int) -> TxRow:
        with self.read() as conn:
            found = self._txs(conn, transactions.c.id == tx_id)
        if not found:
            raise StoreError(f"no transaction {tx_id} in the ledger store")
        return found[0]

    def batch_txs(self, batch_id: int, *, light: bool = False) -> list[TxRow]:
        """Every transaction that carried a batch (dropped ones included), oldest first."""
        with self.read() as conn:
            return self._txs(conn, transactions.c.batch_id == batch_id, light=light)

    def tx_states(self, tx_ids: Iterable[int]) -> dict[int, str]:
        """The state of each of these transactions."""
        ids = list(tx_ids)
        found: dict[int, str] = {}
        with self.read() as conn:
            for part in _chunks(ids):
                for row in conn.execute(sa.select(transactions.c.id, transactions.c.state)
                                        .where(transactions.c.id.in_(part))):
                    found[row.id] = row.state
        return found

    def next_nonce(self, chain_id: int, sender: str) -> int | None:
        """One past the highest nonce stored for ``sender`` (None when it has none)."""
        with self.read() as conn:
            top = conn.execute(sa.select(sa.func.max(transactions.c.nonce)).where(
                transactions.c.chain_id == chain_id, transactions.c.sender == sender.lower()
            )).scalar()
        return None if top is None else int(top) + 1

    def _txs(self, conn: Connection, where: Any, *, light: bool = False) -> list[TxRow]:
        tx_cols = [c for c in transactions.c if not (light and c.name == "data")]
        attempt_cols = [c for c in attempts.c if not (light and c.name == "raw")]
        tx_rows = list(conn.execute(sa.select(*tx_cols).where(where)
                                    .order_by(transactions.c.nonce, transactions.c.id)))
        if not tx_rows:
            return []
        ids = [row.id for row in tx_rows]
        by_tx: dict[int, list[AttemptRow]] = {i: [] for i in ids}
        current: dict[int, ReceiptRow] = {}
        for part in _chunks(ids):
            for a in conn.execute(sa.select(*attempt_cols).where(attempts.c.tx_id.in_(part))
                                  .order_by(attempts.c.id)):
                by_tx[a.tx_id].append(AttemptRow(
                    a.id, a.tx_hash, b"" if light else bytes(a.raw), int(a.max_fee_per_gas),
                    int(a.max_priority_fee_per_gas), a.broadcast_count, a.last_error,
                ))
            for r in conn.execute(sa.select(receipts).where(receipts.c.tx_id.in_(part),
                                                            receipts.c.current)):
                current[r.tx_id] = ReceiptRow(
                    r.attempt_id, r.tx_hash, r.block_number, r.block_hash, r.status, r.gas_used,
                    int(r.effective_gas_price), r.first_log_index,
                )
        return [
            TxRow(
                id=row.id, chain_id=row.chain_id, sender=row.sender, nonce=row.nonce,
                to_address=row.to_address, data=b"" if light else bytes(row.data),
                gas_limit=row.gas_limit, batch_id=row.batch_id, state=row.state,
                confirmations=row.confirmations, finalized_tag=bool(row.finalized_tag),
                reorg_count=row.reorg_count, last_error=row.last_error,
                attempts=tuple(by_tx[row.id]), receipt=current.get(row.id),
            )
            for row in tx_rows
        ]


def _new_id(result: sa.CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


class BulkBatches:
    """Batches stored while their records are still being built, in the one transaction of
    :meth:`LedgerStore.bulk_batches`: open a batch before its key is known, add its records as
    record blocks in any order and in as many pieces as they come, then seal it with its key
    (and tree).

    Readers see nothing before the commit; a batch left unsealed, or sealed with a record count
    other than the one it was opened with, fails the block, which rolls everything back.
    """

    def __init__(self, conn: Connection, scope_id: int) -> None:
        self._conn = conn
        self.scope_id = scope_id
        self._now = _now()
        self._open: dict[int, int] = {}

    def open_batch(self, path: str, factor_set_id: str, shipment_count: int) -> int:
        """A new batch of ``shipment_count`` records under a placeholder key; its id."""
        placeholder = f"unsealed-{secrets.token_hex(16)}"
        batch_id = _insert_batch(self._conn, self.scope_id, path, placeholder,
                                 factor_set_id=factor_set_id, shipment_count=shipment_count,
                                 tree=None, now=self._now)
        self._open[batch_id] = shipment_count
        return batch_id

    def add_block(self, data: bytes, block: BlockRecords,
                  placement: Sequence[tuple[int, int, int, int]]) -> int:
        """Records stored together as one record block: ``data`` is their canonical bytes,
        concatenated in order and packed by :func:`ledger.records.blocks.pack_block`; ``block``
        holds the rest of each record, column by column; ``placement`` says where the records go,
        as (open batch id, first record, end record, position in the batch of the first) runs
        that cover the block in order. Returns the block's id."""
        count = len(block.lengths)
        covered = 0
        for batch_id, first, end, _ in placement:
            if batch_id not in self._open:
                raise StoreError(f"batch {batch_id} is not open in this transaction")
            if first != covered or end <= first:
                raise StoreError("a record block's placement must cover it in order")
            covered = end
        if covered != count or len(block.shipment_ids) != count \
                or len(block.grams) != 2 * count or any(
                    len(column) != 32 * count
                    for column in (block.shipment_keys, block.record_hashes, block.leaf_hashes)):
            raise StoreError("a record block's columns do not match its record count")
        block_id = _new_id(self._conn.execute(record_blocks.insert().values(
            scope_id=self.scope_id, codec=BLOCK_CODEC, record_count=count, data=data,
            created_at=self._now,
        )))
        offsets = list(itertools.accumulate(block.lengths, initial=0))
        for batch_id, first, end, position in placement:
            _insert_block_rows(self._conn, (self.scope_id, batch_id, block_id), block,
                               offsets, (first, end, position))
        return block_id

    def seal(self, batch_id: int, batch_key: str, tree: bytes | None = None) -> None:
        """Give an open batch its key (and tree) once all its records are in."""
        expected = self._open.pop(batch_id, None)
        if expected is None:
            raise StoreError(f"batch {batch_id} is not open in this transaction")
        stored = self._conn.execute(sa.select(sa.func.count()).select_from(records)
                                    .where(records.c.batch_id == batch_id)).scalar()
        if stored != expected:
            raise StoreError(f"batch {batch_key} was opened for {expected} records but holds "
                             f"{stored}; nothing was stored")
        self._conn.execute(batches.update().where(batches.c.id == batch_id)
                           .values(batch_key=batch_key.lower(), tree=tree))

    def check_sealed(self) -> None:
        if self._open:
            raise StoreError(f"batches {sorted(self._open)} were opened but never sealed; "
                             "nothing was stored")


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


def _insert_block_rows(conn: Connection, owners: tuple[int, int, int], block: BlockRecords,
                       offsets: Sequence[int], span: tuple[int, int, int]) -> None:
    """Rows for records ``first:end`` of a block, at positions from ``position`` on."""
    scope_id, batch_id, block_id = owners
    first, end, position = span
    keys, hashes, leaves = (column[32 * first:32 * end].hex() for column in
                            (block.shipment_keys, block.record_hashes, block.leaf_hashes))
    ids, grams, lengths = block.shipment_ids, block.grams, block.lengths
    rows = [
        (scope_id, batch_id, ids[index], "0x" + keys[at:at + 64], "0x" + hashes[at:at + 64],
         grams[2 * index], grams[2 * index + 1], None, position + index - first,
         "0x" + leaves[at:at + 64], None, offsets[index], lengths[index], block_id)
        for index, at in zip(range(first, end), range(0, 64 * (end - first), 64), strict=True)
    ]
    _insert_records(conn, rows)


def _insert_batch(conn: Connection, scope_id: int, path: str, batch_key: str, *,
                  factor_set_id: str, shipment_count: int, tree: bytes | None,
                  now: datetime) -> int:
    return _new_id(conn.execute(batches.insert().values(
        scope_id=scope_id, path=path, batch_key=batch_key.lower(),
        factor_set_id=factor_set_id.lower(), shipment_count=shipment_count, tree=tree,
        created_at=now,
    )))


# scope and batch, then the fields of a NewRecord in their order
_RECORD_COLUMNS = ("scope_id", "batch_id", *NewRecord._fields)


def _insert_records(conn: Connection, rows: list[tuple[Any, ...]]) -> None:
    """Inserts many records; on SQLite straight through the driver (3x faster than Core)."""
    if conn.dialect.name == "sqlite":
        sql = (f"INSERT INTO records ({', '.join(_RECORD_COLUMNS)}) "
               f"VALUES ({', '.join('?' * len(_RECORD_COLUMNS))})")
        conn.exec_driver_sql(sql, rows)
        return
    conn.execute(records.insert(), [dict(zip(_RECORD_COLUMNS, row, strict=True)) for row in rows])


def _insert_attempt(conn: Connection, tx_id: int, attempt: NewAttempt, now: datetime) -> None:
    conn.execute(attempts.insert().values(
        tx_id=tx_id, tx_hash=attempt.tx_hash.lower(), raw=attempt.raw,
        max_fee_per_gas=str(attempt.max_fee_per_gas),
        max_priority_fee_per_gas=str(attempt.max_priority_fee_per_gas),
        broadcast_count=0, created_at=now,
    ))


def _scope_filter(scope: Scope) -> tuple[Any, ...]:
    return (scopes.c.chain_id == scope.chain_id, scopes.c.contract == scope.contract,
            scopes.c.exporter == scope.exporter)


def _batch_select() -> sa.Select[Any]:
    cols = [c for c in batches.c if c.name != "tree"]
    return sa.select(*cols, scopes.c.chain_id, scopes.c.contract, scopes.c.exporter).join(
        scopes, scopes.c.id == batches.c.scope_id
    )


def _batch_row(row: Any) -> BatchRow:
    return BatchRow(row.id, row.chain_id, row.contract, row.exporter, row.path, row.batch_key,
                    row.factor_set_id, row.shipment_count, row.created_at)


def _record_rows(conn: Connection, rows: Sequence[Any]) -> list[RecordRow]:
    """Record rows with their canonical bytes, each record block read and decompressed once."""
    wanted = {row.block_id for row in rows if row.record_json is None}
    blocks: dict[int, bytes] = {}
    for part in _chunks(sorted(wanted), 100):
        for found in conn.execute(sa.select(record_blocks.c.id, record_blocks.c.codec,
                                            record_blocks.c.data)
                                  .where(record_blocks.c.id.in_(part))):
            blocks[found.id] = unpack_block(found.codec, bytes(found.data))
    out = []
    for row in rows:
        if row.record_json is not None:
            body = bytes(row.record_json)
        else:
            unpacked = blocks.get(row.block_id)
            if unpacked is None or row.block_offset + row.block_length > len(unpacked):
                raise StoreError(f"the record of shipment {row.shipment_id!r} is missing from "
                                 f"record block {row.block_id}")
            body = unpacked[row.block_offset:row.block_offset + row.block_length]
        out.append(RecordRow(
            row.shipment_id, row.shipment_key, row.record_hash, row.leaf_hash, row.co2e_wtw_g,
            row.co2e_ttw_g, body, row.batch_id, row.position, row.tree_index,
        ))
    return out
