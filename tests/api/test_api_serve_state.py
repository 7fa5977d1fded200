"""``carbon-ledger serve`` keeps its embedded chain in its var folder by default: started
again without ``--state``, the chain still holds what the store says is anchored, and
``/health`` says ok."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from api_fixtures import EXAMPLES, free_port
from api_fixtures import demo_token as _token
from api_fixtures import stop_serve as _stop
from api_fixtures import wait_up as _wait_up

pytestmark = [pytest.mark.api, pytest.mark.chain]


def _start(var_dir: Path, port: int, anvil_port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # no --state: the default keeps the chain in var_dir
        [str(Path(sys.executable).with_name("carbon-ledger")), "serve", "--port", str(port),
         "--var-dir", str(var_dir), "--anvil-port", str(anvil_port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})


def test_serve_keeps_the_embedded_chain_by_default(tmp_path: Path) -> None:
    port, anvil_port = free_port(), free_port()
    url = f"http://127.0.0.1:{port}"
    process = _start(tmp_path, port, anvil_port)
    try:
        _wait_up(process, url)
        exporter = _token(url, "demo-exporter")
        submitted = httpx.post(url + "/v1/shipments", headers={**exporter,
                                                               "content-type": "text/csv"},
                               content=(EXAMPLES / "demo-shipments.csv").read_bytes())
        assert submitted.status_code == 201
        job = httpx.post(url + "/v1/anchoring", headers=exporter).json()
        for _ in range(600):
            job = httpx.get(f"{url}/v1/jobs/{job['id']}", headers=exporter).json()
            if job["state"] in ("done", "failed"):
                break
            time.sleep(0.1)
        assert job["state"] == "done", job
    finally:
        _stop(process)
    assert (tmp_path / "anvil-state.json").exists()

    process = _start(tmp_path, port, anvil_port)
    try:
        _wait_up(process, url)  # /health 200: the chain holds the store's records
        health = httpx.get(url + "/health").json()
        assert health["checks"]["chain"] == "ok"
        summary = httpx.get(url + "/v1/summary", headers=_token(url, "demo-exporter")).json()
        assert summary["anchored"] == 4
    finally:
        _stop(process)
