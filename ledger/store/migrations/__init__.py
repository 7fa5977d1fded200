"""Alembic migrations of the local ledger store (run by :func:`ledger.store.store.open_store`)."""
