"""Reads in one JSON-RPC batch against a real Anvil: the same answers, errors raised as the single
read raises them, replies that end with their block, and a verification in one round trip."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from test_verify_chain import _issue

from ledger.chain.abi import AbiCodec
from ledger.chain.artifacts import load_artifact
from ledger.chain.client import ChainClient, connect
from ledger.chain.contract import CarbonLedgerContract
from ledger.chain.gas import ShipmentEntry
from ledger.dev.devkeys import DEV_AUDITOR_INDEXES
from ledger.errors import ContractRevert
from ledger.records.canonical import chain_shipment_key_bytes
from ledger.reports import vc
from ledger.verify.attest import attest_report
from ledger.verify.reader import prefetch_report
from ledger.verify.verifier import verify_report


@dataclass
class Posts:
    """The JSON-RPC requests this process posted, each a list of method names (one per read)."""

    sent: list[list[str]] = field(default_factory=list)

    def clear(self) -> None:
        self.sent.clear()

    @property
    def methods(self) -> list[str]:
        return [method for post in self.sent for method in post]


@pytest.fixture
def posts(monkeypatch: pytest.MonkeyPatch) -> Iterator[Posts]:
    seen = Posts()
    post = requests.Session.post

    def counting(self: requests.Session, url: Any, data: Any = None, **kwargs: Any) -> Any:
        body = json.loads(data) if isinstance(data, (bytes, str)) else None
        if body is not None:
            seen.sent.append([r["method"] for r in (body if isinstance(body, list) else [body])])
        return post(self, url, data=data, **kwargs)

    monkeypatch.setattr(requests.Session, "post", counting)
    yield seen


def _codec() -> AbiCodec:
    return AbiCodec(load_artifact().abi)


def _reader(chain: Any) -> tuple[ChainClient, CarbonLedgerContract]:
    """A read-only client (no key, as verification uses) and a read-only handle on the
    contract."""
    client = connect(chain.settings, read_only=True)
    chain._clients.append(client)
    return client, CarbonLedgerContract(client, chain.deployment.address)


def test_reads_after_connect_never_re_ask_the_chain_id(chain: Any, posts: Posts) -> None:
    client, reader = _reader(chain)
    assert posts.methods == ["eth_chainId"]  # the check at connect
    posts.clear()
    reader.is_factor_set_registered(chain.factor_set_id)
    client.block_number()
    assert posts.methods == ["eth_call", "eth_blockNumber"]


def test_a_batch_answers_its_reads_in_one_round_trip(chain: Any, posts: Posts) -> None:
    client, _ = _reader(chain)
    call = _codec().encode_call("isFactorSetRegistered", chain.factor_set_id)
    single = (client.node_chain_id(), client.block_number(),
              client.call(chain.deployment.address, call),
              client.receipt(bytes.fromhex(chain.deployment.tx_hash[2:])))
    posts.clear()
    reads = [client.chain_id_request(), client.block_number_request(),
             client.call_request(chain.deployment.address, call),
             client.receipt_request(bytes.fromhex(chain.deployment.tx_hash[2:]))]
    with client.batched(reads):
        batched = (client.node_chain_id(), client.block_number(),
                   client.call(chain.deployment.address, call),
                   client.receipt(bytes.fromhex(chain.deployment.tx_hash[2:])))
    assert posts.sent == [["eth_chainId", "eth_blockNumber", "eth_call",
                           "eth_getTransactionReceipt"]]
    assert batched == single
    assert batched[2] == b"\x00" * 31 + b"\x01"  # registered
    assert batched[3] is not None and batched[3].status == 1


def test_a_revert_in_a_batch_raises_as_the_single_read_would(chain: Any, posts: Posts) -> None:
    outsider = chain.outsider
    entries = [ShipmentEntry(b"\x04" * 32, b"\x02" * 32, 1000, 300, b"\x01" * 32)]
    data = outsider.record_shipments_calldata(b"\x03" * 32, chain.factor_set_id, entries)
    client = outsider.client
    with pytest.raises(ContractRevert) as single:
        client.call(chain.deployment.address, data)
    posts.clear()
    with client.batched([client.call_request(chain.deployment.address, data)]), \
            pytest.raises(ContractRevert) as batched:
        client.call(chain.deployment.address, data)
    assert len(posts.sent) == 1  # the revert came from the batch, not from a second call
    assert batched.value.error_name == single.value.error_name == \
        "AccessControlUnauthorizedAccount"
    assert batched.value.error_args == single.value.error_args


def test_batch_replies_hold_only_inside_their_block_and_thread(chain: Any, posts: Posts) -> None:
    client, _ = _reader(chain)
    with client.batched([client.block_number_request()]):
        head = client.block_number()
        chain.node.rpc("evm_mine")
        assert client.block_number() == head  # the batch's answer, read before the block
        other: list[int] = []
        worker = threading.Thread(target=lambda: other.append(client.block_number()))
        worker.start()
        worker.join()
        assert other == [head + 1]  # another thread reads the node
    assert client.block_number() == head + 1
    assert posts.methods.count("eth_blockNumber") == 3  # the batch, the thread, after the block


def test_a_batch_the_node_cannot_take_leaves_every_read_to_it(
        chain: Any, posts: Posts, monkeypatch: pytest.MonkeyPatch) -> None:
    client, reader = _reader(chain)
    post = requests.Session.post

    def no_batches(self: requests.Session, url: Any, data: Any = None, **kwargs: Any) -> Any:
        if isinstance(data, bytes) and data.startswith(b"["):
            raise requests.ConnectionError("batches refused")
        return post(self, url, data=data, **kwargs)

    monkeypatch.setattr(requests.Session, "post", no_batches)
    with client.batched([client.block_number_request(), client.chain_id_request()]):
        assert client.node_chain_id() == 31337
        assert client.block_number() > 0
        assert reader.is_factor_set_registered(chain.factor_set_id)


def test_a_prefetched_verification_takes_one_round_trip_and_the_same_verdict(
        chain: Any, posts: Posts) -> None:
    document, recompute = _issue(chain)
    _, reader = _reader(chain)
    plain = verify_report(document, reader, recompute=recompute)
    assert plain.ok, plain.to_dict()
    assert len(posts.sent) >= 7  # one request per read
    posts.clear()
    with prefetch_report(reader, document):
        fetched = verify_report(document, reader, recompute=recompute)
    assert len(posts.sent) == 1
    assert fetched.to_dict() == plain.to_dict()

    attest_report(chain.ledger(DEV_AUDITOR_INDEXES[0]), vc.report_hash(document), b"\x01" * 32)
    plain = verify_report(document, reader, recompute=recompute, require_attestation=True)
    assert plain.ok, plain.to_dict()
    posts.clear()
    with prefetch_report(reader, document):
        attested = verify_report(document, reader, recompute=recompute,
                                 require_attestation=True)
    assert len(posts.sent) == 2  # the attestations found are read in a second batch
    assert attested.to_dict() == plain.to_dict()
    assert attested.attestations == plain.attestations


def test_a_prefetch_does_not_outlive_its_verification(chain: Any) -> None:
    document, recompute = _issue(chain)
    _, reader = _reader(chain)
    with prefetch_report(reader, document):
        assert verify_report(document, reader, recompute=recompute).ok
    anchor = document["credentialSubject"]["productFootprints"][0]["extensions"]
    data = next(e["data"] for e in anchor if "leaf" in e.get("data", {}))
    leaf, record = data["leaf"], data["record"]
    shipment_key = chain_shipment_key_bytes(record["exporter"], record["shipment_id"])
    chain.exporter.revoke_record(shipment_key,
                                 bytes.fromhex(leaf["recordHash"][2:]))
    with prefetch_report(reader, document):
        verdict = verify_report(document, reader, recompute=recompute)
    assert verdict.failed == ["status"]


def test_a_report_of_another_contract_or_no_report_prefetches_nothing(
        chain: Any, posts: Posts) -> None:
    document, _ = _issue(chain)
    client, _ = _reader(chain)
    other = CarbonLedgerContract(client, "0x" + "ab" * 20)
    posts.clear()
    with prefetch_report(other, document):
        pass
    with prefetch_report(other, {"not": "a report"}):
        pass
    assert posts.sent == []
