"""PACT Technical Specifications v2 endpoints for buyers' systems.

- ``GET /2/footprints?limit=N``: the latest version of each footprint, oldest first, at most
  :data:`PAGE_MAX` per page (each carries its anchored record, some 6 KB; the spec lets a host
  return fewer than asked, with a link to the rest); when more exist, an RFC 8288
  ``Link: <absolute URL>; rel="next"`` header (same host, ``offset`` based,
  stable while no report is issued in between). ``$filter`` is not implemented and is ignored,
  as the spec allows.
- ``GET /2/footprints/{id}``: ``{"data": ProductFootprint}`` or 404 ``NoSuchFootprint``.
- ``POST /2/events``: CloudEvents 1.0 (structured mode), see :mod:`api.pact_events`.
- any other method on ``/2/footprints``: 400 ``BadRequest`` (PACT conformance case #21).

This is the PACT v2.3 face, kept for iLEAP partners (iLEAP v1 builds on PACT 2.x); the v3 face of
the same footprints is :mod:`api.routers.pact3`. Footprints come from issued reports (each
transport chain's ProductFootprint with the iLEAP and anchor extensions, and product footprints)
and are served from memory (:mod:`api.pact_index`). Who reads which is :mod:`api.sharing`
(:mod:`api.pact_access` over the index): exporters their own, buyers and auditors what a data
owner shared with them, admins all. Errors are ``{code, message}`` with the spec's codes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.auth import Principal
from api.context import ServiceContext
from api.deps import Context, requires
from api.errors import ApiError
from api.ids import OtherId
from api.limits import load_json
from api.models import ErrorBody
from api.pact_access import readable
from api.pact_events import check_envelope
from api.routers.auth import base_url
from api.uploads import read_body

__all__ = ["PAGE_MAX", "data_response", "event_body", "receive_event", "router"]

#: Most footprints in one page of ``ListFootprints`` (v2 and v3).
PAGE_MAX = 100

router = APIRouter(prefix="/2", tags=["pact"],
                   responses={400: {"model": ErrorBody}, 401: {"model": ErrorBody},
                              403: {"model": ErrorBody}})
Caller = Annotated[Principal, Depends(requires())]


def data_response(data: bytes | list[bytes], headers: dict[str, str] | None = None
                  ) -> Response:
    """``{"data": ...}`` around already serialised JSON (one object, or a list of them)."""
    body = (b'{"data":' + data + b"}" if isinstance(data, bytes)
            else b'{"data":[' + b",".join(data) + b"]}")
    return Response(body, media_type="application/json", headers=headers)


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
    most = min(ctx.settings.page_limit_max, PAGE_MAX)
    limit = _int_param(request, "limit", most, 1, 10**9)
    limit = min(limit, most)
    offset = _int_param(request, "offset", 0, 0, 10**12)
    view = readable(ctx, who)  # only what who may read
    page = view.entries[offset:offset + limit]
    headers = {}
    if offset + len(page) < len(view.entries):
        query = urlencode({"limit": limit, "offset": offset + limit})
        base = base_url(request, ctx.settings.public_url)
        headers["Link"] = f'<{base}/2/footprints?{query}>; rel="next"'
    return data_response([view.v2(e) for e in page], headers)


@router.get("/footprints/{footprint_id}", responses={404: {"model": ErrorBody}, 200: {
    "description": "The footprint", "content": {"application/json": {"schema": {
        "type": "object", "required": ["data"], "properties": {"data": {"type": "object"}}}}}}})
def get_footprint(ctx: Context, who: Caller, footprint_id: OtherId) -> Response:
    """GetFootprint."""
    view = readable(ctx, who)
    found = view.by_id(footprint_id)  # None when unknown or not shared: the same answer
    if found is None:
        raise ApiError(404, "NoSuchFootprint",
                       f"Footprint with ID {footprint_id!r} does not exist")
    return data_response(view.v2(found))


@router.api_route("/footprints", methods=["POST", "PUT", "PATCH", "DELETE"],
                  include_in_schema=False)
def footprints_other_methods(who: Caller) -> Response:
    """Only GET lists footprints (conformance case #21 expects 400 for anything else)."""
    raise ApiError(400, "BadRequest", "ListFootprints is GET /2/footprints")


def event_body(required: list[str]) -> dict[str, Any]:
    """The OpenAPI request body of ``/N/events``: one CloudEvent in structured mode."""
    return {"requestBody": {"required": True, "content": {"application/cloudevents+json": {
        "schema": {"type": "object", "required": required,
                   "properties": {"specversion": {"type": "string"}, "id": {"type": "string"},
                                  "source": {"type": "string"}, "type": {"type": "string"},
                                  "time": {"type": "string"}, "data": {"type": "object"}}}}}}}


async def receive_event(request: Request, ctx: ServiceContext, who: Principal,
                        check: Callable[[Any], Mapping[str, Any]], version: int) -> Response:
    """One CloudEvent to ``/{version}/events``: media type, size, JSON and envelope checked
    (``check``), then received; a footprint request is answered later to its source."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in ("application/cloudevents+json", "application/json"):
        raise ApiError(400, "BadRequest", "send the event as application/cloudevents+json "
                                          "(CloudEvents structured mode)")
    body = await read_body(request, ctx.settings.max_upload_bytes)
    event = check(load_json(body, ctx, "the event"))
    host = base_url(request, ctx.settings.public_url).split("://", 1)[-1]
    await run_in_threadpool(ctx.events.receive, event, who, "//" + host, version)
    return Response(status_code=200)


@router.post("/events", responses={200: {"description": "Accepted (empty body)"}},
             openapi_extra=event_body(["specversion", "id", "source", "type"]))
async def events(request: Request, ctx: Context, who: Caller) -> Response:
    """Events: a footprint request is answered later (Fulfilled or Rejected) to its source."""
    return await receive_event(request, ctx, who, check_envelope, 2)
