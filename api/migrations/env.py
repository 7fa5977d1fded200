"""Alembic environment of the service's tables (versioned in ``service_alembic_version``).

Run programmatically by :func:`api.store.open_service_store`, which passes an open connection in
``config.attributes["connection"]``; from the command line it reads ``sqlalchemy.url``.
"""

from __future__ import annotations

from alembic import context

from api.migrations import VERSION_TABLE
from ledger.store.engine import run_migration_environment

run_migration_environment(context.config.attributes.get("target_metadata"),
                          version_table=VERSION_TABLE)
