"""Auditor endpoints: verify an uploaded report (the verdict check by check), attest it on chain,
and list what this auditor organisation verified and attested."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool

from api.auth import Principal
from api.deps import Context, requires
from api.limits import load_json
from api.models import ErrorBody
from api.reporting import attest, verify
from api.uploads import read_upload

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["auditor"],
                   responses={400: {"model": ErrorBody}, 401: {"model": ErrorBody},
                              403: {"model": ErrorBody}, 413: {"model": ErrorBody},
                              415: {"model": ErrorBody}})
Auditor = Annotated[Principal, Depends(requires("auditor"))]

_REPORT_BODY = {"required": True, "content": {
    "application/json": {"schema": {"type": "object"}},
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary"}}}},
}}


async def _document(request: Request, ctx: Context) -> Any:
    _, body = await read_upload(request, ctx.settings.max_upload_bytes, ("json",))
    return load_json(body, ctx, "the report")


@router.post("/verifications", status_code=200, openapi_extra={"requestBody": _REPORT_BODY})
async def create_verification(request: Request, ctx: Context, who: Auditor,
                              require_attestation: Annotated[bool, Query()] = False
                              ) -> dict[str, Any]:
    """Verify a signed report (JSON body or uploaded file) with nothing but the report and the
    chain: every check with its outcome. The verdict is kept in this auditor's list."""
    document = await _document(request, ctx)
    verdict = await run_in_threadpool(verify, ctx, document,
                                      require_attestation=require_attestation)
    result: dict[str, Any] = verdict.to_dict()
    result["id"] = await run_in_threadpool(ctx.store.add_verification, who.org_id, result)
    result["chain_id"] = ctx.chain.chain_id
    return result


@router.get("/verifications")
def list_verifications(ctx: Context, who: Auditor) -> dict[str, Any]:
    """What this auditor organisation verified, newest first."""
    return {"verifications": ctx.store.verifications_of(who.org_id)}


@router.post("/attestations", status_code=201, openapi_extra={"requestBody": _REPORT_BODY},
             responses={409: {"model": ErrorBody}})
async def create_attestation(request: Request, ctx: Context, who: Auditor) -> dict[str, Any]:
    """Verify a report, then record this auditor's attestation of its hash on chain; a report
    that does not verify is refused (409, with the verdict)."""
    document = await _document(request, ctx)
    result: dict[str, Any] = await run_in_threadpool(attest, ctx, who.org_id, document)
    return result


@router.get("/attestations")
def list_attestations(ctx: Context, who: Auditor) -> dict[str, Any]:
    """What this auditor organisation attested, newest first."""
    return {"attestations": ctx.store.attestations_of(who.org_id)}
