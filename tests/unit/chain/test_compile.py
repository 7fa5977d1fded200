"""The committed contract artifact: current, reproducible, and loadable without a compiler."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from ledger.chain.artifacts import load_artifact
from ledger.config import ToolchainSettings
from ledger.dev.compile import (
    build_artifacts,
    collect_sources,
    compiler_settings,
    find_solc,
    solc_version,
    source_hashes,
    stale_sources,
)
from ledger.errors import ConfigError

ROOT = Path(__file__).resolve().parents[3]
REFRESH = "run `.venv/bin/python scripts/build_artifacts.py` and commit ledger/chain/artifacts/"


def test_committed_artifact_matches_the_contract_sources() -> None:
    stale = stale_sources(load_artifact(), ROOT)
    assert not stale, f"ledger/chain/artifacts/CarbonLedger.json is stale for {stale}: {REFRESH}"


def test_committed_artifact_is_what_the_compiler_builds() -> None:
    built = build_artifacts(project_root=ROOT)["CarbonLedger"]
    artifact = ROOT / "ledger" / "chain" / "artifacts" / "CarbonLedger.json"
    committed = artifact.read_text(encoding="utf-8")
    assert built.dumps() == committed, f"the committed artifact differs from a build: {REFRESH}"
    assert built.compiler_version.startswith("0.8.30+")


def test_forge_builds_the_same_bytecode(tmp_path: Path) -> None:
    forge = ROOT / "node_modules" / ".bin" / "forge"
    subprocess.run(
        [str(forge), "build", "--out", str(tmp_path / "out"), "--cache-path",
         str(tmp_path / "cache"), "contracts/CarbonLedger.sol"],
        cwd=ROOT, check=True, capture_output=True, timeout=300,
    )
    forged = json.loads((tmp_path / "out" / "CarbonLedger.sol" / "CarbonLedger.json").read_text())
    artifact = load_artifact()
    assert forged["bytecode"]["object"] == "0x" + artifact.bytecode.hex()
    assert forged["deployedBytecode"]["object"] == "0x" + artifact.deployed_bytecode.hex()


def test_settings_mirror_foundry_toml() -> None:
    settings = compiler_settings(ROOT)
    assert settings["evmVersion"] == "osaka"
    assert settings["optimizer"] == {"enabled": True, "runs": 200}
    assert settings["metadata"] == {"bytecodeHash": "none", "appendCBOR": False}
    assert load_artifact().settings == settings


def test_imports_are_followed_through_remappings() -> None:
    sources = collect_sources(["contracts/CarbonLedger.sol"], ROOT)
    assert "contracts/ICarbonLedger.sol" in sources
    assert "node_modules/@openzeppelin/contracts/access/AccessControl.sol" in sources
    assert "node_modules/@openzeppelin/contracts/utils/Context.sol" in sources  # relative import


def test_an_edited_source_makes_the_artifact_stale(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "contracts", tmp_path / "contracts")
    shutil.copy(ROOT / "foundry.toml", tmp_path / "foundry.toml")
    (tmp_path / "node_modules").symlink_to(ROOT / "node_modules")
    current = collect_sources(["contracts/CarbonLedger.sol"], tmp_path)
    artifact = replace(load_artifact(), source_hashes=source_hashes(current))
    assert stale_sources(artifact, tmp_path) == []
    path = tmp_path / "contracts" / "ICarbonLedger.sol"
    path.write_text(path.read_text() + "\n// edited\n")
    assert stale_sources(artifact, tmp_path) == ["contracts/ICarbonLedger.sol"]


def test_loading_artifacts_needs_no_compiler() -> None:
    code = (
        "import sys\n"
        "sys.modules['solcx'] = None  # any import of the compiler wrapper fails\n"
        "from ledger.chain.deploy import deploy_ledger, open_deployment\n"
        "from ledger.chain.contract import CarbonLedgerContract\n"
        "from ledger.chain.artifacts import load_artifact\n"
        "print(len(load_artifact().deployed_bytecode))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd="/", capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) > 1000


def test_the_compiler_must_be_the_pinned_version(tmp_path: Path) -> None:
    fake = tmp_path / "solc"
    fake.write_text("#!/bin/sh\necho 'solc, the solidity compiler'\n"
                    "echo 'Version: 0.8.29+commit.ab55807c.Linux.g++'\n")
    fake.chmod(0o755)
    with pytest.raises(ConfigError, match=r"built with 0\.8\.30"):
        solc_version(find_solc(ToolchainSettings(solc_binary=fake)))
    with pytest.raises(ConfigError, match="CARBON_LEDGER_SOLC"):
        find_solc(ToolchainSettings(solc_binary=tmp_path / "missing"))
    assert find_solc() == ROOT / "scripts" / "solc"
