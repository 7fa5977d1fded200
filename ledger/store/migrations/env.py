"""Alembic environment of the ledger store.

Run programmatically by :func:`ledger.store.engine.connect` (through
:func:`ledger.store.store.open_store`), which passes an open connection in
``config.attributes["connection"]``. Run from the command line, it reads ``sqlalchemy.url``.
The tables the revisions must build are :data:`ledger.store.schema.metadata` (what
``--autogenerate`` compares against).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from ledger.store.schema import metadata

config = context.config
target_metadata = config.attributes.get("target_metadata", metadata)


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite alters tables by copy
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as conn:
        _run(conn)


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
