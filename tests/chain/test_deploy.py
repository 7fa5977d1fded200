"""Deployment: contract, roles, factor sets, and the deployment file per chain id."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from ledger.chain.artifacts import load_artifact
from ledger.chain.contract import AUDITOR_ROLE, EXPORTER_ROLE
from ledger.chain.deploy import (
    Deployment,
    deploy_ledger,
    load_deployment,
    open_deployment,
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


def test_only_the_admin_can_set_up_roles_at_deployment(chain) -> None:
    with pytest.raises(ConfigError, match="by the admin"):
        deploy_ledger(chain.client(0), admin=dev_key(1).address, exporters=[dev_key(2).address])
    deployment, ledger = deploy_ledger(chain.client(0), admin=dev_key(1).address)
    assert deployment.admin == dev_key(1).address
    assert ledger.has_role(bytes(32), dev_key(1).address)
    assert not ledger.has_role(bytes(32), dev_key(0).address)
