"""Alembic migrations of the service's tables (``service_*``), a branch of their own.

They are versioned in their own table, :data:`VERSION_TABLE`, beside the ledger store's
``alembic_version``, and run by :func:`api.store.open_service_store` after
:func:`ledger.store.store.open_store` has brought the ledger's tables up to date: a store opened
by the library alone holds no service tables.
"""

from pathlib import Path

__all__ = ["SCRIPT_LOCATION", "VERSION_TABLE"]

SCRIPT_LOCATION = Path(__file__).parent
VERSION_TABLE = "service_alembic_version"
