"""The deployment file: what ``deploy`` writes matches the shipped JSON schema, and a damaged
file is refused field by field, by the same rules as the schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from ledger.chain.deploy import (
    Deployment,
    deployment_problems,
    deployment_schema,
    load_deployment,
    write_deployment,
)
from ledger.errors import ConfigError

GOOD = Deployment(
    chain_id=11155111, address="0x" + "ab" * 20, deployer="0x" + "cd" * 20,
    admin="0x" + "cd" * 20, block_number=7, block_hash="0x" + "01" * 32,
    tx_hash="0x" + "02" * 32, artifact_hash="sha256:" + "0f" * 32,
    roles={"admin": ["0x" + "cd" * 20], "exporter": [], "auditor": ["0x" + "ef" * 20]},
    factor_sets={"0x" + "f5" * 32: "carbon-ledger:emission_factors/factor-set-2026.json"},
)


def _written(tmp_path: Path) -> dict[str, Any]:
    path = write_deployment(GOOD, tmp_path / "11155111.json")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_a_written_file_follows_the_schema_and_reads_back(tmp_path: Path) -> None:
    data = _written(tmp_path)
    assert jsonschema_rs.validator_for(deployment_schema()).is_valid(data)
    assert deployment_problems(data) == []
    assert load_deployment(tmp_path / "11155111.json", chain_id=11155111) == Deployment.from_json(
        data)


DAMAGE = [
    ("drop", "blockNumber", "'blockNumber' is missing"),
    ("drop", "artifactHash", "'artifactHash' is missing"),
    ("set", ("chainId", "11155111"), "'chainId' must be a whole number"),
    ("set", ("chainId", 0), "'chainId' must be a whole number >= 1"),
    ("set", ("blockNumber", True), "'blockNumber' must be a whole number"),
    ("set", ("address", "0x1234"), "'address' must be a 0x-prefixed 20-byte hex address"),
    ("set", ("txHash", "02" * 32), "'txHash' must be 0x and 64 hex digits"),
    ("set", ("artifactHash", "0x" + "0f" * 32), "'artifactHash' must be 'sha256:'"),
    ("set", ("format", "carbon-ledger-deployment/2"), "'format' must be"),
    ("set", ("roles", {"owner": []}), "unknown role 'owner'"),
    ("set", ("roles", {"exporter": ["nobody"]}), "'roles.exporter' must be a list"),
    ("set", ("factorSets", {"f5": "x"}), "'factorSets' entry 'f5'"),
    ("set", ("blockhash", "0x" + "01" * 32), "unknown key 'blockhash'"),
]


@pytest.mark.parametrize(("how", "what", "message"), DAMAGE)
def test_damage_is_named_and_the_schema_agrees(tmp_path: Path, how: str, what: Any,
                                               message: str) -> None:
    data = _written(tmp_path)
    if how == "drop":
        del data[what]
    else:
        data[what[0]] = what[1]
    assert not jsonschema_rs.validator_for(deployment_schema()).is_valid(data)
    path = tmp_path / "damaged.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_deployment(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)


def test_not_json_or_not_an_object_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ConfigError, match="expected a JSON object"):
        load_deployment(path)
    path.write_text("{", encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot read the deployment file"):
        load_deployment(path)
