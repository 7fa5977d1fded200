"""Deploy CarbonLedger, hand out roles, register factor sets, and keep a deployment file.

A deployment file (``deployments/<chain id>.json`` by default, see
:meth:`ledger.config.ChainSettings.deployment_path`) records where the contract lives and what was
deployed: address, deployer, admin, block, transaction, artifact hash, the roles granted and the
factor sets registered at deployment. Its format is documented in ``docs/deployment-file.md``
and its JSON schema ships beside this module (``schemas/deployment.schema.json``); a file is
checked field by field when read, so a hand-edited or truncated file is a ConfigError naming
the field, never a KeyError. :func:`open_deployment` checks that the code at the address
is the committed artifact's, so a stale file or another build is caught before any write.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_utils.address import to_checksum_address

from ledger.chain.abi import AbiCodec
from ledger.chain.artifacts import ContractArtifact, load_artifact
from ledger.chain.client import ChainClient, no_contract_message
from ledger.chain.contract import AUDITOR_ROLE, EXPORTER_ROLE, ROLE_LABELS, CarbonLedgerContract
from ledger.chain.types import Receipt
from ledger.errors import ChainError, ConfigError, ContractRevert

__all__ = [
    "DEPLOYMENT_FORMAT",
    "Deployment",
    "Progress",
    "deploy_ledger",
    "deployment_problems",
    "deployment_schema",
    "ensure_deployment",
    "load_deployment",
    "open_deployment",
    "send_and_wait",
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
    def from_json(cls, data: Any, *, source: str = "the deployment file") -> Deployment:
        """A deployment from the JSON of a deployment file, checked field by field against
        :data:`DEPLOYMENT_SCHEMA` (ConfigError names the field and what it must be)."""
        problems = deployment_problems(data)
        if problems:
            raise ConfigError(f"{source} is not a deployment file of format {DEPLOYMENT_FORMAT} "
                              "(see docs/deployment-file.md): " + "; ".join(problems))
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
            roles={str(k): [to_checksum_address(a) for a in v]
                   for k, v in data.get("roles", {}).items()},
            factor_sets={str(k).lower(): str(v) for k, v in data.get("factorSets", {}).items()},
        )


def deployment_schema() -> dict[str, Any]:
    """The JSON schema of a deployment file (shipped as ``schemas/deployment.schema.json``)."""
    text = (Path(__file__).parent / "schemas" / "deployment.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_BYTES32 = re.compile(r"^0x[0-9a-fA-F]{64}$")
_ARTIFACT_HASH = re.compile(r"^sha256:[0-9a-f]{64}$")
_REQUIRED = ("format", "chainId", "address", "deployer", "admin", "blockNumber", "blockHash",
             "txHash", "artifactHash")
_OPTIONAL = ("contractName", "roles", "factorSets")
_ROLE_NAMES = ("admin", "exporter", "auditor")


def _is_int(value: Any, low: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def deployment_problems(data: Any) -> list[str]:
    """What is wrong with a deployment file's JSON, field by field; empty when it is valid.

    The same rules as :func:`deployment_schema` (a test checks that they agree), without a
    JSON-schema library at run time.
    """
    if not isinstance(data, dict):
        return [f"expected a JSON object, got {type(data).__name__}"]
    problems = [f"{key!r} is missing" for key in _REQUIRED if key not in data]
    problems += [f"unknown key {key!r}" for key in data if key not in (*_REQUIRED, *_OPTIONAL)]
    if "format" in data and data["format"] != DEPLOYMENT_FORMAT:
        problems.append(f"'format' must be {DEPLOYMENT_FORMAT!r}, got {data['format']!r}")
    checks: tuple[tuple[str, Any, str], ...] = (
        ("chainId", lambda v: _is_int(v, 1), "a whole number >= 1"),
        ("blockNumber", lambda v: _is_int(v, 0), "a whole number >= 0"),
        ("address", _matches(_ADDRESS), "a 0x-prefixed 20-byte hex address"),
        ("deployer", _matches(_ADDRESS), "a 0x-prefixed 20-byte hex address"),
        ("admin", _matches(_ADDRESS), "a 0x-prefixed 20-byte hex address"),
        ("blockHash", _matches(_BYTES32), "0x and 64 hex digits"),
        ("txHash", _matches(_BYTES32), "0x and 64 hex digits"),
        ("artifactHash", _matches(_ARTIFACT_HASH), "'sha256:' and 64 lower-case hex digits"),
        ("contractName", lambda v: isinstance(v, str) and v != "", "a non-empty string"),
    )
    for key, ok, what in checks:
        if key in data and not ok(data[key]):
            problems.append(f"{key!r} must be {what}, got {data[key]!r}")
    roles = data.get("roles", {})
    if not isinstance(roles, dict):
        problems.append("'roles' must be an object of role -> list of addresses")
    else:
        for role, accounts in roles.items():
            if role not in _ROLE_NAMES:
                problems.append(f"'roles' has an unknown role {role!r}; expected one of "
                                f"{', '.join(_ROLE_NAMES)}")
            elif not isinstance(accounts, list) or not all(map(_matches(_ADDRESS), accounts)):
                problems.append(f"'roles.{role}' must be a list of 0x-prefixed addresses")
    sets = data.get("factorSets", {})
    if not isinstance(sets, dict):
        problems.append("'factorSets' must be an object of factor-set id -> URI")
    else:
        for key, uri in sets.items():
            if not _BYTES32.match(key) or not isinstance(uri, str):
                problems.append(f"'factorSets' entry {key!r}: the key must be 0x and 64 hex "
                                "digits and the value a URI string")
    return problems


def _matches(pattern: re.Pattern[str]) -> Any:
    def check(value: Any) -> bool:
        return isinstance(value, str) and pattern.match(value) is not None
    return check


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
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read the deployment file {path}: {exc}") from None
    deployment = Deployment.from_json(data, source=f"{path}")
    if chain_id is not None and deployment.chain_id != chain_id:
        raise ConfigError(
            f"the deployment file {path} is for chain id {deployment.chain_id}, "
            f"not the configured {chain_id}"
        )
    return deployment


#: A callback told what a long wait is waiting for (a line of text).
Progress = Callable[[str], None]


def send_and_wait(client: ChainClient, to: str | None, data: bytes, *, what: str,
                  progress: Progress | None = None, every_s: float = 5.0) -> Receipt:
    """Simulate, sign, send and wait for the receipt, like :meth:`ChainClient.transact`, telling
    ``progress`` when the transaction is sent and every ``every_s`` seconds of the wait how far
    it is (mined or not, confirmations); a revert raises ContractRevert naming the error."""
    if progress is None:
        return client.transact(to, data, what=what)
    settings = client.settings
    signed = client.build_transaction(to, data, what=what)
    client.send_raw(signed)
    tx = "0x" + signed.tx_hash.hex()
    depth = settings.confirmations
    progress(f"{what}: sent transaction {tx} (nonce {signed.nonce}); waiting for it to be "
             "mined" + (f" and {depth} confirmation(s)" if depth else ""))
    start = last = time.monotonic()
    while True:
        found = client.receipt(signed.tx_hash)
        on_top = client.block_number() - found.block_number if found is not None else -1
        if found is not None and on_top >= depth:
            break
        now = time.monotonic()
        if now - start > settings.receipt_timeout_s:
            state = "mined but not confirmed" if found else "not mined"
            raise ChainError(f"transaction {tx} {state} after {settings.receipt_timeout_s:g} s; "
                             "it may still be mined: check its receipt later")
        if now - last >= every_s:
            last = now
            state = (f"mined in block {found.block_number}, {on_top} of {depth} confirmations"
                     if found is not None else "not mined yet")
            progress(f"  ... {what}: {state} ({now - start:.0f} s)")
        time.sleep(settings.poll_interval_s)
    if found.status != 1:
        raise ContractRevert(
            f"{what} {tx} failed on chain in block {found.block_number} (status 0, "
            f"{found.gas_used:,} gas used)", None, {"txHash": found.tx_hash.hex()})
    progress(f"{what}: mined in block {found.block_number}")
    return found


def deploy_ledger(
    client: ChainClient,
    *,
    admin: str | None = None,
    exporters: Iterable[str] = (),
    auditors: Iterable[str] = (),
    factor_sets: Sequence[tuple[bytes, str]] = (),
    artifact: ContractArtifact | None = None,
    progress: Progress | None = None,
) -> tuple[Deployment, CarbonLedgerContract]:
    """Deploy ``CarbonLedger(admin)`` from the client's signer, then grant and register.

    ``admin`` defaults to the signer; roles and factor sets can only be set up here when the
    signer is the admin. ``progress`` is told of each transaction and long waits
    (:func:`send_and_wait`). This is the one deployment path: ``carbon-ledger deploy`` on any
    chain, and ``devnet``, ``demo`` and ``serve`` on the local one.
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
    receipt = send_and_wait(client, None, artifact.bytecode + codec.encode_constructor(admin),
                            what="deploy CarbonLedger", progress=progress)
    if receipt.contract_address is None:
        raise ChainError(f"deployment 0x{receipt.tx_hash.hex()} created no contract")
    ledger = CarbonLedgerContract(client, receipt.contract_address, artifact=artifact,
                                  from_block=receipt.block_number)
    for role, accounts in ((EXPORTER_ROLE, exporters), (AUDITOR_ROLE, auditors)):
        for account in accounts:
            send_and_wait(client, ledger.address, codec.encode_call("grantRole", role, account),
                          what=f"grant {ROLE_LABELS[role]} to {account}", progress=progress)
    for factor_set_id, uri in factor_sets:
        send_and_wait(client, ledger.address,
                      codec.encode_call("registerFactorSet", factor_set_id, uri),
                      what=f"register factor set 0x{factor_set_id.hex()}", progress=progress)
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
        raise ConfigError(no_contract_message(deployment.address, client.chain_id))
    ledger = CarbonLedgerContract(client, deployment.address, artifact=artifact,
                                  from_block=deployment.block_number)
    ledger.require_shipment_id_rule()  # names an older contract's rule before "another build"
    if code != artifact.deployed_bytecode:
        raise ConfigError(
            f"the contract at {deployment.address} runs another build than this package's "
            f"{artifact.contract_name} ({artifact.artifact_hash}); deploy again or use the "
            "matching version of the package"
        )
    return ledger



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
