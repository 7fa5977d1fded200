"""The ledger store's tables, as the alembic revisions in ``ledger/store/migrations`` build them.

Hashes and addresses are stored as ``0x``-prefixed lowercase hex; wei amounts as decimal
strings. Idempotency key of a record: ``(chain_id, contract, exporter, shipment_id)`` (unique).

A transaction's state is one of ``signed`` (raw bytes stored, maybe never sent), ``broadcast``
(sent at least once; outcome unknown until a receipt is seen), ``mined`` (receipt in the current
chain), ``final`` (receipt at the required depth), ``failed`` (mined with status 0) and
``dropped`` (its nonce was used by another transaction; its batch is sent again in a new one)
and ``lost`` (it was mined, but the chain no longer holds it: a reset, a rollback or a fork;
``carbon-ledger recover`` marks it, keeps what it was in ``lost_anchors`` and sends its batch
again). A sender's nonces are unique among its transactions that are not lost.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = [
    "ENDED_STATES",
    "OPEN_STATES",
    "TX_STATES",
    "attempts",
    "batches",
    "cbam_consignments",
    "cbam_profiles",
    "lost_anchors",
    "metadata",
    "receipts",
    "record_blocks",
    "record_versions",
    "records",
    "scopes",
    "transactions",
]

TX_STATES = ("signed", "broadcast", "mined", "final", "failed", "dropped", "lost")
#: States of a transaction that still needs watching.
OPEN_STATES = ("signed", "broadcast", "mined")
#: States after which a batch needs another transaction.
ENDED_STATES = ("dropped", "failed", "lost")

metadata = sa.MetaData()

#: A record's canonical bytes are in its row or in a record block, never both.
_RECORD_BODY_CHECK = (
    "(record_json IS NOT NULL AND block_id IS NULL AND block_offset IS NULL "
    "AND block_length IS NULL) OR (record_json IS NULL AND block_id IS NOT NULL "
    "AND block_offset >= 0 AND block_length > 0)"
)

scopes = sa.Table(
    "scopes", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("chain_id", sa.BigInteger, nullable=False),
    sa.Column("contract", sa.String(42), nullable=False),
    sa.Column("exporter", sa.String(42), nullable=False),
    sa.UniqueConstraint("chain_id", "contract", "exporter", name="uq_scopes"),
)

batches = sa.Table(
    "batches", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("scope_id", sa.Integer, sa.ForeignKey("scopes.id", name="fk_batches_scope"),
              nullable=False),
    sa.Column("path", sa.String(8), nullable=False),
    sa.Column("batch_key", sa.String(66), nullable=False),
    sa.Column("factor_set_id", sa.String(66), nullable=False),
    sa.Column("shipment_count", sa.Integer, nullable=False),
    sa.Column("tree", sa.LargeBinary, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("path IN ('events', 'root')", name="ck_batches_path"),
    sa.CheckConstraint("shipment_count > 0", name="ck_batches_count"),
    sa.UniqueConstraint("scope_id", "batch_key", name="uq_batches_key"),
)

record_blocks = sa.Table(
    "record_blocks", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("scope_id", sa.Integer, sa.ForeignKey("scopes.id", name="fk_record_blocks_scope"),
              nullable=False),
    sa.Column("codec", sa.String(16), nullable=False),
    sa.Column("record_count", sa.Integer, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("record_count > 0", name="ck_record_blocks_count"),
)

records = sa.Table(
    "records", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("scope_id", sa.Integer, sa.ForeignKey("scopes.id", name="fk_records_scope"),
              nullable=False),
    sa.Column("shipment_id", sa.String(200), nullable=False),
    sa.Column("shipment_key", sa.String(66), nullable=False),
    sa.Column("record_hash", sa.String(66), nullable=False),
    sa.Column("leaf_hash", sa.String(66), nullable=True),
    sa.Column("co2e_wtw_g", sa.BigInteger, nullable=False),
    sa.Column("co2e_ttw_g", sa.BigInteger, nullable=False),
    sa.Column("record_json", sa.LargeBinary, nullable=True),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("batches.id", name="fk_records_batch"),
              nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("tree_index", sa.Integer, nullable=True),
    sa.Column("block_offset", sa.Integer, nullable=True),
    sa.Column("block_length", sa.Integer, nullable=True),
    sa.Column("block_id", sa.Integer,
              sa.ForeignKey("record_blocks.id", name="fk_records_block"), nullable=True),
    sa.CheckConstraint(_RECORD_BODY_CHECK, name="ck_records_body"),
    sa.UniqueConstraint("scope_id", "shipment_id", name="uq_records_idempotency"),
    sa.Index("ix_records_batch", "batch_id", "position"),
)

record_versions = sa.Table(
    "record_versions", metadata,
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

transactions = sa.Table(
    "transactions", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("chain_id", sa.BigInteger, nullable=False),
    sa.Column("sender", sa.String(42), nullable=False),
    sa.Column("nonce", sa.BigInteger, nullable=False),
    sa.Column("to_address", sa.String(42), nullable=False),
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
        "state IN ('signed', 'broadcast', 'mined', 'final', 'failed', 'dropped', 'lost')",
        name="ck_transactions_state",
    ),
    sa.Index("uq_transactions_live_nonce", "chain_id", "sender", "nonce", unique=True,
             sqlite_where=sa.text("state <> 'lost'"),
             postgresql_where=sa.text("state <> 'lost'")),
    sa.Index("ix_transactions_state", "chain_id", "sender", "state"),
    sa.Index("ix_transactions_batch", "batch_id"),
)

attempts = sa.Table(
    "attempts", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("tx_id", sa.Integer, sa.ForeignKey("transactions.id", name="fk_attempts_tx"),
              nullable=False),
    sa.Column("tx_hash", sa.String(66), nullable=False),
    sa.Column("raw", sa.LargeBinary, nullable=False),
    sa.Column("max_fee_per_gas", sa.String(78), nullable=False),
    sa.Column("max_priority_fee_per_gas", sa.String(78), nullable=False),
    sa.Column("broadcast_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_broadcast_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("tx_hash", name="uq_attempts_hash"),
    sa.Index("ix_attempts_tx", "tx_id"),
)

receipts = sa.Table(
    "receipts", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("tx_id", sa.Integer, sa.ForeignKey("transactions.id", name="fk_receipts_tx"),
              nullable=False),
    sa.Column("attempt_id", sa.Integer, sa.ForeignKey("attempts.id", name="fk_receipts_attempt"),
              nullable=True),
    sa.Column("tx_hash", sa.String(66), nullable=False),
    sa.Column("block_number", sa.BigInteger, nullable=False),
    sa.Column("block_hash", sa.String(66), nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("gas_used", sa.BigInteger, nullable=False),
    sa.Column("effective_gas_price", sa.String(78), nullable=False),
    sa.Column("first_log_index", sa.Integer, nullable=True),
    sa.Column("current", sa.Boolean, nullable=False),
    sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("reorged_at", sa.DateTime(timezone=True), nullable=True),
    sa.Index("ix_receipts_tx", "tx_id", "current"),
)


lost_anchors = sa.Table(
    "lost_anchors", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("tx_id", sa.Integer, sa.ForeignKey("transactions.id", name="fk_lost_anchors_tx"),
              nullable=False),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("batches.id", name="fk_lost_anchors_batch"),
              nullable=True),
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
    sa.Column("batch_key", sa.String(66), nullable=True),
    sa.UniqueConstraint("tx_id", name="uq_lost_anchors_tx"),
    sa.Index("ix_lost_anchors_batch", "batch_id"),
)


#: What a declaration groups CBAM consignments by (CN code, origin, installation, data type, ...):
#: one row per distinct set, named by ``digest`` (sha-256 of the fields, see
#: :mod:`ledger.store.cbam`).
cbam_profiles = sa.Table(
    "cbam_profiles", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("fields_json", sa.LargeBinary, nullable=False),
    sa.UniqueConstraint("digest", name="uq_cbam_profiles_digest"),
)

#: The declaration index: what each stored record says as a CBAM consignment (declarant, customs
#: release date, profile, net mass, embedded emissions), read once from the record. ``kind``:
#: ``cbam`` (a consignment), ``none`` (not a CBAM good), ``problem`` (a CBAM record that cannot
#: be read as a consignment; ``problem`` says why).
cbam_consignments = sa.Table(
    "cbam_consignments", metadata,
    sa.Column("record_id", sa.Integer,
              sa.ForeignKey("records.id", name="fk_cbam_consignments_record",
                            ondelete="CASCADE"), primary_key=True, autoincrement=False),
    sa.Column("kind", sa.String(8), nullable=False),
    sa.Column("declarant", sa.String(17), nullable=True),
    sa.Column("release_date", sa.String(10), nullable=True),
    sa.Column("release_year", sa.Integer, nullable=True),
    sa.Column("profile_id", sa.Integer,
              sa.ForeignKey("cbam_profiles.id", name="fk_cbam_consignments_profile"),
              nullable=True),
    sa.Column("net_mass_g", sa.BigInteger, nullable=True),
    sa.Column("embedded_g", sa.BigInteger, nullable=True),
    sa.Column("problem", sa.Text, nullable=True),
    sa.CheckConstraint("kind IN ('cbam', 'none', 'problem')", name="ck_cbam_consignments_kind"),
    sa.Index("ix_cbam_consignments_declarant", "declarant", "release_year"),
)
