"""Commands ``report``, ``verify``, ``attest`` and ``revoke-attestation``: thin shells over
:mod:`ledger.reports.issue`, :mod:`ledger.verify.verifier` and :mod:`ledger.verify.attest`."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ledger.errors import InputError, InputProblem, LedgerError

if TYPE_CHECKING:
    from ledger.config import ChainSettings
    from ledger.verify.verdict import Verdict

__all__ = ["iso_time", "register", "version_lines"]

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


def _print_verdict(verdict: Verdict, as_json: bool, notes: Sequence[str] = ()) -> None:
    if as_json:
        typer.echo(json.dumps(verdict.to_dict(), indent=2))
        return
    typer.echo(f"report {verdict.report_id}\nissuer {verdict.issuer}\nhash   {verdict.report_hash}")
    for check in verdict.checks:
        detail = check.detail
        if check.name == "attestations":
            for item in verdict.attestations:
                when = item.get("attestedAt")
                if isinstance(when, int) and when > 0:
                    detail = detail.replace(f"{item['auditor']} at {when}",
                                            f"{item['auditor']} at {iso_time(when)}")
        typer.echo(f"  {_MARKS[check.status]}  {check.name:<14} {detail}")
    for item in verdict.attestations:
        revoked = item.get("revokedAt")
        typer.echo(f"  attestation by {item['auditor']}: {iso_time(int(item['attestedAt']))}"
                   + (f", withdrawn {iso_time(revoked)}" if isinstance(revoked, int) and revoked
                      else "")
                   + ("" if item.get("holdsAuditorRole", True) else
                      " (no longer holds the auditor role)"))
    for line in notes:
        typer.echo(f"  {line}")
    typer.echo(verdict.summary())


def iso_time(seconds: int) -> str:
    """A block timestamp (Unix seconds) as an ISO 8601 UTC date and time."""
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def _exit_unless_verified(verdict: Verdict, what: str) -> None:
    """Exit 1 (through the CLI's error mapping) naming the failed checks."""
    if not verdict.ok:
        from ledger.errors import VerificationError

        raise VerificationError(f"{what}: {verdict.problems()}")


def version_lines(document: Any, settings: ChainSettings) -> list[str]:
    """The versions of each record of a report that was corrected or revoked on chain, oldest
    first: ``versions of ID: 0xA… (superseded, block 7) -> 0xB… (live)``, the report's own
    record marked; nothing for records that never changed. Read-only; a chain that cannot be
    read gives a line saying so."""
    from ledger.chain.client import connect
    from ledger.chain.contract import CarbonLedgerContract
    from ledger.chain.events import RecordRevoked, RecordSuperseded, ShipmentRecorded
    from ledger.reports.parse import report_anchors, report_chain

    try:
        chain_id, contract = report_chain(document)
        anchors = report_anchors(document)
        lines: list[str] = []
        with connect(settings.model_copy(update={"chain_id": chain_id}), read_only=True) as client:
            ledger = CarbonLedgerContract(client, contract)
            for shipment_id, anchor in anchors:
                leaf = anchor.get("leaf") or {}
                key = bytes.fromhex(str(leaf.get("shipmentId", "")).removeprefix("0x"))
                ours = str(leaf.get("recordHash", "")).lower()
                events = ledger.shipment_events(key)
                ended = {e.old_record_hash: "superseded" for e in events
                         if isinstance(e, RecordSuperseded)}
                ended.update({e.record_hash: "revoked" for e in events
                              if isinstance(e, RecordRevoked)})
                if not ended:
                    continue
                parts = []
                for event in events:
                    if not isinstance(event, ShipmentRecorded):
                        continue
                    text = "0x" + event.record_hash.hex()
                    mark = " [this report]" if text == ours else ""
                    parts.append(f"{text[:14]}… ({ended.get(event.record_hash, 'live')}, block "
                                 f"{event.meta.block_number}){mark}")
                lines.append(f"versions of {shipment_id}: " + " -> ".join(parts))
        return lines
    except (LedgerError, ValueError) as exc:
        return [f"(versions not read: {exc})"]


def verify_command(
    report: ReportArgument,
    *,
    rpc: RpcOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as JSON")] = False,
    confirmations: Annotated[int, typer.Option(min=1, help="Required confirmations")] = 1,
    require_attestation: Annotated[bool, typer.Option(
        help="Fail unless an auditor attested the report")] = False,
    store: Annotated[str | None, typer.Option(
        "--store", help="A CBAM declaration written with --no-records: the ledger store "
                        "(SQLAlchemy URL or SQLite file) its consignments' records are read "
                        "from")] = None,
) -> None:
    """Verify a report with nothing but the report and the chain (and, for a declaration
    whose records it does not embed, the store holding them); exit 0 only if all pass."""
    from ledger.reports.parse import read_report
    from ledger.verify.declaration import is_declaration
    from ledger.verify.verifier import verify_on_chain

    document = read_report(report)
    settings = _settings(rpc)
    if store is None:
        verdict = verify_on_chain(document, settings, min_confirmations=confirmations,
                                  require_attestation=require_attestation)
    else:
        from ledger.cli.anchor import _existing_store
        from ledger.store.store import open_store
        from ledger.verify.declaration import verify_declaration_on_chain

        if not is_declaration(document):
            raise InputError([InputProblem(
                "--store is for a CBAM declaration whose records are not embedded; a report "
                "carries its records", field="store")])
        with open_store(_existing_store(store)) as records:
            verdict = verify_declaration_on_chain(document, settings, records=records,
                                                  min_confirmations=confirmations)
    formed = any(c.name == "format" and c.status == "pass" for c in verdict.checks)
    _print_verdict(verdict, as_json,
                   version_lines(document, settings) if formed and not as_json else ())
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


def _refuse_ended_records(bundles: Sequence[Mapping[str, Any]], rpc: str | None) -> None:
    """Refuses (InputError, before anything is signed) bundles whose record is no longer live
    on chain: revoked by its exporter, or superseded by a corrected record (named)."""
    from ledger.chain.abi import RecordStatus
    from ledger.chain.client import connect
    from ledger.chain.contract import CarbonLedgerContract
    from ledger.config import load_chain_settings

    problems: list[InputProblem] = []
    by_place: dict[tuple[int, str], list[Mapping[str, Any]]] = {}
    for bundle in bundles:
        try:
            place = (int(bundle["chain_id"]), str(bundle["contract"]))
        except (KeyError, TypeError, ValueError):
            continue  # not a proof bundle: the issuer names what it lacks
        by_place.setdefault(place, []).append(bundle)
    for (chain_id, contract), found in by_place.items():
        settings = load_chain_settings(chain_id=chain_id, **({"rpc_url": rpc} if rpc else {}))
        with connect(settings, read_only=True) as client:
            ledger = CarbonLedgerContract(client, contract)
            for bundle in found:
                record_hash = str(bundle.get("record_hash", ""))
                try:
                    status, successor = ledger.record_status(
                        str(bundle.get("exporter")), bytes.fromhex(record_hash.removeprefix("0x")))
                except ValueError:
                    continue
                if status == RecordStatus.LIVE:
                    continue
                what = ("revoked by its exporter" if status == RecordStatus.REVOKED else
                        f"superseded by the corrected record 0x{successor.hex()} (issue the "
                        "report from the corrected record's proof bundle)")
                problems.append(InputProblem(
                    f"record {record_hash} is {what} on chain {chain_id}; a report on it would "
                    "not verify", shipment_id=str(bundle.get("shipment_id")),
                    field="record_hash"))
    if problems:
        raise InputError(problems)


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
    rpc: RpcOption = None,
    pdf: Annotated[bool, typer.Option(
        "--pdf", help="Also write NAME.pdf, printed by headless Chromium")] = False,
    chromium: Annotated[Path | None, typer.Option(
        help="Chromium executable for --pdf (default: chromium on PATH)")] = None,
) -> None:
    """Issue a signed report (JSON, HTML, and QReport XML for CBAM goods) for anchored shipments,
    with a UNTP Digital Product Passport per shipped good (NAME.untp.json) and, with --pdf, the
    printable PDF of the HTML page (NAME.pdf).

    Signed with the exporter key of the chain settings (the key that anchored the shipments).
    Refused before signing: an inverted period, another exporter's records, and records that
    were revoked or superseded on chain (asked of the node, read-only).
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
    inputs = read_json_inputs(bundles)
    if period[1] >= period[0]:  # an inverted period is refused first, without the chain
        _refuse_ended_records(inputs, rpc)
    document = issue_report(inputs, issuer_key=key, period=period,
                            issued_at=datetime.now(UTC))
    from ledger.reports.untp import product_passports

    files = report_files(document, stem=name, declarant=declarant_data)
    files[f"{name}.untp.json"] = (json.dumps(product_passports(document, signing_key=key),
                                             indent=2, ensure_ascii=False) + "\n").encode()
    if pdf:
        from ledger.reports.pdf import render_pdf

        files[f"{name}.pdf"] = render_pdf(files[f"{name}.html"].decode("utf-8"),
                                          chromium=chromium)
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
