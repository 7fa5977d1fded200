"""Commands ``report``, ``verify``, ``attest`` and ``revoke-attestation``: thin shells over
:mod:`ledger.report`, :mod:`ledger.verify` and :mod:`ledger.attest`."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from eth_utils.crypto import keccak

from ledger.errors import InputError, InputProblem, LedgerError, VerificationError

__all__ = ["anchor_data", "register", "write_report_files"]

RpcOption = Annotated[str | None, typer.Option("--rpc", help="RPC URL (default: settings)")]


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise VerificationError(f"{path}: not a readable JSON file: {exc}") from None


def _reader(document: Any, rpc: str | None, private_key: bytes | None = None) -> Any:
    """A connected client and a ledger reader for the chain and contract a report names."""
    from eth_account import Account

    from ledger.artifacts import load_artifact
    from ledger.attest import LedgerReader
    from ledger.chain import connect
    from ledger.chain_abi import AbiCodec
    from ledger.config import load_chain_settings
    from ledger.report import Anchor, report_anchors

    anchors = report_anchors(document) if isinstance(document, dict) else []
    if not anchors:
        raise VerificationError("the report names no anchor (chain and contract)")
    try:
        first = Anchor.from_dict(anchors[0][1])
    except (KeyError, TypeError) as exc:
        raise VerificationError(f"the report's anchor is malformed: {exc}") from None
    overrides: dict[str, Any] = {"chain_id": first.chain_id}
    if rpc:
        overrides["rpc_url"] = rpc
    settings = load_chain_settings(**overrides)
    key = private_key if private_key is not None else bytes(Account.create().key)
    client = connect(settings, private_key=key)
    codec = AbiCodec(load_artifact().abi)
    return client, codec, LedgerReader(client, codec, first.contract)


def _verdict(document: Any, reader: Any, confirmations: int, require_attestation: bool) -> Any:
    from ledger.factorset import load_factor_set
    from ledger.verify import engine_recompute, verify_report

    return verify_report(document, reader, recompute=engine_recompute([load_factor_set()]),
                         min_confirmations=confirmations,
                         require_attestation=require_attestation)


def _print_verdict(verdict: Any, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(verdict.to_dict(), indent=2))
        return
    marks = {"pass": "PASS", "fail": "FAIL", "not_applicable": "n/a ", "skipped": "SKIP"}
    typer.echo(f"report {verdict.report_id}\nissuer {verdict.issuer}\nhash   {verdict.report_hash}")
    for check in verdict.checks:
        typer.echo(f"  {marks[check.status]}  {check.name:<14} {check.detail}")
    typer.echo("VERIFIED" if verdict.ok else "NOT VERIFIED: " + ", ".join(verdict.failed))


def verify_command(
    report: Annotated[Path, typer.Argument(help="The signed JSON report")],
    rpc: RpcOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as JSON")] = False,
    confirmations: Annotated[int, typer.Option(min=1, help="Required confirmations")] = 1,
    require_attestation: Annotated[bool, typer.Option(
        help="Fail unless an auditor attested the report")] = False,
) -> None:
    """Verify a report with nothing but the report and the chain; exit 0 only if all pass."""
    document = _load_json(report)
    client, _, reader = _reader(document, rpc)
    with client:
        verdict = _verdict(document, reader, confirmations, require_attestation)
    _print_verdict(verdict, as_json)
    raise typer.Exit(0 if verdict.ok else 1)


def attest_command(
    report: Annotated[Path, typer.Argument(help="The signed JSON report")],
    rpc: RpcOption = None,
    confirmations: Annotated[int, typer.Option(min=1)] = 1,
) -> None:
    """Verify a report, then record the auditor's attestation of its hash on chain.

    The auditor's key comes from the chain settings (CARBON_LEDGER_PRIVATE_KEY or a keystore).
    """
    from ledger import vc
    from ledger.attest import attest_report
    from ledger.config import load_chain_settings, signer_private_key

    document = _load_json(report)
    key = signer_private_key(load_chain_settings())
    client, codec, reader = _reader(document, rpc, private_key=key)
    with client:
        verdict = _verdict(document, reader, confirmations, False)
        if not verdict.ok:
            _print_verdict(verdict, False)
            typer.echo("refusing to attest a report that does not verify", err=True)
            raise typer.Exit(1)
        evidence = keccak(vc.canonical_json(verdict.to_dict()))
        done = attest_report(client, codec, reader.contract, vc.report_hash(document), evidence)
    typer.echo(f"attested report {verdict.report_hash} as {client.address} in transaction "
               f"{done['transactionHash']} (block {done['blockNumber']})")


def revoke_attestation_command(
    report: Annotated[Path, typer.Argument(help="The signed JSON report")],
    rpc: RpcOption = None,
) -> None:
    """Withdraw the auditor's attestation of a report."""
    from ledger import vc
    from ledger.attest import revoke_report_attestation
    from ledger.config import load_chain_settings, signer_private_key

    document = _load_json(report)
    key = signer_private_key(load_chain_settings())
    client, codec, reader = _reader(document, rpc, private_key=key)
    with client:
        done = revoke_report_attestation(client, codec, reader.contract,
                                         vc.report_hash(document))
    typer.echo(f"attestation revoked in transaction {done['transactionHash']}")


def report_command(  # noqa: PLR0917 - typer maps parameters to options
    bundles: Annotated[list[Path], typer.Argument(help="Proof bundles (JSON) of anchored "
                                                       "shipments, one report for all")],
    out: Annotated[Path, typer.Option("--out", help="Output folder")] = Path("reports"),
    first_day: Annotated[str, typer.Option(help="Reporting period, first day (YYYY-MM-DD)")] = "",
    last_day: Annotated[str, typer.Option(help="Reporting period, last day (YYYY-MM-DD)")] = "",
    name: Annotated[str, typer.Option(help="File name stem of the outputs")] = "report",
    declarant: Annotated[Path | None, typer.Option(
        help="JSON file with the importer's QReport declarant data (CBAM goods only)")] = None,
) -> None:
    """Issue a signed report (JSON, HTML, and QReport XML for CBAM goods) for anchored shipments.

    Signed with the exporter key of the chain settings (the key that anchored the shipments).
    """
    from ledger.config import load_chain_settings, signer_private_key

    try:
        period = (date.fromisoformat(first_day), date.fromisoformat(last_day))
    except ValueError:
        raise InputError([InputProblem("give --first-day and --last-day as YYYY-MM-DD")]) from None
    key = signer_private_key(load_chain_settings())
    written = write_report_files([_load_json(b) for b in bundles], out_dir=out, stem=name,
                                 issuer_key=key, period=period, issued_at=datetime.now(UTC),
                                 declarant=None if declarant is None else _load_json(declarant))
    for path in written:
        typer.echo(str(path))


def anchor_data(bundle: Any, factor_set_uri: str = "") -> Any:
    """The anchor extension data of a proof bundle (``ledger.proofs.proof_bundle``); a bundle
    already in the anchor extension's form is returned as it is."""
    if not isinstance(bundle, dict) or "format" not in bundle:
        return bundle
    tx = bundle.get("tx") or {}
    if tx.get("status") != 1 or tx.get("block_number") is None:
        raise InputError([InputProblem(
            "the shipment's anchoring transaction has no successful receipt yet "
            f"(state {bundle.get('state')!r}); run the anchoring to completion first",
            shipment_id=bundle.get("shipment_id"))])
    batch, leaf = bundle["batch"], bundle["leaf"]
    root = batch.get("root") if bundle["path"] == "root" else None
    return {
        "chainId": bundle["chain_id"], "contract": bundle["contract"],
        "anchoring": "root" if bundle["path"] == "root" else "per-shipment",
        "batchId": root or batch["batch_id"], "transactionHash": tx["hash"],
        "blockNumber": tx["block_number"], "merkleRoot": root,
        "leaf": {"shipmentId": leaf["shipment_id"], "recordHash": leaf["record_hash"],
                 "co2eWtwG": int(leaf["co2e_wtw_g"]), "co2eTtwG": int(leaf["co2e_ttw_g"])},
        "proof": list(bundle.get("proof") or []), "factorSetId": batch["factor_set_id"],
        "factorSetUri": factor_set_uri, "record": bundle["record"],
    }


def write_report_files(
    bundles: list[Any],
    *,
    out_dir: Path,
    stem: str,
    issuer_key: bytes | str,
    period: tuple[date, date],
    issued_at: datetime,
    declarant: Any = None,
) -> list[Path]:
    """Issues one report for the bundles and writes ``stem.json``, ``stem.html`` and, when the
    report has CBAM goods and a declarant is given, ``stem.cbam.xml`` and ``stem.cbam.json``.

    A bundle is a proof bundle of ``ledger.proofs`` or the anchor extension's data (``chainId``,
    ``contract``, ``anchoring``,
    ``batchId``, ``transactionHash``, ``blockNumber``, ``merkleRoot``, ``leaf``, ``proof``,
    ``factorSetId``, ``factorSetUri``, ``record``). The figures are recomputed from each record
    with the shipped factor set, exactly as a verifier will.
    """
    from ledger import qreport, records
    from ledger.factorset import load_factor_set
    from ledger.html_report import render_html
    from ledger.report import (
        Anchor,
        ReportItem,
        build_report,
        cbam_goods_from_subject,
    )
    from ledger.verify import engine_recompute

    factor_set = load_factor_set()
    recompute = engine_recompute([factor_set])
    items = []
    for number, bundle in enumerate(bundles, start=1):
        try:
            anchor = Anchor.from_dict(anchor_data(bundle, factor_set.uri))
        except (KeyError, TypeError) as exc:
            raise InputError([InputProblem(f"proof bundle {number} lacks {exc}")]) from None
        figures, rebuilt = recompute(anchor.record, period)
        if records.record_hash(rebuilt) != anchor.record_hash:
            raise LedgerError(f"shipment {figures.shipment_id}: the anchored record does not "
                              "follow from its inputs with the shipped factor set; not issued")
        items.append(ReportItem(figures, anchor))
    document = build_report(items, issuer_key=issuer_key, issued_at=issued_at, period=period)
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / f"{stem}.json"
    json_path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n",
                         encoding="utf-8")
    html_path = out_dir / f"{stem}.html"
    html_path.write_text(render_html(document, report_file=json_path.name), encoding="utf-8")
    written = [json_path, html_path]
    subject = document["credentialSubject"]
    goods = cbam_goods_from_subject(subject)
    if subject["cbam"]["goods"] or subject["cbam"]["outOfScope"]:
        summary_path = out_dir / f"{stem}.cbam.json"
        summary_path.write_text(json.dumps(subject["cbam"], indent=2) + "\n", encoding="utf-8")
        written.append(summary_path)
    if goods and declarant is not None:
        info = qreport.Declarant(**{**declarant,
                                    "address": qreport.Address(**declarant["address"])})
        xml = qreport.qreport_xml(
            goods, info, draft_report_id="CL" + document["id"].replace("-", "")[-20:],
            submitted_at=document["validFrom"], signed_on=issued_at.date(),
            report_reference=document["id"])
        xml_path = out_dir / f"{stem}.cbam.xml"
        xml_path.write_bytes(xml)
        written.append(xml_path)
    return written


def register(app: typer.Typer) -> None:
    app.command("report")(report_command)
    app.command("verify")(verify_command)
    app.command("attest")(attest_command)
    app.command("revoke-attestation")(revoke_attestation_command)
