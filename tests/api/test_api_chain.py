"""The service against a real Anvil: submit, anchor in the background, proofs, reports, verify,
attest, and anchoring that a failed chain call interrupted and a second run completed."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from pathlib import Path

import pytest
from api_fixtures import (
    EXAMPLES,
    OFFLINE_DEPLOYMENT,
    Service,
    ServiceChain,
    chain_app,
    chain_service,
    make_service,
    service_chain,
    service_settings,
)
from devchain import deploy_rule_1_ledger

from ledger.chain.client import connect
from ledger.dev.devkeys import DEV_ADMIN_INDEX, dev_key
from ledger.errors import RpcUnavailable
from ledger.reports import qreport

__all__ = ["chain_service", "service_chain"]
pytestmark = pytest.mark.api

DEMO = json.loads((EXAMPLES / "demo-shipments.json").read_text(encoding="utf-8"))
for _item in DEMO["shipments"]:  # QReport needs the 8-digit CN code of the CBAM good
    if _item["shipment_id"].startswith("HY-"):
        _item["product"]["cn_code"] = "73181590"
IDS = [s["shipment_id"] for s in DEMO["shipments"]]
DECLARANT = {
    "eori": "NL123456789", "name": "Duisburg Appliances Import GmbH",
    "address": {"country": "NL", "city": "Rotterdam", "street": "Wilhelminakade",
                "number": "1", "postcode": "3072AP"},
    "nca_reference": "NL-NCA-0001", "signature_place": "Rotterdam", "signatory": "A. Jansen",
    "position": "Customs manager",
}
PERIOD = {"first_day": "2026-01-01", "last_day": "2026-03-31"}


def _anchor(s: Service, exporter: object, **body: object) -> dict[str, object]:
    started = s.client.post("/v1/anchoring", json=body or None,
                            headers=s.auth(exporter))  # type: ignore[arg-type]
    assert started.status_code == 202, started.text
    assert started.headers["location"] == f"/v1/jobs/{started.json()['id']}"
    job = s.wait_job(exporter, started.json()["id"])  # type: ignore[arg-type]
    assert job["state"] in ("done", "failed")
    return job  # type: ignore[no-any-return]


def test_exporter_to_auditor_end_to_end(chain_service: Service) -> None:
    s = chain_service
    exporter, auditor = s.org("Ningbo", "exporter"), s.org("Rotterdam Audit", "auditor")
    assert s.client.post("/v1/shipments", json=DEMO, headers=s.auth(exporter)).status_code == 201

    job = _anchor(s, exporter)
    assert job["state"] == "done", job["error"]
    result = job["result"]
    assert result["anchored"] == len(IDS) and result["exporter"] == exporter.org.address.lower()
    assert all(b["state"] == "final" and b["transaction"]["status"] == 1
               for b in result["batches"])
    tx_hash = result["batches"][0]["transaction"]["hash"]
    receipt = s.node.rpc("eth_getTransactionReceipt", tx_hash)
    assert int(receipt["status"], 16) == 1

    one = s.client.get(f"/v1/shipments/{IDS[0]}", headers=s.auth(exporter)).json()
    assert one["anchoring"]["state"] == "final"
    assert one["anchoring"]["transaction"]["hash"] == tx_hash
    proof = s.client.get(f"/v1/shipments/{IDS[0]}/proof", headers=s.auth(exporter)).json()
    assert proof["record"]["footprint"] == one["footprint"] and proof["tx"]["hash"] == tx_hash

    again = _anchor(s, exporter)  # idempotent: nothing new is sent
    assert again["result"]["anchored"] == 0 and again["result"]["already_anchored"] == len(IDS)
    changed = copy.deepcopy(DEMO)
    changed["shipments"][0]["legs"][0]["mass_kg"] = "12500"
    refused = s.client.post("/v1/shipments", json=changed, headers=s.auth(exporter))
    assert refused.status_code == 409 and IDS[0] in refused.json()["message"]

    made = s.client.post("/v1/reports", json={"shipment_ids": IDS, **PERIOD,
                                              "declarant": DECLARANT}, headers=s.auth(exporter))
    assert made.status_code == 201, made.text
    report = made.json()["report"]
    links = made.json()["links"]
    html = s.client.get(links["html"], headers=s.auth(exporter))
    assert html.status_code == 200 and IDS[0] in html.text
    xml = s.client.get(links["cbam_xml"], headers=s.auth(exporter))
    assert xml.status_code == 200 and qreport.validate_qreport(xml.content) == []
    assert s.client.get(links["json"], headers=s.auth(exporter)).json() == report
    listed = s.client.get("/v1/reports", headers=s.auth(exporter)).json()["reports"]
    assert [r["id"] for r in listed] == [report["id"]] and listed[0]["cbam_xml"]

    verdict = s.client.post("/v1/verifications", json=report, headers=s.auth(auditor)).json()
    assert verdict["verified"] is True, verdict["failed"]
    assert {c["name"] for c in verdict["checks"]} >= {"signature", "anchor", "recompute"}

    tampered = copy.deepcopy(report)
    footprint = tampered["credentialSubject"]["productFootprints"][0]
    footprint["pcf"]["pCfExcludingBiogenic"] = "0.001"
    bad = s.client.post("/v1/verifications", json=tampered, headers=s.auth(auditor)).json()
    assert bad["verified"] is False and "signature" in bad["failed"]
    refused = s.client.post("/v1/attestations", json=tampered, headers=s.auth(auditor))
    assert refused.status_code == 409 and refused.json()["code"] == "NotVerified"

    attested = s.client.post("/v1/attestations", json=report, headers=s.auth(auditor))
    assert attested.status_code == 201, attested.text
    assert attested.json()["auditor"] == auditor.org.address
    required = s.client.post("/v1/verifications?require_attestation=true", json=report,
                             headers=s.auth(auditor)).json()
    assert required["verified"] is True
    assert required["attestations"][0]["auditor"].lower() == auditor.org.address.lower()
    history = s.client.get("/v1/verifications", headers=s.auth(auditor)).json()["verifications"]
    assert [v["verified"] for v in history] == [True, False, True]

    # a report naming a contract older than sender-derived shipment ids: refused by name
    with connect(s.ctx.chain.settings, private_key=dev_key(DEV_ADMIN_INDEX).private_key) as admin:
        old = deploy_rule_1_ledger(admin).contract_address
    assert old is not None
    moved = json.loads(re.sub(s.ctx.chain.deployment.address[2:], old[2:], json.dumps(report),
                              flags=re.IGNORECASE))
    answer = s.client.post("/v1/verifications", json=moved, headers=s.auth(auditor))
    assert answer.status_code == 422 and answer.json()["code"] == "UnsupportedContract"
    assert old in answer.json()["message"]
    assert len(s.client.get("/v1/verifications",
                            headers=s.auth(auditor)).json()["verifications"]) == 3
    assert len(s.client.get("/v1/attestations",
                            headers=s.auth(auditor)).json()["attestations"]) == 1


def test_the_anchoring_job_reports_the_runs_progress(chain_service: Service) -> None:
    from api.anchoring import anchor_pending

    s = chain_service
    exporter = s.org("Wenzhou", "exporter")
    assert s.client.post("/v1/shipments", json=DEMO, headers=s.auth(exporter)).status_code == 201
    heard: list[tuple[str, int, int]] = []
    result = anchor_pending(s.ctx, exporter.org.id, None,
                            lambda phase, done, total: heard.append((phase, done, total)))
    n = len(IDS)
    assert result["anchored"] == n
    # the stages anchor_shipments' progress callback hears, as the job's phase and counts
    assert heard[:2] == [(f"computing {n} footprint(s)", 0, n), (f"building {n} record(s)", 0, n)]
    sending = heard[2:-1]
    assert sending[0] == ("0 transaction(s) signed, 0 final", n, n)  # the batch is stored
    assert sending[-1] == ("1 transaction(s) signed, 1 final", n, n)
    assert ("1 transaction(s) signed, 0 final", n, n) in sending
    assert heard[-1] == ("finishing", n, n)


def test_a_failed_chain_call_leaves_nothing_half_recorded(chain_service: Service,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    s = chain_service
    exporter = s.org("Yiwu", "exporter")
    assert s.client.post("/v1/shipments", json=DEMO, headers=s.auth(exporter)).status_code == 201
    from ledger.anchoring.outbox import Outbox

    real_submit = Outbox.submit

    def dead_node(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise RpcUnavailable("the RPC node stopped answering")

    monkeypatch.setattr(Outbox, "submit", dead_node)
    failed = _anchor(s, exporter)
    assert failed["state"] == "failed" and "stopped answering" in failed["error"]
    states = {r["shipment_id"]: r["anchoring"] for r in
              s.client.get("/v1/shipments", headers=s.auth(exporter)).json()["shipments"]}
    assert set(states.values()) == {"unstarted"}  # stored as one batch, never sent

    monkeypatch.setattr(Outbox, "submit", real_submit)
    resumed = _anchor(s, exporter)
    assert resumed["state"] == "done", resumed["error"]
    assert resumed["result"]["anchored"] == 0 and resumed["result"]["resumed_batches"]
    states = {r["shipment_id"]: r["anchoring"] for r in
              s.client.get("/v1/shipments", headers=s.auth(exporter)).json()["shipments"]}
    assert set(states.values()) == {"final"}
    batches = s.ctx.ledger_store.batch_statuses(s.ctx.chain.scope(exporter.org.address))
    assert len(batches) == 1 and len(s.ctx.ledger_store.batch_txs(batches[0].batch.id)) == 1


def test_reports_need_anchored_shipments(chain_service: Service) -> None:
    s = chain_service
    exporter = s.org("Hangzhou", "exporter")
    s.client.post("/v1/shipments", json=DEMO, headers=s.auth(exporter))
    refused = s.client.post("/v1/reports", json={"shipment_ids": IDS[:1], **PERIOD},
                            headers=s.auth(exporter))
    assert refused.status_code == 409 and "not anchored yet" in refused.json()["message"]
    assert s.client.get(f"/v1/shipments/{IDS[0]}/proof",
                        headers=s.auth(exporter)).status_code == 409


def test_report_pages_never_show_the_services_rpc_url(tmp_path: Path,
                                                      service_chain: ServiceChain) -> None:
    from api.app import create_app

    # the service's node URL carries a key (Anvil ignores the query)
    keyed = service_chain.settings.rpc_url.rstrip("/") + "/?apikey=QUERYKEY0123456789"
    chain = dataclasses.replace(
        service_chain, settings=service_chain.settings.model_copy(update={"rpc_url": keyed}))
    s = make_service(chain_app(tmp_path, chain), chain.node)
    try:
        exporter = s.org("Taizhou", "exporter")
        assert s.client.post("/v1/shipments", json=DEMO,
                             headers=s.auth(exporter)).status_code == 201
        assert _anchor(s, exporter)["state"] == "done"
        made = s.client.post("/v1/reports", json={"shipment_ids": IDS[:1], **PERIOD},
                             headers=s.auth(exporter))
        assert made.status_code == 201, made.text
        html_link = made.json()["links"]["html"]
        page = s.client.get(html_link, headers=s.auth(exporter)).text
        assert "QUERYKEY0123456789" not in page and keyed not in page
        assert "--rpc &lt;RPC URL&gt;" in page
    finally:
        s.client.close()
        s.ctx.close()

    # the same store served with a provider URL whose key is in its path, then with a public URL
    provider = "https://eth-sepolia.example.org/v2/PATHKEY0123456789"
    for public in (None, "https://rpc.sepolia.example.org"):
        settings = service_settings(tmp_path, public_rpc_url=public)
        app = create_app(settings, service_chain.settings.model_copy(
            update={"rpc_url": provider, "rpc_retries": 1, "rpc_timeout_s": 1}),
            deployment=OFFLINE_DEPLOYMENT)
        other = make_service(app)
        try:
            page = other.client.get(html_link, headers=other.auth(exporter)).text
        finally:
            other.client.close()
            other.ctx.close()
        assert IDS[0] in page
        assert "PATHKEY0123456789" not in page and "eth-sepolia.example.org" not in page
        if public is None:
            assert "--rpc &lt;RPC URL&gt;" in page
        else:
            assert f"--rpc {public}" in page and "&lt;RPC URL&gt;" not in page
