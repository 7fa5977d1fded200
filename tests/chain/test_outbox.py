"""The transaction manager against a real Anvil: store-before-send, reconciliation by hash and
mined nonce, fee-bumped replacements, confirmation depth, reorgs and foreign nonces."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from devchain import DevChain

from ledger.anchoring.outbox import Outbox, OutboxPolicy
from ledger.chain.client import ChainClient
from ledger.chain.contract import CarbonLedgerContract
from ledger.chain.types import Fees
from ledger.dev.devkeys import DEV_EXPORTER_INDEXES
from ledger.store.rows import NewAttempt, TxRow
from ledger.store.store import LedgerStore, open_store

EXPORTER = DEV_EXPORTER_INDEXES[0]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LedgerStore]:
    with open_store(tmp_path / "ledger.sqlite") as opened:
        yield opened


@pytest.fixture
def exporter(chain: DevChain) -> CarbonLedgerContract:
    return chain.ledger(EXPORTER)


def _anchor_call(ledger: CarbonLedgerContract, chain: DevChain) -> bytes:
    return ledger.anchor_root_calldata(os.urandom(32), chain.factor_set_id, 3)


def _root_of(data: bytes) -> bytes:
    return data[4:36]


def _outbox(store: LedgerStore, client: ChainClient, **policy: object) -> Outbox:
    return Outbox(store, client, OutboxPolicy(**policy))  # type: ignore[arg-type]


def _chain_tx_hashes(client: ChainClient, tx: TxRow) -> set[str]:
    """Hashes of the sender's transactions with ``tx``'s nonce that the chain holds (0 or 1)."""
    found = set()
    for attempt in tx.attempts:
        receipt = client.receipt(bytes.fromhex(attempt.tx_hash[2:]))
        if receipt is not None:
            found.add(attempt.tx_hash)
    return found


def test_a_transaction_is_stored_before_it_is_sent_and_ends_final(
    chain: DevChain, exporter: CarbonLedgerContract, store: LedgerStore,
) -> None:
    seen: list[tuple[str, str]] = []

    def checkpoint(point: str, tx: TxRow | None) -> None:
        assert tx is not None
        stored = store.tx(tx.id)  # every checkpoint sees its step already committed
        seen.append((point, stored.state))
        if point == "signed":
            assert stored.attempts[0].raw and stored.attempts[0].broadcast_count == 0
            assert exporter.client.receipt(bytes.fromhex(stored.attempts[0].tx_hash[2:])) is None

    outbox = Outbox(store, exporter.client, OutboxPolicy(), checkpoint=checkpoint)
    data = _anchor_call(exporter, chain)
    tx = outbox.submit(to=exporter.address, data=data, batch_id=None)
    [final] = outbox.wait([tx.id])
    assert seen == [("signed", "signed"), ("broadcast", "broadcast"), ("receipt", "mined"),
                    ("final", "final")]
    assert final.state == "final" and final.receipt is not None
    block = exporter.client.block(final.receipt.block_number)
    assert final.receipt.block_hash == "0x" + block.hash.hex()
    assert exporter.root_info(_root_of(data)).exporter == exporter.client.address


def test_final_waits_for_the_confirmation_depth(
    chain: DevChain, exporter: CarbonLedgerContract, store: LedgerStore,
) -> None:
    mined_blocks: list[int] = []

    def idle() -> None:  # the node only makes blocks when asked
        mined_blocks.append(exporter.client.block_number())
        chain.node.rpc("evm_mine")

    outbox = Outbox(store, exporter.client, OutboxPolicy(confirmations=3), idle=idle)
    tx = outbox.submit(to=exporter.address, data=_anchor_call(exporter, chain), batch_id=None)
    [mined] = outbox.wait([tx.id], until="mined")
    assert mined.state == "mined" and mined.receipt is not None
    [final] = outbox.wait([tx.id])
    assert final.state == "final" and final.receipt is not None
    assert exporter.client.block_number() - final.receipt.block_number == 3
    assert len(mined_blocks) == 3


def test_a_signed_but_never_sent_transaction_is_sent_on_resume(
    chain: DevChain, exporter: CarbonLedgerContract, store: LedgerStore,
) -> None:
    client = exporter.client
    data = _anchor_call(exporter, chain)
    signed = client.build_transaction(exporter.address, data, nonce=client.pending_nonce())
    store.add_signed_tx(
        chain_id=client.chain_id, sender=client.address, nonce=signed.nonce,
        to_address=exporter.address, data=data, gas_limit=signed.gas, batch_id=None,
        confirmations=0, finalized_tag=False,
        attempt=NewAttempt("0x" + signed.tx_hash.hex(), signed.raw,
                           signed.fees.max_fee_per_gas, signed.fees.max_priority_fee_per_gas),
    )  # ... and the process died here
    resumed = _outbox(store, client)
    [after] = resumed.reconcile()
    [final] = resumed.wait([after.id])
    assert final.state == "final"
    assert _chain_tx_hashes(client, final) == {"0x" + signed.tx_hash.hex()}
    assert client.mined_nonce() == signed.nonce + 1


def test_a_send_whose_answer_was_lost_is_found_by_its_hash(
    chain: DevChain, exporter: CarbonLedgerContract, store: LedgerStore,
) -> None:
    client = exporter.client
    data = _anchor_call(exporter, chain)
    signed = client.build_transaction(exporter.address, data, nonce=client.pending_nonce())
    store.add_signed_tx(
        chain_id=client.chain_id, sender=client.address, nonce=signed.nonce,
        to_address=exporter.address, data=data, gas_limit=signed.gas, batch_id=None,
        confirmations=0, finalized_tag=False,
        attempt=NewAttempt("0x" + signed.tx_hash.hex(), signed.raw,
                           signed.fees.max_fee_per_gas, signed.fees.max_priority_fee_per_gas),
    )
    client.send_raw(signed)  # the node took it, but the process died before noting anything
    [after] = _outbox(store, client).reconcile()
    assert after.state == "final"
    assert after.receipt is not None and after.receipt.tx_hash == "0x" + signed.tx_hash.hex()
    assert after.attempts[0].broadcast_count == 0  # found by its hash, never sent twice
    assert client.mined_nonce() == signed.nonce + 1


@pytest.fixture
def manual_mining(chain: DevChain) -> Iterator[None]:
    chain.node.rpc("evm_setAutomine", False)
    try:
        yield
    finally:
        chain.node.rpc("evm_setAutomine", True)


@pytest.mark.usefixtures("manual_mining")
def test_a_stuck_transaction_is_replaced_with_fees_bumped_by_at_least_an_eighth(
    chain: DevChain, exporter: CarbonLedgerContract, store: LedgerStore,
) -> None:
    outbox = _outbox(store, exporter.client, stuck_after_s=0.3, rebroadcast_after_s=0.1)
    tx = outbox.submit(to=exporter.address, data=_anchor_call(exporter, chain), batch_id=None)
    while len(store.tx(tx.id).attempts) < 3:  # nothing is mined: it stays stuck
        outbox.advance(store.tx(tx.id))
    chain.node.rpc("evm_mine")
    [final] = outbox.wait([tx.id])
    first, second, third = final.attempts
    for old, new in ((first, second), (second, third)):
        assert new.max_fee_per_gas * 8 >= old.max_fee_per_gas * 9
        assert new.max_priority_fee_per_gas * 8 >= old.max_priority_fee_per_gas * 9
    assert final.receipt is not None and final.receipt.tx_hash == third.tx_hash
    assert _chain_tx_hashes(exporter.client, final) == {third.tx_hash}


@pytest.mark.usefixtures("manual_mining")
def test_every_attempt_is_watched_when_an_older_one_is_mined(
    chain: DevChain, exporter: CarbonLedgerContract, store: LedgerStore,
) -> None:
    client = exporter.client
    tx = _outbox(store, client).submit(to=exporter.address, data=_anchor_call(exporter, chain),
                                       batch_id=None)
    first = tx.attempts[0]
    bumped = client.sign(exporter.address, tx.data, nonce=tx.nonce, gas=tx.gas_limit,
                         fees=Fees(first.max_fee_per_gas, first.max_priority_fee_per_gas).bumped())
    store.add_attempt(tx.id, NewAttempt("0x" + bumped.tx_hash.hex(), bumped.raw,
                                        bumped.fees.max_fee_per_gas,
                                        bumped.fees.max_priority_fee_per_gas))
    chain.node.rpc("evm_mine")  # the replacement was stored but never sent: the first is mined
    [after] = _outbox(store, client).reconcile()
    assert after.state == "final"
    assert after.receipt is not None and after.receipt.tx_hash == first.tx_hash
    assert after.receipt.attempt_id == first.id


def test_a_rolled_back_receipt_sends_the_same_bytes_again(
    chain: DevChain, exporter: CarbonLedgerContract, store: LedgerStore,
) -> None:
    client = exporter.client
    outbox = _outbox(store, client)
    data = _anchor_call(exporter, chain)
    tx = outbox.submit(to=exporter.address, data=data, batch_id=None)
    [final] = outbox.wait([tx.id])
    assert final.receipt is not None
    chain.node.rpc("anvil_rollback", 1)
    assert exporter.root_info(_root_of(data)).exporter is None  # gone from the chain

    _outbox(store, client).reconcile()  # re-checks recent finals: this one lost its receipt
    [final_again] = _outbox(store, client).wait([tx.id])
    assert final_again.reorg_count == 1
    assert final_again.state == "final" and final_again.receipt is not None
    assert final_again.receipt.tx_hash == tx.attempts[0].tx_hash  # the same raw bytes
    assert exporter.root_info(_root_of(data)).exporter == client.address


def test_a_nonce_taken_by_another_transaction_drops_ours(
    chain: DevChain, exporter: CarbonLedgerContract, store: LedgerStore,
) -> None:
    client = exporter.client
    data = _anchor_call(exporter, chain)
    nonce = client.pending_nonce()
    signed = client.build_transaction(exporter.address, data, nonce=nonce)
    tx = store.add_signed_tx(
        chain_id=client.chain_id, sender=client.address, nonce=nonce,
        to_address=exporter.address, data=data, gas_limit=signed.gas, batch_id=None,
        confirmations=0, finalized_tag=False,
        attempt=NewAttempt("0x" + signed.tx_hash.hex(), signed.raw,
                           signed.fees.max_fee_per_gas, signed.fees.max_priority_fee_per_gas),
    )
    other = client.build_transaction(exporter.address, _anchor_call(exporter, chain), nonce=nonce)
    client.send_raw(other)  # the same key, used elsewhere, took the nonce
    outbox = Outbox(store, client, OutboxPolicy(), landed=lambda _tx: False)
    [after] = outbox.reconcile()
    assert after.state == "dropped" and tx.id == after.id
    assert "another transaction" in (after.last_error or "")
    assert exporter.root_info(_root_of(data)).exporter is None


def test_a_transaction_mined_with_status_zero_fails_and_frees_its_batch(
    chain: DevChain, exporter: CarbonLedgerContract, store: LedgerStore,
) -> None:
    from ledger.store.rows import NewBatch, NewRecord, Scope

    scope = Scope(chain.settings.chain_id, exporter.address, exporter.client.address)
    record = NewRecord("SHP-1", "0x" + "01" * 32, "0x" + "02" * 32, 1, 1, b"{}", 0)
    [batch_id] = store.add_batches(scope, [NewBatch("root", "0x" + "03" * 32,
                                                    "0x" + chain.factor_set_id.hex(), [record])])
    outbox = _outbox(store, exporter.client)
    tx = outbox.submit(to=exporter.address, data=_anchor_call(exporter, chain),
                       batch_id=batch_id, gas=30_000)  # enough for the call data, not the work
    [failed] = outbox.wait([tx.id])
    assert failed.state == "failed"
    assert failed.receipt is not None and failed.receipt.status == 0
    assert [b.id for b in store.unstarted_batches(scope)] == [batch_id]
