"""The service's tables: organisations, API clients, access tokens, submitted shipments,
background jobs, issued reports, PACT footprints and events, verifications and attestations.

A store on which the ledger's former revision ``0002_service_tables`` created these tables keeps
them: each table the database holds already is taken over as it is (same names, same columns),
and only the missing ones are created.

Revision ID: service_0001_tables
Revises:
Create Date: 2026-12-02
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "service_0001_tables"
down_revision = None
branch_labels = ("service",)
depends_on = None

_TS = sa.DateTime(timezone=True)
# the modes as they were when these tables were made: a migration is history and never changes
# (a mode added to ``ledger.inputs.shipments.MODES`` needs a column, in a new revision)
_MODES_0001 = ("road", "rail", "sea", "air", "inland_waterway", "hub")


def upgrade() -> None:
    """Creates the service's tables, each unless the database holds it already."""
    have = set(sa.inspect(op.get_bind()).get_table_names())

    def create_table(name: str, *columns: Any) -> None:
        if name not in have:
            op.create_table(name, *columns)

    create_table(
        "service_organisations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("address", sa.String(42), nullable=True),
        sa.Column("keystore", sa.Text, nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.CheckConstraint("role IN ('exporter', 'auditor', 'buyer', 'admin')",
                           name="ck_service_organisations_role"),
        sa.UniqueConstraint("name", name="uq_service_organisations_name"),
    )
    create_table(
        "service_clients",
        sa.Column("client_id", sa.String(64), primary_key=True),
        sa.Column("org_id", sa.Integer, sa.ForeignKey("service_organisations.id",
                                                      name="fk_service_clients_org"),
                  nullable=False),
        sa.Column("secret_hash", sa.String(200), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("revoked_at", _TS, nullable=True),
    )
    create_table(
        "service_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("client_id", sa.String(64), sa.ForeignKey("service_clients.client_id",
                                                            name="fk_service_tokens_client"),
                  nullable=False),
        sa.Column("org_id", sa.Integer, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Index("ix_service_tokens_expires", "expires_at"),
    )
    create_table(
        "service_shipments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("org_id", sa.Integer, sa.ForeignKey("service_organisations.id",
                                                      name="fk_service_shipments_org"),
                  nullable=False),
        sa.Column("shipment_id", sa.String(200), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("shipment_json", sa.Text, nullable=False),
        sa.Column("factor_set_id", sa.String(66), nullable=False),
        sa.Column("activity_tkm", sa.String(40), nullable=False),
        sa.Column("co2e_ttw_g", sa.BigInteger, nullable=False),
        sa.Column("co2e_wtw_g", sa.BigInteger, nullable=False),
        sa.Column("total_co2e_g", sa.BigInteger, nullable=False),
        *[sa.Column(f"wtw_{mode}_g", sa.BigInteger, nullable=False, server_default="0")
          for mode in _MODES_0001],
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("submitted_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.UniqueConstraint("org_id", "shipment_id", name="uq_service_shipments_id"),
        sa.Index("ix_service_shipments_month", "org_id", "month"),
    )
    create_table(
        "service_jobs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("org_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("phase", sa.String(200), nullable=False),
        sa.Column("done", sa.Integer, nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("request_json", sa.Text, nullable=False),
        sa.Column("result_json", sa.Text, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.CheckConstraint("state IN ('queued', 'running', 'done', 'failed')",
                           name="ck_service_jobs_state"),
        sa.Index("ix_service_jobs_org", "org_id", "created_at"),
    )
    create_table(
        "service_reports",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("org_id", sa.Integer, nullable=False),
        sa.Column("report_hash", sa.String(66), nullable=False),
        sa.Column("document_json", sa.Text, nullable=False),
        sa.Column("cbam_xml", sa.LargeBinary, nullable=True),
        sa.Column("shipment_count", sa.Integer, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Index("ix_service_reports_org", "org_id", "created_at"),
    )
    create_table(
        "service_footprints",
        sa.Column("pf_id", sa.String(36), primary_key=True),
        sa.Column("org_id", sa.Integer, nullable=False),
        sa.Column("report_id", sa.String(80), nullable=False),
        sa.Column("created", sa.String(32), nullable=False),
        sa.Column("product_ids_json", sa.Text, nullable=False),
        sa.Column("footprint_json", sa.Text, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Index("ix_service_footprints_seq", "seq"),
    )
    create_table(
        "service_verifications",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("org_id", sa.Integer, nullable=False),
        sa.Column("report_id", sa.String(200), nullable=True),
        sa.Column("report_hash", sa.String(66), nullable=True),
        sa.Column("verified", sa.Boolean, nullable=False),
        sa.Column("verdict_json", sa.Text, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Index("ix_service_verifications_org", "org_id", "id"),
    )
    create_table(
        "service_attestations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("org_id", sa.Integer, nullable=False),
        sa.Column("report_id", sa.String(200), nullable=True),
        sa.Column("report_hash", sa.String(66), nullable=False),
        sa.Column("tx_hash", sa.String(66), nullable=False),
        sa.Column("block_number", sa.BigInteger, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Index("ix_service_attestations_org", "org_id", "id"),
    )
    create_table(
        "service_pact_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("type", sa.String(200), nullable=False),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("body_json", sa.Text, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
    )


def downgrade() -> None:
    for name in ("service_pact_events", "service_attestations", "service_verifications",
                 "service_footprints", "service_reports", "service_jobs", "service_shipments",
                 "service_tokens", "service_clients", "service_organisations"):
        op.drop_table(name)
