"""Alembic migrations of the local ledger store (run by :func:`ledger.store.engine.connect`,
which :func:`ledger.store.store.open_store` calls); the tables they build are
:mod:`ledger.store.schema`."""
