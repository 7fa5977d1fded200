"""Importer organisations: the role ``importer`` and ``service_organisations.eori``.

An importer (a CBAM declarant) reads the consignments that name its EORI number, from any
exporter, and signs its annual declaration. The role check constraint is replaced: PostgreSQL
drops and re-creates it; SQLite's batch mode recreates the table, whose old CHECK constraint is
not carried over, and creates the new one.

Revision ID: service_0004_importers
Revises: service_0003_token_revocation
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "service_0004_importers"
down_revision = "service_0003_token_revocation"
branch_labels = None
depends_on = None

_ROLES = "role IN ('exporter', 'auditor', 'buyer', 'importer', 'admin')"
_OLD_ROLES = "role IN ('exporter', 'auditor', 'buyer', 'admin')"


def _recreate(new_rule: str, *, add_eori: bool) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("service_organisations",
                              recreate="always" if sqlite else "auto") as batch:
        if add_eori:
            batch.add_column(sa.Column("eori", sa.String(17), nullable=True))
        else:
            batch.drop_column("eori")
        if not sqlite:
            batch.drop_constraint("ck_service_organisations_role", type_="check")
        batch.create_check_constraint("ck_service_organisations_role", new_rule)


def upgrade() -> None:
    _recreate(_ROLES, add_eori=True)


def downgrade() -> None:
    importers = op.get_bind().execute(sa.text(
        "SELECT COUNT(*) FROM service_organisations WHERE role = 'importer'")).scalar()
    if importers:
        raise RuntimeError(f"{importers} importer organisation(s) exist; a store without the "
                           "importer role cannot hold them")
    _recreate(_OLD_ROLES, add_eori=False)
