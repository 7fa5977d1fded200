"""Command ``devnet``: a local Anvil in the foreground with CarbonLedger deployed.

The chain is set up by :func:`ledger.dev.local.local_ledger`: dev key 0 is the admin, keys 1-4
exporters, key 5 auditor; the shipped factor set is registered, and any ``--factor-set``. Prints
the RPC URL, the contract address, who holds which role and the public development keys, then
runs until Ctrl-C (or SIGTERM) and stops the node cleanly. With ``--state FILE`` the chain is
kept across runs and the contract of the previous run is reused.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from ledger.errors import ConfigError

__all__ = ["register", "run_devnet"]


class _Stop(Exception):
    """SIGTERM arrived."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise _Stop


def _parse_factor_sets(values: list[str]) -> list[tuple[bytes, str]]:
    parsed = []
    for value in values:
        identifier, sep, uri = value.partition("=")
        text = identifier.removeprefix("0x")
        if not sep or len(text) != 64:
            raise ConfigError(f"--factor-set {value!r}: expected 0x<64 hex digits>=<uri>")
        try:
            parsed.append((bytes.fromhex(text), uri))
        except ValueError:
            raise ConfigError(f"--factor-set {value!r}: the id is not hex") from None
    return parsed


def run_devnet(*, port: int, chain_id: int, block_time: float | None, state: Path | None,
               deployments_dir: Path, factor_sets: list[tuple[bytes, str]]) -> int:
    """Run the development chain until interrupted; returns the exit code.

    The shipped factor set is registered, then ``factor_sets``.
    """
    from ledger.dev.devkeys import DEV_ADMIN_INDEX, DEV_KEYS, DEV_MNEMONIC
    from ledger.dev.local import local_ledger
    from ledger.factors.factorset import FactorSet, load_factor_set

    registered: list[FactorSet | tuple[bytes, str]] = [load_factor_set(), *factor_sets]
    # Ctrl-C and SIGTERM both stop the node cleanly (a shell may start us with SIGINT ignored).
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    previous_term = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        with local_ledger(port=port, chain_id=chain_id, block_time=block_time, state_path=state,
                          deployments_dir=deployments_dir, factor_sets=registered) as chain:
            node, deployment, path = chain.node, chain.deployment, chain.deployment_file
            role_of = {DEV_ADMIN_INDEX: "admin"}
            role_of.update({k.index: "exporter" for k in chain.exporters})
            role_of.update({k.index: "auditor" for k in chain.auditors})
            lines = [
                "carbon-ledger devnet",
                f"  RPC URL           {node.rpc_url}",
                f"  chain id          {chain_id}"
                + (f" (a block every {block_time:g} s)" if block_time else " (automine)"),
                f"  anvil pid         {node.pid}",
                f"  CarbonLedger      {deployment.address}"
                + (" (kept from the state file)" if chain.reused else " (deployed now)"),
                f"  deployment file   {path}",
                f"  state file        {state}" if state else "  state file        none "
                "(the chain is gone when this stops; use --state FILE to keep it)",
                "",
                "  Roles and keys. PUBLIC TEST KEYS: published with Anvil's mnemonic",
                f"  ({DEV_MNEMONIC!r}); anyone can use them. Never use them on a real network.",
            ]
            for key in DEV_KEYS:
                role = role_of.get(key.index, "-")
                lines.append(f"  [{key.index}] {role:<9}{key.address}  {key.private_key}")
            for factor_set_id, uri in chain.factor_sets:
                lines.append(f"  factor set 0x{factor_set_id.hex()} = {uri}")
            exporter = chain.exporters[0]
            lines += [
                "",
                "  To use it (as exporter [1]):",
                f"    export CARBON_LEDGER_RPC_URL={node.rpc_url}",
                f"    export CARBON_LEDGER_CHAIN_ID={chain_id}",
                f"    export CARBON_LEDGER_DEPLOYMENT_FILE={path}",
                f"    export CARBON_LEDGER_PRIVATE_KEY={exporter.private_key}",
                "",
                "Ready. Press Ctrl-C to stop.",
            ]
            print("\n".join(lines), flush=True)
            while node.is_running():
                time.sleep(0.2)
            print(f"anvil exited unexpectedly (code {node.process.returncode})", flush=True)
            return 1
    except (KeyboardInterrupt, _Stop):
        print("stopped", flush=True)
        return 0
    finally:
        signal.signal(signal.SIGINT, previous_int)
        signal.signal(signal.SIGTERM, previous_term)


def register(app: typer.Typer) -> None:
    @app.command("devnet")
    def devnet(  # noqa: PLR0917 - typer maps parameters to options
        port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8545,
        chain_id: Annotated[int, typer.Option("--chain-id", help="Chain id.")] = 31337,
        block_time: Annotated[float | None, typer.Option(
            "--block-time", help="Seconds between blocks (default: a block per transaction).",
        )] = None,
        state: Annotated[Path | None, typer.Option(
            "--state", help="Load the chain from FILE and save it there on exit.",
        )] = None,
        deployments_dir: Annotated[Path, typer.Option(
            "--deployments-dir", help="Where <chain id>.json is written.",
        )] = Path("var/deployments"),
        factor_set: Annotated[list[str] | None, typer.Option(
            "--factor-set", help="Also register this factor set: 0x<id>=<uri> (repeatable; "
                                 "the shipped one is always registered).",
        )] = None,
    ) -> None:
        """Run a local chain with CarbonLedger deployed, print addresses, roles and dev keys."""
        code = run_devnet(
            port=port, chain_id=chain_id, block_time=block_time, state=state,
            deployments_dir=deployments_dir,
            factor_sets=_parse_factor_sets(factor_set or []),
        )
        raise typer.Exit(code)
