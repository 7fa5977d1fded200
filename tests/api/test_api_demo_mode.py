"""Demo logins and public development keys never face a real chain: ``serve --demo`` with an RPC
URL from either source is refused, and so is a store holding the demo's logins or keys when it
is served against an RPC URL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from api_fixtures import OFFLINE_DEPLOYMENT, SECRET, service_settings

from api.app import create_app
from ledger.config import ChainSettings
from ledger.dev.devkeys import dev_key

pytestmark = pytest.mark.api

CLI = str(Path(sys.executable).with_name("carbon-ledger"))
DEAD_RPC = "http://127.0.0.1:9"


def _serve(tmp_path: Path, *options: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CARBON_LEDGER_")}
    return subprocess.run([CLI, "serve", "--port", "9", "--var-dir", str(tmp_path / "var"),
                           *options], env={**clean, **env}, capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.mark.parametrize("source", ["flag", "env"])
def test_demo_with_an_rpc_url_is_refused_from_either_source(tmp_path: Path, source: str) -> None:
    if source == "flag":
        done = _serve(tmp_path, "--demo", "--rpc-url", DEAD_RPC)
    else:
        done = _serve(tmp_path, "--demo", CARBON_LEDGER_RPC_URL=DEAD_RPC)
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "--demo" in output and ("--rpc-url" if source == "flag" else "CARBON_LEDGER_RPC_URL"
                                   ) in output
    assert "Traceback" not in output and "demo-admin-secret" not in output
    assert not (tmp_path / "var" / "service.sqlite").exists()  # refused before anything


def test_a_store_with_demo_logins_is_not_served_against_an_rpc_url(tmp_path: Path) -> None:
    from ledger.chain.deploy import write_deployment

    store = tmp_path / "embedded.sqlite"
    chain = ChainSettings(rpc_url=DEAD_RPC, chain_id=31337, rpc_retries=1, rpc_timeout_s=1,
                          deployments_dir=tmp_path)
    app = create_app(service_settings(tmp_path, store_url=str(store)), chain,
                     deployment=OFFLINE_DEPLOYMENT)
    ctx = app.state.ctx
    try:  # what the embedded demo leaves in its store
        ctx.create_org("Demo exporter", "exporter", private_key=dev_key(1).private_key,
                       client_id="demo-exporter", client_secret="demo-exporter-secret",
                       grant_on_chain=False)
        ctx.create_org("Demo admin", "admin", client_id="demo-admin",
                       client_secret="demo-admin-secret")
    finally:
        ctx.close()
    deployment = write_deployment(OFFLINE_DEPLOYMENT, tmp_path / "deployment.json")
    done = _serve(tmp_path, "--store", str(store), CARBON_LEDGER_RPC_URL=DEAD_RPC,
                  CARBON_LEDGER_CHAIN_ID="31337", CARBON_LEDGER_DEPLOYMENT_FILE=str(deployment),
                  CARBON_LEDGER_SERVICE_SECRET=SECRET)
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "demo-admin" in output and "development key 1" in output and "--store" in output
    assert "Traceback" not in output
