"""``carbon-ledger serve`` as a user starts it: embedded Anvil, deployment, demo clients, API up;
stopped by SIGTERM, it takes its Anvil down with it; started again, it keeps its data."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from api_fixtures import EXAMPLES, ServiceChain, free_port, postgres_schema, service_chain
from api_fixtures import demo_token as _token
from api_fixtures import start_serve as _start
from api_fixtures import stop_serve as _stop
from api_fixtures import wait_up as _wait_up

__all__ = ["service_chain"]
pytestmark = [pytest.mark.api, pytest.mark.chain]


def test_serve_on_an_embedded_chain(tmp_path: Path) -> None:
    port, anvil_port = free_port(), free_port()
    url = f"http://127.0.0.1:{port}"
    process = _start(tmp_path, port, anvil_port)
    try:
        _wait_up(process, url)
        health = httpx.get(url + "/health").json()
        assert health["chain_id"] == 31337 and health["contract"].startswith("0x")
        exporter = _token(url, "demo-exporter")
        submitted = httpx.post(url + "/v1/shipments", headers={**exporter,
                                                               "content-type": "text/csv"},
                               content=(EXAMPLES / "demo-shipments.csv").read_bytes())
        assert submitted.status_code == 201
        job = httpx.post(url + "/v1/anchoring", headers=exporter).json()
        for _ in range(300):
            job = httpx.get(f"{url}/v1/jobs/{job['id']}", headers=exporter).json()
            if job["state"] in ("done", "failed"):
                break
            time.sleep(0.1)
        assert job["state"] == "done", job
        assert "text/html" in httpx.get(url + "/auditor").headers["content-type"]
    finally:
        output = _stop(process)
    assert "demo-exporter / demo-exporter-secret" in output
    with pytest.raises(httpx.HTTPError):  # the embedded Anvil stopped with the service
        httpx.post(f"http://127.0.0.1:{anvil_port}", json={"jsonrpc": "2.0", "id": 1,
                                                           "method": "eth_chainId"}, timeout=2)

    process = _start(tmp_path, port, anvil_port)  # again: the same chain, store and contract
    try:
        _wait_up(process, url)
        assert httpx.get(url + "/health").json()["contract"] == health["contract"]
        summary = httpx.get(url + "/v1/summary", headers=_token(url, "demo-exporter")).json()
        assert summary["shipments"] == 4 and summary["anchored"] == 4
    finally:
        _stop(process)


def test_serve_on_a_configured_chain(tmp_path: Path, service_chain: ServiceChain) -> None:
    from ledger.chain.deploy import write_deployment

    deployment_file = write_deployment(service_chain.deployment, tmp_path / "deployment.json")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONUNBUFFERED": "1",
           # a provider-style URL with a key (Anvil ignores the query): never printed
           "CARBON_LEDGER_RPC_URL": service_chain.settings.rpc_url.rstrip("/")
           + "/?apikey=SERVEKEY0123456789",
           "CARBON_LEDGER_CHAIN_ID": str(service_chain.settings.chain_id),
           "CARBON_LEDGER_DEPLOYMENT_FILE": str(deployment_file),
           "CARBON_LEDGER_PRIVATE_KEY": service_chain.admin_key,
           "CARBON_LEDGER_SERVICE_SECRET": "a-service-secret-for-this-test",
           "CARBON_LEDGER_SERVICE_ADMIN_CLIENT_ID": "ops",
           "CARBON_LEDGER_SERVICE_ADMIN_CLIENT_SECRET": "ops-secret"}
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("carbon-ledger")), "serve", "--port", str(port),
         "--var-dir", str(tmp_path / "var")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True, env=env)
    try:
        _wait_up(process, url)
        assert httpx.get(url + "/health").json()["contract"] == \
            service_chain.deployment.address
        admin = _token(url, "ops")
        made = httpx.post(url + "/v1/organisations", headers=admin,
                          json={"name": "Haiyan Fasteners", "role": "exporter"})
        assert made.status_code == 201, made.text
        assert "private_key" not in made.text
        role = httpx.get(url + "/v1/me", headers=_token_of(url, made.json())).json()
        assert role["role"] == "exporter" and role["address"] == made.json()["address"]
        demo = httpx.post(url + "/auth/token", data={"grant_type": "client_credentials"},
                          auth=("demo-exporter", "demo-exporter-secret"))
        assert demo.status_code == 401  # no demo clients on a configured chain
    finally:
        output = _stop(process)
    assert "demo clients" not in output
    assert "SERVEKEY0123456789" not in output
    assert f"chain           {service_chain.settings.rpc_url.rstrip('/')}/… " in output


def _token_of(url: str, made: dict[str, str]) -> dict[str, str]:
    response = httpx.post(url + "/auth/token", data={"grant_type": "client_credentials"},
                          auth=(made["client_id"], made["client_secret"]))
    assert response.status_code == 200, response.text
    return {"authorization": f"Bearer {response.json()['access_token']}"}


@pytest.mark.postgres
def test_the_banner_hides_the_store_password(tmp_path: Path) -> None:
    import sqlalchemy as sa

    with postgres_schema() as schema_url:
        store_url = sa.engine.make_url(schema_url).set(password="STOREPW0123456789")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        process = _start(tmp_path, port, free_port(), "--store",
                         store_url.render_as_string(hide_password=False))
        try:
            _wait_up(process, url)
        finally:
            output = _stop(process)
    assert "STOREPW0123456789" not in output
    store_line = next(line for line in output.splitlines() if line.startswith("  store "))
    assert ":***@127.0.0.1" in store_line, store_line
