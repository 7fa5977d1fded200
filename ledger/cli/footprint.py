"""Command ``footprint``: shipment records in, footprints out (CSV or JSON).

Nothing is written unless every shipment of the file is valid; ``--output`` is written by
:func:`ledger.cli.output.write_output` (a regular file is replaced atomically at the end).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from ledger.cli.output import write_output
from ledger.errors import InputError, InputProblem

__all__ = ["CsvOptions", "EncodingOption", "IgnoreColumnOption", "SeparatorOption", "csv_text",
           "register"]


@dataclass(frozen=True)
class CsvOptions:
    """How to read a spreadsheet's CSV (``--separator``, ``--encoding``, ``--ignore-column``);
    the defaults detect the separator and the encoding and refuse every unknown column."""

    separator: str | None = None
    encoding: str | None = None
    ignore_columns: tuple[str, ...] = ()

    def read_frame(self, path: Path, problems: list[InputProblem] | None) -> Any:
        """The CSV's shipment frame; each ignored column is warned about on standard error."""
        from ledger.inputs.csvreader import read_csv_frame

        warnings: list[str] = []
        frame = read_csv_frame(path, collect=problems, separator=self.separator,
                               encoding=self.encoding, ignore_columns=self.ignore_columns,
                               warnings=warnings)
        for message in warnings:
            typer.echo(f"warning: {path}: {message}", err=True)
        return frame

    def read_shipments(self, path: Path) -> list[Any]:
        """Shipments of a .csv (read by these options) or .json file."""
        from ledger.inputs.read import read_shipments

        if path.suffix.lower() == ".csv":
            return self.read_frame(path, None).to_shipments()  # type: ignore[no-any-return]
        if self != CsvOptions():
            raise InputError([InputProblem(
                f"{path}: --separator, --encoding and --ignore-column apply to .csv files "
                "only", field="--ignore-column")])
        return read_shipments(path)


SeparatorOption = Annotated[Literal["comma", "semicolon", "tab"] | None, typer.Option(
    "--separator", help="CSV column separator (default: detected from the header row).")]
EncodingOption = Annotated[str | None, typer.Option(
    "--encoding", help="CSV text encoding, e.g. utf-8, gb18030, utf-16, cp1252 (default: "
                       "UTF-8 with or without BOM, else GB18030).")]
IgnoreColumnOption = Annotated[list[str] | None, typer.Option(
    "--ignore-column", help="Leave out this extra CSV column (repeatable; e.g. ERP fields); "
                            "a warning names each one.")]


def _frame(path: Path, problems: list[InputProblem], options: CsvOptions) -> tuple[Any, bool]:
    from ledger.inputs.frame import ShipmentFrame

    if path.suffix.lower() == ".csv":
        return options.read_frame(path, problems), True
    from ledger.inputs.read import read_shipments

    if options != CsvOptions():
        options.read_shipments(path)  # raises: CSV options on a JSON file
    return ShipmentFrame.from_shipments(read_shipments(path, collect=problems)), False


def _csv_fields(problems: list[InputProblem]) -> list[InputProblem]:
    """Problems about a CSV's goods named by CSV column rather than nested field."""
    from ledger.inputs.frame import CSV_COLUMN_OF

    return [InputProblem(p.message, p.shipment_id, p.row,
                         CSV_COLUMN_OF.get(p.field or "", p.field)) for p in problems]


def _csv_cell(value: object) -> str:
    text = str(value)
    if any(c in text for c in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_text(columns: Mapping[str, Any]) -> str:
    """Columns (name -> sequence) as CSV text with a header and LF line ends; a cell is quoted
    only when it holds a comma, quote or line break."""
    cells = []
    for values in columns.values():
        if getattr(getattr(values, "dtype", None), "kind", "O") in "iub":
            text = values.astype(str).tolist()
        else:
            items = values.tolist() if hasattr(values, "tolist") else list(values)
            text = [v if type(v) is str else str(v) for v in items]
        joined = "\n".join(text)
        if any(c in joined for c in ',"\r') or joined.count("\n") != max(len(text) - 1, 0):
            text = [_csv_cell(v) for v in text]
        cells.append(text)
    lines = [",".join(_csv_cell(name) for name in columns)]
    lines.extend(",".join(row) for row in zip(*cells, strict=True))
    return "\n".join(lines) + "\n"


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    write_output(output, text)


def _warn(warnings: list[tuple[str, str]], shown: int = 5) -> None:
    """Each distinct warning once on standard error, with the first shipments it concerns."""
    by_message: dict[str, list[str]] = {}
    for shipment_id, message in warnings:
        by_message.setdefault(message, []).append(shipment_id)
    for message, ids in by_message.items():
        more = f" and {len(ids) - shown} more" if len(ids) > shown else ""
        typer.echo(f"warning: {message} (shipments {', '.join(ids[:shown])}{more})", err=True)


def footprint_command(
    file: Annotated[Path, typer.Argument(
        help="Shipments: .csv (one row per leg) or .json.", exists=True, dir_okay=False)],
    *,
    output_format: Annotated[Literal["json", "csv"], typer.Option(
        "--format", help="Output format.")] = "json",
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write here instead of standard output.")] = None,
    level: Annotated[Literal["shipment", "leg"], typer.Option(
        "--level", help="CSV rows: one per shipment or one per leg.")] = "shipment",
    factor_set: Annotated[Path | None, typer.Option(
        "--factor-set", help="Factor-set manifest for every shipment (default: the shipped "
        "default set).", exists=True, dir_okay=False)] = None,
    by_dispatch_date: Annotated[bool, typer.Option(
        "--by-dispatch-date", help="Choose each shipment's factor set by its dispatch date "
        "(the shipped schedule, or --schedule).")] = False,
    schedule: Annotated[Path | None, typer.Option(
        "--schedule", help="Factor-set schedule (JSON) for --by-dispatch-date.",
        exists=True, dir_okay=False)] = None,
    route_cache: Annotated[Path | None, typer.Option(
        "--route-cache", help="JSON file that keeps computed sea routes between runs.")] = None,
    separator: SeparatorOption = None,
    encoding: EncodingOption = None,
    ignore_column: IgnoreColumnOption = None,
) -> None:
    """Compute ISO 14083 transport-chain footprints (TTW, WTT, WTW), production and CBAM
    embedded emissions of shipment records."""
    from ledger.factors.distances import Router
    from ledger.factors.factorset import load_factor_set
    from ledger.factors.schedule import load_schedule
    from ledger.footprint.batch import compute_batch
    from ledger.footprint.dated import compute_by_dispatch_date
    from ledger.footprint.plausibility import plausibility_warnings

    if (by_dispatch_date or schedule is not None) and factor_set is not None:
        raise InputError([InputProblem("give either --factor-set (one set for every shipment) "
                                       "or --by-dispatch-date / --schedule", field="--factor-set")])
    dated = by_dispatch_date or schedule is not None
    plan = load_schedule(schedule) if dated else None
    factors = load_factor_set(factor_set) if plan is None else None
    problems: list[InputProblem] = []
    options = CsvOptions(separator, encoding, tuple(ignore_column or ()))
    frame, from_csv = _frame(file, problems, options)
    router = Router(cache_path=route_cache)
    batch: Any = None
    try:
        if plan is not None:
            batch = compute_by_dispatch_date(frame, plan, router=router)
        elif factors is not None:
            batch = compute_batch(frame, factors, router=router)
    except InputError as exc:
        problems.extend(_csv_fields(exc.problems) if from_csv else exc.problems)
    if problems:
        problems.sort(key=lambda p: (p.row or 0, p.shipment_id or "", p.field or ""))
        raise InputError(problems)
    router.save()
    _warn(batch.warnings())
    warnings = plausibility_warnings(frame, batch.leg_distances(frame) if plan is not None
                                     else batch.legs["distance_m"], csv_fields=from_csv)
    for warning in warnings[:20]:
        where = f"row {warning.row}, " if warning.row is not None else ""
        typer.echo(f"warning: {where}shipment {warning.shipment_id!r}, field "
                   f"{warning.field!r}: {warning.message}", err=True)
    if len(warnings) > 20:
        typer.echo(f"warning: {len(warnings) - 20} more plausibility warnings (see the JSON "
                   "output)", err=True)
    if output_format == "json":
        footprints = [fp.to_dict() for fp in batch.footprints()]
        document: dict[str, Any]
        if plan is not None:
            for fp, chosen in zip(footprints, batch.selections(), strict=True):
                fp["factor_set_selection"] = chosen
            document = {"factor_set_schedule": plan.describe()}
        else:
            document = {"factor_set": factors.describe()} if factors is not None else {}
        document["footprints"] = footprints
        document["warnings"] = [w.to_dict() for w in warnings]
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    elif level == "shipment":
        text = csv_text(batch.shipment_columns())
    else:
        text = csv_text(batch.leg_columns())
    _write(text, output)
    if output is not None:
        used = f"schedule {plan.id}" if plan is not None else \
            f"factor set {factors.id if factors is not None else ''}"
        typer.echo(f"{len(batch)} shipments, {used} -> {output}", err=True)


def register(app: typer.Typer) -> None:
    app.command("footprint")(footprint_command)
