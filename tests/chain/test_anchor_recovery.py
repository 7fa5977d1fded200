"""Anchoring runs that meet what other runs left: a root this key anchored from another store,
a key that cannot pay, and a re-run that only finishes an earlier run's transaction."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_env import chain_cli_env, run_cli
from devchain import DevChain
from eth_account import Account
from eth_utils import keccak
from report_chain_fixtures import register_shipped_factor_set

from ledger.anchoring.anchor import anchor_footprints
from ledger.anchoring.options import AnchorOptions
from ledger.chain.contract import EXPORTER_ROLE
from ledger.dev.devkeys import DEV_EXPORTER_INDEXES, dev_key
from ledger.errors import InputError
from ledger.footprint.single import compute_shipment
from ledger.inputs.shipments import Shipment
from ledger.store.store import open_store

SHIPMENTS = {"shipments": [
    {"shipment_id": f"RECOVER-{n:03d}", "legs": [
        {"leg": 1, "mode": "road", "mass_kg": str(2000 + n), "origin": "CNNGB",
         "destination": "CNSHA", "distance_km": "85"}]}
    for n in range(5)
]}


@pytest.fixture
def shipments(chain: DevChain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    chain_cli_env(chain, tmp_path, monkeypatch, store="first.sqlite")
    path = tmp_path / "shipments.json"
    path.write_text(json.dumps(SHIPMENTS), encoding="utf-8")
    return path


run = run_cli


def proof(shipment_id: str, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    assert run(["proof", shipment_id, "--check"]) == 0
    bundle: dict[str, object] = json.loads(capsys.readouterr().out)
    return bundle


def test_a_root_this_key_anchored_from_another_store_is_adopted_not_sent_again(
        chain: DevChain, shipments: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    exporter = chain.ledger(DEV_EXPORTER_INDEXES[0]).client
    assert run(["anchor", str(shipments), "--path", "root"]) == 0
    capsys.readouterr()
    first = proof("RECOVER-003", capsys)
    nonce = exporter.mined_nonce()

    monkeypatch.setenv("CARBON_LEDGER_STORE", str(tmp_path / "second.sqlite"))  # a fresh store
    assert run(["anchor", str(shipments), "--path", "root"]) == 0
    out = capsys.readouterr().out
    assert "anchored 5 new shipment(s)" in out and "found on chain" in out
    assert exporter.mined_nonce() == nonce  # nothing sent: RootAlreadyAnchored avoided
    second = proof("RECOVER-003", capsys)
    assert second["state"] == "final"
    assert second["batch"] == first["batch"] and second["tx"] == first["tx"]
    assert second["proof"] == first["proof"]
    assert run(["status"]) == 0
    assert "0 pending" in capsys.readouterr().out


def test_a_key_that_cannot_pay_is_refused_before_signing(
        chain: DevChain, shipments: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    poor = Account.create()
    chain.admin.grant_role(EXPORTER_ROLE, poor.address)
    monkeypatch.setenv("CARBON_LEDGER_PRIVATE_KEY", poor.key.hex())
    assert run(["anchor", str(shipments), "--path", "events"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert f"the signing key {poor.address} holds 0 ETH" in err
    assert "fund the key with at least" in err
    assert int(chain.node.rpc("eth_getTransactionCount", poor.address, "latest"), 16) == 0

    chain.node.rpc("anvil_setBalance", poor.address, hex(10**18))  # funded: the next run sends
    assert run(["anchor", str(shipments), "--path", "events"]) == 0
    assert "finished 1 batch(es) left by an earlier run" in capsys.readouterr().out
    monkeypatch.setenv("CARBON_LEDGER_PRIVATE_KEY", poor.key.hex())
    assert proof("RECOVER-001", capsys)["state"] == "final"


@pytest.mark.parametrize("path", ["root", "events"])
def test_a_rerun_that_only_finishes_an_earlier_transaction_says_so(
        chain: DevChain, shipments: Path, path: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["anchor", str(shipments), "--path", path, "--wait", "sent"]) == 0
    capsys.readouterr()
    assert run(["anchor", str(shipments), "--path", path]) == 0
    out = capsys.readouterr().out
    assert "nothing new to anchor" not in out
    assert "no new shipment in the input; finished 1 batch(es) left by an earlier run" in out
    assert "5 already anchored" in out
    assert proof("RECOVER-000", capsys)["state"] == "final"


def test_one_key_in_two_stores_at_once_is_not_reported_as_success(
        chain: DevChain, tmp_path: Path) -> None:
    """Run B has checked the chain and stored its batch when run A, with the same key and
    another store, records three of the same shipments in another batch: B's records land too,
    and B says so instead of reporting success."""
    factor_set = register_shipped_factor_set(chain)
    exporter = chain.ledger(DEV_EXPORTER_INDEXES[0])
    parsed = [Shipment.from_dict(s) for s in SHIPMENTS["shipments"]]
    pairs = [(s.to_dict(), compute_shipment(s, factor_set).to_dict()) for s in parsed]
    events = AnchorOptions(path="events")

    def meanwhile(point: str, _tx: object) -> None:
        if point == "stored":
            with open_store(tmp_path / "a.sqlite") as other:
                anchor_footprints(pairs[:3], store=other, ledger=exporter,
                                  factor_set_id=factor_set.id, options=events)

    with open_store(tmp_path / "b.sqlite") as store, pytest.raises(InputError) as caught:
        anchor_footprints(pairs, store=store, ledger=exporter, factor_set_id=factor_set.id,
                          options=events, checkpoint=meanwhile)
    problems = caught.value.problems
    assert sorted(p.shipment_id for p in problems) == [f"RECOVER-{n:03d}" for n in range(3)]
    assert all("recorded twice on chain by this key" in p.message for p in problems)


def test_a_batch_in_the_state_without_history_is_reported_as_such(
        chain: DevChain, shipments: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """What a local node restarted from a state saved while mining can show: the batch in the
    contract's state and the key's nonce advanced, but no block, receipt or event for it."""
    node = chain.node
    exporter = dev_key(DEV_EXPORTER_INDEXES[0]).address
    node.rpc("evm_setAutomine", False)
    try:
        assert run(["anchor", str(shipments), "--path", "events", "--wait", "sent"]) == 0
        node.rpc("anvil_dropAllTransactions")
    finally:
        node.rpc("evm_setAutomine", True)
    with open_store(tmp_path / "first.sqlite") as store:
        (tx,) = store.open_txs(chain.settings.chain_id, exporter)
        batch = store.batch(tx.batch_id) if tx.batch_id is not None else None
    assert batch is not None
    key = bytes.fromhex(batch.batch_key[2:])
    node.rpc("anvil_setNonce", exporter, hex(tx.nonce + 1))
    slot = keccak(key + (2).to_bytes(32, "big"))  # CarbonLedger._batches is storage slot 2
    height = int(node.rpc("eth_blockNumber"), 16)
    info = (int(exporter, 16) << 96) | (height << 32) | batch.shipment_count
    node.rpc("anvil_setStorageAt", chain.deployment.address, "0x" + slot.hex(),
             "0x" + info.to_bytes(32, "big").hex())
    assert chain.admin.batch_info(key).exporter == exporter  # the state says: recorded

    monkeypatch.setenv("CARBON_LEDGER_RECEIPT_TIMEOUT_S", "1")
    assert run(["anchor", str(shipments), "--path", "events"]) == 1
    err = capsys.readouterr().err
    assert "recorded in the contract's state, but the node serves no block, receipt or event" \
        in err and "lost part of its history" in err
    assert "run `carbon-ledger recover --anchor-again`" in err  # tested in test_recover.py
    assert "Traceback" not in err


def test_a_chain_that_lost_the_stores_records_is_refused_before_sending(
        chain: DevChain, shipments: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    before = chain.node.rpc("evm_snapshot")
    assert run(["anchor", str(shipments), "--path", "root"]) == 0
    chain.node.rpc("evm_revert", before)  # the chain forgets the batch; the contract stays
    nonce = chain.ledger(DEV_EXPORTER_INDEXES[0]).client.mined_nonce()
    more = tmp_path / "more.json"
    more.write_text(json.dumps({"shipments": [
        {**SHIPMENTS["shipments"][0], "shipment_id": "RECOVER-NEW"}]}), encoding="utf-8")
    capsys.readouterr()
    assert run(["anchor", str(more), "--path", "root"]) == 1
    err = capsys.readouterr().err
    assert "does not hold this store's records" in err and "nothing was sent" in err
    assert run(["status"]) == 0  # status says so too, and sends nothing again
    assert "does not hold this store's records" in capsys.readouterr().err
    assert chain.ledger(DEV_EXPORTER_INDEXES[0]).client.mined_nonce() == nonce
