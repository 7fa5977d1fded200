"""PACT Technical Specifications v3 endpoints for buyers' systems.

- ``GET /3/footprints``: the published footprints in the v3 data model
  (:func:`ledger.reports.pact3.to_v3`), oldest first, filtered by ``productId``, ``companyId``,
  ``geography``, ``classification``, ``validOn``, ``validAfter``, ``validBefore`` and
  ``status`` (a repeated parameter: any of its values; different parameters: all of them;
  names and values match without regard to case); ``limit`` (at most
  :data:`api.routers.pact.PAGE_MAX`) and ``offset`` page the result and
  an RFC 8288 ``Link: <absolute URL>; rel="next"`` header (same host, the same filters) points
  to the next page. The v2 ``$filter`` syntax was removed in v3: 400. This host offers no
  host-specific ``x-...`` filter: 400 ``BadRequest`` naming it (ListFootprints declares no
  501; its other errors are ``BadRequest``).
- ``GET /3/footprints/{id}``: ``{"data": ProductFootprint}``, or 404 ``NotFound``.
- ``POST /3/events``: CloudEvents 1.0 (structured mode) of the v3 types, see
  :mod:`api.pact_events`; a ``RequestCreatedEvent`` is answered later to the partner host.

Errors are ``{code, message}`` with the v3 codes: ``BadRequest`` 400 (also for an unknown or
missing token, as in v2), ``TokenExpired`` 401, ``AccessDenied`` 403, ``NotFound`` 404,
``InternalError`` 500 (no action answers ``NotImplemented`` 501). Exporter tokens see their
own footprints; buyer, auditor and admin tokens see all.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from api.auth import Principal
from api.deps import Context, requires
from api.errors import ApiError
from api.models import ErrorBody
from api.pact_access import readable
from api.pact_events import check_envelope_v3
from api.routers.auth import base_url
from api.routers.pact import PAGE_MAX, data_response, event_body, receive_event
from ledger.errors import InputError
from ledger.reports.pact3 import Filters

__all__ = ["router"]

router = APIRouter(prefix="/3", tags=["pact v3"],
                   responses={400: {"model": ErrorBody}, 401: {"model": ErrorBody},
                              403: {"model": ErrorBody}})
Caller = Annotated[Principal, Depends(requires())]

_LISTS = ("productId", "companyId", "geography", "classification", "status")
_TIMES = ("validOn", "validAfter", "validBefore")
_NAMES = {name.lower(): name for name in (*_LISTS, *_TIMES, "limit", "offset")}



def _whole(raw: list[str], name: str, high: int) -> int | None:
    if not raw:
        return None
    if len(raw) > 1 or not raw[0].isdigit() or int(raw[0]) > high:
        raise ApiError(400, "BadRequest", f"{name} must be given once, as a whole number from "
                                          f"0 to {high}")
    return int(raw[0])


def _query(request: Request) -> dict[str, list[str]]:
    """The query parameters by canonical name (names match without regard to case)."""
    out: dict[str, list[str]] = defaultdict(list)
    for key, value in request.query_params.multi_items():
        if key == "$filter" or key.lower() == "$filter":
            raise ApiError(400, "BadRequest", "the $filter syntax was removed in PACT v3: use "
                                              "productId, companyId, geography, classification, "
                                              "validOn, validAfter, validBefore or status")
        if key.lower().startswith("x-"):
            raise ApiError(400, "BadRequest", f"the host-specific filter {key!r} is not "
                                              "offered by this host (it offers no x- filters)")
        name = _NAMES.get(key.lower())
        if name is None:
            raise ApiError(400, "BadRequest", f"unknown query parameter {key!r}; expected "
                                              f"{', '.join(_NAMES.values())}")
        out[name].append(value)
    return out


_PARAMETERS = [
    {"name": "limit", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 0}},
    {"name": "offset", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 0}},
    *({"name": name, "in": "query", "required": False, "explode": True,
       "schema": {"type": "array", "items": {"type": "string"}}} for name in _LISTS),
    *({"name": name, "in": "query", "required": False,
       "schema": {"type": "string", "format": "date-time"}} for name in _TIMES),
]


@router.get("/footprints", responses={
    404: {"model": ErrorBody},
    200: {"description": "A page of footprints", "content": {"application/json": {"schema": {
        "type": "object", "required": ["data"], "properties": {
            "data": {"type": "array", "items": {"type": "object"}}}}}}}},
    openapi_extra={"parameters": _PARAMETERS})
def list_footprints(request: Request, ctx: Context, who: Caller) -> Response:
    """ListFootprints (PACT v3)."""
    query = _query(request)
    most = min(ctx.settings.page_limit_max, PAGE_MAX)
    asked = _whole(query.pop("limit", []), "limit", 10**9)
    limit = most if asked is None else min(asked, most)
    offset = _whole(query.pop("offset", []), "offset", 10**12) or 0
    try:
        filters = Filters.from_lists(query)
    except InputError as exc:
        raise ApiError(400, "BadRequest", str(exc)) from None
    view = readable(ctx, who)  # only what who may read
    page, more = view.page(filters, offset, limit)
    headers = {}
    if more:
        pairs = [(name, value) for name, values in query.items() for value in values]
        link = urlencode([*pairs, ("limit", str(limit)), ("offset", str(offset + limit))])
        headers["Link"] = (f'<{base_url(request, ctx.settings.public_url)}/3/footprints?'
                           f'{link}>; rel="next"')
    return data_response([view.v3(e) for e in page], headers)


@router.get("/footprints/{footprint_id}", responses={404: {"model": ErrorBody}, 200: {
    "description": "The footprint", "content": {"application/json": {"schema": {
        "type": "object", "required": ["data"], "properties": {"data": {"type": "object"}}}}}}})
def get_footprint(ctx: Context, who: Caller, footprint_id: str) -> Response:
    """GetFootprint (PACT v3)."""
    view = readable(ctx, who)
    found = view.by_id(footprint_id.lower())  # None when unknown or not shared
    if found is None:
        raise ApiError(404, "NotFound", f"Footprint with ID {footprint_id[:100]!r} does not "
                                        "exist")
    return data_response(view.v3(found))


@router.post("/events", responses={200: {"description": "Accepted (empty body)"}},
             openapi_extra=event_body(["specversion", "id", "source", "type", "time", "data"]))
async def events(request: Request, ctx: Context, who: Caller) -> Response:
    """Events (PACT v3): a footprint request is answered later (Fulfilled or Rejected)."""
    return await receive_event(request, ctx, who, check_envelope_v3, 3)
