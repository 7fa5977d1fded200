"""The ``anchor``, ``proof``, ``status``, ``lookup`` and ``revoke`` commands against a real
Anvil."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_env import chain_cli_env, run_cli
from devchain import DevChain

from ledger.dev.anvil import free_port
from ledger.dev.devkeys import DEV_EXPORTER_INDEXES, DEV_OUTSIDER_INDEXES, dev_key

SHIPMENTS = {"shipments": [
    {"shipment_id": "NGB-2026-0001", "legs": [
        {"leg": 1, "mode": "road", "mass_kg": "12000", "origin": "CNNGB",
         "destination": "CNSHA", "distance_km": "85"},
        {"leg": 2, "mode": "sea", "mass_kg": "12000", "origin": "CNNGB",
         "destination": "NLRTM", "distance_km": "19399"},
    ]},
    {"shipment_id": "YIW-2026-0042", "legs": [
        {"leg": 1, "mode": "rail", "mass_kg": "6000", "origin": "CNYIW",
         "destination": "ESMAD", "distance_km": "13052"},
    ]},
]}


@pytest.fixture
def cli_env(chain: DevChain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Environment for the commands: node, exporter key, deployment file, store, factor set."""
    chain_cli_env(chain, tmp_path, monkeypatch)
    shipments = tmp_path / "shipments.json"
    shipments.write_text(json.dumps(SHIPMENTS), encoding="utf-8")
    return shipments


run = run_cli


def test_anchor_prints_where_each_proof_is_and_a_rerun_sends_nothing(
    cli_env: Path, chain: DevChain, capsys: pytest.CaptureFixture[str],
) -> None:
    exporter = chain.ledger(DEV_EXPORTER_INDEXES[0]).client
    assert run(["anchor", str(cli_env), "--path", "root"]) == 0
    out = capsys.readouterr().out
    for shipment in SHIPMENTS["shipments"]:
        assert f"{shipment['shipment_id']}: root 0x" in out
        assert f"proof: carbon-ledger proof {shipment['shipment_id']}" in out
    assert "anchored 2 new shipment(s) on the root path" in out
    nonce = exporter.mined_nonce()

    assert run(["anchor", str(cli_env), "--path", "root"]) == 0
    assert "nothing new to anchor: all 2 shipment(s) were anchored before" in \
        capsys.readouterr().out
    assert exporter.mined_nonce() == nonce

    assert run(["proof", "YIW-2026-0042", "--check"]) == 0
    captured = capsys.readouterr()
    bundle = json.loads(captured.out)
    assert bundle["state"] == "final" and bundle["chain_id"] == chain.settings.chain_id
    assert bundle["contract"] == chain.deployment.address.lower()
    assert bundle["record"]["shipment_id"] == "YIW-2026-0042" and bundle["proof"]
    assert "FAIL" not in captured.err and "ok   verifyShipment" in captured.err

    assert run(["status"]) == 0
    assert "batches: 0 pending, 0 confirmed, 1 final, 0 failed" in capsys.readouterr().out


def test_events_path_and_lookup(
    cli_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert run(["anchor", str(cli_env)]) == 0
    assert "NGB-2026-0001: event #0 of batch" in capsys.readouterr().out
    assert run(["lookup", "NGB-2026-0001"]) == 0
    out = capsys.readouterr().out
    assert "ShipmentRecorded" in out and "live records on chain: 1" in out
    assert "CONFLICT" not in out

    monkeypatch.delenv("CARBON_LEDGER_PRIVATE_KEY")  # a verifier holds no key
    exporter = dev_key(DEV_EXPORTER_INDEXES[0]).address
    assert run(["lookup", "NGB-2026-0001", "--exporter", exporter]) == 0
    assert "live records on chain: 1" in capsys.readouterr().out
    assert run(["proof", "NGB-2026-0001", "--exporter", exporter, "--check"]) == 0
    assert "ok   event" in capsys.readouterr().err


def test_refused_before_sending(
    cli_env: Path, chain: DevChain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    exporter = chain.ledger(DEV_EXPORTER_INDEXES[0]).client
    nonce = exporter.mined_nonce()

    monkeypatch.setenv("CARBON_LEDGER_CHAIN_ID", "11155111")
    assert run(["anchor", str(cli_env)]) == 1
    assert "chain id" in capsys.readouterr().err
    monkeypatch.setenv("CARBON_LEDGER_CHAIN_ID", str(chain.settings.chain_id))

    monkeypatch.setenv("CARBON_LEDGER_PRIVATE_KEY", dev_key(DEV_OUTSIDER_INDEXES[0]).private_key)
    assert run(["anchor", str(cli_env)]) == 1
    assert "no EXPORTER_ROLE" in capsys.readouterr().err
    monkeypatch.setenv("CARBON_LEDGER_PRIVATE_KEY", dev_key(DEV_EXPORTER_INDEXES[0]).private_key)

    doubled = tmp_path / "doubled.json"
    doubled.write_text(json.dumps({"shipments": SHIPMENTS["shipments"] * 2}), encoding="utf-8")
    assert run(["anchor", str(doubled)]) == 2
    assert "duplicate shipment_id" in capsys.readouterr().err

    monkeypatch.setenv("CARBON_LEDGER_RPC_URL", f"http://127.0.0.1:{free_port()}")
    assert run(["anchor", str(cli_env)]) == 1
    assert "cannot reach the RPC endpoint" in capsys.readouterr().err
    assert exporter.mined_nonce() == nonce


def test_revoke_marks_the_record_revoked_on_chain_and_refuses_a_second_time(
    cli_env: Path, chain: DevChain, capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(["anchor", str(cli_env), "--path", "events"]) == 0
    capsys.readouterr()

    assert run(["revoke", "NGB-2026-0001"]) == 0
    said = capsys.readouterr().out
    assert "revoked record 0x" in said and "NGB-2026-0001" in said

    assert run(["lookup", "NGB-2026-0001"]) == 0
    looked = capsys.readouterr().out
    assert "RecordRevoked" in looked
    assert "live records on chain: 0" in looked
    # the other shipment stays live
    assert run(["lookup", "YIW-2026-0042"]) == 0
    assert "live records on chain: 1" in capsys.readouterr().out

    exporter = dev_key(DEV_EXPORTER_INDEXES[0]).address
    sent_before = chain.node.rpc("eth_getTransactionCount", exporter, "pending")
    assert run(["revoke", "NGB-2026-0001"]) == 1
    assert "RecordNotLive" in capsys.readouterr().err
    assert chain.node.rpc("eth_getTransactionCount", exporter, "pending") == sent_before, \
        "a revert is refused before anything is sent"

    assert run(["revoke", "NO-SUCH-SHIPMENT"]) == 1
    assert "nothing to revoke" in capsys.readouterr().err
