"""Anchoring store: scopes, batches, records, outbox transactions, broadcast attempts and receipts.

Revision ID: 0001_anchoring_store
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_anchoring_store"
down_revision = None
branch_labels = None
depends_on = None

_HASH = 66  # "0x" + 64 hex digits
_ADDRESS = 42
_WEI = 78  # decimal digits of 2**256


def upgrade() -> None:
    op.create_table(
        "scopes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("chain_id", sa.BigInteger, nullable=False),
        sa.Column("contract", sa.String(_ADDRESS), nullable=False),
        sa.Column("exporter", sa.String(_ADDRESS), nullable=False),
        sa.UniqueConstraint("chain_id", "contract", "exporter", name="uq_scopes"),
    )

    op.create_table(
        "batches",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("scope_id", sa.Integer, sa.ForeignKey("scopes.id", name="fk_batches_scope"),
                  nullable=False),
        sa.Column("path", sa.String(8), nullable=False),
        sa.Column("batch_key", sa.String(_HASH), nullable=False),
        sa.Column("factor_set_id", sa.String(_HASH), nullable=False),
        sa.Column("shipment_count", sa.Integer, nullable=False),
        sa.Column("tree", sa.LargeBinary, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("path IN ('events', 'root')", name="ck_batches_path"),
        sa.CheckConstraint("shipment_count > 0", name="ck_batches_count"),
        sa.UniqueConstraint("scope_id", "batch_key", name="uq_batches_key"),
    )

    op.create_table(
        "records",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("scope_id", sa.Integer, sa.ForeignKey("scopes.id", name="fk_records_scope"),
                  nullable=False),
        sa.Column("shipment_id", sa.String(200), nullable=False),
        sa.Column("shipment_key", sa.String(_HASH), nullable=False),
        sa.Column("record_hash", sa.String(_HASH), nullable=False),
        sa.Column("leaf_hash", sa.String(_HASH), nullable=True),
        sa.Column("co2e_wtw_g", sa.BigInteger, nullable=False),
        sa.Column("co2e_ttw_g", sa.BigInteger, nullable=False),
        sa.Column("record_json", sa.LargeBinary, nullable=False),
        sa.Column("batch_id", sa.Integer, sa.ForeignKey("batches.id", name="fk_records_batch"),
                  nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("tree_index", sa.Integer, nullable=True),
        sa.UniqueConstraint("scope_id", "shipment_id", name="uq_records_idempotency"),
    )
    op.create_index("ix_records_batch", "records", ["batch_id", "position"])

    op.create_table(
        "transactions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("chain_id", sa.BigInteger, nullable=False),
        sa.Column("sender", sa.String(_ADDRESS), nullable=False),
        sa.Column("nonce", sa.BigInteger, nullable=False),
        sa.Column("to_address", sa.String(_ADDRESS), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("gas_limit", sa.BigInteger, nullable=False),
        sa.Column("batch_id", sa.Integer, sa.ForeignKey("batches.id", name="fk_transactions_batch"),
                  nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("confirmations", sa.Integer, nullable=False),
        sa.Column("finalized_tag", sa.Boolean, nullable=False),
        sa.Column("reorg_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('signed', 'broadcast', 'mined', 'final', 'failed', 'dropped')",
            name="ck_transactions_state",
        ),
        sa.UniqueConstraint("chain_id", "sender", "nonce", name="uq_transactions_nonce"),
    )
    op.create_index("ix_transactions_state", "transactions", ["chain_id", "sender", "state"])
    op.create_index("ix_transactions_batch", "transactions", ["batch_id"])

    op.create_table(
        "attempts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tx_id", sa.Integer, sa.ForeignKey("transactions.id", name="fk_attempts_tx"),
                  nullable=False),
        sa.Column("tx_hash", sa.String(_HASH), nullable=False),
        sa.Column("raw", sa.LargeBinary, nullable=False),
        sa.Column("max_fee_per_gas", sa.String(_WEI), nullable=False),
        sa.Column("max_priority_fee_per_gas", sa.String(_WEI), nullable=False),
        sa.Column("broadcast_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_broadcast_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("tx_hash", name="uq_attempts_hash"),
    )
    op.create_index("ix_attempts_tx", "attempts", ["tx_id"])

    op.create_table(
        "receipts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tx_id", sa.Integer, sa.ForeignKey("transactions.id", name="fk_receipts_tx"),
                  nullable=False),
        sa.Column("attempt_id", sa.Integer,
                  sa.ForeignKey("attempts.id", name="fk_receipts_attempt"), nullable=True),
        sa.Column("tx_hash", sa.String(_HASH), nullable=False),
        sa.Column("block_number", sa.BigInteger, nullable=False),
        sa.Column("block_hash", sa.String(_HASH), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("gas_used", sa.BigInteger, nullable=False),
        sa.Column("effective_gas_price", sa.String(_WEI), nullable=False),
        sa.Column("first_log_index", sa.Integer, nullable=True),
        sa.Column("current", sa.Boolean, nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reorged_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_receipts_tx", "receipts", ["tx_id", "current"])


def downgrade() -> None:
    op.drop_index("ix_receipts_tx", table_name="receipts")
    op.drop_table("receipts")
    op.drop_index("ix_attempts_tx", table_name="attempts")
    op.drop_table("attempts")
    op.drop_index("ix_transactions_batch", table_name="transactions")
    op.drop_index("ix_transactions_state", table_name="transactions")
    op.drop_table("transactions")
    op.drop_index("ix_records_batch", table_name="records")
    op.drop_table("records")
    op.drop_table("batches")
    op.drop_table("scopes")
