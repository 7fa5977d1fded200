"""Commands ``report``, ``verify``, ``attest`` and ``revoke-attestation``: thin shells over
:mod:`ledger.reports.issue`, :mod:`ledger.verify.verifier` and :mod:`ledger.verify.attest`."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ledger.errors import InputError, InputProblem

if TYPE_CHECKING:
    from ledger.config import ChainSettings
    from ledger.verify.verdict import Verdict

__all__ = ["register"]

RpcOption = Annotated[str | None, typer.Option("--rpc", help="RPC URL (default: settings)")]
#: Not checked for existence here: a missing or unreadable report is the verdict's format check.
ReportArgument = Annotated[Path, typer.Argument(help="The signed JSON report")]
_MARKS = {"pass": "PASS", "fail": "FAIL", "not_applicable": "n/a ", "skipped": "SKIP"}


def _settings(rpc: str | None) -> ChainSettings:
    from ledger.config import load_chain_settings

    return load_chain_settings(**({"rpc_url": rpc} if rpc else {}))


def _key(settings: ChainSettings) -> bytes:
    from ledger.config import signer_private_key

    return signer_private_key(settings)


def _print_verdict(verdict: Verdict, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(verdict.to_dict(), indent=2))
        return
    typer.echo(f"report {verdict.report_id}\nissuer {verdict.issuer}\nhash   {verdict.report_hash}")
    for check in verdict.checks:
        typer.echo(f"  {_MARKS[check.status]}  {check.name:<14} {check.detail}")
    typer.echo(verdict.summary())


def _exit_unless_verified(verdict: Verdict, what: str) -> None:
    """Exit 1 (through the CLI's error mapping) naming the failed checks."""
    if not verdict.ok:
        from ledger.errors import VerificationError

        raise VerificationError(f"{what}: {verdict.problems()}")


def verify_command(
    report: ReportArgument,
    rpc: RpcOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as JSON")] = False,
    confirmations: Annotated[int, typer.Option(min=1, help="Required confirmations")] = 1,
    require_attestation: Annotated[bool, typer.Option(
        help="Fail unless an auditor attested the report")] = False,
) -> None:
    """Verify a report with nothing but the report and the chain; exit 0 only if all pass."""
    from ledger.reports.parse import read_report
    from ledger.verify.verifier import verify_on_chain

    verdict = verify_on_chain(read_report(report), _settings(rpc),
                              min_confirmations=confirmations,
                              require_attestation=require_attestation)
    _print_verdict(verdict, as_json)
    _exit_unless_verified(verdict, "report not verified")


def attest_command(
    report: ReportArgument,
    rpc: RpcOption = None,
    confirmations: Annotated[int, typer.Option(min=1, help="Required confirmations")] = 1,
) -> None:
    """Verify a report, then record the auditor's attestation of its hash on chain.

    The auditor's key comes from the chain settings (CARBON_LEDGER_PRIVATE_KEY or a keystore).
    """
    from ledger.reports.parse import read_report
    from ledger.verify.attest import attest_on_chain

    settings = _settings(rpc)
    outcome = attest_on_chain(read_report(report), settings, _key(settings),
                              min_confirmations=confirmations)
    if not outcome.attested:
        _print_verdict(outcome.verdict, False)
        _exit_unless_verified(outcome.verdict, "refusing to attest a report that does not verify")
    typer.echo(f"attested report {outcome.verdict.report_hash} as {outcome.auditor} in "
               f"transaction {outcome.transaction_hash} (block {outcome.block_number})")


def revoke_attestation_command(report: ReportArgument, rpc: RpcOption = None) -> None:
    """Withdraw the auditor's attestation of a report."""
    from ledger.reports.parse import read_report
    from ledger.verify.attest import revoke_on_chain

    settings = _settings(rpc)
    done = revoke_on_chain(read_report(report), settings, _key(settings))
    typer.echo(f"attestation revoked in transaction {done['transactionHash']}")


def report_command(
    bundles: Annotated[list[Path], typer.Argument(
        help="Proof bundles (JSON) of anchored shipments, one report for all",
        metavar="BUNDLE.json...", exists=True, dir_okay=False)],
    *,
    first_day: Annotated[str, typer.Option(help="Reporting period, first day (YYYY-MM-DD)")],
    last_day: Annotated[str, typer.Option(help="Reporting period, last day (YYYY-MM-DD)")],
    out: Annotated[Path, typer.Option("--out", help="Output folder", file_okay=False)]
    = Path("reports"),
    name: Annotated[str, typer.Option(help="File name stem of the outputs")] = "report",
    declarant: Annotated[Path | None, typer.Option(
        help="JSON file with the importer's QReport declarant data (CBAM goods only)",
        exists=True, dir_okay=False)] = None,
) -> None:
    """Issue a signed report (JSON, HTML, and QReport XML for CBAM goods) for anchored shipments.

    Signed with the exporter key of the chain settings (the key that anchored the shipments).
    """
    from ledger.cli.output import write_output
    from ledger.reports.issue import (
        declarant_from_dict,
        issue_report,
        read_json_inputs,
        report_files,
    )

    try:
        period = (date.fromisoformat(first_day), date.fromisoformat(last_day))
    except ValueError:
        raise InputError([InputProblem(f"--first-day {first_day!r} / --last-day {last_day!r}: "
                                       "give both as YYYY-MM-DD")]) from None
    key = _key(_settings(None))
    declarant_data = (None if declarant is None
                      else declarant_from_dict(read_json_inputs([declarant])[0]))
    document = issue_report(read_json_inputs(bundles), issuer_key=key, period=period,
                            issued_at=datetime.now(UTC))
    files = report_files(document, stem=name, declarant=declarant_data)
    if any(f.endswith(".cbam.xml") for f in files):
        from ledger.cli.declaration import qreport_period_warning

        warning = qreport_period_warning(period[1].isoformat())
        if warning:
            typer.echo(warning, err=True)
    for file_name, content in files.items():
        write_output(out / file_name, content)
        typer.echo(str(out / file_name))


def register(app: typer.Typer) -> None:
    app.command("report")(report_command)
    app.command("verify")(verify_command)
    app.command("attest")(attest_command)
    app.command("revoke-attestation")(revoke_attestation_command)
