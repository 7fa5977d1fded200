"""Honest state against a real Anvil: ``/health`` says so when the chain no longer holds the
store's records (a reset or rolled-back chain), and anchoring with a key that cannot pay is
refused up front, naming the balance and the amount needed."""

from __future__ import annotations

import json

import pytest
from api_fixtures import EXAMPLES, Service, chain_service, service_chain

from api.anchoring import ROOT_TX_GAS_BOUND

__all__ = ["chain_service", "service_chain"]
pytestmark = pytest.mark.api

DEMO = json.loads((EXAMPLES / "demo-shipments.json").read_text(encoding="utf-8"))


def _anchor(s: Service, exporter: object) -> dict[str, object]:
    started = s.client.post("/v1/anchoring", headers=s.auth(exporter))  # type: ignore[arg-type]
    assert started.status_code == 202, started.text
    return s.wait_job(exporter, started.json()["id"])  # type: ignore[arg-type,no-any-return]


def test_health_says_when_the_chain_lost_the_stores_records(chain_service: Service) -> None:
    s = chain_service
    snapshot = s.node.rpc("evm_snapshot")
    try:
        exporter = s.org("Ningbo", "exporter")
        assert s.client.post("/v1/shipments", json=DEMO,
                             headers=s.auth(exporter)).status_code == 201
        job = _anchor(s, exporter)
        assert job["state"] == "done", job
        healthy = s.client.get("/health")
        assert healthy.status_code == 200 and healthy.json()["checks"]["chain"] == "ok"
        tx = job["result"]["batches"][0]["transaction"]["hash"]  # type: ignore[index]
        gas_used = int(s.node.rpc("eth_getTransactionReceipt", tx)["gasUsed"], 16)
        assert gas_used <= ROOT_TX_GAS_BOUND  # the bound the funds check uses
    finally:
        assert s.node.rpc("evm_revert", snapshot)  # the chain as before: the records gone
    lost = s.client.get("/health")
    assert lost.status_code == 503 and lost.json()["status"] == "unhealthy"
    message = lost.json()["checks"]["chain"]
    assert "does not hold the store's records" in message and tx in message
    assert "reset" in message and lost.json()["checks"]["store"] == "ok"


def test_anchoring_with_a_key_that_cannot_pay_is_refused_up_front(chain_service: Service
                                                                  ) -> None:
    s = chain_service
    poor = s.ctx.create_org("Unfunded exporter", "exporter")  # a new key: no ether
    assert s.client.post("/v1/shipments", json=DEMO, headers=s.auth(poor)).status_code == 201
    job = _anchor(s, poor)
    assert job["state"] == "failed"
    error = str(job["error"])
    assert f"{poor.org.address} holds 0 wei" in error and "needs up to" in error
    assert "fund the address" in error
    summary = s.client.get("/v1/summary", headers=s.auth(poor)).json()
    assert summary["anchored"] == 0 and summary["pending"] == len(DEMO["shipments"])
    scope = s.ctx.chain.scope(poor.org.address)
    assert s.ctx.ledger_store.batch_statuses(scope) == []  # nothing stored or sent
