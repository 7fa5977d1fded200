"""Queries of record versions: the corrected records that superseded an anchored one.

Version 1 of a shipment is its row in ``records`` (what was anchored first); versions 2, 3, ...
are the records that replaced it on chain through ``supersedeRecord``, each kept with its proof
bundle. Adding the same corrected record again returns its version instead of a new one.
"""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ledger.errors import StoreError
from ledger.store.engine import now
from ledger.store.records import scope_id
from ledger.store.rows import RecordVersion, Scope
from ledger.store.schema import record_versions

__all__ = ["add_version", "corrected_shipments", "versions_of"]


def versions_of(conn: Connection, scope: Scope, shipment_id: str) -> list[RecordVersion]:
    """The stored versions (2, 3, ...) of a shipment, oldest first."""
    found = scope_id(conn, scope, create=False)
    if found is None:
        return []
    rows = conn.execute(sa.select(record_versions).where(
        record_versions.c.scope_id == found, record_versions.c.shipment_id == shipment_id,
    ).order_by(record_versions.c.version))
    return [RecordVersion(r.shipment_id, int(r.version), r.record_hash, r.supersedes,
                          orjson.loads(r.bundle_json)) for r in rows]


def corrected_shipments(conn: Connection, scope: Scope) -> dict[str, int]:
    """The shipments of ``scope`` that have corrected versions, each with its newest version."""
    found = scope_id(conn, scope, create=False)
    if found is None:
        return {}
    rows = conn.execute(sa.select(record_versions.c.shipment_id,
                                  sa.func.max(record_versions.c.version))
                        .where(record_versions.c.scope_id == found)
                        .group_by(record_versions.c.shipment_id))
    return {shipment_id: int(version) for shipment_id, version in rows}


def add_version(conn: Connection, scope: Scope, shipment_id: str, *, record_hash: str,
                supersedes: str, bundle: dict[str, Any]) -> int:
    """Keeps a corrected record (its bundle) as the shipment's next version; the version."""
    found = scope_id(conn, scope, create=False)
    if found is None:
        raise StoreError(f"no record of {scope.exporter} on chain {scope.chain_id} in this store")
    known = versions_of(conn, scope, shipment_id)
    for kept in known:
        if kept.record_hash == record_hash:
            return kept.version
    latest = known[-1].record_hash if known else None
    if latest is not None and supersedes != latest:
        raise StoreError(f"shipment {shipment_id!r}: version {known[-1].version} is "
                         f"{latest}; a new version must supersede it, not {supersedes}")
    number = (known[-1].version if known else 1) + 1
    conn.execute(record_versions.insert().values(
        scope_id=found, shipment_id=shipment_id, version=number, record_hash=record_hash,
        supersedes=supersedes, bundle_json=orjson.dumps(bundle), created_at=now()))
    return number
