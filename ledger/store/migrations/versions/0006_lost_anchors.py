"""Lost anchorings: batches whose transaction a chain no longer holds, kept for audit.

When a chain loses a batch that the store holds as mined or final (a development chain reset or
restarted without its state, a rollback, a fork), ``carbon-ledger recover`` marks the
transaction ``lost`` and keeps what it was (transaction hash, nonce, block, chain, contract,
when and why it was found lost) in ``lost_anchors``; its batch is then anchored again in a new
transaction. A lost transaction keeps its row and nonce, but the nonce is free again for the
chain that forgot it: the uniqueness of a sender's nonces holds among the transactions that are
not lost.

Revision ID: 0006_lost_anchors
Revises: 0005_cbam_index
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_lost_anchors"
down_revision = "0005_cbam_index"
branch_labels = None
depends_on = None

_STATES = "state IN ('signed', 'broadcast', 'mined', 'final', 'failed', 'dropped', 'lost')"
_OLD_STATES = "state IN ('signed', 'broadcast', 'mined', 'final', 'failed', 'dropped')"
_NOT_LOST = "state <> 'lost'"


def upgrade() -> None:
    with op.batch_alter_table("transactions") as batch:
        batch.drop_constraint("ck_transactions_state", type_="check")
        batch.create_check_constraint("ck_transactions_state", _STATES)
        batch.drop_constraint("uq_transactions_nonce", type_="unique")
    op.create_index("uq_transactions_live_nonce", "transactions",
                    ["chain_id", "sender", "nonce"], unique=True,
                    sqlite_where=sa.text(_NOT_LOST), postgresql_where=sa.text(_NOT_LOST))
    op.create_table(
        "lost_anchors",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tx_id", sa.Integer,
                  sa.ForeignKey("transactions.id", name="fk_lost_anchors_tx"), nullable=False),
        sa.Column("batch_id", sa.Integer,
                  sa.ForeignKey("batches.id", name="fk_lost_anchors_batch"), nullable=True),
        sa.Column("chain_id", sa.BigInteger, nullable=False),
        sa.Column("contract", sa.String(42), nullable=False),
        sa.Column("sender", sa.String(42), nullable=False),
        sa.Column("nonce", sa.BigInteger, nullable=False),
        sa.Column("tx_hash", sa.String(66), nullable=True),
        sa.Column("block_number", sa.BigInteger, nullable=True),
        sa.Column("block_hash", sa.String(66), nullable=True),
        sa.Column("chain_height", sa.BigInteger, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("tx_id", name="uq_lost_anchors_tx"),
        sa.Index("ix_lost_anchors_batch", "batch_id"),
    )


def downgrade() -> None:
    op.drop_table("lost_anchors")
    op.drop_index("uq_transactions_live_nonce", table_name="transactions")
    op.execute("UPDATE transactions SET state = 'dropped' WHERE state = 'lost'")
    with op.batch_alter_table("transactions") as batch:
        batch.drop_constraint("ck_transactions_state", type_="check")
        batch.create_check_constraint("ck_transactions_state", _OLD_STATES)
        batch.create_unique_constraint("uq_transactions_nonce", ["chain_id", "sender", "nonce"])
