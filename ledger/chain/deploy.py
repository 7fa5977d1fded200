"""Deploy CarbonLedger, hand out roles, register factor sets, and keep a deployment file.

A deployment file (``deployments/<chain id>.json`` by default, see
:meth:`ledger.config.ChainSettings.deployment_path`) records where the contract lives and what was
deployed: address, deployer, admin, block, transaction, artifact hash, the roles granted and the
factor sets registered at deployment. :func:`open_deployment` checks that the code at the address
is the committed artifact's, so a stale file or another build is caught before any write.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_utils.address import to_checksum_address

from ledger.chain.abi import AbiCodec
from ledger.chain.artifacts import ContractArtifact, load_artifact
from ledger.chain.client import ChainClient
from ledger.chain.contract import ROLE_LABELS, CarbonLedgerContract
from ledger.errors import ChainError, ConfigError

__all__ = [
    "DEPLOYMENT_FORMAT",
    "Deployment",
    "deploy_ledger",
    "ensure_deployment",
    "load_deployment",
    "open_deployment",
    "write_deployment",
]

DEPLOYMENT_FORMAT = "carbon-ledger-deployment/1"


@dataclass(frozen=True)
class Deployment:
    """Where a CarbonLedger lives on one chain, and what it started with."""

    chain_id: int
    address: str
    deployer: str
    admin: str
    block_number: int
    block_hash: str
    tx_hash: str
    artifact_hash: str
    contract_name: str = "CarbonLedger"
    roles: dict[str, list[str]] = field(default_factory=dict)
    factor_sets: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": DEPLOYMENT_FORMAT,
            "chainId": self.chain_id,
            "contractName": self.contract_name,
            "address": self.address,
            "deployer": self.deployer,
            "admin": self.admin,
            "blockNumber": self.block_number,
            "blockHash": self.block_hash,
            "txHash": self.tx_hash,
            "artifactHash": self.artifact_hash,
            "roles": self.roles,
            "factorSets": self.factor_sets,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Deployment:
        if data.get("format") != DEPLOYMENT_FORMAT:
            raise ConfigError(
                f"not a deployment file of format {DEPLOYMENT_FORMAT}: {data.get('format')!r}"
            )
        try:
            return cls(
                chain_id=int(data["chainId"]),
                address=to_checksum_address(data["address"]),
                deployer=to_checksum_address(data["deployer"]),
                admin=to_checksum_address(data["admin"]),
                block_number=int(data["blockNumber"]),
                block_hash=str(data["blockHash"]),
                tx_hash=str(data["txHash"]),
                artifact_hash=str(data["artifactHash"]),
                contract_name=str(data.get("contractName", "CarbonLedger")),
                roles={str(k): [str(a) for a in v] for k, v in data.get("roles", {}).items()},
                factor_sets={str(k): str(v) for k, v in data.get("factorSets", {}).items()},
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"malformed deployment file: {exc!r}") from None


def write_deployment(deployment: Deployment, path: Path) -> Path:
    """Write the deployment file atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(deployment.to_json(), indent=2, sort_keys=True) + "\n"
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def load_deployment(path: Path, *, chain_id: int | None = None) -> Deployment:
    """Read a deployment file; ``chain_id`` must match when given."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"no deployment file at {path}: deploy first (`carbon-ledger devnet` on Anvil) "
            "or set CARBON_LEDGER_DEPLOYMENT_FILE"
        ) from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read the deployment file {path}: {exc}") from None
    deployment = Deployment.from_json(data)
    if chain_id is not None and deployment.chain_id != chain_id:
        raise ConfigError(
            f"the deployment file {path} is for chain id {deployment.chain_id}, "
            f"not the configured {chain_id}"
        )
    return deployment


def deploy_ledger(
    client: ChainClient,
    *,
    admin: str | None = None,
    exporters: Iterable[str] = (),
    auditors: Iterable[str] = (),
    factor_sets: Sequence[tuple[bytes, str]] = (),
    artifact: ContractArtifact | None = None,
) -> tuple[Deployment, CarbonLedgerContract]:
    """Deploy ``CarbonLedger(admin)`` from the client's signer, then grant and register.

    ``admin`` defaults to the signer; roles and factor sets can only be set up here when the
    signer is the admin.
    """
    artifact = artifact if artifact is not None else load_artifact()
    admin = to_checksum_address(admin or client.address)
    exporters = [to_checksum_address(a) for a in exporters]
    auditors = [to_checksum_address(a) for a in auditors]
    if admin != client.address and (exporters or auditors or factor_sets):
        raise ConfigError(
            "roles and factor sets are set up by the admin: deploy with the admin's key, "
            "or grant them afterwards from the admin"
        )
    codec = AbiCodec(artifact.abi, labels=ROLE_LABELS)
    client.with_codec(codec)
    receipt = client.transact(
        None, artifact.bytecode + codec.encode_constructor(admin), what="deploy CarbonLedger"
    )
    if receipt.contract_address is None:
        raise ChainError(f"deployment 0x{receipt.tx_hash.hex()} created no contract")
    ledger = CarbonLedgerContract(client, receipt.contract_address, artifact=artifact,
                                  from_block=receipt.block_number)
    if exporters:
        role = ledger.exporter_role()
        for account in exporters:
            ledger.grant_role(role, account)
    if auditors:
        role = ledger.auditor_role()
        for account in auditors:
            ledger.grant_role(role, account)
    for factor_set_id, uri in factor_sets:
        ledger.register_factor_set(factor_set_id, uri)
    deployment = Deployment(
        chain_id=client.chain_id,
        address=receipt.contract_address,
        deployer=client.address,
        admin=admin,
        block_number=receipt.block_number,
        block_hash="0x" + receipt.block_hash.hex(),
        tx_hash="0x" + receipt.tx_hash.hex(),
        artifact_hash=artifact.artifact_hash,
        contract_name=artifact.contract_name,
        roles={"admin": [admin], "exporter": exporters, "auditor": auditors},
        factor_sets={"0x" + fid.hex(): uri for fid, uri in factor_sets},
    )
    return deployment, ledger


def open_deployment(client: ChainClient, deployment: Deployment, *,
                    artifact: ContractArtifact | None = None) -> CarbonLedgerContract:
    """The deployed contract, after checking chain id and that its code is this artifact's."""
    artifact = artifact if artifact is not None else load_artifact()
    if deployment.chain_id != client.chain_id:
        raise ConfigError(
            f"the deployment is on chain id {deployment.chain_id}, the client on {client.chain_id}"
        )
    code = client.code(deployment.address)
    if not code:
        raise ConfigError(
            f"no contract at {deployment.address} on chain {client.chain_id}: the deployment "
            "file is stale (a restarted Anvil without --state forgets its contracts); deploy again"
        )
    if code != artifact.deployed_bytecode:
        raise ConfigError(
            f"the contract at {deployment.address} runs another build than this package's "
            f"{artifact.contract_name} ({artifact.artifact_hash}); deploy again or use the "
            "matching version of the package"
        )
    return CarbonLedgerContract(client, deployment.address, artifact=artifact,
                                from_block=deployment.block_number)



def ensure_deployment(
    client: ChainClient,
    path: Path,
    *,
    exporters: Iterable[str] = (),
    auditors: Iterable[str] = (),
    factor_sets: Sequence[tuple[bytes, str]] = (),
) -> tuple[Deployment, CarbonLedgerContract, bool]:
    """The contract of the deployment file at ``path`` when the chain still has it (e.g. an Anvil
    restarted with ``--state``), else a fresh deployment written there. The flag says "reused".

    On reuse, the factor sets in ``factor_sets`` that are not registered yet are registered.
    """
    if path.exists():
        try:
            deployment = load_deployment(path, chain_id=client.chain_id)
            ledger = open_deployment(client, deployment)
        except ConfigError:
            pass  # a stale file (another chain, or a node that forgot the contract): deploy anew
        else:
            for factor_set_id, uri in factor_sets:
                if not ledger.is_factor_set_registered(factor_set_id):
                    ledger.register_factor_set(factor_set_id, uri)
            return deployment, ledger, True
    deployment, ledger = deploy_ledger(
        client, exporters=exporters, auditors=auditors, factor_sets=factor_sets
    )
    write_deployment(deployment, path)
    return deployment, ledger, False
