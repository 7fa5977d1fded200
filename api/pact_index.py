"""The published PACT footprints in memory, ready to serve in both versions.

Every published footprint (stored as PACT v2.3 JSON by :mod:`api.store`) is kept here once per
visibility (all footprints, or one exporter's) with its v2.3 and v3 JSON already serialised and
the few values the v3 filters read, so a ``ListFootprints`` page is a join of bytes and a filter
is a scan of small tuples, whatever the size of the footprints (their anchor extension carries
the whole record).

Freshness: before each use the snapshot compares the store's count and its newest footprint with
what it was built from, two cheap reads; any publication changes one of them. A report appends
its footprints after all others, and re-publishing a footprint deletes its older row, so a
changed store is caught up by reading only its tail: the rows after the newest one the snapshot
already holds (same id, same bytes) are the new ones, and the snapshot drops its rows with their
ids. When the tail does not add up with the count (or holds no new row), the store is re-read in
full. Either happens once, under a lock, while other requests wait for it.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from api.store import ServiceStore
from ledger.reports.pact3 import Filters, to_v3, validity_period

__all__ = ["Entry", "FootprintIndex", "Snapshot"]

_CHUNK = 2000


@dataclass(frozen=True)
class Entry:
    """One footprint: its id, both serialisations and the values the v3 filters read."""

    pf_id: str
    v2_json: bytes
    v3_json: bytes
    product_ids: frozenset[str]
    company_ids: frozenset[str]
    geographies: frozenset[str]
    classifications: frozenset[str]
    status: str
    valid_from: datetime
    valid_to: datetime

    def matches(self, filters: Filters) -> bool:
        """The v3 filter rule (:func:`ledger.reports.pact3.matches`) on the kept values."""
        if filters.product_id and not self.product_ids.intersection(filters.product_id):
            return False
        if filters.company_id and not self.company_ids.intersection(filters.company_id):
            return False
        if filters.geography and not self.geographies.intersection(filters.geography):
            return False
        if filters.classification and not self.classifications.intersection(
                filters.classification):
            return False
        if filters.status and self.status not in filters.status:
            return False
        if filters.valid_on and not self.valid_from <= filters.valid_on <= self.valid_to:
            return False
        if filters.valid_after and not self.valid_from > filters.valid_after:
            return False
        return not (filters.valid_before and not self.valid_to < filters.valid_before)


def _entry(footprint: dict[str, Any]) -> Entry:
    v3 = to_v3(footprint)
    start, end = validity_period(v3)
    pcf = v3["pcf"]
    return Entry(
        pf_id=str(footprint["id"]),
        v2_json=orjson.dumps(footprint),
        v3_json=orjson.dumps(v3),
        product_ids=frozenset(p.lower() for p in v3["productIds"]),
        company_ids=frozenset(c.lower() for c in v3["companyIds"]),
        geographies=frozenset(str(pcf[k]).lower() for k in (
            "geographyCountry", "geographyRegionOrSubregion", "geographyCountrySubdivision")
            if pcf.get(k)),
        classifications=frozenset(c.lower() for c in v3.get("productClassifications") or ()),
        status=str(v3["status"]).lower(),
        valid_from=start, valid_to=end,
    )


_KEYED = (("product_id", "product_ids"), ("company_id", "company_ids"),
          ("geography", "geographies"), ("classification", "classifications"))


class Snapshot:
    """The footprints of one visibility, oldest first, an index by id, and the positions of the
    footprints holding each product id, company id, geography, classification and status."""

    def __init__(self, entries: tuple[Entry, ...]) -> None:
        self.entries = entries
        self.by_id = {e.pf_id: e for e in entries}
        self._positions: dict[tuple[str, str], list[int]] = {}
        for position, entry in enumerate(entries):
            keys = [("status", entry.status)]
            for criterion, attribute in _KEYED:
                keys += [(criterion, value) for value in getattr(entry, attribute)]
            for key in keys:
                self._positions.setdefault(key, []).append(position)

    def _candidates(self, filters: Filters) -> Iterable[int]:
        found: set[int] | None = None
        for criterion in ("product_id", "company_id", "geography", "classification", "status"):
            values = getattr(filters, criterion)
            if not values:
                continue
            union = {p for v in values for p in self._positions.get((criterion, v), ())}
            found = union if found is None else found & union
            if not found:
                return ()
        return range(len(self.entries)) if found is None else sorted(found)

    def page(self, filters: Filters, offset: int, limit: int) -> tuple[list[Entry], bool]:
        """The matching footprints from ``offset`` on, at most ``limit``, and whether more
        match after them (the matches are counted only as far as needed)."""
        out: list[Entry] = []
        skipped = 0
        for position in self._candidates(filters):
            entry = self.entries[position]
            if not entry.matches(filters):
                continue
            if skipped < offset:
                skipped += 1
                continue
            if len(out) == limit:
                return out, True
            out.append(entry)
        return out, False

    def select(self, filters: Filters) -> list[Entry]:
        """Every matching footprint."""
        return [self.entries[p] for p in self._candidates(filters)
                if self.entries[p].matches(filters)]


def _signature(store: ServiceStore, org_id: int | None) -> tuple[int, str]:
    total = store.footprints_page(org_id, 0, 0)[1]
    if total == 0:
        return 0, ""
    last = store.footprints_page(org_id, 1, total - 1)[0]
    digest = hashlib.sha256(json.dumps(last, sort_keys=True).encode()).hexdigest()
    return total, digest


def _all(store: ServiceStore, org_id: int | None) -> Iterator[dict[str, Any]]:
    offset = 0
    while True:
        page, total = store.footprints_page(org_id, _CHUNK, offset)
        yield from page
        offset += len(page)
        if not page or offset >= total:
            return


def _tail(store: ServiceStore, org_id: int | None, old: Snapshot, total: int
          ) -> Snapshot | None:
    """The snapshot caught up with the rows appended since ``old`` was built, or None when the
    store cannot be explained as ``old`` plus appended rows (then it is re-read in full)."""
    if not old.entries:
        return None
    size = 1
    while True:
        size = min(size * 4, total)
        rows = store.footprints_page(org_id, size, total - size)[0]
        for position in range(len(rows) - 1, -1, -1):
            row = rows[position]
            known = old.by_id.get(str(row.get("id")))
            if known is not None and known.v2_json == orjson.dumps(row):
                appended = [_entry(r) for r in rows[position + 1:]]
                if not appended:
                    return None
                fresh = {e.pf_id for e in appended}
                kept = [e for e in old.entries if e.pf_id not in fresh]
                if len(kept) + len(appended) != total:
                    return None
                return Snapshot((*kept, *appended))
        if size >= total:
            return None


class FootprintIndex:
    """Snapshots of the published footprints, rebuilt when the store changed."""

    def __init__(self, store: ServiceStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._snapshots: dict[int | None, tuple[tuple[int, str], Snapshot]] = {}

    def snapshot(self, org_id: int | None) -> Snapshot:
        """The footprints visible to ``org_id`` (``None``: all), current with the store."""
        signature = _signature(self._store, org_id)
        found = self._snapshots.get(org_id)
        if found is not None and found[0] == signature:
            return found[1]
        with self._lock:
            found = self._snapshots.get(org_id)
            signature = _signature(self._store, org_id)  # taken before the read: a write
            if found is not None and found[0] == signature:  # meanwhile means one more read
                return found[1]
            snapshot = None if found is None else _tail(self._store, org_id, found[1],
                                                         signature[0])
            if snapshot is None:
                snapshot = Snapshot(tuple(_entry(f) for f in _all(self._store, org_id)))
            self._snapshots[org_id] = (signature, snapshot)
            return snapshot
