"""The chain client against a real Anvil: chain id, reachability, local signing, nonces, gas."""

from __future__ import annotations

import os

import pytest
from eth_account import Account

from ledger.chain.client import connect
from ledger.chain.contract import EXPORTER_ROLE
from ledger.chain.gas import MAX_UINT48, ShipmentEntry
from ledger.chain.types import FEE_BUMP
from ledger.config import ChainSettings
from ledger.dev.anvil import free_port, start_anvil
from ledger.dev.devkeys import DEV_EXPORTER_INDEXES, dev_key
from ledger.errors import (
    ChainError,
    ChainIdMismatch,
    ContractRevert,
    GasCapExceeded,
    RpcUnavailable,
)
from ledger.records.canonical import shipment_id_of

#: The writer of ``chain.exporter``.
EXPORTER = dev_key(DEV_EXPORTER_INDEXES[0]).address


def entries(count: int, co2e_g: int = 1_234_567, writer: str = EXPORTER) -> list[ShipmentEntry]:
    """Random shipments, each id the one the contract derives for ``writer`` from its key."""
    keys = [os.urandom(32) for _ in range(count)]
    return [ShipmentEntry(shipment_id_of(writer, key), os.urandom(32), co2e_g, co2e_g // 3, key)
            for key in keys]


def test_connect_checks_the_chain_id(chain_settings: ChainSettings) -> None:
    with connect(chain_settings, private_key=dev_key(0).private_key) as client:
        assert client.node_chain_id() == 31337
    wrong = chain_settings.model_copy(update={"chain_id": 11155111})
    with pytest.raises(ChainIdMismatch, match=r"serves chain id 31337.*11155111 is configured"):
        connect(wrong, private_key=dev_key(0).private_key)


def test_unreachable_rpc_raises_after_bounded_retries() -> None:
    settings = ChainSettings(
        rpc_url=f"http://127.0.0.1:{free_port()}/v3/api-key-123", chain_id=31337,
        rpc_retries=3, rpc_backoff_s=0.01, rpc_timeout_s=2,
    )
    with pytest.raises(RpcUnavailable) as caught:
        connect(settings, private_key=dev_key(0).private_key)
    message = str(caught.value)
    assert "3 attempts" in message
    assert "CARBON_LEDGER_RPC_URL" in message
    assert "api-key-123" not in message  # URLs may embed credentials


def test_transactions_are_signed_locally_as_eip1559(chain) -> None:
    key = Account.create()
    chain.node.rpc("anvil_setBalance", key.address, hex(10**18))
    client = connect(chain.settings, private_key=key.key)
    chain._clients.append(client)
    nonce = client.mined_nonce()
    receipt = client.transact(dev_key(9).address, b"", value=12345)
    tx = chain.node.rpc("eth_getTransactionByHash", "0x" + receipt.tx_hash.hex())
    assert tx["type"] == "0x2"
    assert tx["from"].lower() == key.address.lower()  # a key Anvil never knew
    assert int(tx["nonce"], 16) == nonce
    assert int(tx["chainId"], 16) == 31337
    assert client.mined_nonce() == nonce + 1


def test_a_revert_is_raised_before_anything_is_sent(chain) -> None:
    outsider = chain.outsider
    before = (outsider.client.mined_nonce(), outsider.client.pending_nonce())
    block = outsider.client.block_number()
    with pytest.raises(ContractRevert) as caught:
        outsider.record_shipments(chain.factor_set_id, entries(2, writer=outsider.client.address))
    revert = caught.value
    assert revert.error_name == "AccessControlUnauthorizedAccount"
    assert revert.error_args == {"account": outsider.client.address,
                                 "neededRole": "0x" + EXPORTER_ROLE.hex()}
    assert "EXPORTER_ROLE" in str(revert)
    assert (outsider.client.mined_nonce(), outsider.client.pending_nonce()) == before
    assert outsider.client.block_number() == block
    assert chain.node.rpc("txpool_status") == {"pending": "0x0", "queued": "0x0"}


def test_a_batch_over_the_gas_cap_is_refused_then_split(chain) -> None:
    exporter = chain.exporter
    big = entries(6_000, MAX_UINT48)
    nonce = exporter.client.pending_nonce()
    with pytest.raises(GasCapExceeded, match="16,777,216"):
        exporter.record_shipments(chain.factor_set_id, big)
    assert exporter.client.pending_nonce() == nonce  # nothing sent
    batches = exporter.record_in_batches(chain.factor_set_id, big)
    assert len(batches) == 2
    assert sum(b.count for b in batches) == 6_000
    assert all(b.receipt.status == 1 and b.receipt.gas_used <= 16_777_216 for b in batches)
    recorded = exporter.events("ShipmentRecorded")
    assert {e.shipment_id for e in recorded} == {e.shipment_id for e in big}


def test_build_without_sending_then_send_raw_and_look_up(chain) -> None:
    exporter = chain.exporter
    client = exporter.client
    batch = entries(3)
    data = exporter.record_shipments_calldata(os.urandom(32), chain.factor_set_id, batch)
    signed = client.build_transaction(exporter.address, data)
    assert client.receipt(signed.tx_hash) is None  # built, not sent
    assert client.pending_nonce() == signed.nonce
    assert client.send_raw(signed.raw) == signed.tx_hash
    receipt = client.wait_for_receipt(signed.tx_hash)
    assert receipt.status == 1
    assert client.receipt(signed.tx_hash) == receipt
    assert client.mined_nonce() == signed.nonce + 1
    # the same bytes again: the node knows them (mined), the client reports the same hash
    assert client.send_raw(signed) == signed.tx_hash
    block = client.block(receipt.block_number)
    assert block.hash == receipt.block_hash
    assert client.block("latest").number >= receipt.block_number


def test_a_receipt_summary_agrees_with_the_full_receipt(chain) -> None:
    exporter = chain.exporter
    client = exporter.client
    data = exporter.record_shipments_calldata(os.urandom(32), chain.factor_set_id, entries(7))
    signed = client.build_transaction(exporter.address, data)
    assert client.receipt_summary(signed.tx_hash) is None  # not sent
    assert client.transaction(signed.tx_hash) is None
    client.send_raw(signed)
    full = client.wait_for_receipt(signed.tx_hash)
    summary = client.receipt_summary(signed.tx_hash)
    assert summary is not None
    assert (summary.tx_hash, summary.status, summary.block_number, summary.block_hash,
            summary.gas_used, summary.effective_gas_price) == (
        full.tx_hash, full.status, full.block_number, full.block_hash, full.gas_used,
        full.effective_gas_price)
    assert summary.log_count == len(full.logs) == 8  # seven shipments and the batch event
    assert summary.first_log_index == full.logs[0].log_index
    mined = client.transaction(signed.tx_hash)
    assert mined is not None
    assert (mined.nonce, mined.block_number, mined.block_hash) == (
        signed.nonce, full.block_number, full.block_hash)
    assert mined.to == exporter.address


def test_a_block_above_the_head_is_a_chain_error(chain) -> None:
    client = chain.client(9)
    head = client.block_number()
    assert client.find_block(head) == client.block(head)
    assert client.find_block(head + 1_000) is None
    with pytest.raises(ChainError, match=f"no block {head + 1_000}"):
        client.block(head + 1_000)


def test_nonce_too_low_resyncs_the_counter(chain) -> None:
    first, second = chain.client(9), chain.client(9)  # one key, two counters
    stale = second.build_transaction(dev_key(8).address, b"", value=1)
    first.transact(dev_key(8).address, b"", value=2)  # uses the same nonce
    with pytest.raises(ChainError, match=r"nonce too low.*resynced"):
        second.send_raw(stale)
    receipt = second.transact(dev_key(8).address, b"", value=3)
    assert receipt.status == 1


def test_a_stuck_transaction_is_replaced_with_bumped_fees(tmp_path) -> None:
    with start_anvil(no_mining=True) as node:
        settings = ChainSettings(rpc_url=node.rpc_url, chain_id=31337, poll_interval_s=0.005)
        with connect(settings, private_key=dev_key(7).private_key) as client:
            signed = client.build_transaction(dev_key(6).address, b"", value=1)
            client.send_raw(signed)
            pending = client.transaction(signed.tx_hash)
            assert pending is not None and pending.nonce == signed.nonce
            assert pending.block_number is None and pending.block_hash is None
            assert pending.sender == client.address
            with pytest.raises(ChainError, match="underpriced"):
                client.send_raw(client.sign(signed.to, signed.data, nonce=signed.nonce,
                                            gas=signed.gas, fees=signed.fees, value=2))
            bumped = client.bump_fees(signed)
            assert bumped.nonce == signed.nonce
            assert bumped.fees.max_fee_per_gas >= signed.fees.max_fee_per_gas * FEE_BUMP
            assert bumped.fees.max_priority_fee_per_gas >= \
                signed.fees.max_priority_fee_per_gas * FEE_BUMP
            client.send_raw(bumped)
            assert client.mined_nonce() == signed.nonce  # nothing mined yet
            node.rpc("evm_mine")
            assert client.wait_for_receipt(bumped.tx_hash).status == 1
            assert client.receipt(signed.tx_hash) is None
            assert client.mined_nonce() == signed.nonce + 1


def test_receipts_wait_for_the_confirmation_depth(chain) -> None:
    client = chain.client(9)
    signed = client.build_transaction(dev_key(8).address, b"", value=1)
    client.send_raw(signed)
    with pytest.raises(ChainError, match="mined but not confirmed"):
        client.wait_for_receipt(signed.tx_hash, confirmations=2, timeout_s=0.2)
    chain.node.rpc("anvil_mine", 2)
    assert client.wait_for_receipt(signed.tx_hash, confirmations=2).status == 1


def test_a_gas_limit_below_the_calldata_floor_is_refused(chain) -> None:
    exporter = chain.exporter
    data = exporter.record_shipments_calldata(os.urandom(32), chain.factor_set_id, entries(50))
    nonce = exporter.client.pending_nonce()
    with pytest.raises(ChainError, match="below the EIP-7623 floor"):
        exporter.client.build_transaction(exporter.address, data, gas=60_000)
    assert exporter.client.pending_nonce() == nonce


def test_a_node_that_goes_away_raises_rpc_unavailable() -> None:
    with start_anvil() as node:
        settings = ChainSettings(rpc_url=node.rpc_url, chain_id=31337, rpc_retries=2,
                                 rpc_backoff_s=0.01, rpc_timeout_s=2)
        client = connect(settings, private_key=dev_key(0).private_key)
    with client, pytest.raises(RpcUnavailable, match="2 attempts"):
        client.block_number()


def test_the_chain_id_is_checked_again_before_signing(chain) -> None:
    client = chain.client(9)
    nonce = client.pending_nonce()
    chain.node.rpc("anvil_setChainId", 5)
    try:
        assert client.block_number() > 0  # reads do not ask the chain id again
        with pytest.raises(ChainIdMismatch, match="serves chain id 5"):
            client.build_transaction(dev_key(8).address, b"", value=1)
    finally:
        chain.node.rpc("anvil_setChainId", 31337)
    assert client.pending_nonce() == nonce  # nothing signed, nothing sent
    assert client.transact(dev_key(8).address, b"", value=1).status == 1


def test_the_environments_proxy_settings_are_honoured(chain_settings: ChainSettings,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NO_PROXY", "no_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{free_port()}")  # nobody listens
    quick = chain_settings.model_copy(update={"rpc_retries": 1, "rpc_timeout_s": 2})
    with pytest.raises(RpcUnavailable):
        connect(quick, read_only=True)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with connect(quick, read_only=True) as client:
        assert client.block_number() >= 0
