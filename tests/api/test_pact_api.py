"""PACT v2 endpoints, one test per mandatory case of the PACT conformance tool for V2.3
(#1-#17 and #21; the test-case list "PACT Tech Specs V2 Test Cases"), and iLEAP's Appendix C
test case TC001; the HTTPS-only cases run against the app with ``require_https`` set. Every
footprint answered validates against the official PACT v2.3 OpenAPI schema.

A second app on a loopback port plays the requesting PACT host: it issues us tokens and
records the events we send back (Fulfilled or Rejected).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from api_fixtures import ServiceChain, TestClient, service_chain
from pact_fixtures import CLOUDEVENTS, Pact, bearer, check_plain_http_refused, pact_service
from pact_schemas import errors, ileap_validator, pact_validator

__all__ = ["service_chain"]
pytestmark = pytest.mark.api

PREFIX = "org.wbcsd.pathfinder."


@pytest.fixture(scope="module")
def pact(tmp_path_factory: pytest.TempPathFactory, service_chain: ServiceChain
         ) -> Iterator[Pact]:
    with pact_service(tmp_path_factory.mktemp("pact"), service_chain) as made:
        yield made


def _bearer(token: str) -> dict[str, str]:
    return bearer(token)


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
    assert errors(pact_validator("2.3"), response.json()["data"]) == []


def test_04_list_footprints(pact: Pact) -> None:
    response = pact.service.client.get("/2/footprints", headers=pact.service.auth(pact.buyer))
    assert response.status_code in (200, 202)
    assert [f["id"] for f in response.json()["data"]] == [f["id"] for f in pact.footprints]
    assert all(uuid.UUID(f["id"]).version == 4 for f in response.json()["data"])
    for footprint in response.json()["data"]:
        assert errors(pact_validator("2.3"), footprint) == []


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
    check_plain_http_refused(pact, 2)


def test_12_13_request_is_fulfilled_to_the_requester(pact: Pact) -> None:
    wanted = pact.footprints[0]
    event = _event("ProductFootprintRequest.Created.v1",
                   {"pf": {"productIds": wanted["productIds"]}, "comment": "Q1 please"},
                   "//" + pact.requester_url.split("://")[1])
    response = pact.service.client.post("/2/events", content=json.dumps(event),
                                        headers=pact.service.auth(pact.buyer, **CLOUDEVENTS))
    assert response.status_code == 200 and response.content == b""
    version, answer = pact.requester.wait_for(event["id"])
    assert version == "2"
    assert answer["type"] == PREFIX + "ProductFootprintRequest.Fulfilled.v1"
    assert answer["specversion"] == "1.0" and answer["source"] == "//testserver"
    assert wanted["id"] in [pf["id"] for pf in answer["data"]["pfs"]]


def test_14_unknown_product_is_rejected_to_the_requester(pact: Pact) -> None:
    event = _event("ProductFootprintRequest.Created.v1",
                   {"pf": {"productIds": ["urn:gtin:0000000000000"]}}, pact.requester_url)
    response = pact.service.client.post("/2/events", content=json.dumps(event),
                                        headers=pact.service.auth(pact.buyer, **CLOUDEVENTS))
    assert response.status_code == 200
    version, answer = pact.requester.wait_for(event["id"])
    assert version == "2"
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


def test_21_a_request_other_than_get_on_list_footprints_is_a_bad_request(pact: Pact) -> None:
    """Conformance case #21 (V2.2, V2.3): ``POST /2/footprints?$filter=...`` answers 400."""
    response = pact.service.client.post(
        "/2/footprints", params={"$filter": "created ge '2023-01-15T10:15:30Z'"},
        headers=pact.service.auth(pact.buyer))
    assert response.status_code == 400 and response.json()["code"] == "BadRequest"


def test_ileap_tc001_shipment_footprints_conform_to_the_ileap_data_model(pact: Pact) -> None:
    """iLEAP Appendix C, TC001: ``ListFootprints`` answers 200; every footprint whose
    ``productIds`` have the ShipmentFootprint form carries a ShipmentFootprint conforming to the
    iLEAP data model (and the footprint is a PACT v2 ProductFootprint)."""
    response = pact.service.client.get("/2/footprints", headers=pact.service.auth(pact.buyer))
    assert response.status_code == 200
    shipments = [f for f in response.json()["data"] if any(
        p.startswith("urn:pathfinder:product:customcode:vendor-assigned:shipment:")
        for p in f["productIds"])]
    assert len(shipments) == 4  # one per demo shipment
    for footprint in shipments:
        (ileap,) = [e for e in footprint["extensions"]
                    if e["dataSchema"] == "https://api.ileap.sine.dev/shipment-footprint.json"]
        assert errors(ileap_validator("shipment-footprint.json"), ileap["data"]) == []
        alone = {**footprint, "extensions": [ileap]}  # the iLEAP view of the footprint
        assert errors(ileap_validator("pcf-shipment-footprint.json"), alone) == []
        assert footprint["productIds"][0].endswith(":" + ileap["data"]["shipmentId"])
        assert footprint["productCategoryCpc"] == "83117"


def test_goods_with_production_emissions_have_a_product_footprint(pact: Pact) -> None:
    listed = pact.service.client.get("/2/footprints",
                                     headers=pact.service.auth(pact.buyer)).json()["data"]
    products = [f for f in listed if f["pcf"]["declaredUnit"] == "kilogram"]
    assert products, "the demo's CBAM good (Haiyan bolts) has production emissions"
    for footprint in products:
        assert footprint["pcf"]["productMassPerDeclaredUnit"] == "1"
        assert errors(pact_validator("2.3"), footprint) == []
