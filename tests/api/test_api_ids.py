"""Ids and dates that once answered 5xx answer 4xx: shipment ids are NFC-normalised, control
and format characters and unpaired surrogates are refused with 422 naming the field, other ids
in paths likewise, report periods are bounded; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest
from api_fixtures import (
    EXAMPLES,
    OFFLINE_DEPLOYMENT,
    Service,
    make_service,
    postgres_schema,
    service_settings,
)

from api.app import create_app
from api.ids import normal_shipment_id
from ledger.config import ChainSettings

pytestmark = [pytest.mark.api]

ONE = json.loads((EXAMPLES / "demo-shipments.json").read_text(encoding="utf-8"))["shipments"][0]
REFUSED = {"lone surrogate": "NB-\ud800-1", "NUL": "NB-\x00-1", "bell": "NB-\x07-1",
           "zero-width space": "NB-\u200b-1", "right-to-left override": "NB-\u202e-1",
           "line separator": "NB-\u2028-1", "private use": "NB-\ue000-1"}
JSON = {"content-type": "application/json"}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Service]:
    chain = ChainSettings(rpc_url="http://127.0.0.1:9", chain_id=31337, rpc_retries=1,
                          rpc_timeout_s=1, deployments_dir=tmp_path)
    with postgres_schema() if request.param == "postgres" else nullcontext() as url:
        settings = service_settings(tmp_path, **({"store_url": url} if url else {}))
        made = make_service(create_app(settings, chain, deployment=OFFLINE_DEPLOYMENT),
                            raise_server_exceptions=False)  # a 5xx must show as one
        try:
            yield made
        finally:
            made.client.close()
            made.ctx.close()


def _submit(service: Service, exporter: Any, *ids: str) -> Any:
    body = json.dumps({"shipments": [{**ONE, "shipment_id": sid} for sid in ids]})
    return service.client.post("/v1/shipments", headers=service.auth(exporter, **JSON),
                               content=body)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_refused_shipment_id_answers_422_naming_the_field(service: Service, name: str
                                                            ) -> None:
    exporter = service.ctx.create_org("Exporter", "exporter")
    answer = _submit(service, exporter, REFUSED[name])
    assert answer.status_code == 422, answer.text
    assert answer.json()["problems"][0]["field"].endswith("shipment_id")
    headers = service.auth(exporter, **JSON)
    for path, body in (("/v1/reports", {"shipment_ids": [REFUSED[name]],
                                        "first_day": "2026-01-01", "last_day": "2026-03-31"}),
                       ("/v1/anchoring", {"shipment_ids": [REFUSED[name]]})):
        answer = service.client.post(path, headers=headers, content=json.dumps(body))
        assert answer.status_code == 422, (path, answer.text)
        assert answer.json()["problems"][0]["field"] == "shipment_ids.0"
    listed = service.client.get("/v1/shipments", headers=service.auth(exporter)).json()
    assert listed["total"] == 0


def test_a_nul_byte_in_a_path_id_answers_422(service: Service) -> None:
    exporter = service.ctx.create_org("Exporter", "exporter")
    for path, field in (("/v1/shipments/a%00b", "shipment_id"),
                        ("/v1/shipments/a%00b/proof", "shipment_id"),
                        ("/v1/jobs/a%00b", "job_id"), ("/v1/reports/a%00b", "report_id"),
                        ("/v1/reports/a%00b/html", "report_id"),
                        ("/v1/reports/a%00b/cbam.xml", "report_id"),
                        ("/2/footprints/a%00b", "footprint_id")):
        answer = service.client.get(path, headers=service.auth(exporter))
        assert answer.status_code == 422, (path, answer.text)
        assert answer.json()["problems"][0]["field"] == field
    admin = service.ctx.create_org("Admin", "admin")
    answer = service.client.post("/v1/organisations", headers=service.auth(admin, **JSON),
                                 content=json.dumps({"name": "Evil\x00Org", "role": "buyer"}))
    assert answer.status_code == 422 and answer.json()["problems"][0]["field"] == "name"


def test_shipment_ids_are_nfc(service: Service) -> None:
    exporter = service.ctx.create_org("Exporter", "exporter")
    decomposed, composed = "cafe\u0301-1", "caf\u00e9-1"
    created = _submit(service, exporter, decomposed)
    assert created.status_code == 201, created.text
    assert created.json()["shipments"][0]["shipment_id"] == composed
    assert _submit(service, exporter, composed).json()["shipments"][0]["outcome"] == "unchanged"
    for spelling in ("caf%C3%A9-1", "cafe%CC%81-1"):
        found = service.client.get(f"/v1/shipments/{spelling}", headers=service.auth(exporter))
        assert found.status_code == 200 and found.json()["shipment_id"] == composed
    twice = _submit(service, exporter, "b\u00e9-2", "be\u0301-2")  # one id, spelled twice
    assert twice.status_code == 422 and "duplicate" in twice.text
    csv = (EXAMPLES / "demo-shipments.csv").read_text(encoding="utf-8")
    first_id = csv.splitlines()[1].split(",")[0]
    nfd = csv.replace(first_id, "cafe\u0301-3")
    answer = service.client.post("/v1/shipments", content=nfd.encode(),
                                 headers=service.auth(exporter, **{"content-type": "text/csv"}))
    assert answer.status_code == 201, answer.text
    assert "caf\u00e9-3" in {s["shipment_id"] for s in answer.json()["shipments"]}
    bell = csv.replace(first_id, '"bell\x07-4"')
    answer = service.client.post("/v1/shipments", content=bell.encode(),
                                 headers=service.auth(exporter, **{"content-type": "text/csv"}))
    assert answer.status_code == 422, answer.text
    assert answer.json()["problems"][0]["field"] == "shipment_id"


def test_report_periods_are_bounded(service: Service) -> None:
    exporter = service.ctx.create_org("Exporter", "exporter")
    for first, last, field in (("9999-01-01", "9999-12-31", "first_day"),
                               ("2026-01-01", "9999-12-31", "last_day"),
                               ("0001-01-01", "2026-12-31", "first_day")):
        answer = service.client.post(
            "/v1/reports", headers=service.auth(exporter, **JSON),
            content=json.dumps({"shipment_ids": ["NB-1"], "first_day": first, "last_day": last}))
        assert answer.status_code == 422, answer.text
        assert answer.json()["problems"][0]["field"] == field


def test_the_allowed_set() -> None:
    assert normal_shipment_id("  NB/APPL 2026-0001 (a)  ") == "NB/APPL 2026-0001 (a)"
    assert normal_shipment_id("\u5b81\u6ce2-1") == "\u5b81\u6ce2-1"
    for bad in (*REFUSED.values(), "", " ", "x" * 129, "a\tb", "a\u00a0b"):
        with pytest.raises(ValueError):
            normal_shipment_id(bad)
