"""Command group ``supplier-data``: an installation's communication template in and out.

- ``import TEMPLATE.xlsx --installation-id ID``: the Commission's communication template for
  installations read into a supplier-data document (JSON), with its keccak-256 id, and one
  line per purchased precursor of the installation (informational: the goods' SEE include
  them);
- ``export SUPPLIER.json -o TEMPLATE.xlsx``: a supplier-data document written in the
  template's layout;
- ``apply SHIPMENTS.json --supplier-data SUPPLIER.json``: the shipments of that installation
  given the template's figures as actual data, each naming the template file they came from
  (``production.supplier_document``: file name, SHA-256, installation, reporting period,
  template version); a shipments file for ``footprint``, ``anchor`` and ``report``, which then
  carry, anchor and sign them.

Nothing is written unless the whole input reads; files are written by
:func:`ledger.cli.output.write_output` (atomically).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer

from ledger.cli.output import write_output
from ledger.errors import InputError

__all__ = ["apply_command", "export_command", "import_command", "register",
           "supplier_data_id"]

def supplier_data_id(document: dict[str, Any]) -> str:
    """The id of a supplier-data document: keccak-256 of its canonical JSON, 0x-hex."""
    from ledger.records.canonical import canonical_json
    from ledger.records.keccak import keccak256

    return "0x" + keccak256(canonical_json(document)).hex()


def _json_text(document: Any) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _echo_precursors(data: Any) -> None:
    """One line per purchased precursor (informational), on standard error."""
    for p in data.purchased_precursors:
        purchased = ", ".join(f"{q.amount:f}{' ' + q.unit if q.unit else ''}"
                              for q in p.purchased)
        source = f" ({p.see_direct_source})" if p.see_direct_source else ""
        typer.echo(f"purchased precursor {p.precursor_id}: {p.goods_category} produced in "
                   f"{p.country}, purchased {purchased}; its SEE {p.see_direct_t_per_t:f} "
                   f"direct{source} + {p.see_indirect_t_per_t:f} indirect t CO2e/t "
                   "(informational: the goods' SEE already include it)", err=True)


def _read_supplier(path: Path, installation_id: str | None, operator: str | None) -> Any:
    from ledger.inputs.supplier_data import SupplierData
    from ledger.inputs.supplier_template import read_template

    if path.suffix.lower() == ".xlsx":
        if installation_id is None:
            raise InputError(f"{path}: a template needs --installation-id (the template does "
                             "not carry the installation's id)")
        return read_template(path, installation_id=installation_id, operator=operator)
    try:
        document = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read: {exc}") from None
    except ValueError as exc:
        raise InputError(f"{path}: not valid JSON: {exc}") from None
    return SupplierData.from_dict(document)


def import_command(
    template: Annotated[Path, typer.Argument(
        help="The filled communication template (.xlsx).", exists=True, dir_okay=False)],
    *,
    installation_id: Annotated[str, typer.Option(
        "--installation-id", help="The installation's id (not in the template).")],
    operator: Annotated[str | None, typer.Option(
        "--operator", help="The installation's operator.")] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write the supplier data here instead of standard output.")
    ] = None,
) -> None:
    """Read a communication template into supplier data (JSON); every problem names its
    sheet and cell."""
    from ledger.inputs.supplier_template import read_template

    data = read_template(template, installation_id=installation_id, operator=operator)
    document = data.to_dict()
    text = _json_text(document)
    if output is None:
        typer.echo(text, nl=False)
    else:
        write_output(output, text)
    where = f" -> {output}" if output is not None else ""
    typer.echo(f"{len(data.goods)} goods of installation {data.installation_id} "
               f"({data.installation.name}), {data.data_type}, reporting period "
               f"{data.period_start.isoformat()} to {data.period_end.isoformat()}; supplier "
               f"data {supplier_data_id(document)}{where}", err=True)
    _echo_precursors(data)


def export_command(
    supplier_data: Annotated[Path, typer.Argument(
        help="Supplier data (.json, as written by import).", exists=True, dir_okay=False)],
    *,
    output: Annotated[Path, typer.Option(
        "--output", "-o", help="The .xlsx file to write.")],
) -> None:
    """Write supplier data in the communication template's layout (.xlsx)."""
    from ledger.inputs.supplier_export import template_bytes

    data = _read_supplier(supplier_data, None, None)
    write_output(output, template_bytes(data))
    typer.echo(f"{len(data.goods)} goods of installation {data.installation_id} -> {output}",
               err=True)
    _echo_precursors(data)


def apply_command(
    shipments: Annotated[Path, typer.Argument(
        help="Shipments (.json or .csv).", exists=True, dir_okay=False)],
    *,
    supplier_data: Annotated[Path, typer.Option(
        "--supplier-data", help="Supplier data (.json) or a template (.xlsx, with "
        "--installation-id).", exists=True, dir_okay=False)],
    installation_id: Annotated[str | None, typer.Option(
        "--installation-id", help="The installation's id, when --supplier-data is a "
        "template.")] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write the shipments (JSON) here instead of standard "
        "output.")] = None,
) -> None:
    """Give the shipments of the installation the template's figures as actual data."""
    from ledger.inputs.read import read_shipments
    from ledger.inputs.supplier_data import apply_supplier_data
    from ledger.inputs.supplier_document import describe

    data = _read_supplier(supplier_data, installation_id, None)
    found = apply_supplier_data(read_shipments(shipments), data)
    document = {"shipments": [s.to_dict() for s in found.shipments]}
    text = _json_text(document)
    if output is None:
        typer.echo(text, nl=False)
    else:
        write_output(output, text)
    for shipment_id, reason in found.kept:
        typer.echo(f"kept: {shipment_id}: {reason}", err=True)
    for shipment_id, note in found.notes:
        typer.echo(f"note: {shipment_id}: {note}", err=True)
    typer.echo(f"{len(found.applied)} of {len(found.shipments)} shipments given the "
               f"{data.data_type} data of installation {data.installation_id} (supplier data "
               f"{supplier_data_id(data.to_dict())})", err=True)
    reference = data.document()
    if reference is None:
        typer.echo("note: the supplier data name no template file (no source_file and "
                   "source_sha256): the shipments carry no supplier_document", err=True)
    elif found.applied:
        typer.echo(f"supplier document: {describe(reference.to_dict())}", err=True)


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        name="supplier-data", no_args_is_help=True,
        help="Installations' actual emissions in the Commission's communication template.")
    group.command("import")(import_command)
    group.command("export")(export_command)
    group.command("apply")(apply_command)
    app.add_typer(group)
