"""Tenants: records belong to an organisation (one signing key, one owner), and buyers read only
the footprints a data owner shared with them, through shares or the PACT request flow."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from api_fixtures import (
    EXAMPLES,
    LiveServer,
    Service,
    ServiceChain,
    chain_app,
    make_service,
    offline_service,
    partner,
    service_chain,
)
from eth_account import Account
from fastapi import FastAPI, Request, Response

from api.store import open_service_store
from ledger.store.store import open_store

__all__ = ["offline_service", "service_chain"]
pytestmark = pytest.mark.api

DEMO = json.loads((EXAMPLES / "demo-shipments.json").read_text(encoding="utf-8"))
IDS = [s["shipment_id"] for s in DEMO["shipments"]]
CLOUDEVENTS = {"content-type": "application/cloudevents+json; charset=UTF-8"}
PREFIX = "org.wbcsd.pathfinder."


# ---------------------------------------------------------------------------------- one key


def test_a_second_organisation_with_the_same_key_is_refused(offline_service: Service) -> None:
    s = offline_service
    admin = s.org("Admin", "admin")
    key = "0x" + bytes(Account.create().key).hex()
    first = s.client.post("/v1/organisations", headers=s.auth(admin),
                          json={"name": "Ningbo", "role": "exporter", "private_key": key})
    assert first.status_code == 201, first.text
    again = s.client.post("/v1/organisations", headers=s.auth(admin),
                          json={"name": "Copycat", "role": "exporter", "private_key": key})
    assert again.status_code == 409
    assert "Ningbo" in again.json()["message"] and "own key" in again.json()["message"]
    as_auditor = s.client.post("/v1/organisations", headers=s.auth(admin),
                               json={"name": "Copycat", "role": "auditor", "private_key": key})
    assert as_auditor.status_code == 409
    names = [o["name"] for o in s.client.get("/v1/organisations",
                                             headers=s.auth(admin)).json()["organisations"]]
    assert "Copycat" not in names  # nothing half-made


@pytest.mark.parametrize("key", ["0" * 64, "f" * 64])
def test_a_key_outside_the_curve_answers_422_naming_it(offline_service: Service, key: str
                                                       ) -> None:
    s = offline_service
    admin = s.org("Admin", "admin")
    answer = s.client.post("/v1/organisations", headers=s.auth(admin),
                           json={"name": "Zero key", "role": "auditor", "private_key": key})
    assert answer.status_code == 422, answer.text
    assert answer.json()["problems"][0]["field"] == "private_key"
    assert key not in answer.text


def test_an_old_store_with_a_shared_key_keeps_it_with_the_first_organisation(
        tmp_path: Path, offline_service: Service) -> None:
    from alembic import command
    from alembic.config import Config

    from api.migrations import SCRIPT_LOCATION

    url = str(tmp_path / "old.sqlite")
    ledger = open_store(url)
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.set_main_option("path_separator", "os")
    with ledger.engine.begin() as conn:  # the tables as they were before keys had an owner
        config.attributes["connection"] = conn
        command.upgrade(config, "service_0001_tables")
        address = Account.create().address
        for name in ("First", "Second"):
            conn.execute(sa.text(
                "INSERT INTO service_organisations (name, role, address, keystore, created_at) "
                "VALUES (:n, 'exporter', :a, '{}', CURRENT_TIMESTAMP)"), {"n": name, "a": address})
    store = open_service_store(ledger)
    try:
        first, second = store.org_by_name("First"), store.org_by_name("Second")
        assert first is not None and second is not None
        assert store.key_owner(address) == first.id
    finally:
        ledger.close()


def test_reads_of_an_organisation_whose_key_another_owns_are_refused(
        offline_service: Service) -> None:
    s = offline_service
    owner = s.org("Owner", "exporter")
    clash = s.org("Clash", "exporter")
    assert s.client.post("/v1/shipments", json=DEMO, headers=s.auth(clash)).status_code == 201
    with s.ctx.store.ledger.write() as conn:  # as a store made before keys had one owner
        conn.execute(sa.text("UPDATE service_organisations SET address = :a WHERE id = :i"),
                     {"a": owner.org.address, "i": clash.org.id})
    submitted = s.client.post("/v1/shipments", json=DEMO, headers=s.auth(clash))
    assert submitted.status_code == 409 and "Owner" in submitted.json()["message"]
    for path in ("/v1/shipments", f"/v1/shipments/{IDS[0]}/proof", "/v1/summary"):
        response = s.client.get(path, headers=s.auth(clash))
        assert response.status_code == 409, (path, response.text)
        assert "belongs to the organisation 'Owner'" in response.json()["message"]


# ---------------------------------------------------------------------------------- sharing


@dataclass
class Requester:
    """A buyer's PACT host: hands out a token for our credentials, keeps the events we send."""

    client_id: str = "ledger-at-buyer"
    secret: str = "buyer-issued-secret"
    events: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/auth/token")
        async def token(request: Request) -> Any:
            return {"access_token": "buyer-host-token", "token_type": "bearer"}

        @app.post("/2/events")
        async def events(request: Request) -> Response:
            self.events.append(json.loads(await request.body()))
            return Response(status_code=200)

        return app

    def answer_to(self, request_id: str, kind: str, timeout_s: float = 15) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for event in self.events:
                if event.get("data", {}).get("requestEventId") == request_id \
                        and event["type"] == PREFIX + kind:
                    return event
            time.sleep(0.05)
        raise AssertionError(f"no {kind} answer to {request_id}")


@dataclass
class Shared:
    service: Service
    exporter: Any
    footprints: list[dict[str, Any]]
    requester: Requester
    requester_url: str


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory, service_chain: ServiceChain
           ) -> Iterator[Shared]:
    requester = Requester()
    with LiveServer(requester.app()) as server:
        tmp = tmp_path_factory.mktemp("sharing")
        overrides = {"pact_partners": (partner(server.url, requester.client_id,
                                               requester.secret),),
                     "pact_event_backoff_s": 0.05, "pact_event_retries": 2,
                     "public_url": "https://ledger.example"}
        service = make_service(chain_app(tmp, service_chain, **overrides), service_chain.node)
        try:
            exporter = service.org("Ningbo", "exporter")
            service.client.post("/v1/shipments", json=DEMO, headers=service.auth(exporter))
            job = service.client.post("/v1/anchoring", headers=service.auth(exporter)).json()
            assert service.wait_job(exporter, job["id"])["state"] == "done"
            made = service.client.post("/v1/reports", json={
                "shipment_ids": IDS, "first_day": "2026-01-01", "last_day": "2026-03-31"},
                headers=service.auth(exporter))
            assert made.status_code == 201, made.text
            footprints = made.json()["report"]["credentialSubject"]["productFootprints"]
            yield Shared(service, exporter, footprints, requester, server.url)
        finally:
            service.client.close()
            service.ctx.close()


def _anchor_data(footprint: dict[str, Any]) -> dict[str, Any]:
    for extension in footprint.get("extensions") or []:
        if "anchor" in extension["dataSchema"]:
            return extension["data"]  # type: ignore[no-any-return]
    raise AssertionError("no anchor extension")


def _ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [f["id"] for f in response.json()["data"]]


def test_a_new_buyer_sees_no_footprint_until_one_is_shared(shared: Shared) -> None:
    s, exporter = shared.service, shared.exporter
    buyer = s.org("Fresh buyer", "buyer")
    auditor = s.org("Some auditor", "auditor")
    for who in (buyer, auditor):
        assert _ids(s.client.get("/2/footprints", headers=s.auth(who))) == []
        one = s.client.get(f"/2/footprints/{shared.footprints[0]['id']}", headers=s.auth(who))
        assert one.status_code == 404 and one.json()["code"] == "NoSuchFootprint"

    share = s.client.post("/v1/shares", json={"organisation": "Fresh buyer"},
                          headers=s.auth(exporter))
    assert share.status_code == 201, share.text
    seen = s.client.get("/2/footprints", headers=s.auth(buyer))
    assert _ids(seen) == [f["id"] for f in shared.footprints]
    # the anchor evidence without the shipment's full record (leaf, proof, transaction kept)
    anchored = 0
    for served, issued in zip(seen.json()["data"], shared.footprints, strict=True):
        if not any("anchor" in e["dataSchema"] for e in issued.get("extensions") or []):
            assert served == issued  # a product footprint: no anchor evidence to withhold
            continue
        anchor, original = _anchor_data(served), _anchor_data(issued)
        assert anchor["record"] is None and anchor["recordDisclosed"] is False
        assert anchor["leaf"] == original["leaf"] and anchor["proof"] == original["proof"]
        assert anchor["transactionHash"] == original["transactionHash"]
        anchored += 1
    assert anchored > 0
    assert _ids(s.client.get("/2/footprints", headers=s.auth(auditor))) == []  # not shared

    # the data owner still reads its own with the record
    own = s.client.get(f"/2/footprints/{shared.footprints[0]['id']}", headers=s.auth(exporter))
    assert own.json()["data"] == shared.footprints[0]

    full = s.client.post("/v1/shares", json={"organisation": "Fresh buyer", "evidence": "full"},
                         headers=s.auth(exporter))
    assert full.status_code == 201
    one = s.client.get(f"/2/footprints/{shared.footprints[0]['id']}", headers=s.auth(buyer))
    assert one.json()["data"] == shared.footprints[0]

    listed = s.client.get("/v1/shares", headers=s.auth(exporter)).json()["shares"]
    for grant in listed:
        gone = s.client.delete(f"/v1/shares/{grant['id']}", headers=s.auth(exporter))
        assert gone.status_code == 200
    assert _ids(s.client.get("/2/footprints", headers=s.auth(buyer))) == []
    again = s.client.delete(f"/v1/shares/{listed[0]['id']}", headers=s.auth(exporter))
    assert again.status_code == 404


def test_a_share_by_product_shows_only_that_products_footprints(shared: Shared) -> None:
    s, exporter = shared.service, shared.exporter
    buyer = s.org("Product buyer", "buyer")
    wanted = shared.footprints[0]
    product = wanted["productIds"][0]
    share = s.client.post("/v1/shares", json={"organisation": "Product buyer",
                                              "product_ids": [product]},
                          headers=s.auth(exporter))
    assert share.status_code == 201
    seen = _ids(s.client.get("/2/footprints", headers=s.auth(buyer)))
    expected = [f["id"] for f in shared.footprints if product in f["productIds"]]
    assert seen == expected and len(seen) < len(shared.footprints)


def test_sharing_refusals(shared: Shared) -> None:
    s, exporter = shared.service, shared.exporter
    buyer = s.org("Refused buyer", "buyer")
    nobody = s.client.post("/v1/shares", json={"organisation": "No such org"},
                           headers=s.auth(exporter))
    assert nobody.status_code == 404
    as_buyer = s.client.post("/v1/shares", json={"organisation": "Refused buyer"},
                             headers=s.auth(buyer))
    assert as_buyer.status_code == 403
    other = s.org("Another exporter", "exporter")
    with_exporter = s.client.post("/v1/shares", json={"organisation": "Another exporter"},
                                  headers=s.auth(exporter))
    assert with_exporter.status_code == 404
    assert _ids(s.client.get("/2/footprints", headers=s.auth(other))) == []


def test_a_buyer_asks_and_the_exporter_grants(shared: Shared) -> None:
    s, exporter = shared.service, shared.exporter
    buyer = s.org("Asking buyer", "buyer")
    product = shared.footprints[0]["productIds"][0]
    asked = s.client.post("/v1/access-requests", headers=s.auth(buyer),
                          json={"exporter": "Ningbo", "product_ids": [product],
                                "comment": "for our CBAM declaration"})
    assert asked.status_code == 201, asked.text
    mine = s.client.get("/v1/access-requests", headers=s.auth(buyer)).json()["requests"]
    assert [r["state"] for r in mine] == ["pending"]
    waiting = s.client.get("/v1/access-requests", headers=s.auth(exporter)).json()["requests"]
    request = next(r for r in waiting if r["requester"] == "Asking buyer")
    assert request["product_ids"] == [product] and request["comment"] == "for our CBAM declaration"
    assert _ids(s.client.get("/2/footprints", headers=s.auth(buyer))) == []

    other = s.org("Not the owner", "exporter")
    stolen = s.client.post(f"/v1/access-requests/{request['id']}/grant", headers=s.auth(other))
    assert stolen.status_code == 404
    granted = s.client.post(f"/v1/access-requests/{request['id']}/grant",
                            headers=s.auth(exporter))
    assert granted.status_code == 200 and granted.json()["state"] == "granted"
    seen = _ids(s.client.get("/2/footprints", headers=s.auth(buyer)))
    assert seen == [f["id"] for f in shared.footprints if product in f["productIds"]]
    twice = s.client.post(f"/v1/access-requests/{request['id']}/decline",
                          headers=s.auth(exporter))
    assert twice.status_code == 404


def test_a_pact_request_event_is_answered_once_the_owner_grants(shared: Shared) -> None:
    s, exporter = shared.service, shared.exporter
    buyer = s.org("Event buyer", "buyer")
    wanted = shared.footprints[0]
    event = {"specversion": "1.0", "id": str(uuid.uuid4()),
             "source": "//" + shared.requester_url.split("://")[1],
             "time": "2026-11-27T10:00:00Z", "type": PREFIX + "ProductFootprintRequest.Created.v1",
             "data": {"pf": {"productIds": wanted["productIds"]}, "comment": "Q1 please"}}
    response = s.client.post("/2/events", content=json.dumps(event),
                             headers=s.auth(buyer, **CLOUDEVENTS))
    assert response.status_code == 200
    rejected = shared.requester.answer_to(event["id"], "ProductFootprintRequest.Rejected.v1")
    assert "pfs" not in rejected["data"]  # nothing shared yet: nothing leaves

    waiting = s.client.get("/v1/access-requests", headers=s.auth(exporter)).json()["requests"]
    request = next(r for r in waiting if r["event_id"] == event["id"])
    assert request["requester"] == "Event buyer" and request["comment"] == "Q1 please"
    granted = s.client.post(f"/v1/access-requests/{request['id']}/grant",
                            headers=s.auth(exporter), json={"evidence": "leaf"})
    assert granted.status_code == 200 and granted.json()["answered"] is True
    fulfilled = shared.requester.answer_to(event["id"], "ProductFootprintRequest.Fulfilled.v1")
    assert wanted["id"] in [pf["id"] for pf in fulfilled["data"]["pfs"]]
    assert all(_anchor_data(pf)["record"] is None for pf in fulfilled["data"]["pfs"])
    assert fulfilled["source"] == "//ledger.example"


def test_an_unknown_product_request_looks_the_same_as_a_hidden_one(shared: Shared) -> None:
    s = shared.service
    buyer = s.org("Probing buyer", "buyer")
    hidden = s.client.post("/v1/access-requests", headers=s.auth(buyer), json={
        "exporter": "Ningbo", "product_ids": shared.footprints[0]["productIds"]})
    unknown = s.client.post("/v1/access-requests", headers=s.auth(buyer), json={
        "exporter": "Ningbo", "product_ids": ["urn:gtin:0000000000000"]})
    assert hidden.status_code == unknown.status_code == 201
    assert hidden.json().keys() == unknown.json().keys()
    assert hidden.json()["state"] == unknown.json()["state"] == "requested"
