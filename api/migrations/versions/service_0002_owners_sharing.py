"""Records owned by organisations, and footprints shared with named organisations.

- ``service_key_owners``: each signing address belongs to one organisation (the address is the
  primary key, so a second organisation with the same key is refused by the database too). A
  store made before this revision may hold one address under several organisations: the first
  one created keeps it; the others read nothing of it (the service answers them with a clear
  error naming the clash).
- ``service_footprint_grants``: a data owner (an exporter) shares its PACT footprints with one
  requesting organisation: all of them (``product_id`` NULL) or those of one product id; with
  the anchor evidence's full record (``evidence = 'full'``) or its leaf and proof only
  (``'leaf'``). A grant is revoked by setting ``revoked_at``; it is never deleted.
- ``service_access_requests``: a request of an organisation for footprints it cannot see yet
  (from the PACT ``/2/events`` request flow), kept per data owner until the owner grants or
  declines it.

Revision ID: service_0002_owners_sharing
Revises: service_0001_tables
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "service_0002_owners_sharing"
down_revision = "service_0001_tables"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "service_key_owners",
        sa.Column("address", sa.String(42), primary_key=True),
        sa.Column("org_id", sa.Integer, sa.ForeignKey("service_organisations.id",
                                                      name="fk_service_key_owners_org"),
                  nullable=False),
        sa.Column("created_at", _TS, nullable=False),
    )
    bind = op.get_bind()
    orgs = sa.table("service_organisations", sa.column("id", sa.Integer),
                    sa.column("address", sa.String), sa.column("created_at", _TS))
    owners = sa.table("service_key_owners", sa.column("address", sa.String),
                      sa.column("org_id", sa.Integer), sa.column("created_at", _TS))
    first: dict[str, tuple[int, object]] = {}
    for row in bind.execute(sa.select(orgs.c.id, orgs.c.address, orgs.c.created_at)
                            .where(orgs.c.address.is_not(None)).order_by(orgs.c.id)):
        first.setdefault(str(row.address).lower(), (int(row.id), row.created_at))
    if first:
        bind.execute(owners.insert(), [{"address": address, "org_id": org_id, "created_at": at}
                                       for address, (org_id, at) in first.items()])
    op.create_table(
        "service_footprint_grants",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("owner_org_id", sa.Integer, sa.ForeignKey(
            "service_organisations.id", name="fk_service_grants_owner"), nullable=False),
        sa.Column("grantee_org_id", sa.Integer, sa.ForeignKey(
            "service_organisations.id", name="fk_service_grants_grantee"), nullable=False),
        sa.Column("product_id", sa.String(300), nullable=True),
        sa.Column("evidence", sa.String(8), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("revoked_at", _TS, nullable=True),
        sa.CheckConstraint("evidence IN ('leaf', 'full')", name="ck_service_grants_evidence"),
        sa.Index("ix_service_grants_grantee", "grantee_org_id", "owner_org_id"),
    )
    op.create_table(
        "service_access_requests",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("requester_org_id", sa.Integer, sa.ForeignKey(
            "service_organisations.id", name="fk_service_requests_requester"), nullable=False),
        sa.Column("owner_org_id", sa.Integer, sa.ForeignKey(
            "service_organisations.id", name="fk_service_requests_owner"), nullable=False),
        sa.Column("product_ids_json", sa.Text, nullable=False),
        sa.Column("event_id", sa.String(200), nullable=True),
        sa.Column("source", sa.String(500), nullable=True),
        sa.Column("comment", sa.String(1000), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("decided_at", _TS, nullable=True),
        sa.CheckConstraint("state IN ('pending', 'granted', 'declined')",
                           name="ck_service_requests_state"),
        sa.Index("ix_service_requests_owner", "owner_org_id", "state"),
    )


def downgrade() -> None:
    for name in ("service_access_requests", "service_footprint_grants", "service_key_owners"):
        op.drop_table(name)
