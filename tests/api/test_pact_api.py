"""PACT v2 endpoints, one test per mandatory case of the PACT conformance tool (#1-#17, and #21
for malformed events); the HTTPS-only cases run against the app with ``require_https`` set.

A second app on a loopback port plays the requesting PACT host: it issues us tokens and
records the events we send back (Fulfilled or Rejected).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from api_fixtures import (
    EXAMPLES,
    LiveServer,
    Service,
    ServiceChain,
    TestClient,
    chain_app,
    make_service,
    partner,
    service_chain,
)
from fastapi import FastAPI, Request, Response

__all__ = ["service_chain"]
pytestmark = pytest.mark.api

CLOUDEVENTS = {"content-type": "application/cloudevents+json; charset=UTF-8"}
PREFIX = "org.wbcsd.pathfinder."


@dataclass
class Requester:
    """The other PACT host: hands out a token for our credentials, keeps the events we send."""

    client_id: str = "ledger-at-requester"
    secret: str = "requester-issued-secret"
    events: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/auth/token")
        async def token(request: Request) -> Any:
            import base64

            expected = base64.b64encode(f"{self.client_id}:{self.secret}".encode()).decode()
            if request.headers.get("authorization") != f"Basic {expected}":
                return Response(status_code=401)
            return {"access_token": "requester-token", "token_type": "bearer"}

        @app.post("/2/events")
        async def events(request: Request) -> Response:
            if request.headers.get("authorization") != "Bearer requester-token":
                return Response(status_code=400)
            self.events.append(json.loads(await request.body()))
            return Response(status_code=200)

        return app

    def wait_for(self, request_id: str, timeout_s: float = 15) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for event in self.events:
                if event.get("data", {}).get("requestEventId") == request_id:
                    return event
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


@pytest.fixture(scope="module")
def pact(tmp_path_factory: pytest.TempPathFactory, service_chain: ServiceChain
         ) -> Iterator[Pact]:
    requester = Requester()
    with LiveServer(requester.app()) as server:
        tmp = tmp_path_factory.mktemp("pact")
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


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def _event(kind: str, data: dict[str, Any], source: str) -> dict[str, Any]:
    return {"specversion": "1.0", "id": str(uuid.uuid4()), "source": source,
            "time": "2026-11-27T10:00:00Z", "type": PREFIX + kind, "data": data}


def test_01_auth_with_valid_credentials(pact: Pact) -> None:
    response = pact.service.client.post(
        "/auth/token", data={"grant_type": "client_credentials"},
        auth=(pact.buyer.client_id, pact.buyer.client_secret))
    assert response.status_code == 200 and response.json()["access_token"]


def test_02_auth_with_invalid_credentials(pact: Pact) -> None:
    response = pact.service.client.post(
        "/auth/token", data={"grant_type": "client_credentials"},
        auth=(pact.buyer.client_id, "wrong"))
    assert response.status_code in (400, 401) and "access_token" not in response.text


def test_03_get_footprint(pact: Pact) -> None:
    wanted = pact.footprints[1]
    response = pact.service.client.get(f"/2/footprints/{wanted['id']}",
                                       headers=pact.service.auth(pact.buyer))
    assert response.status_code == 200 and response.json() == {"data": wanted}


def test_04_list_footprints(pact: Pact) -> None:
    response = pact.service.client.get("/2/footprints", headers=pact.service.auth(pact.buyer))
    assert response.status_code in (200, 202)
    assert [f["id"] for f in response.json()["data"]] == [f["id"] for f in pact.footprints]
    assert all(uuid.UUID(f["id"]).version == 4 for f in response.json()["data"])


def test_05_pagination_links(pact: Pact) -> None:
    client, headers = pact.service.client, pact.service.auth(pact.buyer)
    url, seen, pages = "/2/footprints?limit=2", [], 0
    first_link = None
    while url:
        response = client.get(url, headers=headers)
        assert response.status_code == 200
        seen += [f["id"] for f in response.json()["data"]]
        pages += 1
        link = response.headers.get("link")
        if link is None:
            break
        target, rel = link.split(";")
        assert rel.strip() == 'rel="next"' and target.startswith("<http://testserver/2/")
        url = target.strip()[1:-1]
        first_link = first_link or url
    assert seen == [f["id"] for f in pact.footprints] and pages == -(-len(seen) // 2)
    assert first_link is not None
    again = [f["id"] for f in client.get(first_link, headers=headers).json()["data"]]
    assert again == seen[2:4]  # the same link gives the same footprints


@pytest.mark.parametrize("path", ["/2/footprints", "/2/footprints/{id}"])
def test_06_07_invalid_token(pact: Pact, path: str) -> None:
    response = pact.service.client.get(path.format(id=pact.footprints[0]["id"]),
                                       headers=_bearer("invalid-access-token"))
    assert response.status_code in (400, 401)
    assert response.json()["code"] == "BadRequest" and "data" not in response.json()


def test_08_unknown_footprint(pact: Pact) -> None:
    response = pact.service.client.get("/2/footprints/non-existent-id",
                                       headers=pact.service.auth(pact.buyer))
    assert response.status_code == 404 and response.json()["code"] == "NoSuchFootprint"


def test_09_10_11_plain_http_is_refused(pact: Pact) -> None:
    plain = TestClient(pact.https.app, base_url="http://testserver")
    token = pact.service.token(pact.buyer)
    fid = pact.footprints[0]["id"]
    try:
        auth = plain.post("/auth/token", data={"grant_type": "client_credentials"},
                          auth=(pact.buyer.client_id, pact.buyer.client_secret))
        listed = plain.get("/2/footprints", headers=_bearer(token))
        one = plain.get(f"/2/footprints/{fid}", headers=_bearer(token))
    finally:
        plain.close()
    for response in (auth, listed, one):
        assert response.status_code >= 400
        assert "access_token" not in response.json() and "data" not in response.json()
    # the same requests over HTTPS work
    assert pact.https.get(f"/2/footprints/{fid}", headers=_bearer(token)).status_code == 200


def test_12_13_request_is_fulfilled_to_the_requester(pact: Pact) -> None:
    wanted = pact.footprints[0]
    event = _event("ProductFootprintRequest.Created.v1",
                   {"pf": {"productIds": wanted["productIds"]}, "comment": "Q1 please"},
                   "//" + pact.requester_url.split("://")[1])
    response = pact.service.client.post("/2/events", content=json.dumps(event),
                                        headers=pact.service.auth(pact.buyer, **CLOUDEVENTS))
    assert response.status_code == 200 and response.content == b""
    answer = pact.requester.wait_for(event["id"])
    assert answer["type"] == PREFIX + "ProductFootprintRequest.Fulfilled.v1"
    assert answer["specversion"] == "1.0" and answer["source"] == "//testserver"
    assert wanted["id"] in [pf["id"] for pf in answer["data"]["pfs"]]


def test_14_unknown_product_is_rejected_to_the_requester(pact: Pact) -> None:
    event = _event("ProductFootprintRequest.Created.v1",
                   {"pf": {"productIds": ["urn:gtin:0000000000000"]}}, pact.requester_url)
    response = pact.service.client.post("/2/events", content=json.dumps(event),
                                        headers=pact.service.auth(pact.buyer, **CLOUDEVENTS))
    assert response.status_code == 200
    answer = pact.requester.wait_for(event["id"])
    assert answer["type"] == PREFIX + "ProductFootprintRequest.Rejected.v1"
    assert answer["data"]["error"]["code"] == "NoSuchFootprint"


def test_15_published_event_is_accepted(pact: Pact) -> None:
    event = _event("ProductFootprint.Published.v1", {"pfIds": [str(uuid.uuid4())]},
                   "//example.org")
    response = pact.service.client.post("/2/events", content=json.dumps(event),
                                        headers=pact.service.auth(pact.buyer, **CLOUDEVENTS))
    assert response.status_code == 200


def test_16_events_with_an_invalid_token(pact: Pact) -> None:
    event = _event("ProductFootprint.Published.v1", {"pfIds": []}, "//example.org")
    response = pact.service.client.post("/2/events", content=json.dumps(event),
                                        headers={**_bearer("invalid-access-token"),
                                                 **CLOUDEVENTS})
    assert response.status_code in (400, 401)


def test_17_events_over_plain_http_are_refused(pact: Pact) -> None:
    event = _event("ProductFootprint.Published.v1", {"pfIds": []}, "//example.org")
    plain = TestClient(pact.https.app, base_url="http://testserver")
    try:
        response = plain.post("/2/events", content=json.dumps(event),
                              headers={**_bearer(pact.service.token(pact.buyer)), **CLOUDEVENTS})
    finally:
        plain.close()
    assert response.status_code >= 400


@pytest.mark.parametrize("event", [
    {"specversion": "1.0", "id": "x", "source": "//a", "type": PREFIX + "Unknown.v1", "data": {}},
    {"id": "x", "source": "//a", "type": PREFIX + "ProductFootprint.Published.v1", "data": {}},
    {"specversion": "1.0", "id": "x", "source": "//a",
     "type": PREFIX + "ProductFootprintRequest.Created.v1", "data": {"pf": "all"}},
    [1, 2],
])
def test_21_malformed_events_are_refused(pact: Pact, event: Any) -> None:
    response = pact.service.client.post("/2/events", content=json.dumps(event),
                                        headers=pact.service.auth(pact.buyer, **CLOUDEVENTS))
    assert response.status_code == 400 and response.json()["code"] == "BadRequest"


def test_requests_from_unknown_hosts_are_not_answered(pact: Pact) -> None:
    event = _event("ProductFootprintRequest.Created.v1", {"pf": {"productIds": ["x"]}},
                   "https://attacker.example")
    response = pact.service.client.post("/2/events", content=json.dumps(event),
                                        headers=pact.service.auth(pact.buyer, **CLOUDEVENTS))
    assert response.status_code == 400 and "partner" in response.json()["message"]


def test_an_exporter_sees_only_its_own_footprints(pact: Pact) -> None:
    other = pact.service.org("Other exporter", "exporter")
    mine = pact.service.client.get("/2/footprints", headers=pact.service.auth(pact.exporter))
    theirs = pact.service.client.get("/2/footprints", headers=pact.service.auth(other))
    assert len(mine.json()["data"]) == len(pact.footprints)
    assert theirs.json()["data"] == []
    assert pact.service.client.get(f"/2/footprints/{pact.footprints[0]['id']}",
                                   headers=pact.service.auth(other)).status_code == 404
