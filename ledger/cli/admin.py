"""Commands ``deploy``, ``grant-role``, ``revoke-role`` and ``register-factor-set``: setting up
CarbonLedger on any EVM chain (a public testnet, or Anvil) from the command line.

Every transaction is signed here, with the configured key or keystore
(``CARBON_LEDGER_PRIVATE_KEY`` or ``CARBON_LEDGER_KEYSTORE_FILE``), after the node's chain id
was checked against ``CARBON_LEDGER_CHAIN_ID`` (or ``--chain-id``); nothing is signed by the
node. Each write is simulated first, so a refusal of the contract (e.g.
``AccessControlUnauthorizedAccount(account, neededRole)``) is named before anything is sent;
waits for a block print their progress on standard error.

``deploy`` goes through :func:`ledger.chain.deploy.deploy_ledger`, the same path as ``devnet``,
``demo`` and ``serve`` on the local chain, and writes the deployment file
(``docs/deployment-file.md``); the other commands read it and check that the code at its address
is this package's contract.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from ledger.errors import ConfigError, InputError, InputProblem

if TYPE_CHECKING:
    from ledger.chain.contract import CarbonLedgerContract
    from ledger.config import ChainSettings

__all__ = ["ROLE_NAMES", "parse_factor_set", "register"]

#: Role names of the command line -> the contract's role labels.
ROLE_NAMES = {"admin": "DEFAULT_ADMIN_ROLE", "exporter": "EXPORTER_ROLE",
              "auditor": "AUDITOR_ROLE"}
_ID_URI = re.compile(r"^(0x)?([0-9a-fA-F]{64})=(.+)$")

RpcOption = Annotated[str | None, typer.Option(
    "--rpc", help="RPC URL (default $CARBON_LEDGER_RPC_URL).")]
ChainIdOption = Annotated[int | None, typer.Option(
    "--chain-id", min=1, help="Chain id the node must serve (default $CARBON_LEDGER_CHAIN_ID "
                              "or 31337).")]
RoleArgument = Annotated[Literal["exporter", "auditor", "admin"], typer.Argument(
    help="The role: exporter (anchors its own records), auditor (attests), admin.")]
AccountArgument = Annotated[str, typer.Argument(help="The account's 0x address.")]


def _progress(line: str) -> None:
    typer.echo(line, err=True)


def _settings(rpc: str | None, chain_id: int | None) -> ChainSettings:
    from ledger.config import load_chain_settings

    overrides: dict[str, object] = {}
    if rpc:
        overrides["rpc_url"] = rpc
    if chain_id is not None:
        overrides["chain_id"] = chain_id
    return load_chain_settings(**overrides)


def _address(text: str, what: str) -> str:
    from eth_utils.address import is_address, to_checksum_address

    if not is_address(text):
        raise InputError([InputProblem(f"{text!r} is not an address (0x and 40 hex digits)",
                                       field=what)])
    return str(to_checksum_address(text))


def parse_factor_set(value: str) -> tuple[bytes, str]:
    """A factor set given on the command line: a manifest file (its id and URI), or
    ``0x<64 hex digits>=<uri>``."""
    match = _ID_URI.match(value)
    if match is not None:
        return bytes.fromhex(match.group(2)), match.group(3)
    path = Path(value)
    if not path.is_file():
        raise InputError([InputProblem(
            f"{value!r} is neither a factor-set manifest file nor 0x<64 hex digits>=<uri>",
            field="--factor-set")])
    from ledger.factors.factorset import load_factor_set

    factors = load_factor_set(path)
    return bytes.fromhex(factors.id.removeprefix("0x")), factors.uri


def _shipped_factor_set() -> tuple[bytes, str]:
    from ledger.factors.factorset import load_factor_set

    factors = load_factor_set()
    return bytes.fromhex(factors.id.removeprefix("0x")), factors.uri


@contextmanager
def _admin_ledger(settings: ChainSettings) -> Iterator[CarbonLedgerContract]:
    from ledger.chain.client import connect
    from ledger.chain.deploy import load_deployment, open_deployment

    deployment = load_deployment(settings.deployment_path(), chain_id=settings.chain_id)
    with connect(settings) as client:
        yield open_deployment(client, deployment)


def deploy_command(
    *,
    admin: Annotated[str | None, typer.Option(
        "--admin", help="Admin of the contract (default: the signing key's address).")] = None,
    exporter: Annotated[list[str] | None, typer.Option(
        "--exporter", help="Grant the exporter role to this address (repeatable).")] = None,
    auditor: Annotated[list[str] | None, typer.Option(
        "--auditor", help="Grant the auditor role to this address (repeatable).")] = None,
    factor_set: Annotated[list[str] | None, typer.Option(
        "--factor-set", help="Also register this factor set: a manifest file or "
                             "0x<id>=<uri> (repeatable).")] = None,
    shipped: Annotated[bool, typer.Option(
        "--shipped-factor-set/--no-shipped-factor-set",
        help="Register the package's default factor set.")] = True,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Deployment file to write (default: $CARBON_LEDGER_DEPLOYMENT_FILE or "
                      "<deployments dir>/<chain id>.json).", dir_okay=False)] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Deploy even when the deployment file exists (it is replaced).")]
    = False,
    rpc: RpcOption = None,
    chain_id: ChainIdOption = None,
) -> None:
    """Deploy CarbonLedger with the configured key, grant roles, register factor sets and write
    the deployment file."""
    from ledger.chain.client import connect
    from ledger.chain.deploy import deploy_ledger, write_deployment

    settings = _settings(rpc, chain_id)
    path = out if out is not None else settings.deployment_path()
    if path.exists() and not force:
        raise ConfigError(f"a deployment file exists at {path}: the commands use it as it is; "
                          "give --force to deploy a new contract and replace it, or --out "
                          "another file")
    exporters = [_address(a, "--exporter") for a in exporter or []]
    auditors = [_address(a, "--auditor") for a in auditor or []]
    sets = ([_shipped_factor_set()] if shipped else []) + [
        parse_factor_set(v) for v in factor_set or []]
    sets = list(dict.fromkeys(sets))
    with connect(settings) as client:
        balance = client.balance()
        if balance == 0:
            raise ConfigError(f"the signing account {client.address} has no funds on chain "
                              f"{client.chain_id}: fund it first (e.g. from a faucet)")
        typer.echo(f"deploying CarbonLedger on chain {client.chain_id} from {client.address} "
                   f"(balance {balance / 10**18:.6g} ETH)", err=True)
        deployment, _ = deploy_ledger(
            client, admin=_address(admin, "--admin") if admin else None, exporters=exporters,
            auditors=auditors, factor_sets=sets, progress=_progress)
    write_deployment(deployment, path)
    typer.echo(f"CarbonLedger {deployment.address} on chain {deployment.chain_id}, block "
               f"{deployment.block_number}, transaction {deployment.tx_hash}")
    typer.echo(f"  admin     {deployment.admin}")
    for name in ("exporter", "auditor"):
        for account in deployment.roles.get(name, []):
            typer.echo(f"  {name:<9} {account}")
    for factor_set_id, uri in deployment.factor_sets.items():
        typer.echo(f"  factor set {factor_set_id} = {uri}")
    typer.echo(f"deployment file {path}")


def _role_change(grant: bool, role: str, account: str, rpc: str | None,
                 chain_id: int | None) -> None:
    from ledger.chain.contract import ROLE_LABELS
    from ledger.chain.deploy import send_and_wait

    label = ROLE_NAMES[role]
    role_id = next(k for k, v in ROLE_LABELS.items() if v == label)
    who = _address(account, "ACCOUNT")
    with _admin_ledger(_settings(rpc, chain_id)) as ledger:
        holds = ledger.has_role(role_id, who)
        if holds == grant:
            typer.echo(f"{who} {'already holds' if grant else 'does not hold'} {label} on "
                       f"{ledger.address}; nothing sent")
            return
        name = "grantRole" if grant else "revokeRole"
        receipt = send_and_wait(ledger.client, ledger.address,
                                ledger.codec.encode_call(name, role_id, who),
                                what=f"{'grant' if grant else 'revoke'} {label} "
                                     f"{'to' if grant else 'of'} {who}", progress=_progress)
    typer.echo(f"{'granted' if grant else 'revoked'} {label} {'to' if grant else 'of'} {who} "
               f"in transaction 0x{receipt.tx_hash.hex()} (block {receipt.block_number})")


def grant_role_command(role: RoleArgument, account: AccountArgument, *,
                       rpc: RpcOption = None, chain_id: ChainIdOption = None) -> None:
    """Grant a role to an account (signed by an admin's key)."""
    _role_change(True, role, account, rpc, chain_id)


def revoke_role_command(role: RoleArgument, account: AccountArgument, *,
                        rpc: RpcOption = None, chain_id: ChainIdOption = None) -> None:
    """Revoke a role of an account (signed by an admin's key)."""
    _role_change(False, role, account, rpc, chain_id)


def register_factor_set_command(
    factor_set: Annotated[str | None, typer.Argument(
        help="A factor-set manifest file or 0x<id>=<uri> (default: the package's default "
             "factor set).", metavar="[MANIFEST | 0xID=URI]")] = None,
    *,
    rpc: RpcOption = None,
    chain_id: ChainIdOption = None,
) -> None:
    """Register a factor set on chain, so records may be anchored against it (admin's key)."""
    from ledger.chain.deploy import send_and_wait

    factor_set_id, uri = (_shipped_factor_set() if factor_set is None
                          else parse_factor_set(factor_set))
    with _admin_ledger(_settings(rpc, chain_id)) as ledger:
        if ledger.is_factor_set_registered(factor_set_id):
            typer.echo(f"factor set 0x{factor_set_id.hex()} is already registered on "
                       f"{ledger.address} ({ledger.factor_set_uri(factor_set_id)}); nothing sent")
            return
        receipt = send_and_wait(
            ledger.client, ledger.address,
            ledger.codec.encode_call("registerFactorSet", factor_set_id, uri),
            what=f"register factor set 0x{factor_set_id.hex()}", progress=_progress)
    typer.echo(f"registered factor set 0x{factor_set_id.hex()} = {uri} in transaction "
               f"0x{receipt.tx_hash.hex()} (block {receipt.block_number})")


def register(app: typer.Typer) -> None:
    app.command("deploy")(deploy_command)
    app.command("grant-role")(grant_role_command)
    app.command("revoke-role")(revoke_role_command)
    app.command("register-factor-set")(register_factor_set_command)
