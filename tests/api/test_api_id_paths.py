"""Shipment ids in paths: an id with a slash is read back through ``%2F``, every malformed path
id answers 4xx (never 5xx), and look-alike ids are stored with a warning."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from api_fixtures import EXAMPLES, Service, offline_service

from api.ids import lookalike

__all__ = ["offline_service"]
pytestmark = pytest.mark.api

ONE = json.loads((EXAMPLES / "demo-shipments.json").read_text(encoding="utf-8"))["shipments"][0]


def _submit(service: Service, exporter: Any, *ids: str) -> Any:
    body = {"shipments": [{**ONE, "shipment_id": sid} for sid in ids]}
    return service.client.post("/v1/shipments", json=body, headers=service.auth(exporter))


@pytest.mark.parametrize("sid", ["NB/APPL/2026-0001", "50% off/1", "../1", "a%2Fb", "宁波/1"])
def test_an_id_with_a_slash_is_read_back_through_path_encoding(offline_service: Service,
                                                               sid: str) -> None:
    s = offline_service
    exporter = s.org("Ningbo", "exporter")
    assert _submit(s, exporter, sid).status_code == 201
    path = "/v1/shipments/" + quote(sid, safe="")
    found = s.client.get(path, headers=s.auth(exporter))
    assert found.status_code == 200, found.text
    assert found.json()["shipment_id"] == sid
    proof = s.client.get(path + "/proof", headers=s.auth(exporter))
    assert proof.status_code == 409 and "not anchored" in proof.json()["message"]
    listed = s.client.get("/v1/shipments", headers=s.auth(exporter)).json()["shipments"]
    assert [x["shipment_id"] for x in listed] == [sid]


def test_an_unencoded_slash_names_no_shipment(offline_service: Service) -> None:
    s = offline_service
    exporter = s.org("Ningbo", "exporter")
    assert _submit(s, exporter, "NB/1", "NB").status_code == 201
    assert s.client.get("/v1/shipments/NB/1", headers=s.auth(exporter)).status_code == 404
    # the proof of "NB", not the shipment "NB/proof"
    proof = s.client.get("/v1/shipments/NB/proof", headers=s.auth(exporter))
    assert proof.status_code == 409 and "'NB'" in proof.json()["message"]


@pytest.mark.parametrize("segment", [
    "%FF", "%C0%AF", "%ED%A0%80", "%00", "%E2%80%8B", "%20", "x" * 129, "%", "%zz", "%2F",
    "%2F%2F", "a%0Ab", "%EF%BF%BE", "%F4%90%80%80",
])
def test_every_malformed_path_id_answers_4xx(offline_service: Service, segment: str) -> None:
    s = offline_service
    exporter = s.org("Ningbo", "exporter")
    for suffix in ("", "/proof"):
        answer = s.client.get(f"/v1/shipments/{segment}{suffix}", headers=s.auth(exporter))
        assert 400 <= answer.status_code < 500, (segment, suffix, answer.text)
        assert answer.json()["code"]


def test_look_alike_ids_are_stored_with_a_warning(offline_service: Service) -> None:
    s = offline_service
    exporter = s.org("Ningbo", "exporter")
    plain = _submit(s, exporter, "NB-1", "宁波-2", "café-3")
    assert plain.status_code == 201 and plain.json()["warnings"] == []
    cyrillic = "N\u0412-1"  # CYRILLIC CAPITAL LETTER VE
    looks = _submit(s, exporter, cyrillic, "\uff2e\uff22-4")  # full-width N B
    assert looks.status_code == 201
    warnings = {w["shipment_id"]: w["message"] for w in looks.json()["warnings"]}
    assert set(warnings) == {cyrillic, "\uff2e\uff22-4"}
    assert "may be mistaken for the shipment 'NB-1'" in warnings[cyrillic]
    assert "reads as 'NB-4'" in warnings["\uff2e\uff22-4"]
    again = _submit(s, exporter, cyrillic)  # unchanged: no new warning
    assert again.json()["shipments"][0]["outcome"] == "unchanged"
    assert again.json()["warnings"] == []


def test_lookalike() -> None:
    assert lookalike("NB-APPL-2026-0001") is None
    assert lookalike("宁波-1") is None and lookalike("NB-宁波-1") is None
    assert lookalike("\u0391\u0392-1") == "AB-1"  # Greek capitals alpha, beta
    assert lookalike("N\u0412-1") == "NB-1"
