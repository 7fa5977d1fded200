"""The service's tables, no longer the ledger's: this revision does nothing.

It used to create the HTTP service's tables (``service_*``) in the ledger's chain, so a store
opened by the library alone (``carbon-ledger anchor``) held them too. They now belong to the
service's own migrations (``api/migrations``, with their own version table), which the service
runs after these. The revision stays, empty, so that every store stamped at it or after it
(``0003_record_blocks`` follows it) upgrades as before; a store that ran it keeps its service
tables, and the service's first migration takes them over as they are.

Revision ID: 0002_service_tables
Revises: 0001_anchoring_store
Create Date: 2026-11-27
"""

from __future__ import annotations

revision = "0002_service_tables"
down_revision = "0001_anchoring_store"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing: the service's migrations create its tables."""


def downgrade() -> None:
    """Nothing: the service's tables are the service's migrations' to drop."""
