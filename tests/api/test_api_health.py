"""``/health``: 200 when the store and the chain answer, else 503 naming the part that does not."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from api_fixtures import (
    OFFLINE_DEPLOYMENT,
    Service,
    ServiceChain,
    chain_service,
    make_service,
    offline_service,
    service_chain,
    service_settings,
)

from api.app import create_app
from ledger.config import ChainSettings

__all__ = ["chain_service", "offline_service", "service_chain"]
pytestmark = pytest.mark.api


def test_a_service_whose_store_and_chain_answer_is_healthy(chain_service: Service) -> None:
    answer = chain_service.client.get("/health")
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "ok" and body["checks"] == {"store": "ok", "chain": "ok"}
    assert body["contract"] == chain_service.ctx.chain.deployment.address


def test_a_dead_rpc_node_makes_the_chain_unhealthy(offline_service: Service) -> None:
    answer = offline_service.client.get("/health")
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "unhealthy" and body["checks"]["store"] == "ok"
    assert body["checks"]["chain"].startswith("the chain does not answer: ")
    assert "127.0.0.1:9" in body["checks"]["chain"]
    assert body["chain_id"] == 31337 and body["contract"] == OFFLINE_DEPLOYMENT.address


def test_a_store_that_cannot_be_opened_makes_the_store_unhealthy(tmp_path: Path) -> None:
    folder = tmp_path / "store"
    folder.mkdir()
    chain = ChainSettings(rpc_url="http://127.0.0.1:9", chain_id=31337, rpc_retries=1,
                          rpc_timeout_s=1, deployments_dir=tmp_path)
    app = create_app(service_settings(tmp_path, store_url=str(folder / "service.sqlite")), chain,
                     deployment=OFFLINE_DEPLOYMENT)
    service = make_service(app)
    try:
        service.ctx.ledger_store.close()  # drop pooled connections, then lose the database
        shutil.rmtree(folder)
        answer = service.client.get("/health")
    finally:
        service.client.close()
        service.ctx.close()
    assert answer.status_code == 503
    checks = answer.json()["checks"]
    assert checks["store"].startswith("the service store does not answer: ")
    assert "unable to open database file" in checks["store"]
    assert checks["chain"] != "ok"


def test_a_node_of_another_chain_is_named(tmp_path: Path, service_chain: ServiceChain) -> None:
    wrong = service_chain.settings.model_copy(update={"chain_id": 11155111})
    app = create_app(service_settings(tmp_path), wrong, deployment=OFFLINE_DEPLOYMENT)
    service = make_service(app)
    try:
        answer = service.client.get("/health")
    finally:
        service.client.close()
        service.ctx.close()
    assert answer.status_code == 503
    assert "31337" in answer.json()["checks"]["chain"]
    assert "11155111" in answer.json()["checks"]["chain"]
