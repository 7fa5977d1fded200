"""Revisions of the ledger store schema, oldest first."""
