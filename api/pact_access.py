"""The footprints of the in-memory index (:mod:`api.pact_index`) a caller may read, and in which
form: the sharing rules of :mod:`api.sharing` applied to the index that serves PACT v2 and v3.

- an admin reads every footprint, an exporter its own, both in full, straight from the index's
  serialised bytes;
- a buyer or an auditor reads what a data owner shared with its organisation; where the grant
  withholds the evidence, the anchor record inside the footprint is left out (``leaf``, see
  :func:`api.sharing.served`), in both versions.

A footprint that is unknown and one that is not shared get the same answer (None / absent).
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from api.auth import Principal
from api.context import ServiceContext
from api.pact_index import Entry, Snapshot
from api.sharing import readable_evidence, served
from api.sharing_store import SharingStore
from ledger.reports.pact3 import Filters

__all__ = ["Readable", "readable", "v3_event_access"]


@dataclass(frozen=True)
class Readable:
    """One caller's view of the index."""

    entries: tuple[Entry, ...]
    """The readable footprints, oldest first."""
    evidence: dict[str, str] | None
    """Footprint id -> ``full`` or ``leaf``; None: all in full."""
    snapshot: Snapshot | None = None
    """The view's entries indexed (the index's own snapshot when the view is all of it): its
    positions answer filters, its ids ``GetFootprint``."""
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)
    """What readers derived from this view (e.g. its iLEAP TADs), kept as long as the view."""

    def v2(self, entry: Entry) -> bytes:
        return self._form(entry, entry.v2_json)

    def v3(self, entry: Entry) -> bytes:
        return self._form(entry, entry.v3_json)

    def _form(self, entry: Entry, raw: bytes) -> bytes:
        if self.evidence is None or self.evidence.get(entry.pf_id) == "full":
            return raw
        return orjson.dumps(served(orjson.loads(raw), "leaf"))

    def by_id(self, pf_id: str) -> Entry | None:
        if self.snapshot is not None:
            return self.snapshot.by_id.get(pf_id)
        return next((e for e in self.entries if e.pf_id == pf_id), None)

    def page(self, filters: Filters, offset: int, limit: int) -> tuple[list[Entry], bool]:
        """The matching footprints from ``offset``, at most ``limit``, and whether more match."""
        if self.snapshot is not None:
            return self.snapshot.page(filters, offset, limit)
        matching = [e for e in self.entries if e.matches(filters)]
        return matching[offset:offset + limit], len(matching) > offset + limit


def readable(ctx: ServiceContext, who: Principal) -> Readable:
    """What ``who`` may read of the index (see the module docstring).

    A view is worked out once per state of the caller's grants and of the index (a new
    snapshot: any publication or removal) and kept, with what was derived from it
    (:attr:`Readable.memo`); :func:`_uncached_view` is the rule.
    """
    if who.role in ("admin", "exporter"):
        base = ctx.events.footprints.snapshot(who.org_id if who.role == "exporter" else None)
        key: tuple[Any, ...] = (who.org_id, who.role)
    else:
        grants = tuple(sorted(
            (g.id, g.owner_org_id, g.product_id or "", g.evidence)
            for g in SharingStore(ctx.store.ledger).live_grants_to(who.org_id)))
        base = ctx.events.footprints.snapshot(None)
        key = (who.org_id, who.role, grants)
    with _VIEWS_LOCK:
        views = _VIEWS.setdefault(ctx.events.footprints, OrderedDict())
        found = views.get(key)
        if found is not None and found[0] is base:
            views.move_to_end(key)
            return found[1]
    view = _uncached_view(ctx, who, base)
    with _VIEWS_LOCK:
        views[key] = (base, view)
        views.move_to_end(key)
        while len(views) > _VIEWS_KEPT:
            views.popitem(last=False)
    return view


#: Views kept per index (callers reading at once; a view of 10,000 footprints with its TADs is
#: about 1 MB); the one used longest ago goes first.
_VIEWS_KEPT = 64
_VIEWS: weakref.WeakKeyDictionary[Any, OrderedDict[Any, tuple[Snapshot, Readable]]] = \
    weakref.WeakKeyDictionary()
_VIEWS_LOCK = threading.Lock()


def _uncached_view(ctx: ServiceContext, who: Principal, base: Snapshot | None = None
                   ) -> Readable:
    """The caller's view, read from the sharing rules and the store (the test oracle)."""
    evidence = readable_evidence(ctx, who)
    if evidence is None:
        snapshot = base if base is not None else ctx.events.footprints.snapshot(
            who.org_id if who.role == "exporter" else None)
        return Readable(snapshot.entries, None, snapshot)
    if not evidence:
        return Readable((), {})
    base = base if base is not None else ctx.events.footprints.snapshot(None)
    entries = tuple(e for e in base.entries if e.pf_id in evidence)
    return Readable(entries, evidence, Snapshot(entries))


def v3_event_access(ctx: ServiceContext) -> Callable[[Principal, Filters], list[dict[str, Any]]]:
    """The hook of :class:`api.pact_events.EventSender` for v3 requests: the footprints
    matching the criteria that the requester may read, in the form it may read them."""

    def access(who: Principal, criteria: Filters) -> list[dict[str, Any]]:
        view = readable(ctx, who)
        rows = view.snapshot.select(criteria) if view.snapshot is not None \
            else [e for e in view.entries if e.matches(criteria)]
        return [orjson.loads(view.v3(e)) for e in rows]

    return access
