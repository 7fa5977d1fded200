"""Record versions: the corrected records that superseded an anchored one.

A record is never edited. When ``supersede`` replaces an anchored record on chain, the corrected
record's proof bundle is kept here as version 2 (3, ...) of the shipment, beside the first
version in ``records``; ``proof --version N`` prints any of them.

Revision ID: 0004_record_versions
Revises: 0003_record_blocks
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_record_versions"
down_revision = "0003_record_blocks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "record_versions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("scope_id", sa.Integer,
                  sa.ForeignKey("scopes.id", name="fk_record_versions_scope"), nullable=False),
        sa.Column("shipment_id", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("record_hash", sa.String(66), nullable=False),
        sa.Column("supersedes", sa.String(66), nullable=False),
        sa.Column("bundle_json", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("version >= 2", name="ck_record_versions_version"),
        sa.UniqueConstraint("scope_id", "shipment_id", "version", name="uq_record_versions"),
        sa.UniqueConstraint("scope_id", "record_hash", name="uq_record_versions_hash"),
    )


def downgrade() -> None:
    op.drop_table("record_versions")
