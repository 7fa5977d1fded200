"""PACT Technical Specifications v2 endpoints for buyers' systems.

- ``GET /2/footprints?limit=N``: the latest version of each footprint, oldest first; when more
  exist, an RFC 8288 ``Link: <absolute URL>; rel="next"`` header (same host, ``offset`` based,
  stable while no report is issued in between). ``$filter`` is not implemented and is ignored,
  as the spec allows.
- ``GET /2/footprints/{id}``: ``{"data": ProductFootprint}`` or 404 ``NoSuchFootprint``.
- ``POST /2/events``: CloudEvents 1.0 (structured mode), see :mod:`api.pact_events`.

Footprints come from issued reports (each transport chain's ProductFootprint with the iLEAP and
anchor extensions, and product footprints). Who reads which is :mod:`api.sharing`: exporters
their own, buyers and auditors what a data owner shared with them, admins all. Errors are
``{code, message}`` with the spec's codes.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from api.auth import Principal
from api.deps import Context, requires
from api.errors import ApiError
from api.ids import OtherId
from api.limits import load_json
from api.models import ErrorBody
from api.pact_events import check_envelope
from api.routers.auth import base_url
from api.sharing import footprint_for, footprints_page
from api.uploads import read_body

__all__ = ["router"]

router = APIRouter(prefix="/2", tags=["pact"],
                   responses={400: {"model": ErrorBody}, 401: {"model": ErrorBody},
                              403: {"model": ErrorBody}})
Caller = Annotated[Principal, Depends(requires())]


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ApiError(400, "BadRequest", f"{name} must be a whole number from {low} to {high}")
    return int(raw)


@router.get("/footprints", responses={200: {"description": "A page of footprints", "content": {
    "application/json": {"schema": {"type": "object", "required": ["data"], "properties": {
        "data": {"type": "array", "items": {"type": "object"}}}}}}}},
    openapi_extra={"parameters": [
        {"name": "limit", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 1}},
        {"name": "offset", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 0}},
        {"name": "$filter", "in": "query", "required": False, "schema": {"type": "string"}}]})
def list_footprints(request: Request, ctx: Context, who: Caller) -> Response:
    """ListFootprints."""
    most = ctx.settings.page_limit_max
    limit = _int_param(request, "limit", most, 1, 10**9)
    limit = min(limit, most)
    offset = _int_param(request, "offset", 0, 0, 10**12)
    data, total = footprints_page(ctx, who, limit, offset)  # only what who may read
    headers = {}
    if offset + len(data) < total:
        query = urlencode({"limit": limit, "offset": offset + limit})
        base = base_url(request, ctx.settings.public_url)
        headers["Link"] = f'<{base}/2/footprints?{query}>; rel="next"'
    return JSONResponse({"data": data}, headers=headers)


@router.get("/footprints/{footprint_id}", responses={404: {"model": ErrorBody}, 200: {
    "description": "The footprint", "content": {"application/json": {"schema": {
        "type": "object", "required": ["data"], "properties": {"data": {"type": "object"}}}}}}})
def get_footprint(ctx: Context, who: Caller, footprint_id: OtherId) -> Response:
    """GetFootprint."""
    found = footprint_for(ctx, who, footprint_id)  # None when unknown or not shared
    if found is None:
        raise ApiError(404, "NoSuchFootprint",
                       f"Footprint with ID {footprint_id!r} does not exist")
    return JSONResponse({"data": found})


@router.post("/events", responses={200: {"description": "Accepted (empty body)"}},
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/cloudevents+json": {"schema": {
                     "type": "object", "required": ["specversion", "id", "source", "type"],
                     "properties": {"specversion": {"type": "string"}, "id": {"type": "string"},
                                    "source": {"type": "string"}, "type": {"type": "string"},
                                    "time": {"type": "string"}, "data": {"type": "object"}}}}}}})
async def events(request: Request, ctx: Context, who: Caller) -> Response:
    """Events: a footprint request is answered later (Fulfilled or Rejected) to its source."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in ("application/cloudevents+json", "application/json"):
        raise ApiError(400, "BadRequest", "send the event as application/cloudevents+json "
                                          "(CloudEvents structured mode)")
    body = await read_body(request, ctx.settings.max_upload_bytes)
    event = check_envelope(load_json(body, ctx, "the event"))
    host = base_url(request, ctx.settings.public_url).split("://", 1)[-1]
    await run_in_threadpool(ctx.events.receive, event, who, "//" + host)
    return Response(status_code=200)
