"""Deployment: contract, roles, factor sets, and the deployment file per chain id."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest
from devchain import deploy_rule_1_ledger

from ledger.chain.artifacts import load_artifact
from ledger.chain.contract import AUDITOR_ROLE, EXPORTER_ROLE, CarbonLedgerContract
from ledger.chain.deploy import (
    Deployment,
    deploy_ledger,
    load_deployment,
    open_deployment,
    send_and_wait,
    write_deployment,
)
from ledger.dev.devkeys import dev_key
from ledger.errors import ConfigError

SAMPLE = Deployment(
    chain_id=11155111,
    address="0x5FbDB2315678afecb367f032d93F642f64180aa3",
    deployer=dev_key(0).address,
    admin=dev_key(0).address,
    block_number=42,
    block_hash="0x" + "ab" * 32,
    tx_hash="0x" + "cd" * 32,
    artifact_hash="sha256:" + "00" * 32,
    roles={"admin": [dev_key(0).address], "exporter": [dev_key(1).address], "auditor": []},
    factor_sets={"0x" + "11" * 32: "emission_factors/factor-set-2025.json"},
)


def test_deployment_file_round_trip(tmp_path: Path) -> None:
    path = write_deployment(SAMPLE, tmp_path / "deployments" / "11155111.json")
    assert load_deployment(path, chain_id=11155111) == SAMPLE
    assert json.loads(path.read_text())["chainId"] == 11155111
    assert sorted(p.name for p in path.parent.iterdir()) == ["11155111.json"]  # no temp file left


def test_deployment_file_problems_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="deploy first"):
        load_deployment(tmp_path / "31337.json")
    path = write_deployment(SAMPLE, tmp_path / "d.json")
    with pytest.raises(ConfigError, match="for chain id 11155111, not the configured 31337"):
        load_deployment(path, chain_id=31337)
    path.write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(ConfigError, match="not a deployment file"):
        load_deployment(path)


def test_deploy_grants_roles_registers_and_records_the_file(chain) -> None:
    admin = chain.client(0)
    factor_set = os.urandom(32)
    deployment, ledger = deploy_ledger(
        admin, exporters=[dev_key(6).address], auditors=[dev_key(7).address],
        factor_sets=[(factor_set, "factor-set://2025")],
    )
    assert ledger.has_role(EXPORTER_ROLE, dev_key(6).address)
    assert ledger.has_role(AUDITOR_ROLE, dev_key(7).address)
    assert ledger.factor_set_uri(factor_set) == "factor-set://2025"
    assert deployment.roles == {"admin": [admin.address], "exporter": [dev_key(6).address],
                                "auditor": [dev_key(7).address]}
    assert deployment.artifact_hash == load_artifact().artifact_hash
    path = write_deployment(deployment, chain.settings.deployment_path())
    assert path.name == "31337.json"
    reopened = open_deployment(chain.client(6), load_deployment(path, chain_id=31337))
    assert reopened.address == deployment.address
    assert reopened.from_block == deployment.block_number


def test_open_refuses_a_stale_file_or_another_build(chain) -> None:
    client = chain.client(0)
    nowhere = replace(chain.deployment, address=dev_key(9).address)
    with pytest.raises(ConfigError, match="no contract at"):
        open_deployment(client, nowhere)
    other_build = replace(load_artifact(), deployed_bytecode=b"\x00")
    with pytest.raises(ConfigError, match="another build"):
        open_deployment(client, chain.deployment, artifact=other_build)
    with pytest.raises(ConfigError, match="chain id 11155111"):
        open_deployment(client, replace(chain.deployment, chain_id=11155111))


def test_a_contract_that_predates_sender_derived_ids_is_refused_by_name(chain) -> None:
    admin = chain.client(0)
    receipt = deploy_rule_1_ledger(admin)
    address = receipt.contract_address
    assert address is not None
    old_deployment = replace(chain.deployment, address=address,
                             block_number=receipt.block_number)
    with pytest.raises(ConfigError) as caught:
        open_deployment(admin, old_deployment)
    message = str(caught.value)
    assert address in message and "predates sender-derived shipment ids" in message
    assert "Deploy a new contract (`carbon-ledger deploy`)" in message
    handle = CarbonLedgerContract(admin, address)
    assert handle.shipment_id_rule() is None
    with pytest.raises(ConfigError, match="predates"):
        handle.require_shipment_id_rule()
    # the current contract passes, and an address without code is left to the callers' check
    current = CarbonLedgerContract(admin, chain.deployment.address)
    assert current.shipment_id_rule() == 2
    current.require_shipment_id_rule()
    CarbonLedgerContract(admin, dev_key(9).address).require_shipment_id_rule()


def test_a_contract_of_another_rule_is_refused_naming_both_rules(chain) -> None:
    admin = chain.client(0)
    # runtime: return the word 3 to any call; creation code copies it and returns it
    runtime = bytes.fromhex("6003" "6000" "52" "6020" "6000" "f3")
    creation = bytes.fromhex(f"60{len(runtime):02x}80600b6000396000f3") + runtime
    receipt = send_and_wait(admin, None, creation, what="deploy a rule-3 stand-in")
    assert receipt.contract_address is not None
    handle = CarbonLedgerContract(admin, receipt.contract_address)
    assert handle.shipment_id_rule() == 3
    with pytest.raises(ConfigError, match="makes shipment ids by rule 3, this package by rule 2"):
        handle.require_shipment_id_rule()


def test_only_the_admin_can_set_up_roles_at_deployment(chain) -> None:
    with pytest.raises(ConfigError, match="by the admin"):
        deploy_ledger(chain.client(0), admin=dev_key(1).address, exporters=[dev_key(2).address])
    deployment, ledger = deploy_ledger(chain.client(0), admin=dev_key(1).address)
    assert deployment.admin == dev_key(1).address
    assert ledger.has_role(bytes(32), dev_key(1).address)
    assert not ledger.has_role(bytes(32), dev_key(0).address)
