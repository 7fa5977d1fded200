"""Admin endpoints: organisations and their API clients. Keys are never returned."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.auth import Principal
from api.deps import Context, requires
from api.errors import ApiError
from api.ids import OtherId
from api.models import ErrorBody, OrganisationIn, TokenRevocationIn

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["admin"],
                   responses={400: {"model": ErrorBody}, 401: {"model": ErrorBody},
                              403: {"model": ErrorBody}})
Admin = Annotated[Principal, Depends(requires("admin"))]


@router.post("/organisations", status_code=201, responses={409: {"model": ErrorBody}})
async def create_organisation(ctx: Context, who: Admin, body: OrganisationIn) -> JSONResponse:
    """Create an organisation and its first client. Exporters and auditors get a signing key
    (the one given, or a new one) sealed in the keystore, and their role on chain when this
    service holds the contract admin's key. The client secret is shown only in this answer."""
    made = await run_in_threadpool(ctx.create_org, body.name, body.role,
                                   private_key=body.private_key, eori=body.eori)
    return JSONResponse(made.to_dict(), status_code=201)


@router.get("/organisations")
def list_organisations(ctx: Context, who: Admin) -> dict[str, Any]:
    """Every organisation (name, role, on-chain address)."""
    return {"organisations": [{"id": o.id, "name": o.name, "role": o.role, "address": o.address}
                              for o in ctx.store.orgs()]}


@router.post("/organisations/{org_id}/clients", status_code=201,
             responses={404: {"model": ErrorBody}})
def create_client(ctx: Context, who: Admin, org_id: int) -> JSONResponse:
    """New client credentials for an organisation (the secret is shown only here)."""
    if not 0 < org_id < 2**31 or ctx.store.org(org_id) is None:
        raise ApiError(404, "NotFound", f"no organisation {org_id}")
    client_id, secret = ctx.add_client(org_id)
    return JSONResponse({"client_id": client_id, "client_secret": secret}, status_code=201)


@router.get("/organisations/{org_id}/clients", responses={404: {"model": ErrorBody}})
def list_clients(ctx: Context, who: Admin, org_id: int) -> dict[str, Any]:
    """An organisation's clients: ids and dates (revoked ones with the date), never secrets."""
    if not 0 < org_id < 2**31 or ctx.store.org(org_id) is None:
        raise ApiError(404, "NotFound", f"no organisation {org_id}")
    return {"clients": ctx.store.clients_of(org_id)}


@router.delete("/clients/{client_id}", responses={404: {"model": ErrorBody}})
def revoke_client(ctx: Context, who: Admin, client_id: OtherId) -> dict[str, Any]:
    """Revoke a client: its credentials no longer give tokens, and every token it holds is
    refused from now on."""
    if not ctx.auth.revoke_client(client_id):
        raise ApiError(404, "NotFound", f"no live client {client_id!r}")
    return {"client_id": client_id, "revoked": True}


@router.post("/tokens/revoke", responses={404: {"model": ErrorBody}})
def revoke_token(ctx: Context, who: Admin, body: TokenRevocationIn) -> dict[str, Any]:
    """Revoke one access token (given whole, as its holder sends it)."""
    if not ctx.auth.revoke_token(body.token):
        raise ApiError(404, "NotFound", "no live token matches")
    return {"revoked": True}


@router.get("/me")
def me(ctx: Context, who: Annotated[Principal, Depends(requires())]) -> dict[str, Any]:
    """The caller's organisation and role (any valid token)."""
    org = ctx.store.org(who.org_id)
    return {"organisation": None if org is None else org.name, "role": who.role,
            "address": None if org is None else org.address, "client_id": who.client_id}


@router.post("/recovery", responses={409: {"model": ErrorBody}, 503: {"model": ErrorBody}})
def recover_lost_batches(ctx: Context, who: Admin, dry_run: bool = False,
                         anchor_again: bool = False) -> dict[str, Any]:
    """After the chain lost anchored batches (a reset, a chain restarted without its state, a
    rollback): for every exporter, mark each lost transaction (kept in the store for audit:
    when, why, which chain, contract, block and transaction) and anchor its batch again, so the
    store and the chain agree. A batch whose history the node lost (the contract's state holds
    it, no block, receipt or event is served) is listed in ``history_lost``, and anchored again
    under a new key only with ``anchor_again=true`` (when that history is gone for good).
    ``dry_run=true`` only lists what it would do. Safe to repeat."""
    from api.recovery import recover_exporters

    return recover_exporters(ctx, dry_run=dry_run, anchor_again=anchor_again)
