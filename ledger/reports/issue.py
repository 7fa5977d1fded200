"""Issuing report files from the anchoring pipeline's proof bundles.

:func:`issue_report` turns proof bundles (:func:`ledger.anchoring.proofs.proof_bundle`) into one
signed report: each embedded record is recomputed with the shipped factor set, exactly as a verifier
will, and a record that does not follow from its inputs is refused. :func:`report_files` renders
the files of a report (JSON, HTML, and for CBAM goods the declaration summary and, with the
importer's declarant data, the QReport XML) without touching the disk;
:func:`write_report_files` does both and writes them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, cast

from ledger.anchoring.proofs import ProofBundle
from ledger.errors import InputError, InputProblem, LedgerError
from ledger.factors.factorset import FactorSet
from ledger.records import record as records
from ledger.reports import qreport
from ledger.reports.document import build_report
from ledger.reports.figures import Recompute, engine_recompute, shipped_recompute
from ledger.reports.html import render_html
from ledger.reports.model import Anchor, ReportItem
from ledger.reports.parse import cbam_goods_from_subject

__all__ = [
    "anchor_data",
    "declarant_from_dict",
    "issue_report",
    "read_json_inputs",
    "report_files",
    "write_report_files",
]


def read_json_inputs(paths: Sequence[Path]) -> list[Mapping[str, object]]:
    """The JSON objects of input files (proof bundles, declarant data); ``InputError`` lists
    every file that cannot be read or holds something else than one JSON object."""
    documents: list[Mapping[str, object]] = []
    problems = []
    for path in paths:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            problems.append(InputProblem(f"{path}: not a readable JSON file: {exc}"))
            continue
        if isinstance(document, dict):
            documents.append(document)
        else:
            problems.append(InputProblem(f"{path}: expected one JSON object, found "
                                         f"{type(document).__name__}"))
    if problems:
        raise InputError(problems)
    return documents


def anchor_data(bundle: Mapping[str, object], factor_set_uri: str = "") -> Mapping[str, object]:
    """The anchor extension data of a proof bundle (:class:`~ledger.anchoring.proofs.ProofBundle`;
    a malformed one raises ``KeyError`` or ``TypeError``); a bundle already in the anchor
    extension's form is returned as it is."""
    if not isinstance(bundle, dict) or "format" not in bundle:
        return bundle
    proof = cast(ProofBundle, bundle)
    tx = proof.get("tx")
    if not tx or tx.get("status") != 1 or tx.get("block_number") is None:
        raise InputError([InputProblem(
            "the shipment's anchoring transaction has no successful receipt yet "
            f"(state {proof.get('state')!r}); run the anchoring to completion first",
            shipment_id=proof.get("shipment_id"))])
    batch, leaf = proof["batch"], proof["leaf"]
    root = batch.get("root") if proof["path"] == "root" else None
    return {
        "chainId": proof["chain_id"], "contract": proof["contract"],
        "anchoring": "root" if proof["path"] == "root" else "per-shipment",
        "batchId": root or batch["batch_id"], "transactionHash": tx["hash"],
        "blockNumber": tx["block_number"], "merkleRoot": root,
        "leaf": {"shipmentId": leaf["shipment_id"], "recordHash": leaf["record_hash"],
                 "co2eWtwG": int(leaf["co2e_wtw_g"]), "co2eTtwG": int(leaf["co2e_ttw_g"])},
        "proof": list(proof.get("proof") or []), "factorSetId": batch["factor_set_id"],
        "factorSetUri": factor_set_uri, "record": proof["record"],
    }


def _set_uri(bundle: Mapping[str, object], factor_set: FactorSet | None) -> str:
    """The URI of the factor set a proof bundle's batch names: ``factor_set``'s, else the
    shipped set's of that id (empty when this installation ships none)."""
    if factor_set is not None:
        return factor_set.uri
    from ledger.factors.factorset import shipped_factor_uri

    batch = bundle.get("batch")
    named = batch.get("factor_set_id") if isinstance(batch, Mapping) else None
    return shipped_factor_uri(str(named)) if named else ""


def issue_report(
    bundles: Sequence[Mapping[str, object]],
    *,
    issuer_key: bytes | str,
    period: tuple[date, date],
    issued_at: datetime,
    factor_set: FactorSet | None = None,
    recompute: Recompute | None = None,
    report_id: str | None = None,
) -> dict[str, Any]:
    """One signed report for the bundles' shipments (see the module docstring).

    ``factor_set``: every record's set (default: each record's own, among the shipped sets);
    ``recompute`` defaults to the footprint engine over it (them).
    Refused before anything is signed (``InputError``): a period that ends before it starts, and
    a record anchored by another exporter than the key's owner.
    """
    if period[1] < period[0]:
        raise InputError([InputProblem(
            f"the reporting period ends ({period[1]}) before it starts ({period[0]})",
            field="last_day")])
    from eth_account import Account

    issuer = Account.from_key(issuer_key).address.lower()
    if factor_set is not None:
        recompute = recompute or engine_recompute([factor_set])
    else:  # each record with the shipped set it names
        recompute = recompute or shipped_recompute()
    items = []
    for number, bundle in enumerate(bundles, start=1):
        try:
            anchor = Anchor.from_dict(anchor_data(bundle, _set_uri(bundle, factor_set)))
        except (KeyError, TypeError) as exc:
            raise InputError([InputProblem(f"proof bundle {number} lacks {exc}")]) from None
        exporter = str(anchor.record.get("exporter", "")).lower()
        if exporter != issuer:
            raise InputError([InputProblem(
                f"the record was anchored by {exporter}, not by this report's issuer {issuer}: "
                "a report carries only its issuer's own records",
                shipment_id=str(anchor.record.get("shipment_id", "")), field="exporter")])
        figures, rebuilt = recompute(anchor.record, period)
        if records.record_hash(rebuilt) != anchor.record_hash:
            raise LedgerError(f"shipment {figures.shipment_id}: the anchored record does not "
                              "follow from its inputs with the factor set it names; not issued")
        items.append(ReportItem(figures, anchor))
    return build_report(items, issuer_key=issuer_key, issued_at=issued_at, period=period,
                        report_id=report_id)


def declarant_from_dict(data: Mapping[str, object]) -> qreport.Declarant:
    """The importer's QReport declarant from its JSON form (the fields of
    :class:`ledger.reports.qreport.Declarant`, ``address`` an object of
    :class:`ledger.reports.qreport.Address` fields)."""
    fields: dict[str, Any] = dict(data)  # JSON values, taken by the dataclasses as they are
    try:
        address = qreport.Address(**fields["address"])
        return qreport.Declarant(**{**fields, "address": address})
    except (KeyError, TypeError) as exc:
        raise InputError([InputProblem(
            f"declarant data: {exc}; expected eori, name, address (country, city, ...), "
            "nca_reference, signature_place, signatory, position", field="declarant")]) from None


def report_files(document: Mapping[str, Any], *, stem: str,
                 declarant: qreport.Declarant | None = None) -> dict[str, bytes]:
    """File name -> content of a report's files: ``stem.json``, ``stem.html``, and for reports
    with CBAM data ``stem.cbam.json``, plus ``stem.cbam.xml`` when CBAM goods and a declarant
    are given."""
    json_name = f"{stem}.json"
    files = {
        json_name: (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode(),
        f"{stem}.html": render_html(document, report_file=json_name).encode(),
    }
    subject = document["credentialSubject"]
    if subject["cbam"]["goods"] or subject["cbam"]["outOfScope"]:
        files[f"{stem}.cbam.json"] = (json.dumps(subject["cbam"], indent=2, ensure_ascii=False)
                                      + "\n").encode()
    goods = cbam_goods_from_subject(subject)
    if goods and declarant is not None:
        files[f"{stem}.cbam.xml"] = qreport.qreport_xml(
            goods, declarant, draft_report_id="CL" + document["id"].replace("-", "")[-20:],
            submitted_at=document["validFrom"],
            signed_on=date.fromisoformat(document["validFrom"][:10]),
            report_reference=document["id"])
    return files


def write_report_files(
    bundles: Sequence[Mapping[str, object]],
    *,
    out_dir: Path,
    stem: str,
    issuer_key: bytes | str,
    period: tuple[date, date],
    issued_at: datetime,
    declarant: Mapping[str, object] | qreport.Declarant | None = None,
) -> list[Path]:
    """Issues one report for the bundles (:func:`issue_report`) and writes its files
    (:func:`report_files`) into ``out_dir``; returns their paths, the JSON report first.

    A bundle is a proof bundle of ``ledger.anchoring.proofs`` or the anchor extension's data.
    """
    if declarant is not None and not isinstance(declarant, qreport.Declarant):
        declarant = declarant_from_dict(declarant)
    document = issue_report(bundles, issuer_key=issuer_key, period=period, issued_at=issued_at)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in report_files(document, stem=stem, declarant=declarant).items():
        path = out_dir / name
        path.write_bytes(content)
        written.append(path)
    return written
