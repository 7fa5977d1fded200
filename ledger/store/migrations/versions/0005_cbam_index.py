"""The declaration index: what each stored record says as a CBAM consignment.

A declaration over a million consignments reads the declarant's rows of this index with one
query instead of parsing every stored record (``docs/declaration.md``). The upgrade indexes the
records already stored; later records are indexed by the first declaration that finds them.

Revision ID: 0005_cbam_index
Revises: 0004_record_versions
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_cbam_index"
down_revision = "0004_record_versions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cbam_profiles",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("fields_json", sa.LargeBinary, nullable=False),
        sa.UniqueConstraint("digest", name="uq_cbam_profiles_digest"),
    )
    op.create_table(
        "cbam_consignments",
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
        sa.CheckConstraint("kind IN ('cbam', 'none', 'problem')",
                           name="ck_cbam_consignments_kind"),
    )
    op.create_index("ix_cbam_consignments_declarant", "cbam_consignments",
                    ["declarant", "release_year"])
    # the records stored before this revision (the reading of a record is the declaration's)
    from ledger.declaration.index import index_entry
    from ledger.store.cbam import index_missing

    index_missing(op.get_bind(), index_entry)


def downgrade() -> None:
    op.drop_index("ix_cbam_consignments_declarant", table_name="cbam_consignments")
    op.drop_table("cbam_consignments")
    op.drop_table("cbam_profiles")
