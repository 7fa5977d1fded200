"""Starting and stopping a local Anvil: ready when it answers, always stopped, no zombie."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ledger.chain.client import connect
from ledger.chain.contract import AUDITOR_ROLE, EXPORTER_ROLE
from ledger.chain.deploy import deploy_ledger, load_deployment, open_deployment
from ledger.config import ChainSettings, ToolchainSettings
from ledger.dev.anvil import AnvilNode, find_anvil, start_anvil
from ledger.dev.devkeys import dev_key
from ledger.dev.local import local_ledger
from ledger.errors import ChainError, ConfigError, GasCapExceeded
from ledger.factors.factorset import load_factor_set

pytestmark = pytest.mark.chain
ROOT = Path(__file__).resolve().parents[2]


def process_state(pid: int) -> str | None:
    """The kernel's state letter of ``pid`` (``Z`` for a zombie), ``None`` when it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return None
    for line in status.splitlines():
        if line.startswith("State:"):
            return line.split()[1]
    return None


def wait_until_not_running(pid: int, timeout_s: float = 20) -> str | None:
    deadline = time.monotonic() + timeout_s
    state = process_state(pid)
    while state not in (None, "Z") and time.monotonic() < deadline:
        time.sleep(0.05)
        state = process_state(pid)
    return state


def settings_for(node: AnvilNode) -> ChainSettings:
    return ChainSettings(rpc_url=node.rpc_url, chain_id=node.chain_id, poll_interval_s=0.005)


def test_anvil_answers_on_localhost_and_is_gone_after_the_block() -> None:
    with start_anvil() as node:
        pid = node.pid
        assert node.host == "127.0.0.1"
        assert node.rpc("eth_chainId") == hex(31337)
        assert "--enable-tx-gas-limit" in node.args
        assert process_state(pid) not in (None, "Z")
    assert process_state(pid) is None  # stopped and reaped: not even a zombie
    assert node.process.returncode is not None


def test_anvil_is_stopped_when_the_block_raises() -> None:
    with pytest.raises(RuntimeError, match="boom"), start_anvil() as node:
        pid = node.pid
        raise RuntimeError("boom")
    assert process_state(pid) is None


def _child_holding_anvil() -> subprocess.Popen[str]:
    code = (
        "import time\n"
        "from ledger.dev.anvil import start_anvil\n"
        "with start_anvil() as node:\n"
        "    print(node.pid, flush=True)\n"
        "    time.sleep(120)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    assert child.stdout is not None
    return child


def test_anvil_is_stopped_when_its_owner_is_interrupted() -> None:
    child = _child_holding_anvil()
    assert child.stdout is not None
    anvil_pid = int(child.stdout.readline())
    child.send_signal(signal.SIGINT)  # Ctrl-C
    child.communicate(timeout=30)
    assert process_state(anvil_pid) is None


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs util-linux setpriv")
def test_anvil_dies_with_an_owner_killed_outright() -> None:
    child = _child_holding_anvil()
    assert child.stdout is not None
    anvil_pid = int(child.stdout.readline())
    child.kill()  # SIGKILL: no clean-up code runs in the owner
    child.communicate(timeout=30)
    assert wait_until_not_running(anvil_pid) in (None, "Z")


def test_state_file_keeps_the_chain_across_restarts(tmp_path: Path) -> None:
    state = tmp_path / "anvil-state.json"
    with start_anvil(state_path=state) as node, \
            connect(settings_for(node), private_key=dev_key(0).private_key) as client:
        deployment, _ = deploy_ledger(client)
        height = client.block_number()
    assert state.is_file()
    with start_anvil(state_path=state) as node, \
            connect(settings_for(node), private_key=dev_key(0).private_key) as client:
        assert client.code(deployment.address)
        assert client.block_number() >= height
        assert client.mined_nonce() == 1


def test_no_mining_keeps_transactions_pending_until_mined() -> None:
    with start_anvil(no_mining=True) as node, \
            connect(settings_for(node), private_key=dev_key(0).private_key) as client:
        signed = client.build_transaction(dev_key(1).address, b"", value=1)
        client.send_raw(signed)
        assert client.receipt(signed.tx_hash) is None
        assert (client.mined_nonce(), client.pending_nonce()) == (0, 1)
        node.rpc("evm_mine")
        assert client.wait_for_receipt(signed.tx_hash).status == 1


def test_the_node_enforces_the_per_transaction_gas_cap() -> None:
    with start_anvil() as node, \
            connect(settings_for(node), private_key=dev_key(0).private_key) as client:
        fees = client.suggest_fees()
        over = client.sign(dev_key(1).address, b"", nonce=0, gas=16_777_217, fees=fees)
        with pytest.raises(GasCapExceeded):
            client.send_raw(over)  # even a hand-made transaction is refused by the node
    with start_anvil(gas_limit_cap=False) as node, \
            connect(settings_for(node), private_key=dev_key(0).private_key) as client:
        assert "--enable-tx-gas-limit" not in node.args
        over = client.sign(dev_key(1).address, b"", nonce=0, gas=16_777_217,
                           fees=client.suggest_fees())
        assert client.wait_for_receipt(client.send_raw(over)).status == 1


def test_a_taken_port_is_reported() -> None:
    with start_anvil() as first, pytest.raises(ChainError, match=str(first.port)), \
            start_anvil(port=first.port, startup_timeout_s=10):
        pass


def test_a_configured_anvil_must_be_an_executable(tmp_path: Path) -> None:
    missing = ToolchainSettings(anvil_binary=tmp_path / "anvil")
    with pytest.raises(ConfigError, match="CARBON_LEDGER_ANVIL"):
        find_anvil(missing)
    assert find_anvil() == ROOT / "node_modules" / ".bin" / "anvil"
    assert os.access(find_anvil(), os.X_OK)


def test_the_session_anvil_stops_when_pytest_is_interrupted(tmp_path: Path) -> None:
    shutil.copy(ROOT / "tests" / "conftest.py", tmp_path / "conftest.py")
    pid_file = tmp_path / "anvil.pid"
    (tmp_path / "test_hold.py").write_text(
        "import time\n"
        "from pathlib import Path\n\n"
        "def test_hold(anvil_node):\n"
        f"    Path({str(pid_file)!r}).write_text(str(anvil_node.pid))\n"
        "    time.sleep(120)\n"
    )
    session = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         str(tmp_path / "test_hold.py")],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "tests" / "plugins")},
    )
    deadline = time.monotonic() + 60
    while not pid_file.exists() and time.monotonic() < deadline and session.poll() is None:
        time.sleep(0.05)
    assert pid_file.exists(), session.communicate(timeout=30)[0]
    anvil_pid = int(pid_file.read_text())
    assert process_state(anvil_pid) not in (None, "Z")
    session.send_signal(signal.SIGINT)  # Ctrl-C in the middle of a test
    output, _ = session.communicate(timeout=60)
    assert "KeyboardInterrupt" in output
    assert process_state(anvil_pid) is None, output


def test_local_ledger_deploys_grants_registers_and_stops(tmp_path: Path) -> None:
    shipped = load_factor_set()
    with local_ledger(exporters=2, auditors=1, deployments_dir=tmp_path) as chain:
        pid = chain.node.pid
        assert [k.index for k in chain.exporters] == [1, 2]
        assert [k.index for k in chain.auditors] == [5]
        assert chain.factor_set_id == bytes.fromhex(shipped.id[2:])
        assert chain.deployment_file == tmp_path / "31337.json"
        assert load_deployment(chain.deployment_file, chain_id=31337) == chain.deployment
        assert not chain.reused
        with chain.connect(chain.exporters[0]) as client:
            ledger = open_deployment(client, chain.deployment)
            assert ledger.has_role(EXPORTER_ROLE, dev_key(2).address)
            assert not ledger.has_role(EXPORTER_ROLE, dev_key(3).address)
            assert ledger.has_role(AUDITOR_ROLE, dev_key(5).address)
            assert ledger.factor_set_uri(bytes.fromhex(shipped.id[2:])) == shipped.uri
    assert process_state(pid) is None


def test_local_ledger_with_a_state_file_reuses_the_contract(tmp_path: Path) -> None:
    state, extra = tmp_path / "state.json", (bytes.fromhex("ab" * 32), "factor-set://extra")
    with local_ledger(state_path=state, deployments_dir=tmp_path, factor_sets=()) as first:
        pass
    with local_ledger(state_path=state, deployments_dir=tmp_path, factor_sets=[extra]) as again:
        assert again.reused
        assert again.deployment.address == first.deployment.address
        with again.connect(again.admin) as client:
            ledger = open_deployment(client, again.deployment)
            assert ledger.factor_set_uri(extra[0]) == "factor-set://extra"


def test_local_ledger_stops_the_node_when_the_block_raises() -> None:
    with pytest.raises(RuntimeError, match="boom"), \
            local_ledger(exporters=0, auditors=0, factor_sets=()) as chain:
        pid = chain.node.pid
        raise RuntimeError("boom")
    assert process_state(pid) is None


def test_local_ledger_refuses_more_role_keys_than_it_has() -> None:
    with pytest.raises(ConfigError, match="4 exporter key"), local_ledger(exporters=5):
        pass
