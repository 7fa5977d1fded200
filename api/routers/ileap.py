"""iLEAP Action TransportActivityData: ``GET /2/ileap/tad`` (iLEAP Technical Specifications
v1.0.0, §7.1).

- The Transport Activity Data of the shipment footprints the caller may read on ``/2/footprints``
  (the same view, :mod:`api.pact_access`: exporters their own, buyers and auditors what a data
  owner shared with them, admins all), one per transport leg, as
  :mod:`ledger.reports.ileap` derives it. A footprint shared without its evidence (the anchor
  record withheld) gives no TAD: departure and arrival are in the record.
- Filters (§7.1.1, §7.1.3): query pairs ``name=value`` on the TAD properties of
  :data:`ledger.reports.ileap.FILTERABLE` (``mode=Sea``); names are case-sensitive, values are
  not; a name given twice matches either value, different names must all match. Another name is
  400 ``NotImplemented`` (the spec lets a host refuse a filter pair it does not support).
- Pages (§7.1.2): ``limit`` (a positive integer; at most :data:`~api.routers.pact.PAGE_MAX`
  per page) and, when more remain, ``Link: <absolute URL>; rel="next"`` on the request's host,
  with the filters kept and an ``offset``; the link gives the same page while no footprint is
  published in between.
- Errors (§7.1.4, PACT v2 codes): no or a malformed ``Authorization`` header 400 ``BadRequest``;
  a token the service does not accept 403 ``AccessDenied``; an expired token 401
  ``TokenExpired`` (Appendix C's case TC008 writes ``ExpiredToken``; §7.1.4 and PACT name the
  code ``TokenExpired``).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import Annotated, Any, cast
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Depends, Request, Security
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials

from api.auth import Principal
from api.deps import BEARER, Context
from api.errors import ApiError
from api.models import ErrorBody
from api.pact_access import Readable, readable
from api.routers.auth import base_url
from api.routers.pact import PAGE_MAX
from ledger.reports.ileap import filter_problem, matches, transport_activities

__all__ = ["activities_of", "router", "tad_caller"]

router = APIRouter(prefix="/2/ileap", tags=["ileap"],
                   responses={400: {"model": ErrorBody}, 401: {"model": ErrorBody},
                              403: {"model": ErrorBody}})

_PAGING = ("limit", "offset")


def tad_caller(request: Request, ctx: Context,
               _documented: Annotated[HTTPAuthorizationCredentials | None,
                                      Security(BEARER)] = None) -> Principal:
    """The caller, with the TAD action's error codes: a well-formed bearer token that the
    service does not know is 403 ``AccessDenied`` (§7.1.4), not PACT's 400."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return ctx.auth.from_request(request)  # 400 BadRequest, naming the expected header
    try:
        return ctx.auth.principal(token.strip())
    except ApiError as exc:
        if exc.code != "BadRequest":
            raise  # TokenExpired
        raise ApiError(403, "AccessDenied", "The access token is not accepted: get one at "
                       "/auth/token", headers=exc.headers) from None


tad_caller.roles = ()  # type: ignore[attr-defined]  # any role (the OpenAPI document says so)


@lru_cache(maxsize=20000)
def activities_of(raw: bytes) -> tuple[dict[str, Any], ...]:
    """The TADs of one served footprint (its v2.3 JSON), remembered: the index hands out the
    same bytes for a footprint until it is published again, so a listing parses each footprint
    once. The TADs are shared between requests and must not be changed."""
    return tuple(transport_activities(orjson.loads(raw))[0])


#: Filtered TAD lists kept per view (the most recent ones; a new view starts afresh).
_FILTERED_KEPT = 32


def _matching(view: Readable, filters: dict[str, list[str]]) -> Sequence[dict[str, Any]]:
    """The view's TADs in order, those matching ``filters``; both kept on the view, which lives
    as long as the caller's grants and the index stay the same."""
    every = view.memo.get("tads")
    if every is None:
        with view.memo.setdefault("lock", threading.Lock()):  # one request builds, others wait
            every = view.memo.get("tads")
            if every is None:
                every = view.memo["tads"] = tuple(
                    t for entry in view.entries for t in activities_of(view.v2(entry)))
    if not filters:
        return cast(Sequence[dict[str, Any]], every)
    key = ("tads", tuple(sorted((name, tuple(values)) for name, values in filters.items())))
    found = view.memo.get(key)
    if found is None:
        kept = [k for k in list(view.memo) if k not in ("tads", "lock")]
        if len(kept) >= _FILTERED_KEPT:
            for old in kept:
                view.memo.pop(old, None)
        found = view.memo[key] = tuple(t for t in every if matches(t, filters))
    return cast(Sequence[dict[str, Any]], found)


def _limit_offset(request: Request) -> tuple[int, int]:
    out = []
    for name, low in (("limit", 1), ("offset", 0)):
        values = request.query_params.getlist(name)
        if not values:
            out.append(PAGE_MAX if name == "limit" else 0)
            continue
        raw = values[-1]
        if (len(values) > 1 or not (raw.isascii() and raw.isdigit()) or len(raw) > 12
                or int(raw) < low):
            raise ApiError(400, "BadRequest",
                           f"{name} must be one whole number of at least {low}")
        out.append(int(raw))
    return min(out[0], PAGE_MAX), out[1]


def _filters(request: Request) -> dict[str, list[str]]:
    filters: dict[str, list[str]] = {}
    for name, value in request.query_params.multi_items():
        if name in _PAGING:
            continue
        problem = filter_problem(name)
        if problem is not None:
            raise ApiError(400, "NotImplemented", problem)
        filters.setdefault(name, []).append(value)
    return filters


@router.get("/tad", responses={200: {"description": "A page of TransportActivityData",
                                     "content": {"application/json": {"schema": {
                                         "type": "object", "required": ["data"],
                                         "properties": {"data": {"type": "array",
                                                                 "items": {"type": "object"}}}}}}}},
            openapi_extra={"parameters": [
                {"name": "limit", "in": "query", "required": False,
                 "schema": {"type": "integer", "minimum": 1}},
                {"name": "offset", "in": "query", "required": False,
                 "schema": {"type": "integer", "minimum": 0}},
                {"name": "mode", "in": "query", "required": False,
                 "schema": {"type": "string"}}]})
def transport_activity_data(request: Request, ctx: Context,
                            who: Annotated[Principal, Depends(tad_caller)]) -> Response:
    """Action TransportActivityData."""
    limit, offset = _limit_offset(request)
    filters = _filters(request)
    view = readable(ctx, who)
    found = _matching(view, filters)
    page = found[offset:offset + limit]
    headers = {}
    if offset + len(page) < len(found):
        query = [(k, v) for k, vs in filters.items() for v in vs]
        query += [("limit", str(limit)), ("offset", str(offset + limit))]
        base = base_url(request, ctx.settings.public_url)
        headers["Link"] = f'<{base}/2/ileap/tad?{urlencode(query)}>; rel="next"'
    return Response(orjson.dumps({"data": page}), media_type="application/json",
                    headers=headers)
