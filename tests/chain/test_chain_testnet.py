"""The same code path against an Anvil that looks like a public testnet.

Sepolia's chain id, a block every second, the EIP-7825 gas cap enforced, and no dev account at
all: every key is a fresh one funded by the node's ``anvil_setBalance`` control, so nothing can
lean on an unlocked account.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account

from ledger.chain.abi import SubjectKind
from ledger.chain.client import connect
from ledger.chain.deploy import deploy_ledger, load_deployment, open_deployment, write_deployment
from ledger.chain.events import Attested, RootAnchored, ShipmentBatchRecorded, ShipmentRecorded
from ledger.chain.gas import MAX_UINT48, ShipmentEntry
from ledger.config import ChainSettings
from ledger.dev.anvil import AnvilNode, start_anvil
from ledger.errors import ChainIdMismatch, ContractRevert, GasCapExceeded
from ledger.records.canonical import shipment_id_of
from ledger.records.merkle import build_tree, make_leaf

SEPOLIA = 11155111
pytestmark = pytest.mark.chain


@pytest.fixture(scope="module")
def testnet() -> Iterator[AnvilNode]:
    with start_anvil(chain_id=SEPOLIA, block_time=1, accounts=0) as node:
        yield node


def funded_key(node: AnvilNode) -> bytes:
    account = Account.create()
    node.rpc("anvil_setBalance", account.address, hex(10**19))
    return bytes(account.key)


def test_the_whole_path_on_a_testnet_look_alike(testnet: AnvilNode, tmp_path: Path) -> None:
    assert testnet.rpc("eth_accounts") == []  # no unlocked account exists on this node
    settings = ChainSettings(rpc_url=testnet.rpc_url, chain_id=SEPOLIA, poll_interval_s=0.05,
                             deployments_dir=tmp_path)
    admin_key, exporter_key, auditor_key = (funded_key(testnet) for _ in range(3))
    factor_set = os.urandom(32)
    with connect(settings, private_key=admin_key) as admin, \
            connect(settings, private_key=exporter_key) as exporter_client, \
            connect(settings, private_key=auditor_key) as auditor_client:
        deployment, _ = deploy_ledger(
            admin, exporters=[exporter_client.address], auditors=[auditor_client.address],
            factor_sets=[(factor_set, "factor-set://sepolia-test")],
        )
        path = write_deployment(deployment, settings.deployment_path())
        assert path.name == f"{SEPOLIA}.json"
        exporter = open_deployment(exporter_client, load_deployment(path, chain_id=SEPOLIA))

        keys = [os.urandom(32) for _ in range(50)]
        batch = [ShipmentEntry(shipment_id_of(exporter_client.address, key), os.urandom(32),
                               7_000 + i, 2_000 + i, key) for i, key in enumerate(keys)]
        recorded = exporter.record_shipments(factor_set, batch)
        tree = build_tree(make_leaf(e.shipment_id, e.record_hash, e.co2e_wtw_g, e.co2e_ttw_g)
                          for e in batch)
        exporter.anchor_root(tree.root_bytes, factor_set, len(batch))
        assert exporter.verify_shipment(tree.root_bytes, tree.proof_bytes(3), batch[3])

        auditor = exporter.for_client(auditor_client)
        auditor.attest(SubjectKind.BATCH, tree.root_bytes, os.urandom(32))

        events = exporter.events()
        kinds = [type(e) for e in events]
        assert kinds.count(ShipmentRecorded) == 50
        assert kinds.count(ShipmentBatchRecorded) == kinds.count(RootAnchored) == 1
        assert kinds.count(Attested) == 1
        assert exporter.batch_info(recorded.batch_id).count == 50

        # errors are the same as on the local chain
        nonce = exporter_client.pending_nonce()
        with pytest.raises(ContractRevert, match="UnknownFactorSet"):
            exporter.record_shipments(os.urandom(32), batch[:1], refuse_recorded=False)
        keys = [os.urandom(32) for _ in range(6_000)]
        huge = [ShipmentEntry(shipment_id_of(exporter_client.address, key), os.urandom(32),
                              MAX_UINT48, MAX_UINT48, key) for key in keys]
        with pytest.raises(GasCapExceeded):
            exporter.record_shipments(factor_set, huge)
        assert exporter_client.pending_nonce() == nonce

    local = settings.model_copy(update={"chain_id": 31337})
    with pytest.raises(ChainIdMismatch):
        connect(local, private_key=admin_key)
