"""The checks of a report that read only the report: its two signatures (EIP-712 and W3C Data
Integrity), its records, its Merkle proofs and the recomputation of every reported number (see
:mod:`ledger.verify.verifier`).

Each check takes the parsed report and returns ``(status, detail)`` or raises
:class:`~ledger.verify.verdict.CheckFailed` with the detail of the failure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledger.errors import FactorError, LedgerError, VerificationError
from ledger.records import merkle
from ledger.records import record as records
from ledger.reports import integrity, vc
from ledger.reports.document import credential_subject
from ledger.reports.figures import Recompute
from ledger.reports.model import REPORT_FORMAT, REPORT_FORMATS, ReportItem
from ledger.reports.parse import ParsedReport, period_from_subject
from ledger.types import Bytes32
from ledger.verify.verdict import NOT_APPLICABLE, PASS, CheckFailed

__all__ = [
    "check_data_integrity",
    "check_merkle_proofs",
    "check_recompute",
    "check_record_hash",
    "check_signature",
]



def check_signature(p: ParsedReport) -> tuple[str, str]:
    try:
        recovered = vc.recover_issuer(p.document)
    except VerificationError as exc:
        raise CheckFailed(str(exc)) from None
    if recovered != p.issuer:
        raise CheckFailed(f"the signature recovers {recovered}, not the issuer {p.issuer}")
    proof = vc.eip712_proof(p.document)
    domain = proof["eip712"]["domain"]
    if domain != vc.eip712_domain(p.chain_id, p.contract):
        raise CheckFailed(f"the EIP-712 domain {dict(domain)} is not bound to chain {p.chain_id} "
                    f"and ledger {p.contract}")
    for _, anchor in p.anchors:
        if anchor.chain_id != p.chain_id or anchor.contract.lower() != p.contract.lower():
            raise CheckFailed("the anchors name another chain or contract than the signature "
                              "domain")
    if proof.get("proofPurpose") != "assertionMethod" or proof.get(
            "verificationMethod") != f"{p.document['issuer']}#blockchainAccountId":
        raise CheckFailed("proofPurpose/verificationMethod do not name the issuer's account")
    legacy = " (earlier proof type " + vc.LEGACY_PROOF_TYPE + ")" if proof.get(
        "type") == vc.LEGACY_PROOF_TYPE else ""
    return PASS, (f"EIP-712 signature by {p.issuer} (chain {p.chain_id}, ledger {p.contract})"
                  + legacy)


def check_data_integrity(p: ParsedReport) -> tuple[str, str]:
    """The W3C Data Integrity proof (ecdsa-jcs-2019) verifies, and the EIP-712 proof covers it.

    Reports of the earlier proof type (EIP-712 only) have none: not applicable for them; a report
    of the current type without one fails.
    """
    proofs = vc.data_integrity_proofs(p.document)
    try:
        eip712 = vc.eip712_proof(p.document)
    except VerificationError as exc:
        raise CheckFailed(str(exc)) from None
    if not proofs:
        if eip712.get("type") == vc.LEGACY_PROOF_TYPE:
            return NOT_APPLICABLE, (f"issued with the earlier proof type {vc.LEGACY_PROOF_TYPE} "
                                    "(EIP-712 only), before Data Integrity proofs")
        raise CheckFailed(f"a {vc.PROOF_TYPE} report needs a Data Integrity proof; none found")
    if len(proofs) != 1:
        raise CheckFailed(f"{len(proofs)} Data Integrity proofs; a report has one")
    proof = proofs[0]
    try:
        method = integrity.verify_proof(p.document, proof)
    except VerificationError as exc:
        raise CheckFailed(str(exc)) from None
    if eip712.get("type") == vc.PROOF_TYPE and eip712.get("previousProof") != proof.get("id"):
        raise CheckFailed("the EIP-712 proof does not name the Data Integrity proof as its "
                          "previousProof")
    return PASS, (f"{integrity.CRYPTOSUITE} signature by {method.split('#')[0]}, a key the "
                  "EIP-712 proof binds to the issuer")


def check_record_hash(p: ParsedReport) -> tuple[str, str]:
    for shipment_id, a in p.anchors:
        try:
            leaf = records.record_leaf(a.record)
            computed = records.record_hash(a.record)
        except LedgerError as exc:
            raise CheckFailed(f"shipment {shipment_id}: the embedded record is invalid: "
                              f"{exc}") from None
        if computed != a.record_hash:
            raise CheckFailed(f"shipment {shipment_id}: record hashes to {computed}, "
                        f"the anchor says {a.record_hash}")
        expected = (Bytes32.parse(a.chain_shipment_id), Bytes32.parse(a.record_hash),
                    a.co2e_wtw_g, a.co2e_ttw_g)
        if tuple(leaf) != expected:
            raise CheckFailed(f"shipment {shipment_id}: the leaf does not match the record")
        if a.record.get("shipment_id") != shipment_id:
            raise CheckFailed(f"shipment {shipment_id}: the record is of shipment "
                        f"{a.record.get('shipment_id')!r}")
        if str(a.record.get("exporter", "")).lower() != p.issuer.lower():
            raise CheckFailed(f"shipment {shipment_id}: the record's exporter is not the issuer")
        if a.record.get("factor_set_id") != a.factor_set_id:
            raise CheckFailed(f"shipment {shipment_id}: the record names factor set "
                              f"{a.record.get('factor_set_id')}, its anchor factor set "
                              f"{a.factor_set_id}")
    return PASS, f"{len(p.anchors)} record(s) hash to their anchored leaves"


def check_merkle_proofs(p: ParsedReport) -> tuple[str, str]:
    checked = 0
    for shipment_id, a in p.anchors:
        if a.merkle_root is None:
            if a.proof:
                raise CheckFailed(f"shipment {shipment_id}: a proof without a Merkle root")
            continue
        leaf = merkle.make_leaf(a.chain_shipment_id, a.record_hash, a.co2e_wtw_g, a.co2e_ttw_g)
        if not merkle.verify_proof(a.merkle_root, leaf, a.proof):
            raise CheckFailed(f"shipment {shipment_id}: the proof does not lead to {a.merkle_root}")
        checked += 1
    if not checked:
        return NOT_APPLICABLE, "per-shipment anchoring: no Merkle root to prove against"
    return PASS, f"{checked} proof(s) lead to their roots"


def _first_differences(a: Any, b: Any, path: str = "$", out: list[str] | None = None,
                       limit: int = 5) -> list[str]:
    out = [] if out is None else out
    if len(out) >= limit:
        return out
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        for key in sorted(set(a) | set(b)):
            _first_differences(a.get(key), b.get(key), f"{path}.{key}", out, limit)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            _first_differences(x, y, f"{path}[{index}]", out, limit)
    elif a != b or type(a) is not type(b):
        out.append(f"{path}: reported {b!r}, recomputed {a!r}")
    return out


def check_recompute(p: ParsedReport, recompute: Recompute) -> tuple[str, str]:
    reported = p.document["credentialSubject"]
    try:
        period = period_from_subject(reported)
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckFailed(f"the reporting period cannot be read: {exc}") from None
    items = []
    for shipment_id, anchor in p.anchors:
        try:
            figures, rebuilt = recompute(anchor.record, period)
        except FactorError as exc:
            raise CheckFailed(f"shipment {shipment_id}: {exc}") from None
        except LedgerError as exc:
            raise CheckFailed(f"shipment {shipment_id}: the embedded inputs cannot be recomputed: "
                        f"{exc}") from None
        if records.record_hash(rebuilt) != anchor.record_hash:
            diffs = _first_differences(rebuilt, anchor.record, "$.record")
            raise CheckFailed(f"shipment {shipment_id}: the recomputed record differs: "
                        + "; ".join(diffs))
        items.append(ReportItem(figures, anchor))
    expected = credential_subject(items, str(p.document.get("validFrom")), period)
    if p.report_format != REPORT_FORMAT:
        raise CheckFailed(_other_format(p.report_format, expected, reported))
    if expected != reported:
        raise CheckFailed("reported numbers differ from the recomputation: "
                    + "; ".join(_first_differences(expected, reported, "$.credentialSubject")))
    return PASS, f"{len(items)} footprint(s) recomputed; every reported number matches"


def _other_format(report_format: int, expected: Mapping[str, Any],
                  reported: Mapping[str, Any]) -> str:
    """Why a report of another format cannot pass ``recompute``, and what did match."""
    rendering_free = ("shipmentIds", "reportingPeriod", "totals", "production", "cbam")
    differing = [key for key in rendering_free if expected.get(key) != reported.get(key)]
    compared = ("its records recompute and its " + ", ".join(rendering_free) + " match"
                if not differing else
                "its records recompute but its " + ", ".join(differing) + " differ")
    return (f"the report is in format {report_format} ({REPORT_FORMATS[report_format]}); this "
            f"release rebuilds format {REPORT_FORMAT} ({REPORT_FORMATS[REPORT_FORMAT]}) only, "
            f"so its PACT footprints cannot be compared: {compared}. Issue the report again "
            "from the anchored records (`carbon-ledger report`) for a full check")
