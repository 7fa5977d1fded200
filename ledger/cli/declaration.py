"""Command ``declaration``: the importer's annual CBAM declaration, a thin shell over
:mod:`ledger.declaration` (compute, sign, write). ``carbon-ledger verify`` checks what it writes
(:mod:`ledger.verify.declaration`), with ``--store`` where the records are not embedded
(``--no-records``).

The store is ``--store`` (else ``CARBON_LEDGER_STORE``, else the default store); the declaration
is signed with the key of the chain settings (the declarant's key). Nothing is written when any
consignment, table or claim is refused.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import typer

from ledger.errors import InputError, InputProblem

__all__ = ["declaration_command", "qreport_period_warning", "register"]


def qreport_period_warning(last_day: str) -> str | None:
    """The warning for a QReport XML written for a period after the transitional period."""
    if last_day <= "2025-12-31":
        return None
    return ("warning: the QReport XML is the transitional-period format (quarterly reports up "
            "to Q4 2025, Regulation (EU) 2023/956 Art. 35); for goods imported from 2026 the "
            "annual CBAM declaration applies: carbon-ledger declaration --declarant EORI "
            f"--year {last_day[:4]}")


def _claims(path: Path | None) -> list[Any]:
    from ledger.declaration.options import claim_from_dict

    if path is None:
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError([InputProblem(f"{path}: not a readable JSON file: {exc}",
                                       field="carbon_price_claims")]) from None
    if not isinstance(data, list) or not all(isinstance(x, dict) for x in data):
        raise InputError([InputProblem(f"{path}: expected a list of claim objects",
                                       field="carbon_price_claims")])
    return [claim_from_dict(x, n) for n, x in enumerate(data, start=1)]


def _print_summary(subject: dict[str, Any]) -> None:
    t, th, f = subject["totals"], subject["threshold"], subject["forecast"]
    typer.echo(f"declarant {subject['declarant']['eori']}, year "
               f"{subject['reportingPeriod']['year']}: {t['consignments']} consignment(s) in "
               f"{t['lines']} line(s)")
    for row in subject["byCnCode"]:
        typer.echo(f"  CN {row['cnCode']} {row['originCountry']}: {row['netMassT']} t, embedded "
                   f"{row['embeddedEmissionsT']} t, certificates {row['certificatesT']}, "
                   f"EUR {row['costEur']}")
    liable = "liable" if th["liable"] else "not liable (at or below the threshold)"
    warn = "  WARNING: at or above the warning level" if th["warning"] else ""
    typer.echo(f"threshold: {th['netMassT']} t of {th['thresholdT']} t -> {liable}{warn}")
    typer.echo(f"certificates to surrender: {t['certificatesToSurrender']}; cost EUR "
               f"{t['costEur']} (if liable: EUR {t['costIfLiableEur']})")
    typer.echo(f"forecast: on declared values EUR {f['costOnDeclaredValuesEur']}, on default "
               f"values EUR {f['costOnDefaultValuesEur']}")
    if subject["containsEstimates"]:
        estimated = ", ".join(p["period"] for p in subject["prices"] if p["estimate"])
        typer.echo(f"note: priced with estimates given on the command line: {estimated}")


def declaration_command(
    *,
    declarant: Annotated[str, typer.Option(help="The declarant's EORI number")],
    year: Annotated[int, typer.Option(help="Calendar year of the imports (customs release)",
                                      min=2026, max=2100)],
    store: Annotated[str | None, typer.Option(
        "--store", help="Ledger store: SQLAlchemy URL or SQLite file")] = None,
    out: Annotated[Path, typer.Option("--out", help="Output folder", file_okay=False)]
    = Path("declarations"),
    name: Annotated[str | None, typer.Option(help="File name stem")] = None,
    warning_level_t: Annotated[str, typer.Option(
        help="Net mass (t) at which the threshold tally warns")] = "45",
    price_estimate: Annotated[list[str] | None, typer.Option(
        help="An explicit estimate for a price period without a published price: a quarter "
             "for 2026 imports (YYYY-Qn=EUR, e.g. 2026-Q2=80.50), an ISO week from 2027 "
             "(YYYY-Www=EUR, e.g. 2027-W05=80.50); repeat for several periods; labelled as an "
             "estimate in the declaration")] = None,
    carbon_price_claims: Annotated[Path | None, typer.Option(
        help="JSON list of carbon prices paid in the country of origin (Art. 9 evidence)",
        exists=True, dir_okay=False)] = None,
    deduction_act: Annotated[str | None, typer.Option(
        help="Reference of the act that enables the Art. 9 deduction (without it, claims are "
             "stored as evidence only)")] = None,
    no_records: Annotated[bool, typer.Option(
        "--no-records", help="Do not embed the consignments' records (verify then needs the "
                             "store)")] = False,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Compute and print the totals; sign and write nothing")] = False,
) -> None:
    """Issue the annual CBAM declaration of a declarant from the anchored consignments."""
    from ledger.cli.anchor import _existing_store
    from ledger.cli.output import write_output
    from ledger.declaration import DeclarationOptions, compute_declaration, issue_declaration
    from ledger.declaration.options import parse_estimates
    from ledger.store.store import open_store

    try:
        warning = Decimal(warning_level_t)
        if not warning.is_finite() or warning <= 0:
            raise InvalidOperation
    except InvalidOperation:
        raise InputError([InputProblem(f"--warning-level-t {warning_level_t!r} must be a "
                                       "positive number of tonnes",
                                       field="warning_level_t")]) from None
    options = DeclarationOptions(
        warning_level_t=warning, price_estimates=parse_estimates(price_estimate or []),
        carbon_price_claims=_claims(carbon_price_claims), deduction_act=deduction_act,
        embed_records=not no_records)
    with open_store(_existing_store(store)) as ledger_store:
        declaration = compute_declaration(ledger_store, declarant, year, options=options)
    _print_summary(declaration.subject)
    if dry_run:
        return
    from ledger.config import load_chain_settings, signer_private_key

    document = issue_declaration(declaration, issuer_key=signer_private_key(
        load_chain_settings()), issued_at=datetime.now(UTC))
    path = out / f"{name or f'cbam-declaration-{declarant}-{year}'}.json"
    write_output(path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    typer.echo(str(path))


def register(app: typer.Typer) -> None:
    app.command("declaration")(declaration_command)
