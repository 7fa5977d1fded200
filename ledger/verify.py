"""Verification of a signed report against nothing but the report and the chain.

:func:`verify_report` returns a :class:`Verdict`: one named :class:`Check` per question, each
``pass``, ``fail``, ``not_applicable`` or ``skipped`` (could not be checked because an earlier
check failed), with a detail that says what was compared. A report is verified when no check
failed or was skipped.

The checks, in order:

``format``         the document is a report this verifier understands
``signature``      the EIP-712 proof recovers the issuer; its domain names the chain and ledger
``chain_id``       the RPC node serves the chain the report names
``issuer_role``    the issuer held the exporter role at each anchoring block
``record_hash``    each embedded record hashes to the anchored record hash and leaf
``merkle_proof``   each proof leads from the leaf to the stated Merkle root
``anchor``         the root (or per-shipment batch) was anchored by the issuer at that tx and block
``factor_set``     the factor set is registered on chain and shipped with this installation
``recompute``      the footprint recomputed from the embedded inputs equals every reported number
``status``         no record was revoked or superseded by its exporter
``uniqueness``     no other live record of the same shipment (per-shipment path only)
``confirmations``  the anchoring blocks have the required confirmations
``attestations``   live auditor attestations of the report hash, and by whom
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ledger import merkle, records, vc
from ledger.attest import Reader
from ledger.chain_abi import SubjectKind
from ledger.chain_events import RootAnchored, ShipmentRecorded, live_shipment_records
from ledger.errors import FactorError, LedgerError, VerificationError
from ledger.report import (
    ANCHOR_PATHS,
    REPORT_TYPE,
    Anchor,
    ReportItem,
    ShipmentFigures,
    credential_subject,
    period_from_subject,
    report_anchors,
)

__all__ = [
    "CHECK_NAMES",
    "Check",
    "Recompute",
    "Verdict",
    "engine_recompute",
    "factor_sources",
    "verify_proofs",
    "verify_report",
]

PASS, FAIL, NOT_APPLICABLE, SKIPPED = "pass", "fail", "not_applicable", "skipped"

CHECK_NAMES: tuple[str, ...] = (
    "format", "signature", "chain_id", "issuer_role", "record_hash", "merkle_proof", "anchor",
    "factor_set", "recompute", "status", "uniqueness", "confirmations", "attestations",
)

#: Recomputes one shipment from its embedded record and the report's period: the report figures
#: and the rebuilt record. Raises ``FactorError`` when the record's factor set is not shipped.
Recompute = Callable[[Mapping[str, Any], tuple[date, date]],
                     tuple[ShipmentFigures, Mapping[str, Any]]]

_HEX32 = re.compile(r"^0x[0-9a-f]{64}$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


@dataclass(frozen=True)
class Check:
    """One named question of a verdict and its answer."""

    name: str
    status: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "detail": self.detail}


@dataclass
class Verdict:
    """All checks of one report."""

    report_id: str | None
    issuer: str | None
    report_hash: str | None
    checks: list[Check] = field(default_factory=list)
    attestations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.status in (PASS, NOT_APPLICABLE) for c in self.checks)

    @property
    def failed(self) -> list[str]:
        return [c.name for c in self.checks if c.status in (FAIL, SKIPPED)]

    def check(self, name: str) -> Check:
        return next(c for c in self.checks if c.name == name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "verified": self.ok, "reportId": self.report_id, "issuer": self.issuer,
            "reportHash": self.report_hash, "failed": self.failed,
            "checks": [c.to_dict() for c in self.checks], "attestations": self.attestations,
        }


class _Fail(Exception):
    """A check failed; the message is its detail."""


@dataclass
class _Parsed:
    document: Mapping[str, Any]
    issuer: str
    chain_id: int
    contract: str
    anchors: list[tuple[str, Anchor]]


def _parse(document: Any) -> _Parsed:
    if not isinstance(document, Mapping):
        raise _Fail("the report is not a JSON object")
    context = document.get("@context")
    if not isinstance(context, list) or not context or context[0] != vc.VC_CONTEXT:
        raise _Fail(f"@context must start with {vc.VC_CONTEXT}")
    types = document.get("type")
    if not isinstance(types, list) or types != ["VerifiableCredential", REPORT_TYPE]:
        raise _Fail(f"type must be [VerifiableCredential, {REPORT_TYPE}]")
    try:
        chain_id, issuer = vc.address_from_did(str(document.get("issuer")))
    except VerificationError as exc:
        raise _Fail(str(exc)) from None
    subject = document.get("credentialSubject")
    if not isinstance(subject, Mapping) or subject.get("type") != REPORT_TYPE:
        raise _Fail("credentialSubject is not a shipment footprint report")
    anchors: list[tuple[str, Anchor]] = []
    for shipment_id, data in report_anchors(document):
        try:
            anchor = Anchor.from_dict(data)
        except (KeyError, TypeError) as exc:
            raise _Fail(f"shipment {shipment_id}: anchor extension lacks {exc}") from None
        _check_anchor_types(shipment_id, anchor)
        anchors.append((shipment_id, anchor))
    if not anchors or len(anchors) != len(subject.get("shipmentIds") or []):
        raise _Fail("every shipment of the report needs exactly one anchor extension")
    first = anchors[0][1]
    return _Parsed(document, issuer, chain_id, first.contract, anchors)


def _check_anchor_types(shipment_id: str, a: Anchor) -> None:
    def need(ok: bool, what: str) -> None:
        if not ok:
            raise _Fail(f"shipment {shipment_id}: {what}")

    need(type(a.chain_id) is int and a.chain_id > 0, "chainId must be a positive integer")
    need(isinstance(a.contract, str) and bool(_ADDRESS.match(a.contract)), "contract address")
    need(a.path in ANCHOR_PATHS, f"anchoring must be one of {ANCHOR_PATHS}")
    for name, value in (("batchId", a.batch_id), ("transactionHash", a.transaction_hash),
                        ("leaf.shipmentId", a.chain_shipment_id),
                        ("leaf.recordHash", a.record_hash), ("factorSetId", a.factor_set_id)):
        need(isinstance(value, str) and bool(_HEX32.match(value)), f"{name} must be 0x+64 hex")
    need(a.merkle_root is None or (isinstance(a.merkle_root, str)
                                   and bool(_HEX32.match(a.merkle_root))), "merkleRoot")
    need(a.path != "root" or a.merkle_root is not None, "root anchoring needs a merkleRoot")
    need(all(isinstance(p, str) and _HEX32.match(p) for p in a.proof), "proof elements")
    need(type(a.block_number) is int and a.block_number >= 0, "blockNumber")
    need(type(a.co2e_wtw_g) is int and type(a.co2e_ttw_g) is int, "leaf grams must be integers")
    need(isinstance(a.record, Mapping), "record must be an object")
    need(isinstance(a.factor_set_uri, str), "factorSetUri must be a string")


def _b32(value: str) -> bytes:
    return bytes.fromhex(value[2:])


def _run(verdict: Verdict, name: str, fn: Callable[[], tuple[str, str]]) -> bool:
    """Runs one check into the verdict; True when it passed or did not apply."""
    try:
        status, detail = fn()
    except _Fail as exc:
        status, detail = FAIL, str(exc)
    except LedgerError as exc:
        status, detail = FAIL, f"{type(exc).__name__}: {exc}"
    verdict.checks.append(Check(name, status, detail))
    return status in (PASS, NOT_APPLICABLE)


def _skip(verdict: Verdict, names: Iterable[str], why: str) -> None:
    for name in names:
        verdict.checks.append(Check(name, SKIPPED, f"not checked: {why}"))


def _signature(p: _Parsed) -> tuple[str, str]:
    try:
        recovered = vc.recover_issuer(p.document)
    except VerificationError as exc:
        raise _Fail(str(exc)) from None
    if recovered != p.issuer:
        raise _Fail(f"the signature recovers {recovered}, not the issuer {p.issuer}")
    proof = p.document["proof"]
    domain = proof["eip712"]["domain"]
    if domain != vc.eip712_domain(p.chain_id, p.contract):
        raise _Fail(f"the EIP-712 domain {dict(domain)} is not bound to chain {p.chain_id} "
                    f"and ledger {p.contract}")
    for _, anchor in p.anchors:
        if anchor.chain_id != p.chain_id or anchor.contract.lower() != p.contract.lower():
            raise _Fail("the anchors name another chain or contract than the signature domain")
    if proof.get("proofPurpose") != "assertionMethod" or proof.get(
            "verificationMethod") != f"{p.document['issuer']}#blockchainAccountId":
        raise _Fail("proofPurpose/verificationMethod do not name the issuer's account")
    return PASS, f"EIP-712 signature by {p.issuer} (chain {p.chain_id}, ledger {p.contract})"


def _record_hash(p: _Parsed) -> tuple[str, str]:
    for shipment_id, a in p.anchors:
        try:
            leaf = records.record_leaf(a.record)
            computed = records.record_hash(a.record)
        except LedgerError as exc:
            raise _Fail(f"shipment {shipment_id}: the embedded record is invalid: {exc}") from None
        if computed != a.record_hash:
            raise _Fail(f"shipment {shipment_id}: record hashes to {computed}, "
                        f"the anchor says {a.record_hash}")
        expected = (_b32(a.chain_shipment_id), _b32(a.record_hash), a.co2e_wtw_g, a.co2e_ttw_g)
        if tuple(leaf) != expected:
            raise _Fail(f"shipment {shipment_id}: the leaf does not match the record")
        if a.record.get("shipment_id") != shipment_id:
            raise _Fail(f"shipment {shipment_id}: the record is of shipment "
                        f"{a.record.get('shipment_id')!r}")
        if str(a.record.get("exporter", "")).lower() != p.issuer.lower():
            raise _Fail(f"shipment {shipment_id}: the record's exporter is not the issuer")
        if a.record.get("factor_set_id") != a.factor_set_id:
            raise _Fail(f"shipment {shipment_id}: the record names another factor set")
    return PASS, f"{len(p.anchors)} record(s) hash to their anchored leaves"


def _merkle(p: _Parsed) -> tuple[str, str]:
    checked = 0
    for shipment_id, a in p.anchors:
        if a.merkle_root is None:
            if a.proof:
                raise _Fail(f"shipment {shipment_id}: a proof without a Merkle root")
            continue
        leaf = merkle.make_leaf(a.chain_shipment_id, a.record_hash, a.co2e_wtw_g, a.co2e_ttw_g)
        if not merkle.verify_proof(a.merkle_root, leaf, a.proof):
            raise _Fail(f"shipment {shipment_id}: the proof does not lead to {a.merkle_root}")
        checked += 1
    if not checked:
        return NOT_APPLICABLE, "per-shipment anchoring: no Merkle root to prove against"
    return PASS, f"{checked} proof(s) lead to their roots"


def _anchor(p: _Parsed, reader: Reader) -> tuple[str, str]:
    roots: dict[str, tuple[str, int, int]] = {}
    batches: dict[str, tuple[str, int, int]] = {}
    txs: dict[str, Any] = {}
    for shipment_id, a in p.anchors:
        if a.transaction_hash not in txs:
            txs[a.transaction_hash] = reader.transaction(_b32(a.transaction_hash))
        tx = txs[a.transaction_hash]
        if tx is None:
            raise _Fail(f"shipment {shipment_id}: transaction {a.transaction_hash} is not on "
                        "chain (dropped or reorganised away)")
        if tx.status != 1 or tx.block_number != a.block_number:
            raise _Fail(f"shipment {shipment_id}: transaction is in block {tx.block_number} "
                        f"(status {tx.status}), the report says block {a.block_number}")
        if a.path == "root":
            root = str(a.merkle_root)
            if root not in roots:
                roots[root] = reader.root_info(_b32(root))
            exporter, block, _ = roots[root]
            found = any(isinstance(e, RootAnchored) and e.root == _b32(root)
                        and e.exporter == p.issuer for e in tx.events)
            what = f"root {root}"
        else:
            if a.batch_id not in batches:
                batches[a.batch_id] = reader.batch_info(_b32(a.batch_id))
            exporter, block, _ = batches[a.batch_id]
            found = any(isinstance(e, ShipmentRecorded)
                        and e.shipment_id == _b32(a.chain_shipment_id)
                        and e.record_hash == _b32(a.record_hash) and e.exporter == p.issuer
                        and (e.co2e_wtw_g, e.co2e_ttw_g) == (a.co2e_wtw_g, a.co2e_ttw_g)
                        for e in tx.events)
            what = f"batch {a.batch_id}"
        if int(exporter, 16) == 0:
            raise _Fail(f"shipment {shipment_id}: {what} is not anchored on chain")
        if exporter != p.issuer or block != a.block_number:
            raise _Fail(f"shipment {shipment_id}: {what} was anchored by {exporter} in block "
                        f"{block}, the report says {p.issuer} in block {a.block_number}")
        if not found:
            raise _Fail(f"shipment {shipment_id}: transaction {a.transaction_hash} does not "
                        f"carry the anchoring event of {what}")
    return PASS, (f"{len(roots)} root(s) and {len(batches)} batch(es) anchored by the issuer "
                  f"in {len(txs)} transaction(s)")


def _issuer_role(p: _Parsed, reader: Reader) -> tuple[str, str]:
    notes = []
    for block in sorted({a.block_number for _, a in p.anchors}):
        try:
            held = reader.has_role("exporter", p.issuer, block)
        except LedgerError:  # a node without historical state
            held = reader.has_role("exporter", p.issuer)
            notes.append(f"block {block} state unavailable, checked the latest block")
        if not held:
            raise _Fail(f"{p.issuer} did not hold the exporter role at block {block}")
    return PASS, "exporter role held at the anchoring block(s)" + (
        f" ({'; '.join(notes)})" if notes else "")


def _factor_sets(p: _Parsed, reader: Reader) -> tuple[str, str]:
    ids = sorted({a.factor_set_id for _, a in p.anchors})
    for fid in ids:
        if not reader.factor_set_registered(_b32(fid)):
            raise _Fail(f"factor set {fid} is not registered on chain")
    return PASS, "registered on chain: " + ", ".join(ids)


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


def _recompute(p: _Parsed, recompute: Recompute) -> tuple[str, str]:
    reported = p.document["credentialSubject"]
    try:
        period = period_from_subject(reported)
    except (KeyError, TypeError, ValueError) as exc:
        raise _Fail(f"the reporting period cannot be read: {exc}") from None
    items = []
    for shipment_id, anchor in p.anchors:
        try:
            figures, rebuilt = recompute(anchor.record, period)
        except FactorError as exc:
            raise _Fail(f"shipment {shipment_id}: {exc}") from None
        except LedgerError as exc:
            raise _Fail(f"shipment {shipment_id}: the embedded inputs cannot be recomputed: "
                        f"{exc}") from None
        if records.record_hash(rebuilt) != anchor.record_hash:
            diffs = _first_differences(rebuilt, anchor.record, "$.record")
            raise _Fail(f"shipment {shipment_id}: the recomputed record differs: "
                        + "; ".join(diffs))
        items.append(ReportItem(figures, anchor))
    expected = credential_subject(items, str(p.document.get("validFrom")), period)
    if expected != reported:
        raise _Fail("reported numbers differ from the recomputation: "
                    + "; ".join(_first_differences(expected, reported, "$.credentialSubject")))
    return PASS, f"{len(items)} footprint(s) recomputed; every reported number matches"


def _status(p: _Parsed, reader: Reader) -> tuple[str, str]:
    ended = reader.ended_records(p.issuer)
    for shipment_id, a in p.anchors:
        state = ended.get(_b32(a.record_hash))
        if state is not None:
            raise _Fail(f"shipment {shipment_id}: record {a.record_hash} was "
                        f"{state.name.lower()} by its exporter")
    return PASS, "no record revoked or superseded"


def _uniqueness(p: _Parsed, reader: Reader) -> tuple[str, str]:
    per_shipment = [(s, a) for s, a in p.anchors if a.path == "per-shipment"]
    if not per_shipment:
        return NOT_APPLICABLE, ("root-only anchoring: shipment ids are not on chain, so the "
                                "absence of another live record is not provable on chain")
    for shipment_id, a in per_shipment:
        live = live_shipment_records(reader.shipment_events(_b32(a.chain_shipment_id)))
        others = [r for r in live if r.record_hash != _b32(a.record_hash)
                  or r.exporter != p.issuer]
        if others:
            raise _Fail(f"shipment {shipment_id}: {len(others)} other live record(s) on chain, "
                        f"e.g. 0x{others[0].record_hash.hex()} by {others[0].exporter}")
    note = "" if len(per_shipment) == len(p.anchors) else (
        f"; {len(p.anchors) - len(per_shipment)} root-anchored shipment(s) not provable")
    return PASS, f"one live record per shipment ({len(per_shipment)} checked){note}"


def _confirmations(p: _Parsed, reader: Reader, required: int) -> tuple[str, str]:
    latest = reader.latest_block()
    deepest = max(a.block_number for _, a in p.anchors)
    have = latest - deepest + 1
    if have < required:
        raise _Fail(f"block {deepest} has {have} confirmation(s), {required} required")
    return PASS, f"{have} confirmation(s) (required {required})"


def _attestations(verdict: Verdict, reader: Reader, report_hash: bytes,
                  required: bool) -> tuple[str, str]:
    found = reader.attestations(SubjectKind.REPORT, report_hash)
    verdict.attestations = [a.to_dict() for a in found]
    live = [a for a in found if a.live and a.is_auditor]
    revoked = [a for a in found if not a.live]
    tail = f"; {len(revoked)} revoked" if revoked else ""
    if live:
        return PASS, "attested by " + ", ".join(
            f"{a.auditor} at {a.attested_at}" for a in live) + tail
    if required:
        raise _Fail("no live attestation by an auditor" + tail)
    return NOT_APPLICABLE, "no live attestation" + tail


def verify_report(
    document: Any,
    reader: Reader,
    *,
    recompute: Recompute,
    min_confirmations: int = 1,
    require_attestation: bool = False,
) -> Verdict:
    """Checks a report against the chain ``reader`` reads; see the module docstring."""
    report_hash: bytes | None = None
    try:
        report_hash = vc.report_hash(document) if isinstance(document, Mapping) else None
    except LedgerError:
        report_hash = None
    verdict = Verdict(
        report_id=document.get("id") if isinstance(document, Mapping) else None,
        issuer=document.get("issuer") if isinstance(document, Mapping) else None,
        report_hash=None if report_hash is None else "0x" + report_hash.hex(),
    )
    parsed: list[_Parsed] = []

    def parse() -> tuple[str, str]:
        parsed.append(_parse(document))
        return PASS, f"VC 2.0 report with {len(parsed[0].anchors)} anchored shipment(s)"

    if not _run(verdict, "format", parse) or report_hash is None:
        _skip(verdict, CHECK_NAMES[1:], "the report is malformed")
        return verdict
    p = parsed[0]
    _run(verdict, "signature", lambda: _signature(p))

    def chain_id() -> tuple[str, str]:
        node = reader.chain_id()
        if node != p.chain_id:
            raise _Fail(f"the RPC node serves chain {node}, the report is on chain {p.chain_id}")
        return PASS, f"chain {node}"

    on_chain = _run(verdict, "chain_id", chain_id)
    offline_ok = {}
    if on_chain:
        _run(verdict, "issuer_role", lambda: _issuer_role(p, reader))
    else:
        _skip(verdict, ["issuer_role"], "wrong chain")
    offline_ok["record_hash"] = _run(verdict, "record_hash", lambda: _record_hash(p))
    _run(verdict, "merkle_proof", lambda: _merkle(p))
    if on_chain:
        _run(verdict, "anchor", lambda: _anchor(p, reader))
        _run(verdict, "factor_set", lambda: _factor_sets(p, reader))
    else:
        _skip(verdict, ["anchor", "factor_set"], "wrong chain")
    if offline_ok["record_hash"]:
        _run(verdict, "recompute", lambda: _recompute(p, recompute))
    else:
        _skip(verdict, ["recompute"], "the embedded records do not match their anchors")
    if on_chain:
        _run(verdict, "status", lambda: _status(p, reader))
        _run(verdict, "uniqueness", lambda: _uniqueness(p, reader))
        _run(verdict, "confirmations", lambda: _confirmations(p, reader, min_confirmations))
        _run(verdict, "attestations",
             lambda: _attestations(verdict, reader, report_hash, require_attestation))
    else:
        _skip(verdict, ["status", "uniqueness", "confirmations", "attestations"], "wrong chain")
    return verdict


def verify_proofs(
    entries: Sequence[tuple[merkle.Leaf, Sequence[str]]],
    root: str,
    exporter: str,
    reader: Reader,
) -> tuple[int, list[int]]:
    """Checks many shipments' proofs against one root, fetched once from the chain.

    Returns (number checked, indices of failing entries); a root not anchored by ``exporter``
    fails every entry.
    """
    anchored_by, _, _ = reader.root_info(_b32(root))
    if anchored_by.lower() != exporter.lower():
        return len(entries), list(range(len(entries)))
    bad = [i for i, (leaf, proof) in enumerate(entries)
           if not merkle.verify_proof(root, leaf, proof)]
    return len(entries), bad


def factor_sources(factor_set: Any) -> list[tuple[str, str]]:
    """PACT ``secondaryEmissionFactorSources`` of a factor set: each table file and its digest."""
    described = factor_set.describe()
    return [(str(t["name"]), "sha256:" + str(t["sha256"])[:16])
            for _, t in sorted(described["tables"].items())]


def engine_recompute(factor_sets: Sequence[Any]) -> Recompute:
    """A :data:`Recompute` over the footprint engine and the given (shipped) factor sets."""
    from ledger.footprint import compute_shipment
    from ledger.shipments import Shipment

    by_id = {str(fs.id).lower(): fs for fs in factor_sets}

    def recompute(record: Mapping[str, Any], period: tuple[date, date]
                  ) -> tuple[ShipmentFigures, Mapping[str, Any]]:
        from ledger.report import figures_from_record

        wanted = str(record.get("factor_set_id", "")).lower()
        factor_set = by_id.get(wanted)
        if factor_set is None:
            raise FactorError(
                f"factor set {wanted} is not shipped with this installation "
                f"(known: {', '.join(sorted(by_id)) or 'none'}); the footprint cannot be "
                "recomputed with the exact tables it names")
        shipment = Shipment.from_dict(record["shipment"])
        footprint = compute_shipment(shipment, factor_set)
        rebuilt = records.build_record(shipment.to_dict(), footprint.to_dict(),
                                       exporter=str(record["exporter"]),
                                       factor_set_id=str(factor_set.id))
        figures = figures_from_record(rebuilt, period=period,
                                      factor_sources=factor_sources(factor_set))
        return figures, rebuilt

    return recompute
