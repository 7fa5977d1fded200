"""Verification of a signed report against nothing but the report and the chain.

:func:`verify_report` returns a :class:`Verdict`: one named :class:`Check` per question, each
``pass``, ``fail``, ``not_applicable`` or ``skipped`` (could not be checked because an earlier
check failed), with a detail that says what was compared. A report is verified when every check
passed or did not apply; the verdict names the failed checks apart from the skipped ones.

The checks, in order (those reading only the report are in :mod:`ledger.verify.document`,
those reading the ledger contract in :mod:`ledger.verify.onchain`):

``format``         the document is a report this verifier understands
``signature``      the EIP-712 proof recovers the issuer; its domain names the chain and ledger
``data_integrity`` the W3C Data Integrity proof (ecdsa-jcs-2019) verifies with its did:key, which
                   the EIP-712 proof covers (not applicable to reports of the earlier proof type)
``chain_id``       the RPC node serves the chain the report names
``issuer_role``    the issuer held the exporter role at each anchoring block
``record_hash``    each embedded record hashes to the anchored record hash and leaf
``merkle_proof``   each proof leads from the leaf to the stated Merkle root
``anchor``         the root (or per-shipment batch) was anchored by the issuer at that tx and block
``factor_set``     the factor set is registered on chain and shipped with this installation
``recompute``      the footprint recomputed from the embedded inputs, with the factor set each
                   record names, equals every reported number
``status``         no record was revoked or superseded by its exporter
``uniqueness``     no other live record of the same shipment (per-shipment path only)
``confirmations``  the anchoring blocks have the required confirmations
``attestations``   live auditor attestations of the report hash, and by whom
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING, Any, cast

from ledger.chain.contract import CarbonLedgerContract
from ledger.errors import LedgerError, VerificationError
from ledger.records import merkle
from ledger.reports import vc
from ledger.reports.figures import Recompute, shipped_recompute
from ledger.reports.parse import ParsedReport, parse_report, report_chain
from ledger.types import Bytes32
from ledger.verify.document import (
    check_data_integrity,
    check_merkle_proofs,
    check_recompute,
    check_record_hash,
    check_signature,
)
from ledger.verify.onchain import (
    check_anchor,
    check_attestations,
    check_confirmations,
    check_factor_sets,
    check_issuer_role,
    check_status,
    check_uniqueness,
)
from ledger.verify.reader import Reader, missing_contract, open_report_chain, prefetch_report
from ledger.verify.verdict import (
    CHECK_NAMES,
    FAIL,
    NOT_APPLICABLE,
    PASS,
    SKIPPED,
    Check,
    CheckFailed,
    Verdict,
)

if TYPE_CHECKING:
    from ledger.config import ChainSettings

__all__ = [
    "verify_on_chain",
    "verify_proofs",
    "verify_report",
]



def _run(verdict: Verdict, name: str, fn: Callable[[], tuple[str, str]]) -> bool:
    """Runs one check into the verdict; True when it passed or did not apply."""
    try:
        status, detail = fn()
    except CheckFailed as exc:
        status, detail = FAIL, str(exc)
    except LedgerError as exc:
        status, detail = FAIL, f"{type(exc).__name__}: {exc}"
    verdict.checks.append(Check(name, status, detail))
    return status in (PASS, NOT_APPLICABLE)


def _recompute_naming_places(p: ParsedReport, recompute: Recompute) -> tuple[str, str]:
    """:func:`check_recompute`; a difference also names the places tables this installation
    derives distances from positions with (they are not part of the factor-set id)."""
    try:
        return check_recompute(p, recompute)
    except CheckFailed as exc:
        if "differ" not in str(exc):
            raise
        from ledger.factors.places import places_tables

        tables = ", ".join(f"{name} (sha256 {digest})" for name, digest in places_tables())
        raise CheckFailed(f"{exc} [distances not given in the record were derived here from "
                          f"positions in {tables}: a record computed with other versions of "
                          "these tables recomputes differently]") from None


def _skip(verdict: Verdict, names: Iterable[str], why: str) -> None:
    for name in names:
        verdict.checks.append(Check(name, SKIPPED, f"not checked: {why}"))


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
    parsed: list[ParsedReport] = []

    def parse() -> tuple[str, str]:
        try:
            parsed.append(parse_report(document))
        except VerificationError as exc:
            raise CheckFailed(str(exc)) from None
        return PASS, f"VC 2.0 report with {len(parsed[0].anchors)} anchored shipment(s)"

    if not _run(verdict, "format", parse) or report_hash is None:
        _skip(verdict, CHECK_NAMES[1:], "the report is malformed")
        return verdict
    p = parsed[0]
    _run(verdict, "signature", lambda: check_signature(p))
    _run(verdict, "data_integrity", lambda: check_data_integrity(p))

    def chain_id() -> tuple[str, str]:
        node = reader.node_chain_id()
        if node != p.chain_id:
            raise CheckFailed(f"the RPC node serves chain {node}, the report is on chain "
                              f"{p.chain_id}")
        missing = missing_contract(reader, p.contract, node)
        if missing is not None:
            raise CheckFailed(missing)
        return PASS, f"chain {node}"

    on_chain = _run(verdict, "chain_id", chain_id)
    offline_ok = {}
    if on_chain:
        _run(verdict, "issuer_role", lambda: check_issuer_role(p, reader))
    else:
        _skip(verdict, ["issuer_role"], "wrong chain, or no contract at its address")
    offline_ok["record_hash"] = _run(verdict, "record_hash", lambda: check_record_hash(p))
    _run(verdict, "merkle_proof", lambda: check_merkle_proofs(p))
    if on_chain:
        _run(verdict, "anchor", lambda: check_anchor(p, reader))
        _run(verdict, "factor_set", lambda: check_factor_sets(p, reader))
    else:
        _skip(verdict, ["anchor", "factor_set"], "wrong chain, or no contract at its address")
    if offline_ok["record_hash"]:
        _run(verdict, "recompute", lambda: _recompute_naming_places(p, recompute))
    else:
        _skip(verdict, ["recompute"], "the embedded records do not match their anchors")
    if on_chain:
        _run(verdict, "status", lambda: check_status(p, reader))
        _run(verdict, "uniqueness", lambda: check_uniqueness(p, reader))
        _run(verdict, "confirmations",
             lambda: check_confirmations(p, reader, min_confirmations))
        _run(verdict, "attestations",
             lambda: check_attestations(verdict, reader, report_hash, require_attestation))
    else:
        _skip(verdict, ["status", "uniqueness", "confirmations", "attestations"],
              "wrong chain, or no contract at its address")
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
    anchored_by = reader.root_info(Bytes32.parse(root)).exporter
    if anchored_by is None or anchored_by.lower() != exporter.lower():
        return len(entries), list(range(len(entries)))
    bad = [i for i, (leaf, proof) in enumerate(entries)
           if not merkle.verify_proof(root, leaf, proof)]
    return len(entries), bad


class _NoChain:
    """Stands in for a reader when a report names no chain; the format check fails first."""

    def __getattr__(self, name: str) -> Any:
        raise VerificationError("the report names no chain to read")


def verify_on_chain(
    document: Any,
    settings: ChainSettings,
    *,
    recompute: Recompute | None = None,
    min_confirmations: int = 1,
    require_attestation: bool = False,
) -> Verdict:
    """Verifies a report against the node of ``settings`` over a read-only connection (no key),
    recomputing each record with the shipped factor set it names unless ``recompute`` is
    given.

    Raises ``RpcUnavailable`` when the node cannot be reached and ``ChainIdMismatch`` when it
    serves another chain than the report's.
    """
    from ledger.verify.declaration import is_declaration, verify_declaration_on_chain

    if is_declaration(document):  # a CBAM declaration: its own checks (ledger.verify.declaration)
        return verify_declaration_on_chain(document, settings,
                                           min_confirmations=min_confirmations)
    recompute = recompute or shipped_recompute()
    with _report_reader(document, settings) as reader:
        # on a real chain, the report's chain reads are fetched in one batch
        batched = (prefetch_report(reader, document) if isinstance(reader, CarbonLedgerContract)
                   else nullcontext())
        with batched:
            return verify_report(document, reader, recompute=recompute,
                                 min_confirmations=min_confirmations,
                                 require_attestation=require_attestation)


@contextmanager
def _report_reader(document: Any, settings: ChainSettings) -> Iterator[Reader]:
    try:
        report_chain(document)
    except VerificationError:
        yield cast(Reader, _NoChain())
        return
    with open_report_chain(document, settings) as ledger:
        yield ledger
