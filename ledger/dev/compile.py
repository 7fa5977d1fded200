"""Compile the contracts with py-solc-x (standard JSON) into the committed artifacts.

This is a development-time module: the installed package loads the committed artifacts through
:mod:`ledger.chain.artifacts` and needs neither a compiler nor ``node_modules``.

The compiler is the ``solc`` executable named by ``ToolchainSettings.solc_binary``
(``CARBON_LEDGER_SOLC``), else the project's ``scripts/solc`` (the official compiler from npm,
run under Node). Optimizer, EVM version, metadata and remappings come from ``foundry.toml`` so
that ``forge build`` and this module produce the same bytecode; the compiler version is pinned to
:data:`SOLC_VERSION`. Every source, OpenZeppelin's included, is read here and handed to the
compiler as content, so any ``solc`` binary works without file-system import callbacks.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ledger.chain.artifacts import ContractArtifact
from ledger.config import ToolchainSettings
from ledger.errors import ConfigError, LedgerError

__all__ = [
    "DEPLOYABLE_CONTRACTS",
    "PROJECT_ROOT",
    "SOLC_VERSION",
    "build_artifacts",
    "collect_sources",
    "compiler_settings",
    "find_solc",
    "solc_version",
    "source_hashes",
    "stale_sources",
    "standard_json_input",
]

PROJECT_ROOT = Path(__file__).resolve().parents[2]

#: The compiler version every artifact is built with (foundry.toml's ``scripts/solc`` is 0.8.30).
SOLC_VERSION = "0.8.30"

#: Contracts that get an artifact: (source unit, contract name).
DEPLOYABLE_CONTRACTS: tuple[tuple[str, str], ...] = (
    ("contracts/CarbonLedger.sol", "CarbonLedger"),
)

_IMPORT = re.compile(r"""\bimport\s+(?:[^;"']*?\bfrom\s+)?["']([^"']+)["']\s*(?:as\s+\w+\s*)?;""")
_LINE_COMMENT = re.compile(r"//[^\n]*")
_BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)


def find_solc(settings: ToolchainSettings | None = None, project_root: Path = PROJECT_ROOT) -> Path:
    """The ``solc`` executable to use (see the module docstring)."""
    if settings is not None and settings.solc_binary is not None:
        candidate = settings.solc_binary
        source = "CARBON_LEDGER_SOLC"
    else:
        candidate = project_root / "scripts" / "solc"
        source = "the project's scripts/solc"
    if not (candidate.is_file() and os.access(candidate, os.X_OK)):
        raise ConfigError(f"{source} ({candidate}) is not an executable solc")
    if candidate == project_root / "scripts" / "solc" and not (
        project_root / "node_modules" / "solc"
    ).is_dir():
        raise ConfigError(
            "scripts/solc needs the npm compiler: run `npm ci` in the project, "
            "or set CARBON_LEDGER_SOLC to a native solc 0.8.30"
        )
    return candidate


def solc_version(solc: Path) -> str:
    """The full version (``0.8.30+commit.73712a01``) the executable reports."""
    from solcx.wrapper import get_solc_version

    try:
        version = get_solc_version(solc, with_commit_hash=True)
    except Exception as exc:  # py-solc-x raises its own and OS errors
        raise ConfigError(f"cannot run {solc} --version: {exc}") from None
    text = str(version)
    if text.partition("+")[0] != SOLC_VERSION:
        raise ConfigError(
            f"{solc} is solc {text}; the artifacts are built with {SOLC_VERSION} "
            "(set CARBON_LEDGER_SOLC to a solc of that version)"
        )
    return text


def _foundry_profile(project_root: Path) -> dict[str, Any]:
    path = project_root / "foundry.toml"
    try:
        with path.open("rb") as handle:
            profile = tomllib.load(handle)["profile"]["default"]
    except (OSError, KeyError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read the default profile of {path}: {exc}") from None
    return dict(profile)


def _remappings(profile: Mapping[str, Any]) -> list[tuple[str, str]]:
    pairs = []
    for entry in profile.get("remappings", []):
        prefix, _, target = str(entry).partition("=")
        pairs.append((prefix, target))
    return pairs


def compiler_settings(project_root: Path = PROJECT_ROOT) -> dict[str, Any]:
    """The standard-JSON ``settings`` (without output selection) that mirror ``foundry.toml``."""
    profile = _foundry_profile(project_root)
    bytecode_hash = str(profile.get("bytecode_hash", "ipfs"))
    return {
        "evmVersion": str(profile.get("evm_version", "osaka")),
        "optimizer": {
            "enabled": bool(profile.get("optimizer", False)),
            "runs": int(profile.get("optimizer_runs", 200)),
        },
        "metadata": {
            "bytecodeHash": bytecode_hash,
            "appendCBOR": bool(profile.get("cbor_metadata", True)),
        },
        "remappings": [f"{p}={t}" for p, t in _remappings(profile)],
    }


def _strip_comments(text: str) -> str:
    return _LINE_COMMENT.sub("", _BLOCK_COMMENT.sub("", text))


def _resolve_import(importer: str, path: str, remappings: Iterable[tuple[str, str]]) -> str:
    if path.startswith(("./", "../")):
        return posixpath.normpath(posixpath.join(posixpath.dirname(importer), path))
    best = ("", "")
    for prefix, target in remappings:
        if path.startswith(prefix) and len(prefix) > len(best[0]):
            best = (prefix, target)
    if best[0]:
        return best[1] + path[len(best[0]):]
    return path


def collect_sources(
    entry_points: Iterable[str], project_root: Path = PROJECT_ROOT
) -> dict[str, str]:
    """Every source unit the entry points need, by source-unit name, with its text."""
    remappings = _remappings(_foundry_profile(project_root))
    sources: dict[str, str] = {}
    pending = list(entry_points)
    while pending:
        unit = pending.pop()
        if unit in sources:
            continue
        path = project_root / unit
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"cannot read Solidity source {unit} ({exc.strerror}); "
                "imports from node_modules need `npm ci`"
            ) from None
        sources[unit] = text
        for imported in _IMPORT.findall(_strip_comments(text)):
            pending.append(_resolve_import(unit, imported, remappings))
    return dict(sorted(sources.items()))


def source_hashes(sources: Mapping[str, str]) -> dict[str, str]:
    """``sha256:<hex>`` of each source's UTF-8 bytes, by source-unit name."""
    return {
        unit: "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
        for unit, text in sorted(sources.items())
    }


def stale_sources(artifact: ContractArtifact, project_root: Path = PROJECT_ROOT) -> list[str]:
    """Source units whose text differs from what ``artifact`` was built from (added, changed or
    gone); empty when the artifact is current. Needs the sources, not the compiler."""
    current = source_hashes(collect_sources([artifact.source_name], project_root))
    recorded = artifact.source_hashes
    return sorted(
        unit for unit in set(current) | set(recorded) if current.get(unit) != recorded.get(unit)
    )


def standard_json_input(sources: Mapping[str, str], settings: Mapping[str, Any]) -> dict[str, Any]:
    """The compiler's standard-JSON input for ``sources`` with ``settings``."""
    return {
        "language": "Solidity",
        "sources": {unit: {"content": text} for unit, text in sources.items()},
        "settings": {
            **settings,
            "outputSelection": {
                "*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}
            },
        },
    }


def build_artifacts(
    settings: ToolchainSettings | None = None, project_root: Path = PROJECT_ROOT
) -> dict[str, ContractArtifact]:
    """Compile the deployable contracts; one artifact per contract name."""
    import solcx
    from solcx.exceptions import SolcError

    solc = find_solc(settings, project_root)
    version = solc_version(solc)
    sources = collect_sources((unit for unit, _ in DEPLOYABLE_CONTRACTS), project_root)
    compile_settings = compiler_settings(project_root)
    try:
        output = solcx.compile_standard(
            standard_json_input(sources, compile_settings),
            solc_binary=solc,
            base_path=project_root,
        )
    except SolcError as exc:
        raise LedgerError(f"the contracts do not compile:\n{exc.message}") from None
    hashes = source_hashes(sources)
    artifacts = {}
    for unit, name in DEPLOYABLE_CONTRACTS:
        try:
            contract = output["contracts"][unit][name]
        except KeyError:
            raise LedgerError(f"the compiler produced no contract {name} in {unit}") from None
        artifacts[name] = ContractArtifact(
            contract_name=name,
            source_name=unit,
            abi=tuple(contract["abi"]),
            bytecode=bytes.fromhex(contract["evm"]["bytecode"]["object"]),
            deployed_bytecode=bytes.fromhex(contract["evm"]["deployedBytecode"]["object"]),
            compiler_version=version,
            settings=compile_settings,
            source_hashes=hashes,
        )
    return artifacts
