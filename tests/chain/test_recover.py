"""``carbon-ledger recover`` after the chain lost anchored batches, on a real Anvil: the chain
is made to forget (``evm_revert`` to a snapshot taken before anchoring: the contract stays, the
batches and the key's nonces go), then recovery marks the lost transactions, keeps them, and
anchors the records again; killed halfway and run again, nothing is doubled or lost."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from cli_env import chain_cli_env, run_cli
from devchain import DevChain
from report_chain_fixtures import PERIOD, SHIPMENTS, register_shipped_factor_set

from ledger.anchoring.anchor import anchor_footprints
from ledger.anchoring.options import AnchorOptions
from ledger.anchoring.proofs import audit_store, check_bundle, proof_bundle
from ledger.anchoring.recover import find_lost, key_again, recover
from ledger.chain.client import connect
from ledger.chain.contract import CarbonLedgerContract
from ledger.chain.deploy import deploy_ledger, open_deployment, write_deployment
from ledger.chain.events import ShipmentRecorded
from ledger.dev.devkeys import DEV_ADMIN_INDEX, DEV_EXPORTER_INDEXES, dev_key
from ledger.footprint.single import compute_shipment
from ledger.inputs.shipments import Shipment
from ledger.records.keccak import keccak256
from ledger.store.store import LedgerStore, open_store
from ledger.types import Bytes32

ROAD = {"shipments": [
    {"shipment_id": f"LOST-{n:03d}", "legs": [
        {"leg": 1, "mode": "road", "mass_kg": str(1000 + n), "origin": "CNNGB",
         "destination": "CNSHA", "distance_km": "85"}]}
    for n in range(6)
]}


class Killed(Exception):
    """Stands for the process dying at a step of the recovery."""


def _on_chain_once(ledger: CarbonLedgerContract, store: LedgerStore) -> dict[str, int]:
    """For each stored shipment of the key, how many ShipmentRecorded events the chain holds."""
    scope = store.scopes()[0]
    return {r.shipment_id: sum(isinstance(e, ShipmentRecorded) and e.exporter.lower()
                               == scope.exporter
                               for e in ledger.shipment_events(Bytes32.parse(r.shipment_key)))
            for r in store.scope_records(scope)}


def _anchored_on_the_root_path(chain: DevChain, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch
                               ) -> tuple[CarbonLedgerContract, Any]:
    """The exporter's contract and a chain snapshot taken just before ``anchor --path root``
    anchored :data:`SHIPMENTS` through the CLI (into ``tmp_path``'s store)."""
    chain_cli_env(chain, tmp_path, monkeypatch)
    register_shipped_factor_set(chain)
    exporter = chain.ledger(DEV_EXPORTER_INDEXES[0])
    shipments = tmp_path / "shipments.json"
    shipments.write_text(json.dumps({"shipments": SHIPMENTS}), encoding="utf-8")
    before = chain.node.rpc("evm_snapshot")
    assert run_cli(["anchor", str(shipments), "--path", "root"]) == 0
    return exporter, before


def test_recover_marks_the_lost_batch_anchors_it_again_and_old_reports_say_lost(
        chain: DevChain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    exporter, before = _anchored_on_the_root_path(chain, tmp_path, monkeypatch)
    bundles = []
    for shipment in SHIPMENTS:
        bundle = tmp_path / f"{shipment['shipment_id']}.proof.json"
        assert run_cli(["proof", shipment["shipment_id"], "--out", str(bundle)]) == 0
        bundles.append(str(bundle))
    lost_tx = json.loads(Path(bundles[0]).read_text(encoding="utf-8"))["tx"]["hash"]
    chain.node.rpc("evm_mine")
    assert run_cli(["report", *bundles, "--out", str(tmp_path / "out"), "--name", "q1",
                    "--first-day", PERIOD[0].isoformat(),
                    "--last-day", PERIOD[1].isoformat()]) == 0
    report = tmp_path / "out" / "q1.json"
    assert chain.node.rpc("evm_revert", before)  # the chain forgets the batch
    for _ in range(3):  # and goes on without it
        chain.node.rpc("evm_mine")
    nonce = exporter.client.mined_nonce()
    capsys.readouterr()

    assert run_cli(["recover", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would mark 1 transaction(s) lost" in out and lost_tx in out
    assert "would anchor again 1 batch(es), 2 shipment(s)" in out
    assert "nothing was changed" in out
    assert exporter.client.mined_nonce() == nonce
    with open_store(tmp_path / "ledger.sqlite") as store:
        assert store.lost_anchors(store.scopes()[0]) == []

    assert run_cli(["recover"]) == 0
    out = capsys.readouterr().out
    assert "marked 1 transaction(s) lost" in out and "anchored again 1 batch(es)" in out
    assert exporter.client.mined_nonce() == nonce + 1
    with open_store(tmp_path / "ledger.sqlite") as store:
        scope = store.scopes()[0]
        (kept,) = store.lost_anchors(scope)
        assert kept.tx_hash == lost_tx and kept.chain_id == chain.settings.chain_id
        assert kept.contract == chain.deployment.address.lower()
        assert "reset, rolled back or forked" in kept.reason and kept.found_at is not None
        (status,) = store.batch_statuses(scope)
        assert kept.batch_key == status.batch.batch_key  # a reset chain: the same root again
        assert status.state == "final" and status.tx is not None
        assert status.tx.receipt is not None and status.tx.receipt.tx_hash != lost_tx
        assert [t.state for t in store.batch_txs(status.batch.id)] == ["lost", "final"]
    assert run_cli(["proof", SHIPMENTS[0]["shipment_id"], "--check"]) == 0
    capsys.readouterr()

    assert run_cli(["recover"]) == 0  # idempotent: nothing more to do, nothing sent
    assert "nothing to recover" in capsys.readouterr().out
    assert exporter.client.mined_nonce() == nonce + 1

    # the report issued from the lost anchoring fails its anchor check, saying so
    assert run_cli(["verify", str(report)]) == 1
    out = capsys.readouterr().out
    assert "Traceback" not in out
    assert f"transaction {lost_tx} is not on chain" in out and "lost" in out
    assert "anchored again in block" in out


def test_recovery_killed_at_each_step_and_run_again_doubles_and_loses_nothing(
        chain: DevChain, tmp_path: Path) -> None:
    factor_set = register_shipped_factor_set(chain)
    exporter = chain.ledger(DEV_EXPORTER_INDEXES[0])
    parsed = [Shipment.from_dict(s) for s in ROAD["shipments"]]
    pairs = [(s.to_dict(), compute_shipment(s, factor_set).to_dict()) for s in parsed]
    before = chain.node.rpc("evm_snapshot")
    with open_store(tmp_path / "ledger.sqlite") as store:
        anchor_footprints(pairs, store=store, ledger=exporter, factor_set_id=factor_set.id,
                          options=AnchorOptions(path="events", max_batch_shipments=2))
        scope = store.scopes()[0]
        assert len(store.batch_statuses(scope)) == 3
        assert chain.node.rpc("evm_revert", before)
        chain.node.rpc("evm_mine")
        assert set(_on_chain_once(exporter, store).values()) == {0}
        with pytest.raises(Exception, match="does not hold this store's records"):
            anchor_footprints(pairs, store=store, ledger=exporter,
                              factor_set_id=factor_set.id)

        def die_after_marking(point: str, _tx: object) -> None:
            if point == "marked":
                raise Killed(point)

        with pytest.raises(Killed):
            recover(exporter, store, checkpoint=die_after_marking)
        assert len(store.lost_anchors(scope)) == 3
        assert len(store.unstarted_batches(scope)) == 3  # marked, nothing sent yet
        assert set(_on_chain_once(exporter, store).values()) == {0}
        assert len(find_lost(exporter, store).newly_lost) == 0  # marked once only

        sent: list[int] = []

        def die_after_the_first_batch(point: str, tx: object) -> None:
            if point == "broadcast":
                sent.append(1)
            if point == "between_batches" and len(sent) == 1:
                raise Killed(point)

        with pytest.raises(Killed):
            recover(exporter, store, checkpoint=die_after_the_first_batch)
        assert len(store.unstarted_batches(scope)) == 2

        done = recover(exporter, store)
        assert done.newly_lost == () and len(done.to_anchor) == 2
        assert [s.state for s in store.batch_statuses(scope)] == ["final"] * 3
        assert len(store.lost_anchors(scope)) == 3  # kept, never doubled
        assert _on_chain_once(exporter, store) == {s.shipment_id: 1 for s in parsed}
        again = recover(exporter, store)
        assert again.nothing_to_do and len(again.lost_before) == 3
        # anchoring goes on as before
        result = anchor_footprints(pairs, store=store, ledger=exporter,
                                   factor_set_id=factor_set.id)
        assert result.nothing_new


def test_a_chain_without_the_contract_is_named_by_lookup_proof_verify_and_recover(
        chain: DevChain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    chain_cli_env(chain, tmp_path, monkeypatch)
    shipments = tmp_path / "shipments.json"
    shipments.write_text(json.dumps({"shipments": SHIPMENTS}), encoding="utf-8")
    assert run_cli(["anchor", str(shipments), "--path", "events"]) == 0
    shipment_id = SHIPMENTS[0]["shipment_id"]
    bundle = tmp_path / "proof.json"
    assert run_cli(["proof", shipment_id, "--out", str(bundle)]) == 0
    chain.node.rpc("evm_mine")
    assert run_cli(["report", str(bundle), "--out", str(tmp_path / "out"), "--name", "q1",
                    "--first-day", PERIOD[0].isoformat(),
                    "--last-day", PERIOD[1].isoformat()]) == 0
    address = chain.deployment.address
    chain.node.rpc("anvil_setCode", address, "0x")  # a reset chain: no contract there
    expected = f"no contract at {address} on chain ID {chain.settings.chain_id} " \
               "(reset or wrong chain)"
    capsys.readouterr()
    for args in (["lookup", shipment_id], ["proof", shipment_id, "--check"], ["recover"],
                 ["recover", "--dry-run"]):
        assert run_cli(args) == 1, args
        captured = capsys.readouterr()
        assert expected in captured.err, args
        assert "Traceback" not in captured.err
    assert run_cli(["verify", str(tmp_path / "out" / "q1.json")]) == 1
    out = capsys.readouterr().out
    assert expected in out and "NOT VERIFIED" in out.upper()


def _recover_until_killed(chain: DevChain, store_path: Path, kill_point: str) -> None:
    """A recovery in this (forked) process that SIGKILLs itself the first time it reaches
    ``kill_point``."""
    def checkpoint(point: str, _tx: object) -> None:
        if point == kill_point:
            os.kill(os.getpid(), signal.SIGKILL)

    with connect(chain.settings,
                 private_key=dev_key(DEV_EXPORTER_INDEXES[0]).private_key) as client, \
            open_store(store_path) as store:
        recover(open_deployment(client, chain.deployment), store, checkpoint=checkpoint)


def test_recovery_sigkilled_at_each_step_then_run_again_doubles_and_loses_nothing(
        chain: DevChain, tmp_path: Path) -> None:
    factor_set = register_shipped_factor_set(chain)
    exporter = chain.ledger(DEV_EXPORTER_INDEXES[0])
    parsed = [Shipment.from_dict(s) for s in ROAD["shipments"]]
    pairs = [(s.to_dict(), compute_shipment(s, factor_set).to_dict()) for s in parsed]
    store_path = tmp_path / "ledger.sqlite"
    before = chain.node.rpc("evm_snapshot")
    with open_store(store_path) as store:
        anchor_footprints(pairs, store=store, ledger=exporter, factor_set_id=factor_set.id,
                          options=AnchorOptions(path="events", max_batch_shipments=2))
    assert chain.node.rpc("evm_revert", before)
    start_nonce = exporter.client.mined_nonce()
    context = multiprocessing.get_context("fork")
    for point in ("marked", "signed", "broadcast", "between_batches"):
        worker = context.Process(target=_recover_until_killed, args=(chain, store_path, point))
        worker.start()
        worker.join(60)
        if worker.is_alive():
            worker.kill()
            worker.join()
        assert worker.exitcode == -signal.SIGKILL, (point, worker.exitcode)

    with open_store(store_path) as store:
        recover(exporter, store)
        scope = store.scopes()[0]
        statuses = store.batch_statuses(scope)
        assert [s.state for s in statuses] == ["final"] * 3
        assert len(store.lost_anchors(scope)) == 3
        # one new transaction per batch, each nonce used once
        assert [len([t for t in store.batch_txs(s.batch.id) if t.state != "lost"])
                for s in statuses] == [1, 1, 1]
        assert exporter.client.mined_nonce() - start_nonce == 3
        assert _on_chain_once(exporter, store) == {s.shipment_id: 1 for s in parsed}
        assert audit_store(store, exporter, scope).ok
        for shipment in parsed:
            checks = check_bundle(proof_bundle(store, scope, shipment.shipment_id), exporter)
            assert all(c.ok for c in checks), checks


def test_a_transaction_sent_after_a_lost_one_is_lost_too_and_sent_again(
        chain: DevChain, tmp_path: Path) -> None:
    """Batch A final, batch B sent but not mined yet, then the chain forgets A and its pool (a
    node restarted without its state): B's nonce is now above anything the chain will reach.
    Recovery marks both and anchors both again."""
    factor_set = register_shipped_factor_set(chain)
    exporter = chain.ledger(DEV_EXPORTER_INDEXES[0])
    parsed = [Shipment.from_dict(s) for s in ROAD["shipments"][:4]]
    pairs = [(s.to_dict(), compute_shipment(s, factor_set).to_dict()) for s in parsed]
    before = chain.node.rpc("evm_snapshot")
    with open_store(tmp_path / "ledger.sqlite") as store:
        anchor_footprints(pairs[:2], store=store, ledger=exporter, factor_set_id=factor_set.id)
        chain.node.rpc("evm_setAutomine", False)
        try:
            anchor_footprints(pairs[2:], store=store, ledger=exporter,
                              factor_set_id=factor_set.id, options=AnchorOptions(
                                  wait_until="sent"))
            assert chain.node.rpc("evm_revert", before)
            chain.node.rpc("anvil_dropAllTransactions")
        finally:
            chain.node.rpc("evm_setAutomine", True)
        scope = store.scopes()[0]
        found = find_lost(exporter, store)
        assert len(found.newly_lost) == 2 and len(found.to_anchor) == 2
        stuck = [a for a in found.newly_lost if a.block_number is None]
        assert len(stuck) == 1 and "sent after a transaction the chain lost" in stuck[0].reason
        done = recover(exporter, store)
        assert [s.state for s in done.batches] == ["final", "final"]
        assert _on_chain_once(exporter, store) == {s.shipment_id: 1 for s in parsed}
        assert len(store.lost_anchors(scope)) == 2


def test_a_lost_transaction_mined_after_all_is_taken_back_not_sent_again(
        chain: DevChain, tmp_path: Path) -> None:
    """Marked lost, then its signed bytes reach the chain anyway (a node sends it again from its
    pool): recovery takes that transaction back instead of sending the batch a second time."""
    factor_set = register_shipped_factor_set(chain)
    exporter = chain.ledger(DEV_EXPORTER_INDEXES[0])
    parsed = [Shipment.from_dict(s) for s in ROAD["shipments"][:2]]
    pairs = [(s.to_dict(), compute_shipment(s, factor_set).to_dict()) for s in parsed]
    before = chain.node.rpc("evm_snapshot")
    with open_store(tmp_path / "ledger.sqlite") as store:
        anchor_footprints(pairs, store=store, ledger=exporter, factor_set_id=factor_set.id)
        scope = store.scopes()[0]
        (status,) = store.batch_statuses(scope)
        assert status.tx is not None
        first = store.tx(status.tx.id)
        assert chain.node.rpc("evm_revert", before)

        def stop_after_marking(point: str, _tx: object) -> None:
            if point == "marked":
                raise Killed(point)

        with pytest.raises(Killed):
            recover(exporter, store, checkpoint=stop_after_marking)
        assert store.tx(first.id).state == "lost"
        sent = chain.node.rpc("eth_sendRawTransaction", "0x" + first.attempts[-1].raw.hex())
        deadline = time.monotonic() + 30
        while chain.node.rpc("eth_getTransactionReceipt", sent) is None:  # mined, not just sent
            assert time.monotonic() < deadline, "the re-sent transaction was never mined"
            time.sleep(0.05)
        nonce = exporter.client.mined_nonce()

        done = recover(exporter, store)
        assert [s.state for s in done.batches] == ["final"]
        assert store.tx(first.id).state == "final"  # the same transaction, taken back
        assert [t.id for t in store.batch_txs(status.batch.id)] == [first.id]
        assert exporter.client.mined_nonce() == nonce  # nothing sent again
        assert len(store.lost_anchors(scope)) == 1  # it was lost once: kept
        assert _on_chain_once(exporter, store) == {s.shipment_id: 1 for s in parsed}


def test_status_shows_a_lost_batch_as_lost_until_it_is_anchored_again(
        chain: DevChain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    exporter, before = _anchored_on_the_root_path(chain, tmp_path, monkeypatch)
    with open_store(tmp_path / "ledger.sqlite") as store:
        (status,) = store.batch_statuses(store.scopes()[0])
        assert status.tx is not None and status.tx.receipt is not None
        lost_tx = status.tx.receipt.tx_hash
    assert chain.node.rpc("evm_revert", before)
    chain.node.rpc("evm_mine")

    def die_after_marking(point: str, _tx: object) -> None:
        if point == "marked":
            raise Killed(point)

    with open_store(tmp_path / "ledger.sqlite") as store, pytest.raises(Killed):
        recover(exporter, store, checkpoint=die_after_marking)
    capsys.readouterr()
    assert run_cli(["status", "--no-sync"]) == 0
    out = capsys.readouterr().out
    (line,) = [row for row in out.splitlines() if row.strip().startswith("batch ")]
    assert "pending" not in line
    assert " lost " in line and lost_tx in line and "which the chain no longer holds" in line
    assert "run `carbon-ledger recover`" in line
    assert "batches: 0 pending, 0 confirmed, 0 final, 0 failed, 1 lost" in out

    assert run_cli(["recover"]) == 0
    capsys.readouterr()
    assert run_cli(["status", "--no-sync"]) == 0
    out = capsys.readouterr().out
    (line,) = [row for row in out.splitlines() if row.strip().startswith("batch ")]
    assert " final " in line and f"anchored again after lost tx {lost_tx}" in line
    assert "batches: 0 pending, 0 confirmed, 1 final, 0 failed, 0 lost" in out


@pytest.mark.parametrize("path", ["events", "root"])
def test_a_batch_whose_history_the_node_lost_is_anchored_again_under_a_new_key(
        chain: DevChain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], path: str) -> None:
    """What a local node restarted from a state saved while mining can show: the batch in the
    contract's state and the key's nonce used, but no block, receipt or event for it. The same
    key cannot be recorded again; `recover` anchors the records under a new one, and reports
    issued from the new anchoring verify."""
    chain_cli_env(chain, tmp_path, monkeypatch)
    register_shipped_factor_set(chain)
    exporter = chain.ledger(DEV_EXPORTER_INDEXES[0])
    address = exporter.client.address
    shipments = tmp_path / "shipments.json"
    shipments.write_text(json.dumps({"shipments": SHIPMENTS}), encoding="utf-8")
    node = chain.node
    node.rpc("evm_setAutomine", False)
    try:
        assert run_cli(["anchor", str(shipments), "--path", path, "--wait", "sent"]) == 0
        node.rpc("anvil_dropAllTransactions")
    finally:
        node.rpc("evm_setAutomine", True)
    with open_store(tmp_path / "ledger.sqlite") as store:
        (tx,) = store.open_txs(chain.settings.chain_id, address)
        assert tx.batch_id is not None
        batch = store.batch(tx.batch_id)
    lost_key = bytes.fromhex(batch.batch_key[2:])
    # the node's state holds the batch: the key's nonce used, the batch (or root) recorded
    node.rpc("anvil_setNonce", address, hex(tx.nonce + 1))
    slot = keccak256(lost_key + (3 if path == "root" else 2).to_bytes(32, "big"))
    height = int(node.rpc("eth_blockNumber"), 16)
    info = (int(address, 16) << 96) | (height << 32) | batch.shipment_count
    node.rpc("anvil_setStorageAt", chain.deployment.address, "0x" + slot.hex(),
             "0x" + info.to_bytes(32, "big").hex())
    recorded = exporter.root_info if path == "root" else exporter.batch_info
    assert recorded(lost_key).exporter == address
    nonce = exporter.client.mined_nonce()
    capsys.readouterr()

    # without --anchor-again the batch is named and left alone: the history may be on
    # other nodes (an archive node), where the batch is on chain
    assert run_cli(["recover"]) == 1
    captured = capsys.readouterr()
    assert "1 batch(es) whose history the node lost were left as they are" in captured.err
    assert "lost part of its history" in captured.err and batch.batch_key in captured.err
    assert "recover --anchor-again" in captured.err
    assert exporter.client.mined_nonce() == nonce

    assert run_cli(["recover", "--anchor-again", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would mark 1 transaction(s) lost" in out and "lost part of its history" in out
    assert f"would be anchored again under a new {'root' if path == 'root' else 'batch id'}" \
        in out and batch.batch_key in out
    assert "nothing was changed" in out
    assert exporter.client.mined_nonce() == nonce

    def die_after_marking(point: str, _tx: object) -> None:
        if point == "marked":
            raise Killed(point)

    with open_store(tmp_path / "ledger.sqlite") as store, pytest.raises(Killed):
        recover(exporter, store, anchor_again=True,
                checkpoint=die_after_marking)  # marked and re-keyed, unsent
    assert run_cli(["status", "--no-sync"]) == 0
    out = capsys.readouterr().out
    (line,) = [row for row in out.splitlines() if row.strip().startswith("batch ")]
    assert " lost " in line and "the node lost that history" in line
    assert batch.batch_key in line and "run `carbon-ledger recover`" in line

    assert run_cli(["recover"]) == 0  # finishes: sends the re-keyed batch
    out = capsys.readouterr().out
    assert "anchored again 1 batch(es)" in out
    assert exporter.client.mined_nonce() == nonce + 1
    with open_store(tmp_path / "ledger.sqlite") as store:
        scope = store.scopes()[0]
        (kept,) = store.lost_anchors(scope)
        assert kept.batch_key == batch.batch_key and kept.tx_id == tx.id
        assert kept.block_number == height and "lost part of its history" in kept.reason
        (status,) = store.batch_statuses(scope)
        assert status.state == "final" and status.batch.batch_key != batch.batch_key
        assert [t.state for t in store.batch_txs(status.batch.id)] == ["lost", "final"]
        new_key = bytes.fromhex(status.batch.batch_key[2:])
    if path == "events":
        assert new_key == key_again(lost_key)
        with open_store(tmp_path / "ledger.sqlite") as store:
            assert _on_chain_once(exporter, store) == {s["shipment_id"]: 1 for s in SHIPMENTS}
    assert recorded(new_key).exporter == address

    bundles = []
    for shipment in SHIPMENTS:
        bundle = tmp_path / f"{shipment['shipment_id']}.proof.json"
        assert run_cli(["proof", shipment["shipment_id"], "--check", "--out", str(bundle)]) == 0
        bundles.append(str(bundle))
    assert run_cli(["report", *bundles, "--out", str(tmp_path / "out"), "--name", "q1",
                    "--first-day", PERIOD[0].isoformat(),
                    "--last-day", PERIOD[1].isoformat()]) == 0
    capsys.readouterr()
    assert run_cli(["verify", str(tmp_path / "out" / "q1.json")]) == 0, capsys.readouterr().out

    assert run_cli(["recover"]) == 0  # idempotent: nothing more to do, nothing sent
    assert "nothing to recover" in capsys.readouterr().out
    assert run_cli(["anchor", str(shipments), "--path", path]) == 0
    assert exporter.client.mined_nonce() == nonce + 1


def test_records_of_an_earlier_contract_are_anchored_on_the_new_one(
        chain: DevChain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The contract the store's records were anchored on is gone (a development chain reset
    and the contract deployed again elsewhere): `recover --from-contract` anchors the same
    records on the new deployment, on the path each was on, and reports from them verify."""
    chain_cli_env(chain, tmp_path, monkeypatch)
    factors = register_shipped_factor_set(chain)
    exporter = dev_key(DEV_EXPORTER_INDEXES[0]).address
    events_file, root_file = tmp_path / "events.json", tmp_path / "root.json"
    events_file.write_text(json.dumps({"shipments": SHIPMENTS}), encoding="utf-8")
    root_file.write_text(json.dumps(ROAD), encoding="utf-8")
    assert run_cli(["anchor", str(events_file), "--path", "events"]) == 0
    assert run_cli(["anchor", str(root_file), "--path", "root"]) == 0
    old = chain.deployment.address
    with open_store(tmp_path / "ledger.sqlite") as store:
        (old_scope,) = store.scopes()
        old_batches = store.batch_statuses(old_scope)
    count = len(SHIPMENTS) + len(ROAD["shipments"])

    deployment, _ = deploy_ledger(chain.client(DEV_ADMIN_INDEX), exporters=[exporter],
                                  factor_sets=[(bytes.fromhex(factors.id[2:]), factors.uri)])
    monkeypatch.setenv("CARBON_LEDGER_DEPLOYMENT_FILE", str(
        write_deployment(deployment, tmp_path / "new-deployment.json")))
    chain.node.rpc("anvil_setCode", old, "0x")  # the earlier contract is gone
    capsys.readouterr()

    for bad, said in (("0x1234", "must be a contract address"),
                      ("0x" + "ab" * 20, f"holds: {old.lower()} on chain")):
        assert run_cli(["recover", "--from-contract", bad]) == 2
        err = capsys.readouterr().err
        assert said in err and "from_contract" in err and "Traceback" not in err
    assert run_cli(["recover", "--from-contract", old, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"would anchor {count} record(s)" in out and "nothing was changed" in out

    assert run_cli(["recover", "--from-contract", old]) == 0
    out = capsys.readouterr().out
    assert f"anchored {count} record(s) in 2 batch(es)" in out
    assert f"contract {old.lower()} (chain {chain.settings.chain_id}) -> contract " \
           f"{deployment.address.lower()}" in out
    with open_store(tmp_path / "ledger.sqlite") as store:
        assert store.batch_statuses(old_scope) == old_batches  # the earlier scope as it was
        new_scope = next(s for s in store.scopes() if s != old_scope)
        moved = store.batch_statuses(new_scope)
        assert sorted(s.batch.path for s in moved) == ["events", "root"]
        assert all(s.state == "final" for s in moved)
        assert sorted(r.record_hash for r in store.scope_records(new_scope)) == sorted(
            r.record_hash for r in store.scope_records(old_scope))

    bundles = []
    for shipment_id in (SHIPMENTS[0]["shipment_id"], ROAD["shipments"][0]["shipment_id"]):
        bundle = tmp_path / f"{shipment_id}.proof.json"
        assert run_cli(["proof", shipment_id, "--check", "--out", str(bundle)]) == 0
        assert json.loads(bundle.read_text(encoding="utf-8"))["contract"] == \
            deployment.address.lower()
        bundles.append(str(bundle))
    assert run_cli(["report", bundles[0], "--out", str(tmp_path / "out"), "--name", "q1",
                    "--first-day", PERIOD[0].isoformat(),
                    "--last-day", PERIOD[1].isoformat()]) == 0
    capsys.readouterr()
    assert run_cli(["verify", str(tmp_path / "out" / "q1.json")]) == 0, capsys.readouterr().out

    nonce = chain.client(DEV_EXPORTER_INDEXES[0]).mined_nonce()
    assert run_cli(["recover", "--from-contract", old]) == 0  # again: nothing is sent
    assert f"every record is there; {count} already there" in capsys.readouterr().out
    assert chain.client(DEV_EXPORTER_INDEXES[0]).mined_nonce() == nonce


def test_a_shipment_corrected_on_the_earlier_contract_stops_the_move_before_anything_is_stored(
        chain: DevChain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    chain_cli_env(chain, tmp_path, monkeypatch)
    factors = register_shipped_factor_set(chain)
    shipments = tmp_path / "shipments.json"
    shipments.write_text(json.dumps({"shipments": SHIPMENTS}), encoding="utf-8")
    assert run_cli(["anchor", str(shipments), "--path", "events"]) == 0
    sid = SHIPMENTS[1]["shipment_id"]
    corrected = json.loads(json.dumps(SHIPMENTS[1]))
    for leg in corrected["legs"]:
        leg["mass_kg"] = "11000"
    fixed = tmp_path / "corrected.json"
    fixed.write_text(json.dumps({"shipments": [corrected]}), encoding="utf-8")
    assert run_cli(["supersede", sid, str(fixed), "--out", str(tmp_path / "v2.json")]) == 0
    old = chain.deployment.address
    deployment, _ = deploy_ledger(
        chain.client(DEV_ADMIN_INDEX), exporters=[dev_key(DEV_EXPORTER_INDEXES[0]).address],
        factor_sets=[(bytes.fromhex(factors.id[2:]), factors.uri)])
    monkeypatch.setenv("CARBON_LEDGER_DEPLOYMENT_FILE", str(
        write_deployment(deployment, tmp_path / "new-deployment.json")))
    capsys.readouterr()

    assert run_cli(["recover", "--from-contract", old]) == 2
    err = capsys.readouterr().err
    assert f"1 shipment(s) of contract {old.lower()} were corrected there" in err
    assert f"{sid} (version 2)" in err and "first record live again" in err
    with open_store(tmp_path / "ledger.sqlite") as store:
        assert len(store.scopes()) == 1  # nothing stored for the new contract
