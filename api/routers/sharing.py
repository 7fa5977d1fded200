"""Sharing footprints (PACT's data-owner model): an exporter grants organisations access to its
footprints and answers their requests; a buyer or an auditor asks for access.

- ``POST /v1/shares`` (exporter): share all footprints, or those of named product ids, with one
  organisation (by name), with the anchor evidence's leaf and proof (``evidence: "leaf"``, the
  default) or its full record (``"full"``). ``GET /v1/shares`` lists them;
  ``DELETE /v1/shares/{id}`` revokes one.
- ``POST /v1/access-requests`` (buyer, auditor): ask an exporter (by name) for the footprints of
  product ids. ``GET /v1/access-requests``: an exporter sees those addressed to it, anyone else
  those it made. ``POST /v1/access-requests/{id}/grant`` and ``/decline`` (exporter) answer one.

Requests also come through PACT's ``/2/events`` (see :mod:`api.sharing`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Principal
from api.deps import Context, requires
from api.errors import ApiError
from api.ids import OtherId
from api.models import ErrorBody
from api.sharing import grant_request, record_requests
from api.sharing_store import SharingStore

__all__ = ["AccessRequestIn", "GrantIn", "ShareIn", "router"]

router = APIRouter(prefix="/v1", tags=["sharing"],
                   responses={400: {"model": ErrorBody}, 401: {"model": ErrorBody},
                              403: {"model": ErrorBody}, 422: {"model": ErrorBody}})
Exporter = Annotated[Principal, Depends(requires("exporter"))]
Requester = Annotated[Principal, Depends(requires("buyer", "auditor"))]
Anyone = Annotated[Principal, Depends(requires())]
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
ProductId = Annotated[OtherId, Field(min_length=1, max_length=300)]


class ShareIn(BaseModel):
    """Share footprints with one organisation."""

    model_config = ConfigDict(extra="forbid")
    organisation: OtherId = Field(min_length=1, max_length=200,
                                  description="The name of the organisation to share with.")
    product_ids: list[ProductId] | None = Field(
        default=None, min_length=1, max_length=1000,
        description="Only the footprints naming these product ids (default: all).")
    evidence: Literal["leaf", "full"] = Field(
        default="leaf", description="'leaf': the anchor's leaf, proof, batch and transaction; "
                                    "'full': also the shipment's full record.")


class AccessRequestIn(BaseModel):
    """Ask an exporter for the footprints of some products."""

    model_config = ConfigDict(extra="forbid")
    exporter: OtherId = Field(min_length=1, max_length=200)
    product_ids: list[ProductId] = Field(min_length=1, max_length=1000)
    comment: OtherId | None = Field(default=None, max_length=1000)


class GrantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    evidence: Literal["leaf", "full"] = "leaf"


@router.post("/shares", status_code=201, responses={404: {"model": ErrorBody}})
def create_share(ctx: Context, who: Exporter, body: ShareIn) -> JSONResponse:
    """Share this exporter's footprints (all, or those of the named products) with one
    organisation; buyers and auditors read only what is shared with them."""
    target = ctx.store.org_by_name(body.organisation)
    if target is None or target.id == who.org_id or target.role not in ("buyer", "auditor"):
        raise ApiError(404, "NotFound", f"no buyer or auditor organisation named "
                                        f"{body.organisation!r}")
    sharing = SharingStore(ctx.store.ledger)
    products: list[str | None] = [*body.product_ids] if body.product_ids else [None]
    ids = [sharing.add_grant(who.org_id, target.id, product, body.evidence)
           for product in products]
    made = [g.to_dict() for g in sharing.grants_of(who.org_id) if g.id in ids]
    return JSONResponse({"shares": made}, status_code=201)


@router.get("/shares")
def list_shares(ctx: Context, who: Exporter) -> dict[str, Any]:
    """What this exporter shared, with whom (revoked shares too, with their date)."""
    return {"shares": [g.to_dict() for g in SharingStore(ctx.store.ledger).grants_of(who.org_id)]}


@router.delete("/shares/{share_id}", responses={404: {"model": ErrorBody}})
def revoke_share(ctx: Context, who: Exporter, share_id: RowId) -> dict[str, Any]:
    """Revoke a share: its footprints are no longer readable through it."""
    if not SharingStore(ctx.store.ledger).revoke_grant(who.org_id, share_id):
        raise ApiError(404, "NotFound", f"no live share {share_id} of this organisation")
    return {"id": share_id, "revoked": True}


@router.post("/access-requests", status_code=201, responses={404: {"model": ErrorBody}})
def create_access_request(ctx: Context, who: Requester, body: AccessRequestIn
                          ) -> JSONResponse:
    """Ask an exporter for the footprints of these products. The answer is the same whether
    or not the exporter holds such footprints; the exporter sees the request and decides."""
    owner = ctx.store.org_by_name(body.exporter)
    if owner is None or owner.role != "exporter":
        raise ApiError(404, "NotFound", f"no exporter named {body.exporter!r}")
    record_requests(ctx, who, body.product_ids, owner_org_id=owner.id, comment=body.comment)
    return JSONResponse({"exporter": owner.name, "product_ids": sorted(set(body.product_ids)),
                         "state": "requested"}, status_code=201)


@router.get("/access-requests")
def list_access_requests(ctx: Context, who: Anyone) -> dict[str, Any]:
    """Requests addressed to this exporter, or made by this organisation, newest first."""
    sharing = SharingStore(ctx.store.ledger)
    found = sharing.requests_to(who.org_id) if who.role == "exporter" \
        else sharing.requests_by(who.org_id)
    return {"requests": [r.to_dict() for r in found]}


@router.post("/access-requests/{request_id}/grant", responses={404: {"model": ErrorBody}})
async def grant_access_request(ctx: Context, who: Exporter, request_id: RowId,
                               body: GrantIn | None = None) -> dict[str, Any]:
    """Grant a pending request: the requester may read the footprints of the requested products
    (a request that came as a PACT event is answered to its host)."""
    evidence = body.evidence if body is not None else "leaf"
    done = await run_in_threadpool(grant_request, ctx, who.org_id, request_id, evidence)
    if done is None:
        raise ApiError(404, "NotFound", f"no pending request {request_id} to this organisation")
    return done


@router.post("/access-requests/{request_id}/decline", responses={404: {"model": ErrorBody}})
def decline_access_request(ctx: Context, who: Exporter, request_id: RowId) -> dict[str, Any]:
    """Decline a pending request."""
    done = SharingStore(ctx.store.ledger).decide_request(who.org_id, request_id, "declined")
    if done is None:
        raise ApiError(404, "NotFound", f"no pending request {request_id} to this organisation")
    return done.to_dict()
