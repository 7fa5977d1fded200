"""Alembic environment of the ledger store.

Run programmatically by :func:`ledger.store.engine.connect` (through
:func:`ledger.store.store.open_store`), which passes an open connection in
``config.attributes["connection"]``; from the command line it reads ``sqlalchemy.url``. The
tables the revisions must build are :data:`ledger.store.schema.metadata` (what
``--autogenerate`` compares against).
"""

from __future__ import annotations

from alembic import context

from ledger.store.engine import run_migration_environment
from ledger.store.schema import metadata

run_migration_environment(context.config.attributes.get("target_metadata", metadata))
