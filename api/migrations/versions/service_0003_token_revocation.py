"""Revoked access tokens: ``service_tokens.revoked_at`` (clients had ``revoked_at`` already).

A token with ``revoked_at`` set is refused like an unknown one; revoking a client sets it on
every token the client holds, in the same transaction.

Revision ID: service_0003_token_revocation
Revises: service_0002_owners_sharing
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "service_0003_token_revocation"
down_revision = "service_0002_owners_sharing"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("service_tokens") as batch:
        batch.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("service_tokens") as batch:
        batch.drop_column("revoked_at")
