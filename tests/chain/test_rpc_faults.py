"""An RPC endpoint that answers HTTP errors or bodies that are not JSON-RPC, in front of a real
Anvil: transient faults are retried with backoff, lasting ones end in a message naming the
endpoint (never a traceback), and an anchoring run through a flaky endpoint still converges."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_env import chain_cli_env, run_cli
from devchain import DevChain
from rpc_proxy import RpcFaultProxy

from ledger.chain.client import connect
from ledger.config import ChainSettings
from ledger.dev.devkeys import dev_key
from ledger.errors import ChainError, RpcUnavailable


@pytest.fixture
def proxy(chain: DevChain) -> Iterator[RpcFaultProxy]:
    made = RpcFaultProxy(chain.settings.rpc_url)
    yield made
    made.close()


def settings_via(proxy: RpcFaultProxy, chain: DevChain, retries: int = 4) -> ChainSettings:
    return chain.settings.model_copy(update={
        "rpc_url": proxy.url, "rpc_retries": retries, "rpc_backoff_s": 0.01})


@pytest.mark.parametrize("fault", ["500", "502", "429", "html", "truncated", "not-rpc"])
def test_a_transient_fault_is_retried_and_the_read_succeeds(
        chain: DevChain, proxy: RpcFaultProxy, fault: str) -> None:
    with connect(settings_via(proxy, chain), private_key=dev_key(0).private_key) as client:
        proxy.plan.extend([fault, fault])
        before = proxy.requests
        height = client.block_number()
        assert height == int(chain.node.rpc("eth_blockNumber"), 16)
        assert proxy.requests - before == 3  # two faults, then the answer
        assert proxy.faults_sent == 2


@pytest.mark.parametrize(("fault", "named"), [
    ("500", "HTTP 500"), ("html", "not a JSON-RPC reply"), ("not-rpc", "not a JSON-RPC reply")])
def test_a_lasting_fault_names_the_endpoint_and_the_fault(
        chain: DevChain, proxy: RpcFaultProxy, fault: str, named: str) -> None:
    with connect(settings_via(proxy, chain, retries=3),
                 private_key=dev_key(0).private_key) as client:
        proxy.plan.extend([fault] * 10)
        before = proxy.requests
        with pytest.raises(RpcUnavailable) as caught:
            client.block_number()
    assert proxy.requests - before == 3
    message = str(caught.value)
    assert proxy.url in message and named in message and "3 attempts" in message


def test_a_client_error_status_is_not_retried(chain: DevChain, proxy: RpcFaultProxy) -> None:
    with connect(settings_via(proxy, chain), private_key=dev_key(0).private_key) as client:
        proxy.plan.extend(["404"] * 10)
        before = proxy.requests
        with pytest.raises(ChainError, match=r"answered HTTP 404 .*check the URL") as caught:
            client.block_number()
    assert not isinstance(caught.value, RpcUnavailable)
    assert proxy.requests - before == 1


SHIPMENTS = {"shipments": [
    {"shipment_id": f"FLAKY-{n:04d}", "legs": [
        {"leg": 1, "mode": "road", "mass_kg": str(1000 + n), "origin": "CNNGB",
         "destination": "CNSHA", "distance_km": "85"}]}
    for n in range(12)
]}


def anchor_env(chain: DevChain, proxy: RpcFaultProxy, tmp_path: Path,
               monkeypatch: pytest.MonkeyPatch) -> Path:
    chain_cli_env(chain, tmp_path, monkeypatch, rpc_url=proxy.url, retries=4)
    shipments = tmp_path / "shipments.json"
    shipments.write_text(json.dumps(SHIPMENTS), encoding="utf-8")
    return shipments


run = run_cli


@pytest.mark.parametrize("path", ["events", "root"])
def test_anchoring_through_a_flaky_endpoint_converges(
        chain: DevChain, proxy: RpcFaultProxy, tmp_path: Path, path: str, *,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    shipments = anchor_env(chain, proxy, tmp_path, monkeypatch)
    proxy.every, proxy.every_fault = 3, "502"  # every third request fails
    assert run(["anchor", str(shipments), "--path", path]) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert proxy.faults_sent > 0
    proxy.every = 0
    for n in range(12):
        assert run(["proof", f"FLAKY-{n:04d}", "--check"]) == 0
        bundle = json.loads(capsys.readouterr().out)
        assert bundle["state"] == "final", bundle


def test_anchor_against_a_dead_endpoint_ends_in_a_message(
        chain: DevChain, proxy: RpcFaultProxy, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    shipments = anchor_env(chain, proxy, tmp_path, monkeypatch)
    proxy.every, proxy.every_fault = 1, "500"
    assert run(["anchor", str(shipments), "--path", "root"]) != 0
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert proxy.url in err and "HTTP 500" in err
