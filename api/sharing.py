"""Who may read which PACT footprint: the data-owner model of PACT, per requesting organisation.

- An **exporter** is the data owner of the footprints of its reports: it reads all of them.
- A **buyer** or an **auditor** reads only what a data owner shared with its organisation
  (:mod:`api.sharing_store`: all of the owner's footprints, or those of named product ids).
  Asking for more is the PACT request flow: a ``ProductFootprintRequest.Created`` event at
  ``/2/events`` (or ``POST /v1/access-requests``) records, for each data owner that holds
  footprints of the requested products, a pending request; when the owner grants it, the
  footprints become readable and, for an event from a configured PACT partner, a ``Fulfilled``
  event carries them to the requester.
- An **admin** (the operator of the service) reads all.

The anchor evidence inside a footprint (the anchor ``DataModelExtension``) holds the shipment's
full record: consignment, installation and CBAM figures. A footprint is served with that record
only to its owner, an admin, or a grantee whose grant says ``evidence="full"``; anyone else gets
the leaf (on-chain shipment id, record hash, emissions), the Merkle proof, the batch and the
transaction, with ``record`` null and ``recordDisclosed`` false: enough to check on chain that
the footprint's figures were anchored, without the commercial details.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from api.auth import Principal
from api.context import ServiceContext
from api.sharing_store import FootprintRef, SharingStore
from ledger.reports.model import ANCHOR_SCHEMA

__all__ = ["Visibility", "event_access", "footprint_for", "footprints_for_products",
           "footprints_page", "grant_request", "readable_evidence", "record_requests", "served",
           "visibility"]

_FULFILLED = "org.wbcsd.pathfinder.ProductFootprintRequest.Fulfilled.v1"


@dataclass(frozen=True)
class Visibility:
    """What one caller may read: everything (``everything``), or the footprints of the owners in
    ``owners`` (all of them) and of ``products`` (owner, product id) pairs, each with the
    evidence it may see."""

    everything: bool
    own_org: int | None
    owners: Mapping[int, str]
    products: Mapping[tuple[int, str], str]

    def evidence(self, ref: FootprintRef) -> str | None:
        """``"full"``, ``"leaf"`` or None (not readable) for a footprint."""
        if self.everything or ref.org_id == self.own_org:
            return "full"
        found = [self.owners.get(ref.org_id)]
        found += [self.products.get((ref.org_id, p)) for p in ref.product_ids]
        if "full" in found:
            return "full"
        return "leaf" if "leaf" in found else None

    def owner_ids(self) -> list[int] | None:
        """The owners whose footprints may be readable (None: all)."""
        if self.everything:
            return None
        ids = set(self.owners) | {owner for owner, _ in self.products}
        if self.own_org is not None:
            ids.add(self.own_org)
        return sorted(ids)


def visibility(ctx: ServiceContext, who: Principal) -> Visibility:
    """What ``who`` may read (see the module docstring)."""
    if who.role == "admin":
        return Visibility(True, None, {}, {})
    if who.role == "exporter":
        return Visibility(False, who.org_id, {}, {})
    owners: dict[int, str] = {}
    products: dict[tuple[int, str], str] = {}
    for grant in SharingStore(ctx.store.ledger).live_grants_to(who.org_id):
        target: dict[Any, str] = owners if grant.product_id is None else products
        key: Any = grant.owner_org_id if grant.product_id is None \
            else (grant.owner_org_id, grant.product_id)
        if target.get(key) != "full":
            target[key] = grant.evidence
    return Visibility(False, None, owners, products)


def served(footprint: Mapping[str, Any], evidence: str) -> dict[str, Any]:
    """The footprint as served with ``evidence`` (``"leaf"``: the anchor record withheld)."""
    if evidence == "full":
        return dict(footprint)
    out = copy.deepcopy(dict(footprint))
    for extension in out.get("extensions") or []:
        if isinstance(extension, dict) and extension.get("dataSchema") == ANCHOR_SCHEMA:
            data = extension.get("data")
            if isinstance(data, dict) and "record" in data:
                data["record"] = None
                data["recordDisclosed"] = False
    return out


def _readable(ctx: ServiceContext, who: Principal) -> tuple[list[FootprintRef], Visibility]:
    seen = visibility(ctx, who)
    owners = seen.owner_ids()
    if owners == []:
        return [], seen
    refs = SharingStore(ctx.store.ledger).footprint_refs(owners)
    return [r for r in refs if seen.evidence(r) is not None], seen


def _documents(ctx: ServiceContext, refs: Sequence[FootprintRef], seen: Visibility
               ) -> list[dict[str, Any]]:
    docs = SharingStore(ctx.store.ledger).footprint_documents([r.pf_id for r in refs])
    return [served(docs[r.pf_id], seen.evidence(r) or "leaf") for r in refs if r.pf_id in docs]


def readable_evidence(ctx: ServiceContext, who: Principal) -> dict[str, str] | None:
    """Footprint id -> ``full`` / ``leaf`` for what ``who`` may read; None for a caller who
    reads all of its view in full (an admin: every footprint; an exporter: its own)."""
    if who.role in ("admin", "exporter"):
        return None
    refs, seen = _readable(ctx, who)
    return {r.pf_id: seen.evidence(r) or "leaf" for r in refs}


def footprints_page(ctx: ServiceContext, who: Principal, limit: int, offset: int
                    ) -> tuple[list[dict[str, Any]], int]:
    """A page of the footprints ``who`` may read (publication order) and their total count."""
    refs, seen = _readable(ctx, who)
    return _documents(ctx, refs[offset:offset + limit], seen), len(refs)


def footprint_for(ctx: ServiceContext, who: Principal, pf_id: str) -> dict[str, Any] | None:
    """One footprint as ``who`` may read it, or None (unknown or not shared: the same answer)."""
    found = ctx.store.footprint(pf_id)
    if found is None:
        return None
    owner, document = found
    ref = FootprintRef(0, pf_id, owner, frozenset(document.get("productIds") or []))
    evidence = visibility(ctx, who).evidence(ref)
    return None if evidence is None else served(document, evidence)


def footprints_for_products(ctx: ServiceContext, who: Principal, product_ids: Iterable[str]
                            ) -> list[dict[str, Any]]:
    """The footprints ``who`` may read that name any of ``product_ids``."""
    wanted = set(product_ids)
    refs, seen = _readable(ctx, who)
    return _documents(ctx, [r for r in refs if r.product_ids & wanted], seen)


def record_requests(ctx: ServiceContext, who: Principal, product_ids: Iterable[str], *,
                    owner_org_id: int | None = None, event_id: str | None = None,
                    source: str | None = None, comment: str | None = None) -> list[int]:
    """Records a pending access request with each data owner (or the one named) holding
    footprints of ``product_ids`` that ``who`` may not read yet; the requests' ids.

    What the requester learns does not depend on whether such footprints exist."""
    wanted = set(product_ids)
    seen = visibility(ctx, who)
    if seen.everything:
        return []
    sharing = SharingStore(ctx.store.ledger)
    by_owner: dict[int, set[str]] = {}
    refs = sharing.footprint_refs(None if owner_org_id is None else [owner_org_id])
    for ref in refs:
        hit = ref.product_ids & wanted
        if hit and seen.evidence(ref) is None and ref.org_id != who.org_id:
            by_owner.setdefault(ref.org_id, set()).update(hit)
    return [sharing.add_request(who.org_id, owner, sorted(ids), event_id=event_id,
                                source=source, comment=comment)
            for owner, ids in sorted(by_owner.items())]


def event_access(ctx: ServiceContext
                 ) -> Callable[[Principal, list[str], Mapping[str, Any]], list[dict[str, Any]]]:
    """The hook of :class:`api.pact_events.EventSender`: the footprints a PACT request's sender
    may read; for the rest, a pending request with each data owner holding some."""

    def access(who: Principal, product_ids: list[str], event: Mapping[str, Any]
               ) -> list[dict[str, Any]]:
        found = footprints_for_products(ctx, who, product_ids)
        data = event.get("data")
        comment = data.get("comment") if isinstance(data, Mapping) else None
        record_requests(ctx, who, product_ids, event_id=str(event.get("id")),
                        source=str(event.get("source")),
                        comment=comment[:1000] if isinstance(comment, str) else None)
        return found

    return access


def grant_request(ctx: ServiceContext, owner_org_id: int, request_id: int, evidence: str
                  ) -> dict[str, Any] | None:
    """Grants a pending request of this owner: one grant per requested product id; a request
    that came as a PACT event from a configured partner is answered with a ``Fulfilled`` event
    carrying the footprints now readable. The request as it stands, or None (no such request)."""
    sharing = SharingStore(ctx.store.ledger)
    pending = [r for r in sharing.requests_to(owner_org_id)
               if r.id == request_id and r.state == "pending"]
    if not pending:
        return None
    request = pending[0]
    for product_id in request.product_ids:
        sharing.add_grant(owner_org_id, request.requester_org_id, product_id, evidence)
    decided = sharing.decide_request(owner_org_id, request_id, "granted")
    if decided is None:
        return None
    out = decided.to_dict()
    out["answered"] = _answer_event(ctx, decided.requester_org_id, decided.product_ids,
                                    decided.event_id, decided.source)
    return out


def _answer_event(ctx: ServiceContext, requester_org_id: int, product_ids: Sequence[str],
                  event_id: str | None, source: str | None) -> bool:
    """Sends the requester's configured PACT host a ``Fulfilled`` event (in the background);
    False when the request did not come from one."""
    if event_id is None or source is None:
        return False
    partner = ctx.events.partner_for(source)
    org = ctx.store.org(requester_org_id)
    if partner is None or org is None:
        return False
    who = Principal("", org.id, org.role)
    found = footprints_for_products(ctx, who, product_ids)
    if not found:
        return False
    base = (ctx.settings.public_url or "").split("://", 1)[-1].rstrip("/")
    event = {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "//" + base,
             "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "type": _FULFILLED,
             "data": {"requestEventId": event_id, "pfs": found}}
    row = ctx.store.add_event(str(event["id"]), _FULFILLED, partner.base_url, direction="out",
                              body=event, state="pending")
    ctx.jobs.run_in_background(lambda: ctx.events.deliver(row, partner, event))
    return True
