"""The service's tables and their queries, on the ledger store's engine (same database).

The tables are the service's own: :func:`open_service_store` creates or upgrades them with the
service's alembic branch (``api/migrations``, versioned in ``service_alembic_version``) on a store
that :func:`ledger.store.store.open_store` opened, and returns the :class:`ServiceStore` that reads
and writes them. Each write method is one database transaction (on SQLite ``BEGIN IMMEDIATE``, set
up by the ledger store's engine), so a failure leaves the state before the write.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from api.migrations import SCRIPT_LOCATION
from ledger.errors import StoreError, StoreUnavailable, WriteRefused
from ledger.inputs.shipments import MODES
from ledger.store.engine import upgrade_to_head
from ledger.store.store import LedgerStore

__all__ = [
    "ROLES",
    "JobRow",
    "NewShipment",
    "OrgRow",
    "ServiceStore",
    "ShipmentRow",
    "TokenRow",
    "key_taken",
    "open_service_store",
]

ROLES = ("exporter", "auditor", "buyer", "importer", "admin")
_CHUNK = 500

metadata = sa.MetaData()
_TS = sa.DateTime(timezone=True)

organisations = sa.Table(
    "service_organisations", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("address", sa.String(42)),
    sa.Column("keystore", sa.Text),
    sa.Column("created_at", _TS, nullable=False),
    sa.Column("eori", sa.String(17)),
    sa.CheckConstraint("role IN ('exporter', 'auditor', 'buyer', 'importer', 'admin')",
                       name="ck_service_organisations_role"),
    sa.UniqueConstraint("name", name="uq_service_organisations_name"),
)
clients = sa.Table(
    "service_clients", metadata,
    sa.Column("client_id", sa.String(64), primary_key=True),
    sa.Column("org_id", sa.Integer, sa.ForeignKey("service_organisations.id",
                                                  name="fk_service_clients_org"),
              nullable=False),
    sa.Column("secret_hash", sa.String(200), nullable=False),
    sa.Column("created_at", _TS, nullable=False),
    sa.Column("revoked_at", _TS),
)
tokens = sa.Table(
    "service_tokens", metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("client_id", sa.String(64), sa.ForeignKey("service_clients.client_id",
                                                        name="fk_service_tokens_client"),
              nullable=False),
    sa.Column("org_id", sa.Integer, nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("expires_at", _TS, nullable=False),
    sa.Column("created_at", _TS, nullable=False),
    sa.Column("revoked_at", _TS),
    sa.Index("ix_service_tokens_expires", "expires_at"),
)
shipments = sa.Table(
    "service_shipments", metadata,
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
      for mode in MODES],
    sa.Column("month", sa.String(7), nullable=False),
    sa.Column("submitted_at", _TS, nullable=False),
    sa.Column("updated_at", _TS, nullable=False),
    sa.UniqueConstraint("org_id", "shipment_id", name="uq_service_shipments_id"),
    sa.Index("ix_service_shipments_month", "org_id", "month"),
)
jobs = sa.Table(
    "service_jobs", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("org_id", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("phase", sa.String(200), nullable=False),
    sa.Column("done", sa.Integer, nullable=False),
    sa.Column("total", sa.Integer, nullable=False),
    sa.Column("request_json", sa.Text, nullable=False),
    sa.Column("result_json", sa.Text),
    sa.Column("error", sa.Text),
    sa.Column("created_at", _TS, nullable=False),
    sa.Column("updated_at", _TS, nullable=False),
    sa.CheckConstraint("state IN ('queued', 'running', 'done', 'failed')",
                       name="ck_service_jobs_state"),
    sa.Index("ix_service_jobs_org", "org_id", "created_at"),
)
reports = sa.Table(
    "service_reports", metadata,
    sa.Column("id", sa.String(80), primary_key=True),
    sa.Column("org_id", sa.Integer, nullable=False),
    sa.Column("report_hash", sa.String(66), nullable=False),
    sa.Column("document_json", sa.Text, nullable=False),
    sa.Column("cbam_xml", sa.LargeBinary),
    sa.Column("shipment_count", sa.Integer, nullable=False),
    sa.Column("created_at", _TS, nullable=False),
    sa.Index("ix_service_reports_org", "org_id", "created_at"),
)
footprints = sa.Table(
    "service_footprints", metadata,
    sa.Column("pf_id", sa.String(36), primary_key=True),
    sa.Column("org_id", sa.Integer, nullable=False),
    sa.Column("report_id", sa.String(80), nullable=False),
    sa.Column("created", sa.String(32), nullable=False),
    sa.Column("product_ids_json", sa.Text, nullable=False),
    sa.Column("footprint_json", sa.Text, nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Index("ix_service_footprints_seq", "seq"),
)
verifications = sa.Table(
    "service_verifications", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("org_id", sa.Integer, nullable=False),
    sa.Column("report_id", sa.String(200)),
    sa.Column("report_hash", sa.String(66)),
    sa.Column("verified", sa.Boolean, nullable=False),
    sa.Column("verdict_json", sa.Text, nullable=False),
    sa.Column("created_at", _TS, nullable=False),
    sa.Index("ix_service_verifications_org", "org_id", "id"),
)
attestations = sa.Table(
    "service_attestations", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("org_id", sa.Integer, nullable=False),
    sa.Column("report_id", sa.String(200)),
    sa.Column("report_hash", sa.String(66), nullable=False),
    sa.Column("tx_hash", sa.String(66), nullable=False),
    sa.Column("block_number", sa.BigInteger, nullable=False),
    sa.Column("created_at", _TS, nullable=False),
    sa.Index("ix_service_attestations_org", "org_id", "id"),
)
key_owners = sa.Table(
    "service_key_owners", metadata,
    sa.Column("address", sa.String(42), primary_key=True),
    sa.Column("org_id", sa.Integer, sa.ForeignKey("service_organisations.id",
                                                  name="fk_service_key_owners_org"),
              nullable=False),
    sa.Column("created_at", _TS, nullable=False),
)
pact_events = sa.Table(
    "service_pact_events", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(200), nullable=False),
    sa.Column("type", sa.String(200), nullable=False),
    sa.Column("source", sa.String(500), nullable=False),
    sa.Column("direction", sa.String(8), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("body_json", sa.Text, nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", _TS, nullable=False),
    sa.Column("updated_at", _TS, nullable=False),
)


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime) -> datetime:
    """SQLite hands timezone-aware columns back naive; they were written in UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class OrgRow:
    id: int
    name: str
    role: str
    address: str | None
    keystore: str | None


@dataclass(frozen=True)
class TokenRow:
    client_id: str
    org_id: int
    role: str
    expires_at: datetime


@dataclass(frozen=True)
class NewShipment:
    """A validated shipment with its footprint totals, ready to store."""

    shipment_id: str
    content_hash: str
    shipment_json: str
    factor_set_id: str
    activity_tkm: str
    co2e_ttw_g: int
    co2e_wtw_g: int
    total_co2e_g: int
    wtw_by_mode_g: Mapping[str, int]


@dataclass(frozen=True)
class ShipmentRow:
    shipment_id: str
    content_hash: str
    shipment_json: str
    factor_set_id: str
    activity_tkm: str
    co2e_ttw_g: int
    co2e_wtw_g: int
    total_co2e_g: int
    wtw_by_mode_g: dict[str, int]
    month: str
    submitted_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class JobRow:
    id: str
    org_id: int
    kind: str
    state: str
    phase: str
    done: int
    total: int
    request: dict[str, Any]
    result: Any
    error: str | None
    created_at: datetime
    updated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "state": self.state, "phase": self.phase,
                "done": self.done, "total": self.total, "result": self.result,
                "error": self.error, "created_at": _utc(self.created_at).isoformat(),
                "updated_at": _utc(self.updated_at).isoformat()}


def _shipment_row(row: Any) -> ShipmentRow:
    return ShipmentRow(
        row.shipment_id, row.content_hash, row.shipment_json, row.factor_set_id,
        row.activity_tkm, row.co2e_ttw_g, row.co2e_wtw_g, row.total_co2e_g,
        {mode: int(getattr(row, f"wtw_{mode}_g")) for mode in MODES
         if getattr(row, f"wtw_{mode}_g")},
        row.month, _utc(row.submitted_at), _utc(row.updated_at),
    )


def _job_row(row: Any) -> JobRow:
    return JobRow(row.id, row.org_id, row.kind, row.state, row.phase, row.done, row.total,
                  json.loads(row.request_json),
                  None if row.result_json is None else json.loads(row.result_json),
                  row.error, _utc(row.created_at), _utc(row.updated_at))


def _insert_rows(conn: Connection, table: sa.Table, columns: Sequence[str],
                 rows: Sequence[tuple[Any, ...]]) -> None:
    """Inserts ``rows`` (values in ``columns`` order) with one ``executemany`` of the driver.

    The same as ``conn.execute(table.insert(), [dict(...), ...])``, without building each row's
    parameters anew: the statement is compiled once, and only the columns whose type converts
    values for this database (date-times on SQLite) are converted, row by row.
    """
    dialect = conn.dialect
    compiled = table.insert().compile(dialect=dialect, column_keys=list(columns))
    index = {name: i for i, name in enumerate(columns)}
    converters = [(index[name], convert) for name in columns
                  if (convert := table.c[name].type.bind_processor(dialect)) is not None]
    if converters:
        converted = []
        for row in rows:
            values = list(row)
            for i, convert in converters:
                values[i] = convert(values[i])
            converted.append(tuple(values))
        rows = converted
    if dialect.positional:
        order = [index[name] for name in compiled.positiontup or ()]
        params: list[Any] = [tuple(row[i] for i in order) for row in rows]
    else:
        params = [dict(zip(columns, row, strict=True)) for row in rows]
    conn.exec_driver_sql(compiled.string, params)


def key_taken(address: str, holder: str) -> WriteRefused:
    """The refusal of a second organisation with the same signing key."""
    return WriteRefused(f"the signing key of address {address} belongs to the organisation "
                        f"{holder!r} already: each organisation needs its own key (omit "
                        "private_key to have one generated)")


def open_service_store(ledger_store: LedgerStore) -> ServiceStore:
    """The service's tables on a store opened by :func:`ledger.store.store.open_store` (which
    migrated the ledger's tables), created or upgraded first."""
    try:
        upgrade_to_head(ledger_store.engine, SCRIPT_LOCATION)
    except SQLAlchemyError as exc:
        raise StoreUnavailable(f"cannot migrate the service tables: {exc}") from exc
    return ServiceStore(ledger_store)


class ServiceStore:
    """Typed access to the service tables of an opened ledger store (see
    :func:`open_service_store`, which creates them)."""

    def __init__(self, ledger_store: LedgerStore) -> None:
        self.ledger = ledger_store
        self._engine = ledger_store.engine

    def _write(self) -> AbstractContextManager[Connection]:
        return self.ledger.write("service store")

    def _read(self) -> AbstractContextManager[Connection]:
        return self.ledger.read("service store")

    # ------------------------------------------------------------------ organisations

    def add_org(self, name: str, role: str, address: str | None, keystore: str | None, *,
                eori: str | None = None) -> OrgRow:
        """A new organisation; with an address, that address becomes the organisation's own
        (WriteRefused when another organisation holds it: one key, one owner). ``eori``: an
        importer's EORI number, whose consignments it reads and declares."""
        if role not in ROLES:
            raise StoreError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
        with self._write() as conn:
            taken = conn.execute(sa.select(organisations.c.id)
                                 .where(organisations.c.name == name)).first()
            if taken is not None:
                raise WriteRefused(f"an organisation named {name!r} exists already")
            if address is not None:
                holder = self._key_holder(conn, address)
                if holder is not None:
                    raise key_taken(address, holder)
            now = _now()
            result = conn.execute(organisations.insert().values(
                name=name, role=role, address=address, keystore=keystore, created_at=now,
                eori=eori))
            key = result.inserted_primary_key
            assert key is not None
            if address is not None:
                conn.execute(key_owners.insert().values(address=address.lower(),
                                                        org_id=int(key[0]), created_at=now))
            return OrgRow(int(key[0]), name, role, address, keystore)

    @staticmethod
    def _key_holder(conn: Connection, address: str) -> str | None:
        row = conn.execute(sa.select(organisations.c.name).select_from(
            key_owners.join(organisations, key_owners.c.org_id == organisations.c.id))
            .where(key_owners.c.address == address.lower())).first()
        return None if row is None else str(row.name)

    def key_holder(self, address: str) -> str | None:
        """The name of the organisation that owns the signing address, or None."""
        with self._read() as conn:
            return self._key_holder(conn, address)

    def key_owner(self, address: str) -> int | None:
        """The id of the organisation that owns the signing address, or None."""
        with self._read() as conn:
            row = conn.execute(sa.select(key_owners.c.org_id)
                               .where(key_owners.c.address == address.lower())).first()
        return None if row is None else int(row.org_id)

    def org(self, org_id: int) -> OrgRow | None:
        with self._read() as conn:
            row = conn.execute(sa.select(organisations)
                               .where(organisations.c.id == org_id)).first()
        return None if row is None else OrgRow(row.id, row.name, row.role, row.address,
                                               row.keystore)

    def org_by_name(self, name: str) -> OrgRow | None:
        with self._read() as conn:
            row = conn.execute(sa.select(organisations)
                               .where(organisations.c.name == name)).first()
        return None if row is None else OrgRow(row.id, row.name, row.role, row.address,
                                               row.keystore)

    def org_eori(self, org_id: int) -> str | None:
        """The EORI number of an importer organisation (None for the other roles)."""
        with self._read() as conn:
            row = conn.execute(sa.select(organisations.c.eori)
                               .where(organisations.c.id == org_id)).first()
        return None if row is None or row.eori is None else str(row.eori)

    def orgs(self) -> list[OrgRow]:
        with self._read() as conn:
            rows = conn.execute(sa.select(organisations).order_by(organisations.c.id))
            return [OrgRow(r.id, r.name, r.role, r.address, r.keystore) for r in rows]

    # ------------------------------------------------------------------ clients and tokens

    def add_client(self, client_id: str, org_id: int, secret_hash: str) -> None:
        with self._write() as conn:
            conn.execute(clients.insert().values(client_id=client_id, org_id=org_id,
                                                 secret_hash=secret_hash, created_at=_now()))

    def client(self, client_id: str) -> tuple[int, str] | None:
        """(organisation id, secret hash) of a live client."""
        with self._read() as conn:
            row = conn.execute(sa.select(clients.c.org_id, clients.c.secret_hash).where(
                clients.c.client_id == client_id, clients.c.revoked_at.is_(None))).first()
        return None if row is None else (int(row.org_id), str(row.secret_hash))

    def add_token(self, token_hash: str, client_id: str, org_id: int, role: str,
                  expires_at: datetime) -> None:
        now = _now()
        with self._write() as conn:
            conn.execute(tokens.delete().where(tokens.c.expires_at < now))
            conn.execute(tokens.insert().values(token_hash=token_hash, client_id=client_id,
                                                org_id=org_id, role=role,
                                                expires_at=expires_at, created_at=now))

    def clients_of(self, org_id: int) -> list[dict[str, Any]]:
        """The organisation's clients (ids and dates, never secrets), oldest first."""
        with self._read() as conn:
            rows = conn.execute(sa.select(clients.c.client_id, clients.c.created_at,
                                          clients.c.revoked_at)
                                .where(clients.c.org_id == org_id).order_by(clients.c.created_at))
            return [{"client_id": r.client_id, "created_at": _utc(r.created_at).isoformat(),
                     "revoked_at": None if r.revoked_at is None
                     else _utc(r.revoked_at).isoformat()} for r in rows]

    def revoke_client(self, client_id: str) -> bool:
        """Revokes a live client and its live tokens, in one transaction; False when none."""
        now = _now()
        with self._write() as conn:
            done = conn.execute(clients.update().where(
                clients.c.client_id == client_id, clients.c.revoked_at.is_(None))
                .values(revoked_at=now))
            conn.execute(tokens.update().where(tokens.c.client_id == client_id,
                                               tokens.c.revoked_at.is_(None))
                         .values(revoked_at=now))
            return bool(done.rowcount)

    def revoke_token(self, token_hash: str) -> bool:
        """Revokes one live token; False when none matches."""
        with self._write() as conn:
            done = conn.execute(tokens.update().where(tokens.c.token_hash == token_hash,
                                                      tokens.c.revoked_at.is_(None))
                                .values(revoked_at=_now()))
            return bool(done.rowcount)

    def token(self, token_hash: str) -> TokenRow | None:
        """A live (not revoked) token."""
        with self._read() as conn:
            row = conn.execute(sa.select(tokens).where(tokens.c.token_hash == token_hash,
                                                       tokens.c.revoked_at.is_(None))
                               ).first()
        return None if row is None else TokenRow(row.client_id, row.org_id, row.role,
                                                 _utc(row.expires_at))

    # ------------------------------------------------------------------ shipments

    def content_hashes(self, org_id: int, shipment_ids: Sequence[str]) -> dict[str, str]:
        """The stored content hash of each of these shipments that the organisation has."""
        found: dict[str, str] = {}
        with self._read() as conn:
            for start in range(0, len(shipment_ids), _CHUNK):
                part = shipment_ids[start:start + _CHUNK]
                for row in conn.execute(sa.select(shipments.c.shipment_id,
                                                  shipments.c.content_hash).where(
                        shipments.c.org_id == org_id, shipments.c.shipment_id.in_(part))):
                    found[row.shipment_id] = row.content_hash
        return found

    def put_shipments(self, org_id: int, new: Sequence[NewShipment],
                      replaced: Sequence[NewShipment]) -> None:
        """Inserts ``new`` and overwrites ``replaced``, all in one transaction."""
        now = _now()
        month = now.strftime("%Y-%m")
        columns = ["org_id", "month", "submitted_at", "updated_at", "shipment_id",
                   "content_hash", "shipment_json", "factor_set_id", "activity_tkm",
                   "co2e_ttw_g", "co2e_wtw_g", "total_co2e_g",
                   *(f"wtw_{mode}_g" for mode in MODES)]
        rows = [(org_id, month, now, now, s.shipment_id, s.content_hash, s.shipment_json,
                 s.factor_set_id, s.activity_tkm, s.co2e_ttw_g, s.co2e_wtw_g, s.total_co2e_g,
                 *(int(s.wtw_by_mode_g.get(mode, 0)) for mode in MODES)) for s in new]

        def values(s: NewShipment) -> dict[str, Any]:
            out: dict[str, Any] = {
                "org_id": org_id, "shipment_id": s.shipment_id, "content_hash": s.content_hash,
                "shipment_json": s.shipment_json, "factor_set_id": s.factor_set_id,
                "activity_tkm": s.activity_tkm, "co2e_ttw_g": s.co2e_ttw_g,
                "co2e_wtw_g": s.co2e_wtw_g, "total_co2e_g": s.total_co2e_g,
                "month": month, "submitted_at": now, "updated_at": now,
            }
            for mode in MODES:
                out[f"wtw_{mode}_g"] = int(s.wtw_by_mode_g.get(mode, 0))
            return out

        with self._write() as conn:
            if new:
                _insert_rows(conn, shipments, columns, rows)
            for s in replaced:
                data = values(s)
                del data["submitted_at"]
                conn.execute(shipments.update().where(
                    shipments.c.org_id == org_id, shipments.c.shipment_id == s.shipment_id,
                ).values(**data))

    def shipment(self, org_id: int, shipment_id: str) -> ShipmentRow | None:
        with self._read() as conn:
            row = conn.execute(sa.select(shipments).where(
                shipments.c.org_id == org_id, shipments.c.shipment_id == shipment_id)).first()
        return None if row is None else _shipment_row(row)

    def shipments(self, org_id: int, *, limit: int | None = None, offset: int = 0,
                  shipment_ids: Sequence[str] | None = None) -> list[ShipmentRow]:
        """The organisation's shipments, oldest first (or those named, in store order)."""
        query = sa.select(shipments).where(shipments.c.org_id == org_id)
        with self._read() as conn:
            if shipment_ids is not None:
                out: list[ShipmentRow] = []
                for start in range(0, len(shipment_ids), _CHUNK):
                    part = shipment_ids[start:start + _CHUNK]
                    out += [_shipment_row(r) for r in conn.execute(
                        query.where(shipments.c.shipment_id.in_(part))
                        .order_by(shipments.c.id))]
                return out
            rows = conn.execute(query.order_by(shipments.c.id).offset(offset).limit(limit))
            return [_shipment_row(r) for r in rows]

    def count_shipments(self, org_id: int) -> int:
        with self._read() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(shipments)
                                    .where(shipments.c.org_id == org_id)).scalar() or 0)

    def shipment_ids(self, org_id: int) -> list[str]:
        with self._read() as conn:
            return [r.shipment_id for r in conn.execute(
                sa.select(shipments.c.shipment_id).where(shipments.c.org_id == org_id)
                .order_by(shipments.c.id))]

    def monthly_totals(self, org_id: int) -> list[dict[str, Any]]:
        """Per month of submission: shipment count and WTW, TTW and per-mode WTW grams."""
        cols = [sa.func.count().label("shipments"),
                sa.func.sum(shipments.c.co2e_wtw_g).label("co2e_wtw_g"),
                sa.func.sum(shipments.c.co2e_ttw_g).label("co2e_ttw_g"),
                *[sa.func.sum(shipments.c[f"wtw_{m}_g"]).label(m) for m in MODES]]
        with self._read() as conn:
            rows = conn.execute(sa.select(shipments.c.month, *cols)
                                .where(shipments.c.org_id == org_id)
                                .group_by(shipments.c.month).order_by(shipments.c.month))
            return [{"month": r.month, "shipments": int(r.shipments),
                     "co2e_wtw_g": int(r.co2e_wtw_g or 0), "co2e_ttw_g": int(r.co2e_ttw_g or 0),
                     "wtw_by_mode_g": {m: int(getattr(r, m) or 0) for m in MODES
                                       if getattr(r, m)}}
                    for r in rows]

    # ------------------------------------------------------------------ jobs

    def add_job(self, job_id: str, org_id: int, kind: str, request: Mapping[str, Any]) -> JobRow:
        now = _now()
        with self._write() as conn:
            conn.execute(jobs.insert().values(
                id=job_id, org_id=org_id, kind=kind, state="queued", phase="queued", done=0,
                total=0, request_json=json.dumps(request), created_at=now, updated_at=now))
        job = self.job(job_id)
        assert job is not None
        return job

    def update_job(self, job_id: str, **values: Any) -> None:
        if "result" in values:
            values["result_json"] = json.dumps(values.pop("result"))
        with self._write() as conn:
            conn.execute(jobs.update().where(jobs.c.id == job_id)
                         .values(updated_at=_now(), **values))

    def job(self, job_id: str) -> JobRow | None:
        with self._read() as conn:
            row = conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).first()
        return None if row is None else _job_row(row)

    def open_jobs(self) -> list[JobRow]:
        """Jobs that were queued or running (e.g. when the service stopped)."""
        with self._read() as conn:
            rows = conn.execute(sa.select(jobs).where(jobs.c.state.in_(("queued", "running")))
                                .order_by(jobs.c.created_at))
            return [_job_row(r) for r in rows]

    def jobs_of(self, org_id: int, limit: int = 20) -> list[JobRow]:
        with self._read() as conn:
            rows = conn.execute(sa.select(jobs).where(jobs.c.org_id == org_id)
                                .order_by(jobs.c.created_at.desc()).limit(limit))
            return [_job_row(r) for r in rows]

    # ------------------------------------------------------------------ reports and footprints

    def add_report(self, org_id: int, report_id: str, report_hash: str, *,
                   document: Mapping[str, Any], cbam_xml: bytes | None,
                   pact_footprints: Sequence[Mapping[str, Any]]) -> None:
        """Stores a report and publishes its PACT footprints, in one transaction."""
        now = _now()
        with self._write() as conn:
            conn.execute(reports.insert().values(
                id=report_id, org_id=org_id, report_hash=report_hash,
                document_json=json.dumps(document), cbam_xml=cbam_xml,
                shipment_count=len(document["credentialSubject"]["shipmentIds"]),
                created_at=now))
            seq = int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(footprints.c.seq), 0))
                                   ).scalar() or 0)
            for footprint in pact_footprints:
                seq += 1
                conn.execute(footprints.delete().where(footprints.c.pf_id == footprint["id"]))
                conn.execute(footprints.insert().values(
                    pf_id=footprint["id"], org_id=org_id, report_id=report_id,
                    created=footprint["created"],
                    product_ids_json=json.dumps(footprint.get("productIds") or []),
                    footprint_json=json.dumps(footprint), seq=seq))

    def report(self, report_id: str) -> tuple[int, dict[str, Any], bytes | None] | None:
        """(organisation id, document, CBAM XML) of a stored report."""
        with self._read() as conn:
            row = conn.execute(sa.select(reports).where(reports.c.id == report_id)).first()
        if row is None:
            return None
        return int(row.org_id), json.loads(row.document_json), (
            None if row.cbam_xml is None else bytes(row.cbam_xml))

    def reports_of(self, org_id: int, limit: int = 100) -> list[dict[str, Any]]:
        with self._read() as conn:
            rows = conn.execute(
                sa.select(reports.c.id, reports.c.report_hash, reports.c.shipment_count,
                          reports.c.created_at, reports.c.cbam_xml.is_not(None).label("cbam"))
                .where(reports.c.org_id == org_id)
                .order_by(reports.c.created_at.desc()).limit(limit))
            return [{"id": r.id, "report_hash": r.report_hash, "shipments": r.shipment_count,
                     "created_at": _utc(r.created_at).isoformat(), "cbam_xml": bool(r.cbam)}
                    for r in rows]

    def footprints_page(self, org_id: int | None, limit: int, offset: int
                        ) -> tuple[list[dict[str, Any]], int]:
        """A page of PACT footprints (all, or one organisation's) and the total count."""
        where = [] if org_id is None else [footprints.c.org_id == org_id]
        with self._read() as conn:
            total = int(conn.execute(sa.select(sa.func.count()).select_from(footprints)
                                     .where(*where)).scalar() or 0)
            rows = conn.execute(sa.select(footprints.c.footprint_json).where(*where)
                                .order_by(footprints.c.seq).offset(offset).limit(limit))
            return [json.loads(r.footprint_json) for r in rows], total

    def footprint(self, pf_id: str) -> tuple[int, dict[str, Any]] | None:
        with self._read() as conn:
            row = conn.execute(sa.select(footprints.c.org_id, footprints.c.footprint_json)
                               .where(footprints.c.pf_id == pf_id)).first()
        return None if row is None else (int(row.org_id), json.loads(row.footprint_json))

    def footprints_for_products(self, product_ids: Sequence[str], org_id: int | None = None
                                ) -> list[dict[str, Any]]:
        """Footprints naming any of ``product_ids``."""
        wanted = set(product_ids)
        where = [] if org_id is None else [footprints.c.org_id == org_id]
        out = []
        with self._read() as conn:
            for row in conn.execute(sa.select(footprints.c.product_ids_json,
                                              footprints.c.footprint_json).where(*where)
                                    .order_by(footprints.c.seq)):
                if wanted & set(json.loads(row.product_ids_json)):
                    out.append(json.loads(row.footprint_json))
        return out

    # ------------------------------------------------------------------ audits

    def add_verification(self, org_id: int, verdict: Mapping[str, Any]) -> int:
        with self._write() as conn:
            result = conn.execute(verifications.insert().values(
                org_id=org_id, report_id=verdict.get("reportId"),
                report_hash=verdict.get("reportHash"), verified=bool(verdict.get("verified")),
                verdict_json=json.dumps(verdict), created_at=_now()))
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])

    def verifications_of(self, org_id: int, limit: int = 100) -> list[dict[str, Any]]:
        with self._read() as conn:
            rows = conn.execute(sa.select(verifications).where(verifications.c.org_id == org_id)
                                .order_by(verifications.c.id.desc()).limit(limit))
            return [{"id": r.id, "report_id": r.report_id, "report_hash": r.report_hash,
                     "verified": bool(r.verified), "failed": json.loads(r.verdict_json)["failed"],
                     "created_at": _utc(r.created_at).isoformat()} for r in rows]

    def add_attestation(self, org_id: int, report_id: str | None, report_hash: str, *,
                        tx_hash: str, block_number: int) -> None:
        with self._write() as conn:
            conn.execute(attestations.insert().values(
                org_id=org_id, report_id=report_id, report_hash=report_hash, tx_hash=tx_hash,
                block_number=block_number, created_at=_now()))

    def attestations_of(self, org_id: int, limit: int = 100) -> list[dict[str, Any]]:
        with self._read() as conn:
            rows = conn.execute(sa.select(attestations).where(attestations.c.org_id == org_id)
                                .order_by(attestations.c.id.desc()).limit(limit))
            return [{"report_id": r.report_id, "report_hash": r.report_hash,
                     "tx_hash": r.tx_hash, "block_number": r.block_number,
                     "created_at": _utc(r.created_at).isoformat()} for r in rows]

    # ------------------------------------------------------------------ PACT events

    def add_event(self, event_id: str, event_type: str, source: str, *, direction: str,
                  body: Mapping[str, Any], state: str) -> int:
        now = _now()
        with self._write() as conn:
            result = conn.execute(pact_events.insert().values(
                event_id=event_id, type=event_type, source=source, direction=direction,
                state=state, attempts=0, body_json=json.dumps(body), created_at=now,
                updated_at=now))
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])

    def update_event(self, row_id: int, *, state: str, attempts: int,
                     last_error: str | None) -> None:
        with self._write() as conn:
            conn.execute(pact_events.update().where(pact_events.c.id == row_id).values(
                state=state, attempts=attempts, last_error=last_error, updated_at=_now()))

    def events(self, direction: str | None = None) -> list[dict[str, Any]]:
        where = [] if direction is None else [pact_events.c.direction == direction]
        with self._read() as conn:
            rows = conn.execute(sa.select(pact_events).where(*where).order_by(pact_events.c.id))
            return [{"event_id": r.event_id, "type": r.type, "source": r.source,
                     "direction": r.direction, "state": r.state, "attempts": r.attempts,
                     "body": json.loads(r.body_json), "last_error": r.last_error}
                    for r in rows]
