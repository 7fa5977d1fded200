"""The other PACT host of the event tests, and a service with the demo footprints published.

:class:`Requester` is a real HTTP server on a loopback port (:class:`api_fixtures.LiveServer`):
it issues tokens for the credentials it gave us and records every event we send to its
``/2/events`` or ``/3/events``. It is configured as the service's PACT partner, so the callbacks
of conformance cases #13 and #14.B go to a configurable host, as in production.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from api_fixtures import (
    EXAMPLES,
    LiveServer,
    Service,
    ServiceChain,
    TestClient,
    chain_app,
    make_service,
    partner,
)
from fastapi import FastAPI, Request, Response

__all__ = ["CLOUDEVENTS", "Pact", "Requester", "bearer", "check_plain_http_refused",
           "pact_service"]

CLOUDEVENTS = {"content-type": "application/cloudevents+json; charset=UTF-8"}


@dataclass
class Requester:
    """The other PACT host: hands out a token for our credentials, keeps the events we send."""

    client_id: str = "ledger-at-requester"
    secret: str = "requester-issued-secret"
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/auth/token")
        async def token(request: Request) -> Any:
            expected = base64.b64encode(f"{self.client_id}:{self.secret}".encode()).decode()
            if request.headers.get("authorization") != f"Basic {expected}":
                return Response(status_code=401)
            return {"access_token": "requester-token", "token_type": "bearer"}

        @app.post("/{version}/events")
        async def events(version: str, request: Request) -> Response:
            if request.headers.get("authorization") != "Bearer requester-token":
                return Response(status_code=400)
            if not request.headers.get("content-type", "").startswith(
                    "application/cloudevents+json"):
                return Response(status_code=400)
            self.events.append((version, json.loads(await request.body())))
            return Response(status_code=200)

        return app

    def wait_for(self, request_id: str, timeout_s: float = 15) -> tuple[str, dict[str, Any]]:
        """(endpoint version "2" or "3", event) of our answer to the request ``request_id``."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for version, event in self.events:
                if event.get("data", {}).get("requestEventId") == request_id:
                    return version, event
            time.sleep(0.05)
        raise AssertionError(f"no answer to {request_id} reached the requester")


@dataclass
class Pact:
    service: Service
    https: TestClient
    buyer: Any
    exporter: Any
    footprints: list[dict[str, Any]]
    requester: Requester
    requester_url: str


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def check_plain_http_refused(pact: Pact, version: int) -> None:
    """Conformance cases #9-#11: the token, list and get endpoints of ``/{version}/`` refuse
    plain HTTP (no token, no data in the answer); the same requests over HTTPS work."""
    plain = TestClient(pact.https.app, base_url="http://testserver")
    token = pact.service.token(pact.buyer)
    fid = pact.footprints[0]["id"]
    try:
        auth = plain.post("/auth/token", data={"grant_type": "client_credentials"},
                          auth=(pact.buyer.client_id, pact.buyer.client_secret))
        listed = plain.get(f"/{version}/footprints", headers=bearer(token))
        one = plain.get(f"/{version}/footprints/{fid}", headers=bearer(token))
    finally:
        plain.close()
    for response in (auth, listed, one):
        assert response.status_code >= 400
        assert "access_token" not in response.json() and "data" not in response.json()
    assert pact.https.get(f"/{version}/footprints/{fid}", headers=bearer(token)).status_code == 200


@contextmanager
def pact_service(tmp: Path, service_chain: ServiceChain) -> Iterator[Pact]:
    """A service (and its HTTPS-only twin) with the demo shipments anchored and reported in
    one report, the requester as its partner."""
    requester = Requester()
    with LiveServer(requester.app()) as server:
        overrides = {"pact_partners": (partner(server.url, requester.client_id,
                                               requester.secret),),
                     "pact_event_backoff_s": 0.05, "pact_event_retries": 2}
        service = make_service(chain_app(tmp, service_chain, **overrides), service_chain.node)
        https_app = chain_app(tmp, service_chain, require_https=True, **overrides)
        https = TestClient(https_app, base_url="https://testserver")
        try:
            exporter, buyer = service.org("Ningbo", "exporter"), service.org("Buyer", "buyer")
            service.client.post("/v1/shares", json={"organisation": "Buyer", "evidence": "full"},
                                headers=service.auth(exporter))  # the data owner shares
            demo = json.loads((EXAMPLES / "demo-shipments.json").read_text(encoding="utf-8"))
            ids = [s["shipment_id"] for s in demo["shipments"]]
            service.client.post("/v1/shipments", json=demo, headers=service.auth(exporter))
            job = service.client.post("/v1/anchoring", headers=service.auth(exporter)).json()
            assert service.wait_job(exporter, job["id"])["state"] == "done"
            made = service.client.post("/v1/reports", json={
                "shipment_ids": ids, "first_day": "2026-01-01", "last_day": "2026-03-31"},
                headers=service.auth(exporter))
            assert made.status_code == 201, made.text
            footprints = made.json()["report"]["credentialSubject"]["productFootprints"]
            yield Pact(service, https, buyer, exporter, footprints, requester, server.url)
        finally:
            https.close()
            https_app.state.ctx.close()
            service.client.close()
            service.ctx.close()
