"""Command ``demo``: the end-to-end journey on an embedded local chain (:mod:`ledger.dev.demo`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register"]


def demo_command(
    out: Annotated[Path, typer.Option("--out", help="Output folder (store, proofs, reports).")]
    = Path("demo-output"),
    shipments: Annotated[Path | None, typer.Option(
        help="Shipments file (default: examples/demo-shipments.json).")] = None,
    declarant: Annotated[Path | None, typer.Option(
        help="EU importer's QReport declarant data (default: examples/demo-importer.json).")]
    = None,
    block_time: Annotated[float, typer.Option(help="Seconds per block of the embedded chain.")]
    = 1.0,
) -> None:
    """Compute, anchor, report, verify and attest the demo shipments on a local Anvil."""
    from ledger.dev.demo import run_demo, summary_lines

    run = run_demo(out, shipments_path=shipments, declarant_path=declarant,
                   block_time_s=block_time, echo=typer.echo)
    typer.echo("")
    for line in summary_lines(run):
        typer.echo(line)
    typer.echo(f"\ncontract {run.contract} on chain {run.chain_id}; factor set "
               f"{run.factor_set_id}; outputs in {run.out_dir}; {run.seconds:.1f} s")
    typer.echo("the chain was saved; to check a report yourself, restart it and verify:\n"
               f"  carbon-ledger devnet --port 8545 --state {run.state_path} "
               f"--deployments-dir {run.out_dir / 'deployments'}   # in one shell\n"
               "  carbon-ledger verify "
               f"{next(iter(run.reports.values()), 'REPORT.json')} --rpc http://127.0.0.1:8545")
    if not run.ok:
        typer.echo("demo FAILED: a report did not verify or nothing was attested", err=True)
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
