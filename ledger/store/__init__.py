"""The ledger store: records, batches and outbox transactions in SQLite or PostgreSQL.

:class:`ledger.store.store.LedgerStore` (opened by :func:`ledger.store.store.open_store`) is its
door; ``schema``, ``rows``, ``engine``, ``records``, ``txs`` and ``bulk`` are its parts.
"""
