"""Exporter endpoints: submit shipments, read them with footprints, anchor, proofs, reports.

Every route needs an exporter token and sees only that exporter organisation's data: another
organisation's shipment answers 404, exactly as one that does not exist.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response

from api.anchoring import queue_anchoring, shipment_states
from api.auth import Principal
from api.context import ServiceContext
from api.deps import Context, requires
from api.errors import ApiError
from api.headers import REPORT_POLICY
from api.ids import OtherId, ShipmentIdPath
from api.ingest import compute_totals, parse_csv, parse_json, submit_shipments
from api.limits import check_json_shape
from api.models import AnchorRequest, ErrorBody, JobOut, ReportRequest
from api.reporting import issue
from api.uploads import read_upload
from ledger.anchoring.proofs import proof_bundle
from ledger.errors import StoreError, StoreUnavailable
from ledger.footprint.single import compute_shipment
from ledger.inputs.shipments import Shipment
from ledger.reports.html import render_html

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["exporter"],
                   responses={400: {"model": ErrorBody}, 401: {"model": ErrorBody},
                              403: {"model": ErrorBody}})
Exporter = Annotated[Principal, Depends(requires("exporter"))]

_SUBMIT_BODY = {"required": True, "content": {
    "application/json": {"schema": {"type": "object", "required": ["shipments"],
                                    "properties": {"shipments": {"type": "array",
                                                                 "items": {"type": "object"}}}}},
    "text/csv": {"schema": {"type": "string"}},
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary"}}}},
}}


def _address(ctx: ServiceContext, org_id: int) -> str | None:
    return ctx.own_address(org_id)  # 409 when another organisation owns the key


@router.post("/shipments", openapi_extra={"requestBody": _SUBMIT_BODY},
             responses={413: {"model": ErrorBody}, 415: {"model": ErrorBody},
                        409: {"model": ErrorBody}, 422: {"model": ErrorBody}})
async def submit(request: Request, ctx: Context, who: Exporter) -> Any:
    """Submit shipments (JSON ``{"shipments": [...]}``, a CSV with one row per leg, or either as
    a multipart file): footprints are computed and stored; the same shipment id again is
    idempotent. Any invalid row rejects the whole submission (422, with row and field)."""
    kind, body = await read_upload(request, ctx.settings.max_upload_bytes, ("json", "csv"))
    if not body.strip():
        raise ApiError(400, "BadRequest", "the body is empty")
    if kind == "json":  # also a JSON file inside a multipart form
        check_json_shape(body, ctx.settings.max_json_depth, ctx.settings.max_json_items)

    def work() -> Any:
        limit = ctx.settings.max_shipments
        frame = parse_json(body, limit) if kind == "json" else parse_csv(body, limit)
        totals = compute_totals(frame, ctx.factor_set, ctx.router, from_csv=kind == "csv")
        address = _address(ctx, who.org_id)
        scope = ctx.chain.scope(address) if address else None
        # concurrent submissions of the same ids: same content 200, other content 409
        return submit_shipments(ctx.store, ctx.ledger_store, scope, who.org_id, totals)

    result = await run_in_threadpool(work)
    return JSONResponse(result.to_dict(), status_code=201 if result.created else 200)


@router.get("/shipments")
def list_shipments(ctx: Context, who: Exporter,
                   limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                   offset: Annotated[int, Query(ge=0, le=10**9)] = 0) -> dict[str, Any]:
    """The organisation's shipments (oldest first) with totals and anchoring state."""
    rows = ctx.store.shipments(who.org_id, limit=limit, offset=offset)
    states = shipment_states(ctx, _address(ctx, who.org_id), [r.shipment_id for r in rows])
    return {
        "total": ctx.store.count_shipments(who.org_id), "limit": limit, "offset": offset,
        "shipments": [{
            "shipment_id": r.shipment_id, "submitted_at": r.submitted_at.isoformat(),
            "activity_tkm": r.activity_tkm, "co2e_wtw_g": r.co2e_wtw_g,
            "co2e_ttw_g": r.co2e_ttw_g, "total_co2e_g": r.total_co2e_g,
            "wtw_by_mode_g": r.wtw_by_mode_g, "anchoring": states[r.shipment_id]["state"],
        } for r in rows],
    }


@router.get("/shipments/{shipment_id}", responses={404: {"model": ErrorBody}})
def get_shipment(ctx: Context, who: Exporter, shipment_id: ShipmentIdPath) -> dict[str, Any]:
    """One shipment: its input, its full footprint (per leg) and where its anchoring stands."""
    row = ctx.store.shipment(who.org_id, shipment_id)
    if row is None:
        raise ApiError(404, "NotFound", f"no shipment {shipment_id!r} of this organisation")
    shipment = Shipment.from_dict(json.loads(row.shipment_json))
    footprint = compute_shipment(shipment, ctx.factor_set, router=ctx.router)
    state = shipment_states(ctx, _address(ctx, who.org_id), [shipment_id])[shipment_id]
    return {"shipment_id": shipment_id, "shipment": json.loads(row.shipment_json),
            "footprint": footprint.to_dict(), "anchoring": state,
            "submitted_at": row.submitted_at.isoformat(),
            "updated_at": row.updated_at.isoformat()}


@router.get("/shipments/{shipment_id}/proof", responses={404: {"model": ErrorBody},
                                                         409: {"model": ErrorBody}})
def get_proof(ctx: Context, who: Exporter, shipment_id: ShipmentIdPath) -> dict[str, Any]:
    """The proof bundle of an anchored shipment (record, leaf, proof, batch, transaction)."""
    if ctx.store.shipment(who.org_id, shipment_id) is None:
        raise ApiError(404, "NotFound", f"no shipment {shipment_id!r} of this organisation")
    address = _address(ctx, who.org_id)
    assert address is not None
    try:
        bundle: dict[str, Any] = dict(proof_bundle(ctx.ledger_store, ctx.chain.scope(address),
                                                   shipment_id))
    except StoreUnavailable:
        raise
    except StoreError:
        raise ApiError(409, "Conflict", f"shipment {shipment_id!r} is not anchored yet: anchor "
                                        "it first (POST /v1/anchoring)") from None
    return bundle


@router.post("/anchoring", status_code=202, response_model=JobOut)
def start_anchoring(ctx: Context, who: Exporter, body: AnchorRequest | None = None
                    ) -> JSONResponse:
    """Anchor the organisation's pending shipments (or the named ones) in the background; the
    answer is the job, whose ``Location`` reports progress and, when done, batches and
    transactions."""
    ids = body.shipment_ids if body is not None else None
    if ids:
        missing = [sid for sid in ids if ctx.store.shipment(who.org_id, sid) is None]
        if missing:
            raise ApiError(404, "NotFound", f"no shipment {', '.join(missing[:20])} of this "
                                            "organisation")
    job_id = queue_anchoring(ctx, who.org_id, ids)
    job = ctx.store.job(job_id)
    assert job is not None
    return JSONResponse(job.to_dict(), status_code=202,
                        headers={"Location": f"/v1/jobs/{job_id}"})


@router.get("/jobs/{job_id}", response_model=JobOut, responses={404: {"model": ErrorBody}})
def get_job(ctx: Context, who: Exporter, job_id: OtherId) -> dict[str, Any]:
    """A background job: state, phase, progress and, when done, its result."""
    job = ctx.store.job(job_id)
    if job is None or job.org_id != who.org_id:
        raise ApiError(404, "NotFound", f"no job {job_id!r} of this organisation")
    result: dict[str, Any] = job.to_dict()
    return result


@router.get("/jobs")
def list_jobs(ctx: Context, who: Exporter) -> dict[str, Any]:
    """The organisation's 20 newest jobs."""
    return {"jobs": [j.to_dict() for j in ctx.store.jobs_of(who.org_id)]}


@router.get("/summary")
def summary(ctx: Context, who: Exporter) -> dict[str, Any]:
    """Totals by month of submission and by transport mode (WTW and TTW grams), and how many
    shipments wait for anchoring."""
    months = ctx.store.monthly_totals(who.org_id)
    by_mode: dict[str, int] = {}
    for month in months:
        for mode, grams in month["wtw_by_mode_g"].items():
            by_mode[mode] = by_mode.get(mode, 0) + grams
    ids = ctx.store.shipment_ids(who.org_id)
    address = _address(ctx, who.org_id)
    anchored = 0
    if address and ids:
        anchored = len(ctx.ledger_store.find_records(ctx.chain.scope(address), ids))
    return {"shipments": len(ids), "anchored": anchored, "pending": len(ids) - anchored,
            "co2e_wtw_g": sum(m["co2e_wtw_g"] for m in months),
            "co2e_ttw_g": sum(m["co2e_ttw_g"] for m in months),
            "by_month": months, "wtw_by_mode_g": by_mode}


@router.post("/reports", status_code=201,
             responses={404: {"model": ErrorBody}, 409: {"model": ErrorBody},
                        422: {"model": ErrorBody}})
def create_report(ctx: Context, who: Exporter, body: ReportRequest) -> JSONResponse:
    """Issue a signed report (W3C VC with PACT/iLEAP footprints) of anchored shipments; CBAM
    goods with a ``declarant`` also get the CBAM QReport XML. Its footprints are published on
    the PACT endpoints."""
    if len(set(body.shipment_ids)) != len(body.shipment_ids):
        raise ApiError(422, "InvalidInput", "a shipment id appears twice in the request")
    made = issue(ctx, who.org_id, body.shipment_ids, (body.first_day, body.last_day),
                 body.declarant)
    rid = made["id"]
    links = {"json": f"/v1/reports/{rid}", "html": f"/v1/reports/{rid}/html"}
    if made["cbam_xml"]:
        links["cbam_xml"] = f"/v1/reports/{rid}/cbam.xml"
    return JSONResponse({"id": rid, "report_hash": made["report_hash"], "links": links,
                         "report": made["document"]}, status_code=201,
                        headers={"Location": links["json"]})


@router.get("/reports")
def list_reports(ctx: Context, who: Exporter) -> dict[str, Any]:
    """The organisation's reports, newest first."""
    return {"reports": ctx.store.reports_of(who.org_id)}


def _report(ctx: ServiceContext, who: Principal, report_id: str
            ) -> tuple[dict[str, Any], bytes | None]:
    found = ctx.store.report(report_id)
    if found is None or found[0] != who.org_id:
        raise ApiError(404, "NotFound", f"no report {report_id!r} of this organisation")
    return found[1], found[2]


@router.get("/reports/{report_id}", responses={404: {"model": ErrorBody}})
def get_report(ctx: Context, who: Exporter, report_id: OtherId) -> JSONResponse:
    """The signed report (JSON), as a file to hand to buyers and auditors."""
    document, _ = _report(ctx, who, report_id)
    return JSONResponse(document, headers={
        "Content-Disposition": f'attachment; filename="{_file_stem(report_id)}.json"'})


@router.get("/reports/{report_id}/html", responses={
    404: {"model": ErrorBody},
    200: {"description": "The printable page", "content": {"text/html": {
        "schema": {"type": "string"}}}}})
def get_report_html(ctx: Context, who: Exporter, report_id: OtherId) -> HTMLResponse:
    """The report as a printable HTML page."""
    document, _ = _report(ctx, who, report_id)
    # only a URL the settings mark as public: the service's own RPC URL may carry an API key
    public_rpc = ctx.settings.public_rpc_url
    return HTMLResponse(render_html(document, report_file=f"{_file_stem(report_id)}.json",
                                    rpc_hint=public_rpc),
                        headers={"Content-Security-Policy": REPORT_POLICY})


@router.get("/reports/{report_id}/cbam.xml", responses={
    404: {"model": ErrorBody},
    200: {"description": "QReport XML", "content": {"application/xml": {
        "schema": {"type": "string"}}}}})
def get_report_xml(ctx: Context, who: Exporter, report_id: OtherId) -> Response:
    """The CBAM QReport XML of the report's CBAM goods."""
    _, xml = _report(ctx, who, report_id)
    if xml is None:
        raise ApiError(404, "NotFound", "this report has no CBAM XML (no CBAM goods, or no "
                                        "declarant was given)")
    return Response(xml, media_type="application/xml", headers={
        "Content-Disposition": f'attachment; filename="{_file_stem(report_id)}.cbam.xml"'})


def _file_stem(report_id: str) -> str:
    tail = report_id.rsplit(":", maxsplit=1)[-1]
    return "report-" + "".join(c for c in tail if c.isalnum() or c == "-")
