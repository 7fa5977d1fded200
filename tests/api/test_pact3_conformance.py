"""PACT v3 endpoints, one test per case of the PACT conformance tool's test-case list for V3.0
("PACT Tech Specs V3 Test Cases": every case marked Mandatory V3.0, #1-#17 and #20-#40, and the
OpenID cases #18-#19), named ``test_<case>_...``. Every footprint and event answered validates
against the official OpenAPI schema the conformance tool uses (PACT 3.0.4) and the published
3.0.3 one; the HTTPS-only cases run against the app with ``require_https`` set.

The asynchronous cases (#12-#14.B) are answered to a real HTTP server on a loopback port
configured as the partner host: it issues us a token and records the callback we POST to its
``/3/events``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from api_fixtures import ServiceChain, TestClient, service_chain
from pact_fixtures import CLOUDEVENTS, Pact, bearer, check_plain_http_refused, pact_service
from pact_schemas import errors, pact_validator

from ledger.reports.toc import ILEAP_TOC_SCHEMA

__all__ = ["service_chain"]
pytestmark = pytest.mark.api

PREFIX = "org.wbcsd.pact.ProductFootprint."
VERSIONS = ("3.0.4", "3.0.3")


@pytest.fixture(scope="module")
def pact(tmp_path_factory: pytest.TempPathFactory, service_chain: ServiceChain
         ) -> Iterator[Pact]:
    with pact_service(tmp_path_factory.mktemp("pact3"), service_chain) as made:
        yield made


def _list(pact: Pact, params: Any = None, expect: int = 200) -> list[dict[str, Any]]:
    response = pact.service.client.get("/3/footprints", params=params,
                                       headers=pact.service.auth(pact.buyer))
    assert response.status_code == expect, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    for footprint in data:
        for version in VERSIONS:
            assert errors(pact_validator(version), footprint) == []
    return data


def _ids(footprints: list[dict[str, Any]]) -> list[str]:
    return [f["id"] for f in footprints]


def _event(kind: str, data: dict[str, Any], source: str) -> dict[str, Any]:
    return {"specversion": "1.0", "id": str(uuid.uuid4()), "source": source,
            "time": "2026-11-27T10:00:00Z", "type": PREFIX + kind, "data": data}


def _post_event(pact: Pact, event: Any, headers: dict[str, str] | None = None) -> Any:
    return pact.service.client.post(
        "/3/events", content=json.dumps(event),
        headers=headers or pact.service.auth(pact.buyer, **CLOUDEVENTS))


def _transport(pact: Pact) -> dict[str, Any]:
    return next(f for f in pact.footprints if f["pcf"]["declaredUnit"] == "ton kilometer")


def test_01_auth_with_valid_credentials(pact: Pact) -> None:
    response = pact.service.client.post(
        "/auth/token", data={"grant_type": "client_credentials"},
        auth=(pact.buyer.client_id, pact.buyer.client_secret))
    assert response.status_code == 200
    body = response.json()
    assert body["access_token"] and body["token_type"].lower() == "bearer"
    assert body["expires_in"] > 0


def test_02_auth_with_invalid_credentials(pact: Pact) -> None:
    response = pact.service.client.post(
        "/auth/token", data={"grant_type": "client_credentials"},
        auth=(pact.buyer.client_id, "wrong"))
    assert response.status_code in (400, 401) and "access_token" not in response.text


def test_03_get_footprint(pact: Pact) -> None:
    wanted = pact.footprints[0]
    response = pact.service.client.get(f"/3/footprints/{wanted['id']}",
                                       headers=pact.service.auth(pact.buyer))
    assert response.status_code == 200
    got = response.json()["data"]
    assert got["id"] == wanted["id"] and got["specVersion"].startswith("3.")
    assert got["productIds"] == wanted["productIds"]
    # the same values per declared unit as the v2.3 form, now as v3 names
    assert got["pcf"]["pcfExcludingBiogenicUptake"] == wanted["pcf"]["pCfExcludingBiogenic"]
    assert got["pcf"]["declaredUnitOfMeasurement"] == wanted["pcf"]["declaredUnit"]
    for version in VERSIONS:
        assert errors(pact_validator(version), got) == []


def test_04_list_footprints(pact: Pact) -> None:
    data = _list(pact)
    assert _ids(data) == _ids(pact.footprints)


def test_05_pagination_links(pact: Pact) -> None:
    client, headers = pact.service.client, pact.service.auth(pact.buyer)
    url, seen, links = "/3/footprints?limit=2", [], []
    while url:
        response = client.get(url, headers=headers)
        assert response.status_code == 200
        page = _ids(response.json()["data"])
        assert len(page) <= 2
        seen += page
        link = response.headers.get("link")
        if link is None:
            break
        target, rel = link.split(";")
        assert rel.strip() == 'rel="next"' and target.startswith("<http://testserver/3/")
        url = target.strip()[1:-1]
        links.append(url)
    assert seen == _ids(pact.footprints) and links
    again = _ids(client.get(links[0], headers=headers).json()["data"])
    assert again == seen[2:4]  # a pagination link can be called more than once
    offset = _ids(_list(pact, {"offset": 2}))
    assert offset == seen[2:]


@pytest.mark.parametrize("path", ["/3/footprints", "/3/footprints/{id}"])
def test_06_07_invalid_token(pact: Pact, path: str) -> None:
    response = pact.service.client.get(path.format(id=pact.footprints[0]["id"]),
                                       headers=bearer("invalid-access-token"))
    assert response.status_code in (400, 401)
    assert response.json()["code"] in ("BadRequest", "TokenExpired")
    assert "data" not in response.json()


@pytest.mark.parametrize("footprint_id", ["non-existent-id", str(uuid.uuid4())])
def test_08_unknown_footprint(pact: Pact, footprint_id: str) -> None:
    response = pact.service.client.get(f"/3/footprints/{footprint_id}",
                                       headers=pact.service.auth(pact.buyer))
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "NotFound" and footprint_id in body["message"]
    assert errors(pact_validator("3.0.4", "Error"), body) == []


def test_09_10_11_plain_http_is_refused(pact: Pact) -> None:
    check_plain_http_refused(pact, 3)


def test_12_13_request_is_fulfilled_to_the_partner_host(pact: Pact) -> None:
    wanted = _transport(pact)
    event = _event("RequestCreatedEvent.3",
                   {"productId": wanted["productIds"],
                    "comment": "Please send PCF data for this year."}, pact.requester_url)
    response = _post_event(pact, event)
    assert response.status_code == 200 and response.content == b""
    version, answer = pact.requester.wait_for(event["id"])
    assert version == "3"
    assert answer["type"] == PREFIX + "RequestFulfilledEvent.3"
    assert answer["specversion"] == "1.0" and answer["source"] == "//testserver"
    assert answer["data"]["requestEventId"] == event["id"]
    assert [pf["id"] for pf in answer["data"]["pfs"]] == [wanted["id"]]
    assert errors(pact_validator("3.0.4", "RequestFulfilledEvent"), answer) == []
    for pf in answer["data"]["pfs"]:
        assert errors(pact_validator("3.0.3"), pf) == []


def test_14a_14b_unknown_product_is_rejected_to_the_partner_host(pact: Pact) -> None:
    event = _event("RequestCreatedEvent.3",
                   {"productId": ["urn:null"], "comment": "Please send PCF data for this year."},
                   pact.requester_url)
    response = _post_event(pact, event)
    assert response.status_code == 200
    version, answer = pact.requester.wait_for(event["id"])
    assert version == "3" and answer["type"] == PREFIX + "RequestRejectedEvent.3"
    assert answer["data"]["error"]["code"] == "NotFound"
    assert errors(pact_validator("3.0.4", "RequestRejectedEvent"), answer) == []


def test_15_published_event_is_accepted(pact: Pact) -> None:
    event = _event("PublishedEvent.3", {"pfIds": ["urn:gtin:4712345060507"]},
                   "https://webhook.example.com")
    response = _post_event(pact, event)
    assert response.status_code == 200 and response.content == b""


def test_16_events_with_an_invalid_token(pact: Pact) -> None:
    event = _event("PublishedEvent.3", {"pfIds": [str(uuid.uuid4())]}, "//example.org")
    response = _post_event(pact, event, {**bearer("invalid-access-token"), **CLOUDEVENTS})
    assert response.status_code in (400, 401)


def test_17_events_over_plain_http_are_refused(pact: Pact) -> None:
    event = _event("PublishedEvent.3", {"pfIds": []}, "//example.org")
    plain = TestClient(pact.https.app, base_url="http://testserver")
    try:
        response = plain.post("/3/events", content=json.dumps(event),
                              headers={**bearer(pact.service.token(pact.buyer)), **CLOUDEVENTS})
    finally:
        plain.close()
    assert response.status_code >= 400 and "data" not in response.json()


def test_18_19_openid_connect_discovery_leads_to_the_token_endpoint(pact: Pact) -> None:
    found = pact.service.client.get("/.well-known/openid-configuration")
    assert found.status_code == 200
    endpoint = found.json()["token_endpoint"]
    good = pact.service.client.post(endpoint, data={"grant_type": "client_credentials"},
                                    auth=(pact.buyer.client_id, pact.buyer.client_secret))
    bad = pact.service.client.post(endpoint, data={"grant_type": "client_credentials"},
                                   auth=(pact.buyer.client_id, "wrong"))
    assert good.status_code == 200 and bad.status_code in (400, 401)


def test_20_filter_by_product_id(pact: Pact) -> None:
    wanted = _transport(pact)
    assert _ids(_list(pact, {"productId": wanted["productIds"][0]})) == [wanted["id"]]
    # values and parameter names match without regard to case (the spec's own example)
    assert _ids(_list(pact, [("productid", wanted["productIds"][0].upper())])) == [wanted["id"]]


def test_21_filter_by_company_id(pact: Pact) -> None:
    company = pact.footprints[0]["companyIds"][0]
    assert _ids(_list(pact, {"companyId": company})) == _ids(pact.footprints)


def test_22_filter_by_geography(pact: Pact) -> None:
    in_cn = [f["id"] for f in pact.footprints if f["pcf"].get("geographyCountry") == "CN"]
    assert in_cn, "the demo's product footprint is scoped to China"
    assert _ids(_list(pact, {"geography": "CN"})) == in_cn
    assert _ids(_list(pact, {"geography": "cn"})) == in_cn


def test_23_filter_by_classification(pact: Pact) -> None:
    transport = [f["id"] for f in pact.footprints if f["productCategoryCpc"] == "83117"]
    found = _list(pact, {"classification": "urn:pact:productclassification:un-cpc:83117"})
    assert _ids(found) == transport
    # the four shipments' transport footprints and the iLEAP TOCs of their road and air legs
    tocs = [f["id"] for f in pact.footprints
            if any(e.get("dataSchema") == ILEAP_TOC_SCHEMA for e in f.get("extensions") or [])]
    assert len(transport) == 4 + len(tocs) and set(tocs) <= set(transport) and tocs


def test_24_filter_by_valid_on(pact: Pact) -> None:
    # no explicit validity period: valid for three years from the reference period's end
    assert _ids(_list(pact, {"validOn": "2027-01-15T10:15:30Z"})) == _ids(pact.footprints)
    assert _list(pact, {"validOn": "2026-03-01T00:00:00Z"}) == []


def test_25_filter_by_valid_after(pact: Pact) -> None:
    assert _ids(_list(pact, {"validAfter": "2026-03-31T00:00:00Z"})) == _ids(pact.footprints)
    assert _list(pact, {"validAfter": "2026-04-01T00:00:00Z"}) == []


def test_26_filter_by_valid_before(pact: Pact) -> None:
    assert _ids(_list(pact, {"validBefore": "2030-01-01T00:00:00Z"})) == _ids(pact.footprints)
    assert _list(pact, {"validBefore": "2029-04-01T00:00:00Z"}) == []


def test_27_filter_by_status(pact: Pact) -> None:
    assert _ids(_list(pact, {"status": "Active"})) == _ids(pact.footprints)
    assert _list(pact, {"status": "Deprecated"}) == []


def test_28_filter_by_status_and_product_id(pact: Pact) -> None:
    wanted = _transport(pact)
    found = _list(pact, {"status": "Active", "productId": wanted["productIds"][0]})
    assert _ids(found) == [wanted["id"]]


def test_29_a_repeated_parameter_is_an_or(pact: Pact) -> None:
    company = pact.footprints[0]["companyIds"][0]
    found = _list(pact, [("companyId", company), ("companyId", "urn:uuid:other-company"),
                         ("companyId", "urn:uuid:another-company")])
    assert _ids(found) == _ids(pact.footprints)
    two = [f for f in pact.footprints if f["pcf"]["declaredUnit"] == "ton kilometer"][:2]
    either = _list(pact, [("productId", two[0]["productIds"][0]),
                          ("productId", two[1]["productIds"][0])])
    assert _ids(either) == _ids(two)


@pytest.mark.parametrize(("case", "params"), [
    (30, {"productId": "urn:bogus:product:nonexistent123"}),
    (31, {"companyId": "urn:bogus:company:nonexistent456"}),
    (32, {"geography": "XX"}),
    (33, {"classification": "urn:bogus:classification:nonexistent789"}),
    (34, {"validOn": "1900-01-01T00:00:00Z"}),
    (35, {"validAfter": "2099-12-31T23:59:59Z"}),
    (36, {"validBefore": "1900-01-01T00:00:00Z"}),
    (37, {"status": "BogusStatusValue"}),
    (38, {"companyId": "urn:bogus:company:5FIi8zS3",
          "productId": "urn:bogus:product:nonexistent123"}),
    (39, [("companyId", "urn:bogus:company:nonexistent1"),
          ("companyId", "urn:bogus:company:nonexistent2"),
          ("companyId", "urn:bogus:company:nonexistent3")]),
])
def test_30_to_39_filters_that_match_nothing_give_an_empty_list(
        pact: Pact, case: int, params: Any) -> None:
    response = pact.service.client.get("/3/footprints", params=params,
                                       headers=pact.service.auth(pact.buyer))
    assert response.status_code == 200, f"case #{case}: {response.text}"
    assert response.json() == {"data": []}, f"case #{case}"
    assert "link" not in response.headers


def test_38_different_parameters_are_an_and(pact: Pact) -> None:
    wanted = _transport(pact)
    company = wanted["companyIds"][0]
    assert _ids(_list(pact, {"companyId": company,
                             "productId": wanted["productIds"][0]})) == [wanted["id"]]
    assert _list(pact, {"companyId": "urn:bogus:company:x",
                        "productId": wanted["productIds"][0]}) == []


def test_40_the_v2_filter_syntax_is_a_bad_request(pact: Pact) -> None:
    response = pact.service.client.get(
        "/3/footprints", params={"$filter": "created ge '2023-01-15T10:15:30Z'"},
        headers=pact.service.auth(pact.buyer))
    assert response.status_code == 400 and response.json()["code"] == "BadRequest"
    assert "data" not in response.json()


def test_a_host_specific_filter_is_a_bad_request_naming_it(pact: Pact) -> None:
    """ListFootprints declares 400, 401, 403 and 500 (v3.0.4): a filter this host does not
    offer is a bad request ("in all other cases ... BadRequest"), never a 5xx."""
    response = pact.service.client.get("/3/footprints", params={"x-atq-invoice-id": "12345"},
                                       headers=pact.service.auth(pact.buyer))
    assert response.status_code == 400 and response.json()["code"] == "BadRequest"
    assert "'x-atq-invoice-id'" in response.json()["message"]
    assert errors(pact_validator("3.0.4", "Error"), response.json()) == []


@pytest.mark.parametrize(("params", "named"), [
    ({"validOn": "yesterday"}, "validOn"), ({"limit": "-1"}, "limit"),
    ({"productld": "urn:x"}, "productld")])
def test_bad_parameters_are_a_bad_request_naming_the_parameter(
        pact: Pact, params: dict[str, str], named: str) -> None:
    response = pact.service.client.get("/3/footprints", params=params,
                                       headers=pact.service.auth(pact.buyer))
    assert response.status_code == 400 and response.json()["code"] == "BadRequest"
    assert named in response.json()["message"]


@pytest.mark.parametrize("event", [
    {"specversion": "1.0", "id": "x", "source": "//a", "time": "2026-01-01T00:00:00Z",
     "type": PREFIX + "Unknown.3", "data": {}},
    {"id": "x", "source": "//a", "time": "2026-01-01T00:00:00Z",
     "type": PREFIX + "PublishedEvent.3", "data": {"pfIds": []}},
    {"specversion": "1.0", "id": "x", "source": "//a", "time": "2026-01-01T00:00:00Z",
     "type": PREFIX + "RequestCreatedEvent.3", "data": {"productId": [1, 2]}},
    {"specversion": "1.0", "id": "x", "source": "//a", "time": "2026-01-01T00:00:00Z",
     "type": "org.wbcsd.pathfinder.ProductFootprintRequest.Created.v1", "data": {"pf": {}}},
    [1, 2],
])
def test_malformed_events_are_refused(pact: Pact, event: Any) -> None:
    response = _post_event(pact, event)
    assert response.status_code == 400 and response.json()["code"] == "BadRequest"


def test_an_exporter_sees_only_its_own_footprints(pact: Pact) -> None:
    other = pact.service.org("Other exporter v3", "exporter")
    mine = pact.service.client.get("/3/footprints", headers=pact.service.auth(pact.exporter))
    theirs = pact.service.client.get("/3/footprints", headers=pact.service.auth(other))
    assert _ids(mine.json()["data"]) == _ids(pact.footprints)
    assert theirs.json()["data"] == []
    assert pact.service.client.get(f"/3/footprints/{pact.footprints[0]['id']}",
                                   headers=pact.service.auth(other)).status_code == 404


def test_a_republished_footprint_is_served_at_once_in_both_versions(pact: Pact) -> None:
    """The in-memory index follows the store: a report that publishes a footprint again (same
    id, new reference period; the count of footprints does not change) is what the next
    request lists and gets, in v2 and v3. Runs last: it changes the order of the listing."""
    listed = _list(pact)
    service = pact.service
    first = _transport(pact)
    shipment_id = next(e["data"]["shipmentId"] for e in first["extensions"]
                       if e["dataSchema"].endswith("shipment-footprint.json"))
    made = service.client.post("/v1/reports", json={
        "shipment_ids": [shipment_id], "first_day": "2026-04-01", "last_day": "2026-06-30"},
        headers=service.auth(pact.exporter))
    assert made.status_code == 201, made.text
    news = made.json()["report"]["credentialSubject"]["productFootprints"]
    assert news[0]["id"] == first["id"]
    after = _list(pact)
    assert len(after) == len(listed) and _ids(after[-len(news):]) == _ids(news)
    assert after[-len(news)]["pcf"]["referencePeriodStart"] == "2026-04-01T00:00:00Z"
    v2 = service.client.get(f"/2/footprints/{first['id']}", headers=service.auth(pact.buyer))
    assert v2.json()["data"]["pcf"]["referencePeriodStart"] == "2026-04-01T00:00:00Z"
