"""The declaration index: each stored record read once as a CBAM consignment.

:func:`index_entry` is what the index keeps of a record (:func:`consignment_row`'s reading, cut
into the per-record figures and a *profile*: the fields that decide a declaration line, shared by
many consignments). :func:`indexed_consignments` brings the index up to date and reads one
declarant's consignments of one year from it with one query: what :func:`compute_declaration
<ledger.declaration.build.compute_declaration>` does on its fast path instead of parsing every
stored record. It answers ``None`` (read the records one by one, which names every problem)
when the store holds a CBAM record that is not a clean consignment: a problem, no declarant or
importer, no release date.
"""

from __future__ import annotations

from datetime import date
from operator import itemgetter
from typing import Any

import orjson

from ledger.declaration.consignments import ConsignmentRow, consignment_row
from ledger.store.cbam import IndexEntry
from ledger.store.store import LedgerStore

__all__ = ["PROFILE_FIELDS", "index_consignments", "index_entry", "indexed_consignments",
           "read_indexed"]

#: The fields of a :class:`ConsignmentRow` kept once per profile (the others are per record).
PROFILE_FIELDS = ("exporter", "cn8", "cn_code", "sector", "country", "installation_id",
                  "operator", "route_text", "data_type", "method", "verifier", "default_ref",
                  "specific_direct", "specific_indirect", "markup_year", "supplier_document")
_EORI_MAX = 17
_fields = itemgetter(*(ConsignmentRow._fields.index(name) for name in PROFILE_FIELDS))


def _profile(row: ConsignmentRow) -> tuple[str, ...]:
    """The row's profile fields, all text: the supplier document as canonical JSON ("": none)."""
    values = _fields(row)
    document = row.supplier_document
    text = "" if document is None else orjson.dumps(
        document, option=orjson.OPT_SORT_KEYS).decode()
    return (*values[:-1], text)


def index_entry(shipment_id: str, body: bytes) -> IndexEntry:
    """What the index keeps of the record ``body`` stored for ``shipment_id``."""
    if b'"cbam"' not in body:  # no footprint.cbam block at all
        return IndexEntry("none")
    try:
        row = consignment_row(orjson.loads(body))
    except (orjson.JSONDecodeError, AttributeError, TypeError, ValueError) as exc:
        return IndexEntry("problem", problem=f"the record cannot be read: {exc}")
    if row is None:
        return IndexEntry("none")
    if isinstance(row, str):
        return IndexEntry("problem", problem=row)
    if row.shipment_id != shipment_id:
        return IndexEntry("problem", problem="the record's shipment id is not the stored one")
    declarant = row.declarant
    if declarant is not None and (type(declarant) is not str or len(declarant) > _EORI_MAX):
        return IndexEntry("problem", problem="the declarant's EORI is not a short text")
    if declarant is None or row.import_date is None:
        return IndexEntry("cbam", declarant=declarant, release_date=None if row.import_date
                          is None else row.import_date.isoformat())
    return IndexEntry("cbam", declarant, row.import_date.isoformat(), _profile(row),
                      row.net_mass_g, row.embedded_g)


def index_consignments(store: LedgerStore) -> int:
    """Indexes the stored records the index does not hold yet; how many."""
    return store.index_cbam(index_entry)


def indexed_consignments(store: LedgerStore, declarant: str, year: int
                         ) -> tuple[list[tuple[Any, ...]], dict[int, tuple[str, ...]]] | None:
    """The consignments of ``declarant`` released in ``year`` from the index, brought up to date
    first, as plain tuples (:class:`~ledger.store.cbam.DeclarantRow` fields) with their
    profiles by id; ``None`` when the records must be read one by one (module docstring) or
    none is indexed."""
    index_consignments(store)
    if not store.cbam_index_is_clean():
        return None
    found, profiles = store.cbam_consignment_tuples(declarant, year)
    return (found, profiles) if found else None


def read_indexed(store: LedgerStore, declarant: str, year: int
                 ) -> tuple[list[ConsignmentRow], list[tuple[str, str | None, int, int, int,
                                                             int, int | None]]] | None:
    """:func:`indexed_consignments` as rows and, for each, (record hash, leaf hash, WTW grams,
    TTW grams, batch id, position, tree index)."""
    indexed = indexed_consignments(store, declarant, year)
    if indexed is None:
        return None
    found, profiles = indexed
    dates: dict[str, date] = {}
    parts = {pid: (p[0], p[1:11], (*p[11:-1], orjson.loads(p[-1]) if p[-1] else None))
             for pid, p in profiles.items()}
    rows: list[ConsignmentRow] = []
    leaves: list[tuple[str, str | None, int, int, int, int, int | None]] = []
    make = tuple.__new__
    for (shipment_id, record_hash, leaf_hash, wtw_g, ttw_g, batch_id, position, tree_index,
         profile_id, released, mass_g, embedded_g) in found:
        exporter, middle, tail = parts[profile_id]
        day = dates.get(released)
        if day is None:
            day = dates[released] = date.fromisoformat(released)
        rows.append(make(ConsignmentRow, (shipment_id, exporter, declarant, day, *middle,
                                          mass_g, embedded_g, *tail)))
        leaves.append((record_hash, leaf_hash, wtw_g, ttw_g, batch_id, position, tree_index))
    return rows, leaves
