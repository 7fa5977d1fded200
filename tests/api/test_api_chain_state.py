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


def test_a_chain_without_the_contract_is_named_by_health_and_verification(
        chain_service: Service) -> None:
    """The chain at the RPC holds no code at the deployment address (reset without the
    contract deployed again, or another chain behind the same id): /health and the auditor's
    verification say so by address and chain id, never a raw decoding error."""
    s = chain_service
    snapshot = s.node.rpc("evm_snapshot")  # this test's batches leave with it
    try:
        _contract_gone(s)
    finally:
        assert s.node.rpc("evm_revert", snapshot)


def _contract_gone(s: Service) -> None:
    exporter, auditor = s.org("Ningbo", "exporter"), s.org("Rotterdam Audit", "auditor")
    assert s.client.post("/v1/shipments", json=DEMO, headers=s.auth(exporter)).status_code == 201
    assert _anchor(s, exporter)["state"] == "done"
    ids = [d["shipment_id"] for d in DEMO["shipments"] if not d["shipment_id"].startswith("HY-")]
    made = s.client.post("/v1/reports", json={"shipment_ids": ids, "first_day": "2026-01-01",
                                              "last_day": "2026-03-31"},
                         headers=s.auth(exporter))
    assert made.status_code == 201, made.text
    report = made.json()["report"]
    contract, chain_id = s.ctx.chain.deployment.address, s.ctx.chain.chain_id
    code = s.node.rpc("eth_getCode", contract, "latest")
    s.node.rpc("anvil_setCode", contract, "0x")  # the contract is gone from this chain
    try:
        health = s.client.get("/health")
        assert health.status_code == 503
        expected = f"no contract at {contract} on chain ID {chain_id} (reset or wrong chain)"
        assert expected in health.json()["checks"]["chain"]
        verdict = s.client.post("/v1/verifications", json=report, headers=s.auth(auditor))
        assert verdict.status_code == 200, verdict.text
        checks = {c["name"]: c for c in verdict.json()["checks"]}
        assert verdict.json()["verified"] is False
        assert checks["chain_id"]["status"] == "fail"
        assert expected in checks["chain_id"]["detail"]
        assert checks["anchor"]["status"] == "skipped"
    finally:
        s.node.rpc("anvil_setCode", contract, code)
    assert s.client.get("/health").status_code == 200


def test_the_operator_recovers_lost_batches_through_the_api(chain_service: Service) -> None:
    """The chain forgets a batch the service anchored: /health says so; an admin's dry run lists
    the lost transaction and changes nothing; the recovery anchors the batch again, /health is
    healthy, and a second recovery has nothing to do."""
    s = chain_service
    admin = s.org("Operator", "admin")
    exporter = s.org("Ningbo", "exporter")
    outer = s.node.rpc("evm_snapshot")
    try:
        assert s.client.post("/v1/shipments", json=DEMO,
                             headers=s.auth(exporter)).status_code == 201
        before = s.node.rpc("evm_snapshot")
        job = _anchor(s, exporter)
        assert job["state"] == "done", job
        lost_tx = job["result"]["batches"][0]["transaction"]["hash"]  # type: ignore[index]
        assert s.node.rpc("evm_revert", before)  # the chain forgets the batch
        s.node.rpc("evm_mine")
        assert s.client.get("/health").status_code == 503

        dry = s.client.post("/v1/recovery?dry_run=true", headers=s.auth(admin))
        assert dry.status_code == 200, dry.text
        (found,) = dry.json()["exporters"]
        assert found["exporter"] == exporter.org.address.lower()
        assert [lost["transaction"] for lost in found["lost"]] == [lost_tx]
        assert len(found["anchored_again"]) == 1 and found["batches"] == []
        assert s.client.get("/health").status_code == 503  # nothing changed

        done = s.client.post("/v1/recovery", headers=s.auth(admin))
        assert done.status_code == 200, done.text
        (recovered,) = done.json()["exporters"]
        (batch,) = recovered["batches"]
        assert batch["state"] == "final" and batch["transaction"]["hash"] != lost_tx
        assert s.client.get("/health").status_code == 200
        again = s.client.post("/v1/recovery", headers=s.auth(admin)).json()["exporters"]
        assert again[0]["lost"] == [] and again[0]["anchored_again"] == []
        assert again[0]["lost_before"] == 1
        assert s.client.post("/v1/recovery", headers=s.auth(exporter)).status_code == 403
    finally:
        assert s.node.rpc("evm_revert", outer)
