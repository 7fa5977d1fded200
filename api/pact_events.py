"""PACT events (CloudEvents 1.0, structured mode), v2 and v3: the requests we answer and the
answers.

A footprint request is accepted at once (200); then, in the background, the matching footprints
are sent back in a Fulfilled event, or a Rejected event says why not:

- v2 (``/2/events``): ``org.wbcsd.pathfinder.ProductFootprintRequest.Created.v1`` names
  ``data.pf.productIds``; the answer carries PACT v2.3 footprints, error code
  ``NoSuchFootprint``;
- v3 (``/3/events``): ``org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3`` carries the
  ``ListFootprints`` criteria in ``data`` (``productId``, ``companyId``, ``geography``,
  ``classification``, ``validOn`` / ``validAfter`` / ``validBefore``, ``status``; OR within, AND
  across); the answer carries PACT v3 footprints, error code ``NotFound``.

Answers go only to the PACT hosts configured as partners (matched by the host of the event's
``source``), to ``<partner base URL>/2/events`` or ``/3/events``, authenticated with the
credentials each partner issued us, and are retried with exponential back-off. Every event in
and out is recorded. :attr:`EventSender.footprints` is the published footprints in memory
(:mod:`api.pact_index`), shared with the routes.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from api.auth import Principal
from api.errors import ApiError
from api.jobs import JobRunner
from api.pact_index import FootprintIndex
from api.settings import PactPartner, ServiceSettings
from api.store import ServiceStore
from ledger.errors import InputError
from ledger.reports.pact3 import Filters

__all__ = ["EVENT_TYPES", "EVENT_TYPES_V3", "EventSender", "check_envelope_v3", "criteria_v3"]

log = logging.getLogger("api.pact")

_PREFIX = "org.wbcsd.pathfinder."
REQUEST_CREATED = _PREFIX + "ProductFootprintRequest.Created.v1"
REQUEST_FULFILLED = _PREFIX + "ProductFootprintRequest.Fulfilled.v1"
REQUEST_REJECTED = _PREFIX + "ProductFootprintRequest.Rejected.v1"
PUBLISHED = _PREFIX + "ProductFootprint.Published.v1"
EVENT_TYPES = (REQUEST_CREATED, REQUEST_FULFILLED, REQUEST_REJECTED, PUBLISHED)

_PREFIX_V3 = "org.wbcsd.pact.ProductFootprint."
REQUEST_CREATED_V3 = _PREFIX_V3 + "RequestCreatedEvent.3"
REQUEST_FULFILLED_V3 = _PREFIX_V3 + "RequestFulfilledEvent.3"
REQUEST_REJECTED_V3 = _PREFIX_V3 + "RequestRejectedEvent.3"
PUBLISHED_V3 = _PREFIX_V3 + "PublishedEvent.3"
EVENT_TYPES_V3 = (REQUEST_CREATED_V3, REQUEST_FULFILLED_V3, REQUEST_REJECTED_V3, PUBLISHED_V3)
_CRITERIA = ("productId", "companyId", "geography", "classification", "status")
_TIMES = ("validOn", "validAfter", "validBefore")


def _host_of(source: str) -> str:
    text = source if "//" in source else "//" + source
    return urlsplit(text).netloc.lower()


def check_envelope(event: Any) -> Mapping[str, Any]:
    """The event when it is a CloudEvents 1.0 envelope of a known PACT v2 type; else 400."""
    if not isinstance(event, Mapping):
        raise ApiError(400, "BadRequest", "the body is not a CloudEvents JSON object")
    problems = _common_problems(event, EVENT_TYPES)
    data = event.get("data")
    if isinstance(data, Mapping) and event.get("type") == REQUEST_CREATED \
            and not isinstance(data.get("pf"), Mapping):
        problems.append("data.pf must be an object (a ProductFootprint fragment)")
    elif isinstance(data, Mapping) and event.get("type") == PUBLISHED \
            and not isinstance(data.get("pfIds"), list):
        problems.append("data.pfIds must be a list")
    if problems:
        raise ApiError(400, "BadRequest", "malformed event: " + "; ".join(problems))
    return event


def _common_problems(event: Mapping[str, Any], types: tuple[str, ...]) -> list[str]:
    problems = []
    if event.get("specversion") != "1.0":
        problems.append("specversion must be \"1.0\"")
    for name in ("id", "source", "type"):
        if not isinstance(event.get(name), str) or not event.get(name):
            problems.append(f"{name} must be a non-empty string")
    if event.get("type") not in types and isinstance(event.get("type"), str):
        problems.append(f"unknown event type {event.get('type')!r} (expected one of "
                        f"{', '.join(types)})")
    if not isinstance(event.get("data"), Mapping):
        problems.append("data must be an object")
    return problems


def check_envelope_v3(event: Any) -> Mapping[str, Any]:
    """The event when it is a CloudEvents 1.0 envelope of a PACT v3 type; else 400 naming what is
    wrong (a request's criteria are checked as the ``ListFootprints`` parameters are)."""
    if not isinstance(event, Mapping):
        raise ApiError(400, "BadRequest", "the body is not a CloudEvents JSON object")
    problems = _common_problems(event, EVENT_TYPES_V3)
    if not isinstance(event.get("time"), str) or not event.get("time"):
        problems.append("time must be an RFC 3339 date-time")
    data = event.get("data")
    if isinstance(data, Mapping) and event.get("type") == REQUEST_CREATED_V3:
        for name in _CRITERIA:
            value = data.get(name)
            if value is not None and not (
                    isinstance(value, str) or (isinstance(value, list)
                                               and all(isinstance(v, str) for v in value))):
                problems.append(f"data.{name} must be a string or a list of strings")
        for name in _TIMES:
            if data.get(name) is not None and not isinstance(data.get(name), str):
                problems.append(f"data.{name} must be an RFC 3339 date-time")
    elif isinstance(data, Mapping) and event.get("type") == PUBLISHED_V3 \
            and not isinstance(data.get("pfIds"), list):
        problems.append("data.pfIds must be a list")
    if problems:
        raise ApiError(400, "BadRequest", "malformed event: " + "; ".join(problems))
    return event


def criteria_v3(data: Mapping[str, Any]) -> Filters:
    """The ``ListFootprints`` criteria of a v3 request event (``InputError`` naming a bad time)."""
    values: dict[str, list[str]] = {}
    for name in (*_CRITERIA, *_TIMES):
        value = data.get(name)
        if value is not None:
            values[name] = [value] if isinstance(value, str) else list(value)
    return Filters.from_lists(values)


class EventSender:
    """Receives events and sends the answers to configured partners (in the background, on the
    jobs' pool)."""

    def __init__(self, settings: ServiceSettings, store: ServiceStore, jobs: JobRunner) -> None:
        self._settings = settings
        self._store = store
        self._jobs = jobs
        #: The footprints a requester may read (:mod:`api.sharing`), set by the app:
        #: ``access(principal, product_ids, event)``; it also records requests for the rest.
        self.access: Callable[[Principal, list[str], Mapping[str, Any]],
                              list[dict[str, Any]]] | None = None
        #: The v3 footprints a requester may read (:mod:`api.pact_access`), set by the app:
        #: ``access_v3(principal, criteria)``.
        self.access_v3: Callable[[Principal, Filters], list[dict[str, Any]]] | None = None
        self.footprints = FootprintIndex(store)

    def warm_up(self) -> None:
        """Builds the index of all published footprints in the background (at service start),
        so the first ``ListFootprints`` does not wait for a full read of the store."""
        self._jobs.run_in_background(lambda: self.footprints.snapshot(None))

    def partner_for(self, source: str) -> PactPartner | None:
        host = _host_of(source)
        for partner in self._settings.pact_partners:
            if urlsplit(partner.base_url).netloc.lower() == host:
                return partner
        return None

    def receive(self, event: Mapping[str, Any], principal: Principal, our_source: str,
                version: int = 2) -> None:
        """Records an incoming event; a footprint request gets its answer in the background.

        ``version`` is the PACT major version of the endpoint the event came to (2 or 3)."""
        store = self._store
        kind = str(event["type"])
        if version == 3 and kind == REQUEST_CREATED_V3:
            try:
                criteria_v3(event["data"])
            except InputError as exc:
                raise ApiError(400, "BadRequest", f"malformed event: {exc}") from None
        if kind not in (REQUEST_CREATED, REQUEST_CREATED_V3):
            store.add_event(str(event["id"]), kind, str(event["source"]), direction="in",
                            body=dict(event), state="received")
            return
        partner = self.partner_for(str(event["source"]))
        if partner is None:
            raise ApiError(400, "BadRequest",
                           f"events are answered only to configured partner hosts; "
                           f"{_host_of(str(event['source']))!r} is not one")
        store.add_event(str(event["id"]), kind, str(event["source"]), direction="in",
                        body=dict(event), state="received")
        answer = (self._answer_v3(event, principal, our_source) if version == 3
                  else self._answer(event, principal, our_source))
        row = store.add_event(str(answer["id"]), str(answer["type"]), partner.base_url,
                              direction="out", body=answer, state="pending")
        self._jobs.run_in_background(lambda: self.deliver(row, partner, answer, version))

    def _answer_v3(self, event: Mapping[str, Any], principal: Principal, our_source: str
                   ) -> dict[str, Any]:
        import orjson

        criteria = criteria_v3(event["data"])
        if self.access_v3 is not None:
            found = self.access_v3(principal, criteria)
        else:
            org_filter = principal.org_id if principal.role == "exporter" else None
            found = [orjson.loads(e.v3_json)
                     for e in self.footprints.snapshot(org_filter).select(criteria)]
        envelope = {"specversion": "1.0", "id": str(uuid.uuid4()), "source": our_source,
                    "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        if found and not criteria.empty:
            return {**envelope, "type": REQUEST_FULFILLED_V3,
                    "data": {"requestEventId": event["id"], "pfs": found}}
        message = ("the request names no criteria (productId, companyId, geography, "
                   "classification, validOn, validAfter, validBefore or status)"
                   if criteria.empty else "no footprint matches the requested criteria")
        return {**envelope, "type": REQUEST_REJECTED_V3,
                "data": {"requestEventId": event["id"],
                         "error": {"code": "NotFound", "message": message}}}

    def _answer(self, event: Mapping[str, Any], principal: Principal, our_source: str
                ) -> dict[str, Any]:
        data = event["data"]
        product_ids = [str(p) for p in (data["pf"].get("productIds") or [])
                       if isinstance(p, str)]
        org_filter = principal.org_id if principal.role == "exporter" else None
        if self.access is not None:
            found = self.access(principal, product_ids, event) if product_ids else []
        else:
            found = self._store.footprints_for_products(product_ids, org_filter) \
                if product_ids else []
        envelope = {"specversion": "1.0", "id": str(uuid.uuid4()), "source": our_source,
                    "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        if found:
            return {**envelope, "type": REQUEST_FULFILLED,
                    "data": {"requestEventId": event["id"], "pfs": found}}
        what = ", ".join(product_ids) if product_ids else "no productIds given"
        return {**envelope, "type": REQUEST_REJECTED,
                "data": {"requestEventId": event["id"],
                         "error": {"code": "NoSuchFootprint",
                                   "message": f"no footprint for the requested products ({what})"}}}

    def deliver(self, row_id: int, partner: PactPartner, event: Mapping[str, Any],
                version: int = 2) -> bool:
        """Sends ``event`` to the partner, retrying with exponential back-off; True when sent."""
        settings = self._settings
        error: str | None = None
        attempts = 0
        with httpx.Client(timeout=settings.pact_event_timeout_s) as http:
            for attempt in range(settings.pact_event_retries + 1):
                attempts = attempt + 1
                try:
                    token = self._token(http, partner)
                    response = http.post(
                        partner.base_url.rstrip("/") + f"/{version}/events",
                        json=dict(event),
                        headers={"authorization": f"Bearer {token}",
                                 "content-type": "application/cloudevents+json; charset=UTF-8"})
                    if response.status_code < 300:
                        self._store.update_event(row_id, state="sent", attempts=attempts,
                                                     last_error=None)
                        return True
                    error = f"HTTP {response.status_code}: {response.text[:200]}"
                except httpx.HTTPError as exc:
                    error = f"{type(exc).__name__}: {exc}"
                self._store.update_event(row_id, state="retrying", attempts=attempts,
                                             last_error=error)
                if attempt < settings.pact_event_retries:
                    time.sleep(settings.pact_event_backoff_s * 2**attempt)
        log.warning("PACT event %s to %s not delivered: %s", event["id"], partner.base_url, error)
        self._store.update_event(row_id, state="failed", attempts=attempts, last_error=error)
        return False

    def _token(self, http: httpx.Client, partner: PactPartner) -> str:
        base = partner.base_url.rstrip("/")
        endpoint = base + "/auth/token"
        try:
            found = http.get(base + "/.well-known/openid-configuration")
            if found.status_code == 200:
                endpoint = str(found.json().get("token_endpoint") or endpoint)
        except (httpx.HTTPError, ValueError):
            pass
        response = http.post(endpoint, data={"grant_type": "client_credentials"},
                             auth=(partner.client_id, partner.client_secret.get_secret_value()))
        response.raise_for_status()
        return str(response.json()["access_token"])
