"""The ledger store's database: URLs, engines, migrations, transactions and the writer lock.

Any SQLAlchemy URL works (a SQLite file is the default, PostgreSQL where one machine is not
enough); :func:`connect` brings the schema to the newest alembic revision in
``ledger/store/migrations`` (the ledger's tables only) before returning the engine.

Every write is one database transaction (SQLite: ``BEGIN IMMEDIATE``, WAL, ``synchronous=FULL``),
so a crash at any point leaves either the state before or the state after the write. Database
errors leave this module typed: a refused write is :class:`~ledger.errors.WriteRefused`, an
unreachable database :class:`~ledger.errors.StoreUnavailable`, a held writer lock
:class:`~ledger.errors.StoreBusy`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from ledger.errors import StoreBusy, StoreError, StoreUnavailable, WriteRefused

__all__ = [
    "chunks",
    "connect",
    "default_store_url",
    "new_id",
    "now",
    "read",
    "run_migration_environment",
    "store_url",
    "upgrade_to_head",
    "write",
    "writer_lock",
]

_MIGRATIONS = Path(__file__).with_name("migrations")
_CHUNK = 2000  # bound parameters per IN (...) query

_T = TypeVar("_T")


def run_migration_environment(target_metadata: sa.MetaData | None, *,
                              version_table: str = "alembic_version") -> None:
    """The body of an alembic ``env.py`` of this project (the ledger's branch and the service's).

    Programmatic runs pass an open connection in ``config.attributes["connection"]``; from the
    command line it connects with ``sqlalchemy.url``, or writes SQL in offline mode. SQLite
    alters tables by copy (``render_as_batch``).
    """
    from alembic import context

    config = context.config
    options: dict[str, Any] = {"target_metadata": target_metadata,
                               "version_table": version_table, "compare_type": True,
                               "render_as_batch": True}
    if context.is_offline_mode():
        context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True,
                          **options)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if connection is None:
        engine = sa.engine_from_config(config.get_section(config.config_ini_section, {}),
                                       prefix="sqlalchemy.", poolclass=sa.pool.NullPool)
        with engine.connect() as opened:
            context.configure(connection=opened, **options)
            with context.begin_transaction():
                context.run_migrations()
        return
    context.configure(connection=connection, **options)
    with context.begin_transaction():
        context.run_migrations()


def default_store_url(directory: Path | str = ".") -> str:
    """The default store: ``carbon-ledger.sqlite`` in ``directory``."""
    return f"sqlite:///{Path(directory).resolve() / 'carbon-ledger.sqlite'}"


def store_url(target: str | Path) -> str:
    """``target`` if it is a SQLAlchemy URL, else the URL of the SQLite file at that path."""
    text = str(target)
    return text if "://" in text else f"sqlite:///{Path(text).resolve()}"


def connect(url: str) -> Engine:
    """An engine on ``url`` with the store's schema at the newest revision (a new SQLite file and
    its folder are created); :class:`~ledger.errors.StoreUnavailable` when that fails."""
    if url.startswith("sqlite:///") and url not in ("sqlite:///:memory:",):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = _make_engine(url)
        upgrade_to_head(engine)
    except SQLAlchemyError as exc:
        raise StoreUnavailable(f"cannot open the ledger store at {_redact(url)}: {exc}"
                               ) from exc
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
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


#: Execution option of the connections :func:`read` gives: their transactions only read.
READ_ONLY = "ledger_read_only"


def _sqlite_begin(conn: Connection) -> None:
    # A write takes the database's write lock up front (no upgrade that could fail halfway);
    # a read begins deferred, so readers in other processes (a verification's side process)
    # run beside it instead of waiting for each other's lock (WAL gives each its snapshot).
    deferred = conn.get_execution_options().get(READ_ONLY, False)
    conn.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")


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


def upgrade_to_head(engine: Engine, script_location: Path = _MIGRATIONS) -> None:
    """Brings a database to the newest revision of one alembic branch (by default the ledger's;
    the service passes its own), in one transaction.

    On SQLite, a revision that changes a constraint copies the table into a new one (alembic's
    batch mode): foreign keys are switched off around the transaction, as SQLite's own procedure
    for such changes says, and ``PRAGMA foreign_key_check`` must find nothing before it commits.
    """
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("path_separator", "os")
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection if conn.dialect.name == "sqlite" else None
        if raw is not None:  # outside any transaction: the pragma is a no-op inside one
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
                if raw is not None:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise StoreError(f"a migration left {len(broken)} row(s) whose foreign "
                                         f"key points nowhere (first: {tuple(broken[0])}); "
                                         "nothing was changed")
        finally:
            if raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")


def _redact(url: str) -> str:
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<unparsable URL>"


@contextlib.contextmanager
def write(engine: Engine, what: str) -> Iterator[Connection]:
    """One transaction: committed when the block ends, rolled back on any error; a refused write
    becomes :class:`~ledger.errors.WriteRefused` and an unreachable database
    :class:`~ledger.errors.StoreUnavailable`, each naming ``what``."""
    try:
        with engine.begin() as conn:
            yield conn
    except IntegrityError as exc:
        raise WriteRefused(f"the {what} refused a write: {exc.orig}") from exc
    except OperationalError as exc:
        raise StoreUnavailable(f"the {what} is unavailable: {exc.orig}") from exc


@contextlib.contextmanager
def read(engine: Engine, what: str) -> Iterator[Connection]:
    """A connection for reads; an unreachable database becomes
    :class:`~ledger.errors.StoreUnavailable` naming ``what``."""
    try:
        with engine.connect() as conn:
            yield conn.execution_options(**{READ_ONLY: True})
    except OperationalError as exc:
        raise StoreUnavailable(f"the {what} is unavailable: {exc.orig}") from exc


@contextlib.contextmanager
def writer_lock(engine: Engine, thread_locks: dict[str, threading.Lock], chain_id: int,
                sender: str) -> Iterator[None]:
    """Holds the one-writer-per-key lock of ``(chain_id, sender)`` on this database; raises
    :class:`~ledger.errors.StoreBusy` when another run holds it.

    SQLite files use an OS file lock beside the database, PostgreSQL a session advisory lock;
    both are released when the holding process dies, so a crash never leaves it held. Other
    databases (in-memory SQLite) lock within the process, in ``thread_locks``.
    """
    name = f"{chain_id}-{sender.lower()}"
    url = engine.url
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
        with engine.connect() as conn:
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
    lock = thread_locks.setdefault(name, threading.Lock())
    if not lock.acquire(blocking=False):
        raise busy
    try:
        yield
    finally:
        lock.release()


def now() -> datetime:
    """The time stamp of a write (UTC)."""
    return datetime.now(UTC)


def chunks(items: Sequence[_T], size: int = _CHUNK) -> Iterator[Sequence[_T]]:
    """``items`` in runs of at most ``size``: the bound parameters of one ``IN (...)`` query."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def new_id(result: sa.CursorResult[Any]) -> int:
    """The primary key of the row an ``INSERT`` made."""
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])
