"""``carbon-ledger devnet``: a foreground chain with the contract, stopped cleanly, state kept."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ledger.chain.client import connect
from ledger.chain.contract import EXPORTER_ROLE
from ledger.chain.deploy import load_deployment, open_deployment
from ledger.config import ChainSettings
from ledger.dev.anvil import free_port
from ledger.dev.devkeys import dev_key
from ledger.factors.factorset import load_factor_set

pytestmark = pytest.mark.chain
ROOT = Path(__file__).resolve().parents[2]


def start_devnet(*args: str) -> tuple[subprocess.Popen[str], dict[str, str], str]:
    process = subprocess.Popen(
        [sys.executable, "-c", "from ledger.cli.main import main; main()", "devnet", *args],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    assert process.stdout is not None
    lines = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("Ready."):
            break
    text = "".join(lines)
    assert "Ready." in text, text
    fields = dict(re.findall(r"^  (RPC URL|chain id|anvil pid|CarbonLedger|deployment file)"
                             r"\s+(\S+)", text, re.MULTILINE))
    return process, fields, text


def stop(process: subprocess.Popen[str], sig: signal.Signals) -> str:
    process.send_signal(sig)
    rest, _ = process.communicate(timeout=60)
    assert process.returncode == 0, rest
    return rest


def running(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "\nState:\tZ" not in status.read_text()


def test_devnet_serves_the_contract_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    process, fields, text = start_devnet("--port", str(port), "--deployments-dir", str(tmp_path))
    try:
        assert fields["RPC URL"] == f"http://127.0.0.1:{port}"
        assert "PUBLIC TEST KEYS" in text
        assert dev_key(1).private_key in text
        deployment = load_deployment(Path(fields["deployment file"]), chain_id=31337)
        assert deployment.address == fields["CarbonLedger"]
        settings = ChainSettings(rpc_url=fields["RPC URL"], chain_id=31337)
        with connect(settings, private_key=dev_key(1).private_key) as client:
            ledger = open_deployment(client, deployment)
            assert ledger.has_role(EXPORTER_ROLE, dev_key(1).address)
            shipped = load_factor_set()
            assert ledger.factor_set_uri(bytes.fromhex(shipped.id[2:])) == shipped.uri
            assert f"factor set {shipped.id} = {shipped.uri}" in text
    finally:
        rest = stop(process, signal.SIGINT)
    assert "stopped" in rest
    assert not running(int(fields["anvil pid"]))


def test_devnet_with_a_state_file_keeps_the_contract(tmp_path: Path) -> None:
    state = tmp_path / "devnet-state.json"
    common = ("--deployments-dir", str(tmp_path), "--state", str(state), "--chain-id", "1337",
              "--factor-set", "0x" + "ab" * 32 + "=factor-set://dev")
    process, first, _ = start_devnet("--port", str(free_port()), *common)
    stop(process, signal.SIGTERM)
    assert state.is_file()
    process, second, text = start_devnet("--port", str(free_port()), *common)
    try:
        assert second["CarbonLedger"] == first["CarbonLedger"]
        assert "kept from the state file" in text
        assert second["chain id"] == "1337"
        settings = ChainSettings(rpc_url=second["RPC URL"], chain_id=1337)
        with connect(settings, private_key=dev_key(0).private_key) as client:
            deployment = load_deployment(Path(second["deployment file"]), chain_id=1337)
            ledger = open_deployment(client, deployment)
            assert ledger.factor_set_uri(bytes.fromhex("ab" * 32)) == "factor-set://dev"
    finally:
        stop(process, signal.SIGINT)
