"""Concurrent submissions of the same shipment ids, over real HTTP, on SQLite and PostgreSQL:
the same content answers 200 with the stored result, other content 409 with a message; never
a 5xx or a raw database error, and nothing is stored twice or half."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_fixtures import (
    EXAMPLES,
    OFFLINE_DEPLOYMENT,
    LiveServer,
    postgres_schema,
    service_settings,
)

from api.app import create_app
from ledger.config import ChainSettings

pytestmark = pytest.mark.api

DEMO = json.loads((EXAMPLES / "demo-shipments.json").read_text(encoding="utf-8"))
RAW = ("UNIQUE", "unique", "duplicate key", "IntegrityError", "psycopg", "sqlite3",
       "refused a write")
THREADS = 8


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Any, Any]]:
    chain = ChainSettings(rpc_url="http://127.0.0.1:9", chain_id=31337, rpc_retries=1,
                          rpc_timeout_s=1, deployments_dir=tmp_path)
    with postgres_schema() if request.param == "postgres" else nullcontext() as url:
        settings = service_settings(tmp_path, **({"store_url": url} if url else {}))
        app = create_app(settings, chain, deployment=OFFLINE_DEPLOYMENT)
        ctx = app.state.ctx
        exporter = ctx.create_org("Ningbo", "exporter")
        try:
            with LiveServer(app) as server:
                token = httpx.post(server.url + "/auth/token",
                                   data={"grant_type": "client_credentials"},
                                   auth=(exporter.client_id, exporter.client_secret)
                                   ).json()["access_token"]
                yield server.url, {"authorization": f"Bearer {token}"}, (ctx, exporter)
        finally:
            ctx.close()


def _race(url: str, headers: dict[str, str], bodies: list[Any]) -> list[httpx.Response]:
    answers: list[httpx.Response | None] = [None] * len(bodies)
    start = threading.Barrier(len(bodies))

    def submit(i: int) -> None:
        with httpx.Client(timeout=60) as client:
            start.wait()
            answers[i] = client.post(url + "/v1/shipments", json=bodies[i], headers=headers)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(a is not None for a in answers)
    return [a for a in answers if a is not None]


def _no_raw_errors(answers: list[httpx.Response]) -> None:
    for answer in answers:
        assert answer.status_code < 500, answer.text
        assert not any(word in answer.text for word in RAW), answer.text


def test_identical_concurrent_submissions_all_succeed(served: tuple[str, Any, Any]) -> None:
    url, headers, (ctx, exporter) = served
    for round_ in range(3):
        body = copy.deepcopy(DEMO)
        for item in body["shipments"]:
            item["shipment_id"] = f"{item['shipment_id']}-r{round_}"
        answers = _race(url, headers, [body] * THREADS)
        _no_raw_errors(answers)
        codes = sorted(a.status_code for a in answers)
        assert set(codes) <= {200, 201} and codes.count(201) <= 1, codes
        for answer in answers:  # each answer is the stored result
            assert answer.json()["accepted"] == len(body["shipments"])
            totals = {s["shipment_id"]: s["co2e_wtw_g"] for s in answer.json()["shipments"]}
            assert totals == {s["shipment_id"]: s["co2e_wtw_g"] for s in answers[0].json()[
                "shipments"]}
    assert ctx.store.count_shipments(exporter.org.id) == 3 * len(DEMO["shipments"])


def test_different_concurrent_submissions_answer_409_with_a_message(
        served: tuple[str, Any, Any]) -> None:
    url, headers, (ctx, exporter) = served
    bodies = []
    for n in range(THREADS):
        body = copy.deepcopy(DEMO)
        body["shipments"] = body["shipments"][:2]
        body["shipments"][0]["legs"][0]["mass_kg"] = str(1000 + n)  # other content each time
        bodies.append(body)
    answers = _race(url, headers, bodies)
    _no_raw_errors(answers)
    codes = [a.status_code for a in answers]
    assert set(codes) <= {200, 201, 409}, codes
    assert codes.count(201) == 1  # one created them
    for answer in answers:
        if answer.status_code == 409:
            assert "at the same time" in answer.json()["message"]
            assert answer.json()["shipment_ids"] == [DEMO["shipments"][0]["shipment_id"]]
    stored = ctx.store.shipment(exporter.org.id, DEMO["shipments"][0]["shipment_id"])
    assert stored is not None
    masses = {json.loads(stored.shipment_json)["legs"][0]["mass_kg"]}
    assert masses <= {str(1000 + n) for n in range(THREADS)}
    assert ctx.store.count_shipments(exporter.org.id) == 2
