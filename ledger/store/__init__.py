"""The ledger store: records, batches and outbox transactions in SQLite or PostgreSQL."""
