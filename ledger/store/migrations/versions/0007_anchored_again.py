"""Batches anchored again under a new key after a node lost their history.

A node restarted from a state saved while mining can hold a batch in the contract's state (its
batch key or root recorded by the exporter) while serving no block, receipt or event for it: the
batch can be neither proven through that node nor sent again under the same key, which the
contract refuses. ``carbon-ledger recover`` then marks the transaction ``lost`` and anchors the
batch again under a key derived from the lost one (``docs/anchoring.md``, 'A node that lost
history'). ``lost_anchors.batch_key`` keeps the key (batch id or root) the lost transaction
anchored, since the batch's own key may have changed; rows written before this revision get
their batch's key, which a chain reset never changes.

Revision ID: 0007_anchored_again
Revises: 0006_lost_anchors
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_anchored_again"
down_revision = "0006_lost_anchors"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lost_anchors") as batch:
        batch.add_column(sa.Column("batch_key", sa.String(66), nullable=True))
    op.execute("UPDATE lost_anchors SET batch_key = (SELECT batches.batch_key FROM batches "
               "WHERE batches.id = lost_anchors.batch_id)")


def downgrade() -> None:
    with op.batch_alter_table("lost_anchors") as batch:
        batch.drop_column("batch_key")
