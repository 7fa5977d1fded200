"""The node going away mid-run (stopped with its state kept, then restarted) and a reorg of the
block holding a batch: the run resumes with nothing lost or duplicated, the batch ends final."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from devchain import DevChain
from test_anchor import anchor, make_pairs

from ledger.anchoring.options import AnchorOptions, scope_of
from ledger.anchoring.outbox import OutboxPolicy
from ledger.anchoring.proofs import audit_store
from ledger.chain.client import connect
from ledger.chain.deploy import deploy_ledger, open_deployment
from ledger.config import ChainSettings
from ledger.dev.anvil import AnvilNode, free_port, start_anvil
from ledger.dev.devkeys import DEV_ADMIN_INDEX, DEV_EXPORTER_INDEXES, dev_key
from ledger.errors import RpcUnavailable
from ledger.store.rows import TxRow
from ledger.store.store import LedgerStore, open_store

pytestmark = pytest.mark.chain

FACTOR_SET = bytes.fromhex("5e" * 32)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LedgerStore]:
    with open_store(tmp_path / "ledger.sqlite") as opened:
        yield opened


def _settings(node: AnvilNode) -> ChainSettings:
    return ChainSettings(rpc_url=node.rpc_url, chain_id=node.chain_id, poll_interval_s=0.005,
                         rpc_retries=2, rpc_backoff_s=0.05)


@pytest.mark.parametrize("stop_at", ["signed", "broadcast"])
def test_node_stopped_mid_run_and_restarted_with_its_state(
    tmp_path: Path, store: LedgerStore, stop_at: str,
) -> None:
    state, port = tmp_path / "anvil-state.json", free_port()
    exporter_key = dev_key(DEV_EXPORTER_INDEXES[0])
    with start_anvil(state_path=state, port=port) as node:
        settings = _settings(node)
        with connect(settings, private_key=dev_key(DEV_ADMIN_INDEX).private_key) as admin:
            deployment, _ = deploy_ledger(admin, exporters=[exporter_key.address],
                                          factor_sets=[(FACTOR_SET, "test://restart")])
        with connect(settings, private_key=exporter_key.private_key) as client:
            ledger = open_deployment(client, deployment)
            pairs = make_pairs([f"RST-{i}" for i in range(8)])
            reached = {"n": 0}

            def stop_the_node(point: str, _tx: TxRow | None) -> None:
                if point == stop_at:
                    reached["n"] += 1
                    if reached["n"] == 2:  # the second batch: the first one is on chain
                        os.killpg(node.pid, signal.SIGTERM)  # Anvil writes --state and exits
                        node.process.wait(timeout=30)

            with pytest.raises(RpcUnavailable, match="cannot reach"):
                anchor(pairs, ledger, store, FACTOR_SET,
                       options=AnchorOptions(max_batch_shipments=2), checkpoint=stop_the_node)
    assert {s.state for s in store.batch_statuses(scope_of(ledger))} >= {"unstarted"}

    with start_anvil(state_path=state, port=port) as node, \
            connect(_settings(node), private_key=exporter_key.private_key) as client:
        ledger = open_deployment(client, deployment)
        result = anchor(pairs, ledger, store, FACTOR_SET,
                        options=AnchorOptions(max_batch_shipments=2))
        assert len(result.resumed_batches) == 4 and not result.new_shipments
        statuses = store.batch_statuses(result.scope)
        assert [s.state for s in statuses] == ["final"] * 4
        assert all(len(store.batch_txs(s.batch.id)) == 1 for s in statuses)
        assert client.mined_nonce() == 4  # four batches, four nonces: nothing sent twice
        audit = audit_store(store, ledger, result.scope)
        assert audit.ok and audit.checked_events == 8


@pytest.mark.parametrize("method", ["anvil_rollback", "anvil_reorg"])
def test_a_batch_whose_block_is_reorged_away_is_sent_again_and_ends_final(
    chain: DevChain, store: LedgerStore, method: str,
) -> None:
    ledger = chain.ledger(DEV_EXPORTER_INDEXES[0])
    pairs = make_pairs([f"ORG-{method}-{i}" for i in range(4)])
    reorged: list[TxRow] = []

    def reorg_a_batch(point: str, tx: TxRow | None) -> None:
        if point != "receipt" or reorged or tx is None or tx.receipt is None:
            return
        if tx.receipt.block_number == ledger.client.block_number():  # the batch's block is the head
            reorged.append(tx)
            params = [1] if method == "anvil_rollback" else [1, []]
            chain.node.rpc(method, *params)  # ... and now it is gone

    result = anchor(
        pairs, ledger, store, chain.factor_set_id,
        options=AnchorOptions(max_batch_shipments=2),
        policy=OutboxPolicy(confirmations=2, poll_interval_s=0.005),
        checkpoint=reorg_a_batch, idle=lambda: chain.node.rpc("evm_mine"),
    )
    [before] = reorged
    statuses = store.batch_statuses(result.scope)
    assert [s.state for s in statuses] == ["final", "final"]
    hit = next(s.tx for s in statuses if s.tx is not None and s.tx.id == before.id)
    assert hit is not None and hit.reorg_count == 1 and hit.receipt is not None
    assert len(hit.attempts) == 1  # the very same signed bytes went out again
    assert [s.tx.reorg_count for s in statuses if s.tx is not None and s.tx.id != before.id] == [0]
    assert audit_store(store, ledger, result.scope).ok
