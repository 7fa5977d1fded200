"""Command ``factor-sets``: the factor sets shipped with this installation, with their ids and
the dispatch dates the schedule applies them to."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

import typer

__all__ = ["register"]


def factor_sets_command(
    *,
    output_format: Annotated[Literal["table", "json"], typer.Option(
        "--format", help="Output format.")] = "table",
    schedule: Annotated[Path | None, typer.Option(
        "--schedule", help="Factor-set schedule (JSON) whose validity to show (default: the "
        "shipped one).", exists=True, dir_okay=False)] = None,
) -> None:
    """List the shipped factor sets: id, name, validity by dispatch date, default."""
    from ledger.factors.schedule import load_schedule, shipped_factor_sets

    plan = load_schedule(schedule)
    sets = shipped_factor_sets(plan)
    if output_format == "json":
        typer.echo(json.dumps({"schedule": plan.describe(), "factor_sets": sets}, indent=2))
        return
    typer.echo(f"schedule {plan.name} ({plan.id}), chosen by {plan.basis}")
    for item in sets:
        if item["scheduled"]:
            validity = f"dispatch {item['valid_from']} to {item['valid_to'] or 'open'}"
        else:
            validity = "not scheduled: use with --factor-set"
        mark = " (default for --factor-set)" if item["default"] else ""
        typer.echo(f"{item['id']}  {item['name']}{mark}\n    {item['manifest']}; {validity}")


def register(app: typer.Typer) -> None:
    app.command("factor-sets")(factor_sets_command)
