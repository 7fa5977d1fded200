"""The service store's sharing tables: footprint grants and access requests, and the footprint
reads that sharing needs (created by the service migration ``service_0002_owners_sharing``).

A grant lets one organisation (the grantee) read a data owner's PACT footprints: all of them
(``product_id`` None) or those naming one product id, with the anchor evidence's full record
(``evidence="full"``) or its leaf and proof only (``"leaf"``). An access request is an
organisation's ask for footprints it cannot read yet; the owner grants or declines it. Each
write is one transaction of the ledger store's engine (same database as :mod:`api.store`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from api.store import footprints, metadata, organisations
from ledger.store.store import LedgerStore

__all__ = ["EVIDENCE", "AccessRequest", "FootprintRef", "Grant", "SharingStore"]

#: What a grant discloses of the anchor evidence.
EVIDENCE = ("leaf", "full")
_CHUNK = 500

_TS = sa.DateTime(timezone=True)

grants = sa.Table(
    "service_footprint_grants", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("owner_org_id", sa.Integer, sa.ForeignKey(
        "service_organisations.id", name="fk_service_grants_owner"), nullable=False),
    sa.Column("grantee_org_id", sa.Integer, sa.ForeignKey(
        "service_organisations.id", name="fk_service_grants_grantee"), nullable=False),
    sa.Column("product_id", sa.String(300)),
    sa.Column("evidence", sa.String(8), nullable=False),
    sa.Column("created_at", _TS, nullable=False),
    sa.Column("revoked_at", _TS),
    sa.CheckConstraint("evidence IN ('leaf', 'full')", name="ck_service_grants_evidence"),
    sa.Index("ix_service_grants_grantee", "grantee_org_id", "owner_org_id"),
)
requests = sa.Table(
    "service_access_requests", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("requester_org_id", sa.Integer, sa.ForeignKey(
        "service_organisations.id", name="fk_service_requests_requester"), nullable=False),
    sa.Column("owner_org_id", sa.Integer, sa.ForeignKey(
        "service_organisations.id", name="fk_service_requests_owner"), nullable=False),
    sa.Column("product_ids_json", sa.Text, nullable=False),
    sa.Column("event_id", sa.String(200)),
    sa.Column("source", sa.String(500)),
    sa.Column("comment", sa.String(1000)),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("created_at", _TS, nullable=False),
    sa.Column("decided_at", _TS),
    sa.CheckConstraint("state IN ('pending', 'granted', 'declined')",
                       name="ck_service_requests_state"),
    sa.Index("ix_service_requests_owner", "owner_org_id", "state"),
)


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).isoformat()


@dataclass(frozen=True)
class Grant:
    id: int
    owner_org_id: int
    grantee_org_id: int
    grantee: str
    product_id: str | None
    evidence: str
    created_at: str
    revoked_at: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "organisation": self.grantee, "product_id": self.product_id,
                "evidence": self.evidence, "created_at": self.created_at,
                "revoked_at": self.revoked_at}


@dataclass(frozen=True)
class AccessRequest:
    id: int
    requester_org_id: int
    requester: str
    owner_org_id: int
    owner: str
    product_ids: list[str]
    event_id: str | None
    source: str | None
    comment: str | None
    state: str
    created_at: str
    decided_at: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "requester": self.requester, "exporter": self.owner,
                "product_ids": self.product_ids, "event_id": self.event_id,
                "comment": self.comment, "state": self.state, "created_at": self.created_at,
                "decided_at": self.decided_at}


@dataclass(frozen=True)
class FootprintRef:
    """Where a footprint sits (for visibility checks), without its document."""

    seq: int
    pf_id: str
    org_id: int
    product_ids: frozenset[str]


class SharingStore:
    """Typed access to the sharing tables of an opened store (see the module docstring)."""

    def __init__(self, ledger_store: LedgerStore) -> None:
        self._ledger = ledger_store

    def _write(self) -> AbstractContextManager[Connection]:
        return self._ledger.write("service store")

    def _read(self) -> AbstractContextManager[Connection]:
        return self._ledger.read("service store")

    # ------------------------------------------------------------------ grants

    def add_grant(self, owner_org_id: int, grantee_org_id: int, product_id: str | None,
                  evidence: str) -> int:
        """A grant (an identical live one is kept and returned, not doubled)."""
        with self._write() as conn:
            same = conn.execute(sa.select(grants.c.id).where(
                grants.c.owner_org_id == owner_org_id,
                grants.c.grantee_org_id == grantee_org_id,
                grants.c.product_id.is_(None) if product_id is None
                else grants.c.product_id == product_id,
                grants.c.evidence == evidence, grants.c.revoked_at.is_(None))).first()
            if same is not None:
                return int(same.id)
            result = conn.execute(grants.insert().values(
                owner_org_id=owner_org_id, grantee_org_id=grantee_org_id,
                product_id=product_id, evidence=evidence, created_at=_now()))
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])

    def revoke_grant(self, owner_org_id: int, grant_id: int) -> bool:
        """Revokes a live grant of this owner; False when it has none of that id."""
        with self._write() as conn:
            done = conn.execute(grants.update().where(
                grants.c.id == grant_id, grants.c.owner_org_id == owner_org_id,
                grants.c.revoked_at.is_(None)).values(revoked_at=_now()))
            return bool(done.rowcount)

    def _grants(self, where: Any) -> list[Grant]:
        with self._read() as conn:
            rows = conn.execute(sa.select(grants, organisations.c.name).select_from(
                grants.join(organisations, grants.c.grantee_org_id == organisations.c.id))
                .where(where).order_by(grants.c.id))
            return [Grant(r.id, r.owner_org_id, r.grantee_org_id, r.name, r.product_id,
                          r.evidence, _iso(r.created_at) or "", _iso(r.revoked_at))
                    for r in rows]

    def grants_of(self, owner_org_id: int) -> list[Grant]:
        """Every grant the owner made, live and revoked, oldest first."""
        return self._grants(grants.c.owner_org_id == owner_org_id)

    def live_grants_to(self, grantee_org_id: int) -> list[Grant]:
        """The live grants an organisation holds."""
        return self._grants(sa.and_(grants.c.grantee_org_id == grantee_org_id,
                                    grants.c.revoked_at.is_(None)))

    # ------------------------------------------------------------------ footprints

    def footprint_refs(self, owner_ids: Sequence[int] | None = None) -> list[FootprintRef]:
        """Every footprint of these owners (of all when None), in publication order."""
        query = sa.select(footprints.c.seq, footprints.c.pf_id, footprints.c.org_id,
                          footprints.c.product_ids_json).order_by(footprints.c.seq)
        out: list[FootprintRef] = []
        with self._read() as conn:
            if owner_ids is None:
                parts: list[Any] = [query]
            else:
                ids = list(owner_ids)
                parts = [query.where(footprints.c.org_id.in_(ids[i:i + _CHUNK]))
                         for i in range(0, len(ids), _CHUNK)]
            for part in parts:
                out += [FootprintRef(int(r.seq), r.pf_id, int(r.org_id),
                                     frozenset(json.loads(r.product_ids_json)))
                        for r in conn.execute(part)]
        out.sort(key=lambda ref: ref.seq)
        return out

    def footprint_documents(self, pf_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The documents of these footprints, by id."""
        out: dict[str, dict[str, Any]] = {}
        with self._read() as conn:
            for start in range(0, len(pf_ids), _CHUNK):
                for r in conn.execute(sa.select(footprints.c.pf_id, footprints.c.footprint_json)
                                      .where(footprints.c.pf_id.in_(
                                          pf_ids[start:start + _CHUNK]))):
                    out[r.pf_id] = json.loads(r.footprint_json)
        return out

    # ------------------------------------------------------------------ access requests

    def add_request(self, requester_org_id: int, owner_org_id: int, product_ids: Sequence[str],
                    *, event_id: str | None = None, source: str | None = None,
                    comment: str | None = None) -> int:
        with self._write() as conn:
            result = conn.execute(requests.insert().values(
                requester_org_id=requester_org_id, owner_org_id=owner_org_id,
                product_ids_json=json.dumps(sorted(set(product_ids))), event_id=event_id,
                source=source, comment=comment, state="pending", created_at=_now()))
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])

    def _requests(self, where: Any) -> list[AccessRequest]:
        requester = organisations.alias("requester")
        owner = organisations.alias("owner")
        with self._read() as conn:
            rows = conn.execute(
                sa.select(requests, requester.c.name.label("requester_name"),
                          owner.c.name.label("owner_name"))
                .select_from(requests
                             .join(requester, requests.c.requester_org_id == requester.c.id)
                             .join(owner, requests.c.owner_org_id == owner.c.id))
                .where(where).order_by(requests.c.id.desc()).limit(500))
            return [AccessRequest(r.id, r.requester_org_id, r.requester_name, r.owner_org_id,
                                  r.owner_name, json.loads(r.product_ids_json), r.event_id,
                                  r.source, r.comment, r.state, _iso(r.created_at) or "",
                                  _iso(r.decided_at)) for r in rows]

    def requests_to(self, owner_org_id: int) -> list[AccessRequest]:
        """Requests addressed to a data owner, newest first."""
        return self._requests(requests.c.owner_org_id == owner_org_id)

    def requests_by(self, requester_org_id: int) -> list[AccessRequest]:
        """Requests an organisation made, newest first."""
        return self._requests(requests.c.requester_org_id == requester_org_id)

    def decide_request(self, owner_org_id: int, request_id: int, state: str
                       ) -> AccessRequest | None:
        """Marks a pending request of this owner ``granted`` or ``declined``; the request as it
        now stands, or None when the owner has no pending request of that id."""
        with self._write() as conn:
            done = conn.execute(requests.update().where(
                requests.c.id == request_id, requests.c.owner_org_id == owner_org_id,
                requests.c.state == "pending").values(state=state, decided_at=_now()))
            if not done.rowcount:
                return None
        found = self._requests(requests.c.id == request_id)
        return found[0] if found else None
