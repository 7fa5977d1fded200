"""Queries of the declaration index: what each stored record says as a CBAM consignment.

The index (``cbam_consignments``, with the distinct groupings in ``cbam_profiles``; see
:mod:`ledger.store.schema`) holds one row per stored record, read once from the record's canonical
bytes by a caller-given function (the declaration's reading of a record,
:mod:`ledger.declaration.index`). A declaration then reads the few columns it needs of one
declarant and year with one indexed query instead of parsing every record. Records are indexed
whenever a declaration finds some not indexed yet (and by migration ``0005`` for the records
stored before it); the index never changes a record.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, NamedTuple, TypeVar

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ledger.errors import StoreError
from ledger.records.blocks import unpack_block
from ledger.store.engine import chunks, new_id
from ledger.store.schema import cbam_consignments, cbam_profiles, record_blocks, records, scopes

T = TypeVar("T")
_ABSENT: Any = object()

__all__ = [
    "BodyShare",
    "DeclarantRow",
    "IndexEntry",
    "declarant_rows",
    "declarant_tuples",
    "has_odd_rows",
    "index_missing",
    "profiles",
]

_CHUNK_RECORDS = 20_000


class IndexEntry(NamedTuple):
    """A record as the index keeps it: ``kind`` is ``cbam``, ``none`` or ``problem``; a ``cbam``
    entry has every other field but ``problem``, and ``profile`` is a tuple of strings."""

    kind: str
    declarant: str | None = None
    release_date: str | None = None
    profile: tuple[str, ...] | None = None
    net_mass_g: int | None = None
    embedded_g: int | None = None
    problem: str | None = None


class DeclarantRow(NamedTuple):
    """One indexed consignment of a declarant and year with its stored record's leaf values."""

    shipment_id: str
    record_hash: str
    leaf_hash: str | None
    co2e_wtw_g: int
    co2e_ttw_g: int
    batch_id: int
    position: int
    tree_index: int | None
    profile_id: int
    release_date: str
    net_mass_g: int
    embedded_g: int


def _bodies(conn: Connection, low: int, high: int) -> Iterator[tuple[int, str, bytes]]:
    """(id, shipment id, canonical bytes) of the records with ids in ``low..high`` that the
    index does not hold, by id; each record block read and decompressed once."""
    indexed = sa.select(cbam_consignments.c.record_id).where(
        cbam_consignments.c.record_id == records.c.id).exists()
    rows = conn.execute(
        sa.select(records.c.id, records.c.shipment_id, records.c.record_json,
                  records.c.block_id, records.c.block_offset, records.c.block_length)
        .where(records.c.id >= low, records.c.id <= high, ~indexed).order_by(records.c.id)
    ).all()
    wanted = sorted({row.block_id for row in rows if row.record_json is None})
    blocks: dict[int, bytes] = {}
    for part in chunks(wanted, 100):
        for found in conn.execute(sa.select(record_blocks.c.id, record_blocks.c.codec,
                                            record_blocks.c.data)
                                  .where(record_blocks.c.id.in_(part))):
            blocks[found.id] = unpack_block(found.codec, bytes(found.data))
    for row in rows:
        if row.record_json is not None:
            yield row.id, row.shipment_id, bytes(row.record_json)
            continue
        unpacked = blocks.get(row.block_id)
        end = row.block_offset + row.block_length
        if unpacked is None or end > len(unpacked):
            raise StoreError(f"the record of shipment {row.shipment_id!r} is missing from "
                             f"record block {row.block_id}")
        yield row.id, row.shipment_id, unpacked[row.block_offset:end]


def _profile_ids(conn: Connection, wanted: set[tuple[str, ...]]) -> dict[tuple[str, ...], int]:
    """The ids of these profiles, stored when new."""
    texts = {p: orjson.dumps(list(p)) for p in wanted}
    digests = {p: hashlib.sha256(t).hexdigest() for p, t in texts.items()}
    by_digest: dict[str, int] = {}
    for part in chunks(sorted(digests.values()), 500):
        for found in conn.execute(sa.select(cbam_profiles.c.id, cbam_profiles.c.digest)
                                  .where(cbam_profiles.c.digest.in_(part))):
            by_digest[found.digest] = found.id
    for profile, digest in digests.items():
        if digest not in by_digest:
            by_digest[digest] = new_id(conn.execute(cbam_profiles.insert().values(
                digest=digest, fields_json=texts[profile])))
    return {p: by_digest[d] for p, d in digests.items()}


def index_missing(conn: Connection, read: Callable[[str, bytes], IndexEntry]) -> int:
    """Indexes every stored record the index does not hold yet, ``read`` giving what a record
    says (from its shipment id and canonical bytes); returns how many were indexed."""
    # every index row names a stored record, once (primary and foreign key): as many index
    # rows as records means nothing is left to index
    stored = conn.execute(sa.select(sa.func.count()).select_from(records)).scalar()
    held = conn.execute(sa.select(sa.func.count()).select_from(cbam_consignments)).scalar()
    if stored == held:
        return 0
    indexed = sa.select(cbam_consignments.c.record_id).where(
        cbam_consignments.c.record_id == records.c.id).exists()
    ids = conn.execute(sa.select(records.c.id).where(~indexed).order_by(records.c.id)
                       ).scalars().all()
    done = 0
    for part in chunks(ids, _CHUNK_RECORDS):
        entries = [(record_id, read(shipment_id, body))
                   for record_id, shipment_id, body in _bodies(conn, part[0], part[-1])]
        profile_ids = _profile_ids(conn, {e.profile for _, e in entries
                                          if e.profile is not None})
        rows = [(record_id, e.kind, e.declarant, e.release_date,
                 int(e.release_date[:4]) if e.release_date else None,
                 None if e.profile is None else profile_ids[e.profile], e.net_mass_g,
                 e.embedded_g, e.problem) for record_id, e in entries]
        _insert_index(conn, rows)
        done += len(rows)
    return done


_INDEX_COLUMNS = ("record_id", "kind", "declarant", "release_date", "release_year",
                  "profile_id", "net_mass_g", "embedded_g", "problem")


def _insert_index(conn: Connection, rows: Sequence[tuple[object, ...]]) -> None:
    """Inserts index rows (:data:`_INDEX_COLUMNS`); on SQLite straight through the driver."""
    if not rows:
        return
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(
            f"INSERT INTO cbam_consignments ({', '.join(_INDEX_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(_INDEX_COLUMNS))})", list(rows))
        return
    conn.execute(cbam_consignments.insert(),
                 [dict(zip(_INDEX_COLUMNS, row, strict=True)) for row in rows])


def has_odd_rows(conn: Connection) -> bool:
    """Whether the index holds a record that is a CBAM good but not a clean consignment (a
    problem, no declarant, or no release date): a declaration then judges records one by one."""
    odd = conn.execute(sa.select(cbam_consignments.c.record_id).where(sa.or_(
        cbam_consignments.c.kind == "problem",
        sa.and_(cbam_consignments.c.kind == "cbam",
                sa.or_(cbam_consignments.c.declarant.is_(None),
                       cbam_consignments.c.release_date.is_(None))))).limit(1)).first()
    return odd is not None


def declarant_rows(conn: Connection, declarant: str, year: int) -> list[Any]:
    """The indexed consignments of ``declarant`` released in ``year`` (:class:`DeclarantRow`
    fields, as plain rows)."""
    c, r = cbam_consignments.c, records.c
    return list(conn.execute(
        sa.select(r.shipment_id, r.record_hash, r.leaf_hash, r.co2e_wtw_g, r.co2e_ttw_g,
                  r.batch_id, r.position, r.tree_index, c.profile_id, c.release_date,
                  c.net_mass_g, c.embedded_g)
        .select_from(cbam_consignments.join(records, r.id == c.record_id))
        .where(c.kind == "cbam", c.declarant == declarant, c.release_year == year)
    ).all())


def declarant_tuples(conn: Connection, declarant: str, year: int) -> list[tuple[Any, ...]]:
    """What :func:`declarant_rows` gives as plain tuples, fetched by the driver (no row object
    per consignment: a million at a time)."""
    c, r = cbam_consignments.c, records.c
    return _driver_tuples(conn, (
        sa.select(r.shipment_id, r.record_hash, r.leaf_hash, r.co2e_wtw_g, r.co2e_ttw_g,
                  r.batch_id, r.position, r.tree_index, c.profile_id, c.release_date,
                  c.net_mass_g, c.embedded_g)
        .select_from(cbam_consignments.join(records, r.id == c.record_id))
        .where(c.kind == "cbam", c.declarant == declarant, c.release_year == year)))


def _driver_tuples(conn: Connection, statement: sa.Select[Any]) -> list[tuple[Any, ...]]:
    """The rows of ``statement`` as the database driver's plain tuples."""
    compiled = statement.compile(dialect=conn.dialect)
    params: Any = compiled.params
    if compiled.positiontup is not None:
        params = tuple(params[name] for name in compiled.positiontup)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(str(compiled), params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def profiles(conn: Connection, ids: Iterable[int]) -> dict[int, tuple[str, ...]]:
    """Stored profiles by id."""
    out: dict[int, tuple[str, ...]] = {}
    for part in chunks(sorted(set(ids)), 500):
        for found in conn.execute(sa.select(cbam_profiles.c.id, cbam_profiles.c.fields_json)
                                  .where(cbam_profiles.c.id.in_(part))):
            out[found.id] = tuple(orjson.loads(found.fields_json))
    return out


class BodyShare(NamedTuple):
    """One of two shares of the stored records, for two readers that read them at once: the
    records whose block (a record stored on its own: the record) falls among ``percent`` of
    every hundred (``first``), or the others. Blocks are spread over the hundred by their id
    times a number prime to it, so that any run of blocks is shared in about that
    proportion."""

    percent: int
    first: bool


#: Spreads consecutive block ids over the hundred (:class:`BodyShare`): prime to 100.
_SPREAD = 61


def scope_bodies(conn: Connection, scope_id: int, exporter: str,
                 wanted: dict[tuple[str, str], T], share: BodyShare | None = None
                 ) -> Iterator[tuple[T, bytes]]:
    """For each record of a scope (of ``exporter``), in batch order, whose (exporter, shipment
    id) is a key of ``wanted``: the key's value, popped, and the record's canonical bytes. The
    others are passed over (not cut out of their blocks); no row object is built per record,
    each block is decompressed once. ``share``: only the records of that share are read."""
    take = wanted.pop
    statement = sa.select(records.c.shipment_id, records.c.record_json, records.c.block_id,
                          records.c.block_offset, records.c.block_length) \
        .where(records.c.scope_id == scope_id)
    if share is not None:
        # the id's last two digits first: the product stays small for 32-bit integer columns
        place = sa.func.coalesce(records.c.block_id, records.c.id) % 100 * _SPREAD % 100
        statement = statement.where(place < share.percent if share.first
                                    else place >= share.percent)
    rows = _driver_tuples(conn, statement.order_by(records.c.batch_id, records.c.position))
    blocks: dict[int, bytes] = {}
    for shipment_id, body, block_id, offset, length in rows:
        found = take((exporter, shipment_id), _ABSENT)
        if found is _ABSENT:
            continue
        if body is not None:
            yield found, bytes(body)
            continue
        unpacked = blocks.get(block_id)
        if unpacked is None:
            block = conn.execute(sa.select(record_blocks.c.codec, record_blocks.c.data)
                                 .where(record_blocks.c.id == block_id)).first()
            if block is None:
                raise StoreError(f"record block {block_id} of shipment {shipment_id!r} is "
                                 "missing")
            blocks.clear()  # a scope's records come block after block
            unpacked = blocks[block_id] = unpack_block(block.codec, bytes(block.data))
        if offset + length > len(unpacked):
            raise StoreError(f"the record of shipment {shipment_id!r} is missing from record "
                             f"block {block_id}")
        yield found, unpacked[offset:offset + length]


def scope_ids(conn: Connection) -> list[tuple[int, str]]:
    """(id, exporter) of every scope."""
    return [(row.id, row.exporter) for row in conn.execute(
        sa.select(scopes.c.id, scopes.c.exporter).order_by(scopes.c.id))]
