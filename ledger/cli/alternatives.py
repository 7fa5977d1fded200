"""Command ``alternatives``: each shipment's declared route against Suez or the Cape for its sea
legs, and rail, sea or air for a China–Europe main haul (:mod:`ledger.footprint.alternatives`),
as a table or JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Literal

import typer

from ledger.cli.output import write_output

__all__ = ["register"]


def _kg(grams: int | None) -> str:
    return "" if grams is None else f"{grams / 1000:,.1f}"


def alternatives_command(
    file: Annotated[Path, typer.Argument(
        help="Shipments: .csv (one row per leg) or .json.", exists=True, dir_okay=False)],
    *,
    output_format: Annotated[Literal["table", "json"], typer.Option(
        "--format", help="Output format.")] = "table",
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write here instead of standard output.")] = None,
    factor_set: Annotated[Path | None, typer.Option(
        "--factor-set", help="Factor-set manifest (default: the shipped default set).",
        exists=True, dir_okay=False)] = None,
    route_cache: Annotated[Path | None, typer.Option(
        "--route-cache", help="JSON file that keeps computed sea routes between runs.")] = None,
) -> None:
    """Compare each shipment's declared route with Suez / Cape and rail / sea / air
    alternatives: WTW, transit distance and the saving."""
    from ledger.factors.distances import Router
    from ledger.factors.factorset import load_factor_set
    from ledger.footprint.alternatives import compare_shipments
    from ledger.inputs.read import read_shipments

    factors = load_factor_set(factor_set)
    router = Router(cache_path=route_cache)
    results = compare_shipments(read_shipments(file), factors, router=router)
    router.save()
    if output_format == "json":
        text = json.dumps({"factor_set": factors.describe(),
                           "comparisons": [r.to_dict() for r in results]}, indent=2) + "\n"
    else:
        lines = [f"factor set {factors.name} ({factors.id})",
                 f"{'shipment':<20} {'route':<52} {'km':>9} {'WTW kg':>12} {'saving kg':>12} "
                 f"{'saving %':>9}"]
        for r in results:
            for alt in (r.declared, *r.alternatives):
                if alt.reason is not None:
                    lines.append(f"{r.shipment_id:<20} {alt.name:<52} not available: "
                                 f"{alt.reason}")
                    continue
                lines.append(f"{r.shipment_id:<20} {alt.name:<52} {alt.distance_km or '':>9} "
                             f"{_kg(alt.co2e_wtw_g):>12} {_kg(alt.saving_g):>12} "
                             f"{alt.saving_percent or '':>9}")
        text = "\n".join(lines) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        write_output(output, text)


def register(app: typer.Typer) -> None:
    app.command("alternatives")(alternatives_command)
