"""Record blocks: canonical records stored many to a compressed block.

A record's canonical bytes are now either in its row (``record_json``, as before) or in a record
block (``block_id``, ``block_offset``, ``block_length``); never both. Existing rows keep theirs;
a downgrade writes the records of every block back into their rows.

Revision ID: 0003_record_blocks
Revises: 0002_service_tables
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_record_blocks"
down_revision = "0002_service_tables"
branch_labels = None
depends_on = None

_BODY = (
    "(record_json IS NOT NULL AND block_id IS NULL AND block_offset IS NULL "
    "AND block_length IS NULL) OR (record_json IS NULL AND block_id IS NOT NULL "
    "AND block_offset >= 0 AND block_length > 0)"
)


def upgrade() -> None:
    op.create_table(
        "record_blocks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("scope_id", sa.Integer,
                  sa.ForeignKey("scopes.id", name="fk_record_blocks_scope"), nullable=False),
        sa.Column("codec", sa.String(16), nullable=False),
        sa.Column("record_count", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("record_count > 0", name="ck_record_blocks_count"),
    )
    with op.batch_alter_table("records") as batch:
        batch.alter_column("record_json", existing_type=sa.LargeBinary, nullable=True)
        batch.add_column(sa.Column("block_offset", sa.Integer, nullable=True))
        batch.add_column(sa.Column("block_length", sa.Integer, nullable=True))
        batch.add_column(sa.Column("block_id", sa.Integer, nullable=True))
        batch.create_foreign_key("fk_records_block", "record_blocks", ["block_id"], ["id"])
        batch.create_check_constraint("ck_records_body", _BODY)


def downgrade() -> None:
    """Back to one row per record: each block's records are written back into their rows."""
    import zstandard

    with op.batch_alter_table("records") as batch:
        batch.drop_constraint("ck_records_body", type_="check")
    conn = op.get_bind()
    unpacked: dict[int, bytes] = {}
    rows = conn.execute(sa.text("SELECT id, block_id, block_offset, block_length FROM records "
                                "WHERE record_json IS NULL")).all()
    for row_id, block_id, offset, length in rows:
        if block_id not in unpacked:
            data = conn.execute(sa.text("SELECT data FROM record_blocks WHERE id = :id"),
                                {"id": block_id}).scalar_one()
            unpacked[block_id] = zstandard.ZstdDecompressor().decompress(bytes(data))
        conn.execute(sa.text("UPDATE records SET record_json = :body WHERE id = :id"),
                     {"body": unpacked[block_id][offset:offset + length], "id": row_id})
    with op.batch_alter_table("records") as batch:
        batch.drop_constraint("fk_records_block", type_="foreignkey")
        batch.drop_column("block_id")
        batch.drop_column("block_length")
        batch.drop_column("block_offset")
        batch.alter_column("record_json", existing_type=sa.LargeBinary, nullable=False)
    op.drop_table("record_blocks")
