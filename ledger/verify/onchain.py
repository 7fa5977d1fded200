"""The checks of a report against the ledger contract: who anchored what, where and when, the
factor set, the records' status, conflicting records, confirmations and attestations (see
:mod:`ledger.verify.verifier`).

Each check takes the parsed report and a :class:`~ledger.verify.reader.Reader` and returns
``(status, detail)`` or raises :class:`~ledger.verify.verdict.CheckFailed`.
:func:`attestation_dict` is how the verdict lists an attestation.
"""

from __future__ import annotations

from typing import Any

from ledger.chain.abi import SubjectKind
from ledger.chain.contract import EXPORTER_ROLE
from ledger.chain.events import ChainEvent, RootAnchored, ShipmentRecorded, live_shipment_records
from ledger.chain.types import AnchorInfo, AttestationInfo, Receipt
from ledger.errors import LedgerError
from ledger.reports.parse import ParsedReport
from ledger.types import Bytes32
from ledger.verify.reader import Reader
from ledger.verify.verdict import NOT_APPLICABLE, PASS, CheckFailed, Verdict

__all__ = [
    "attestation_dict",
    "check_anchor",
    "check_attestations",
    "check_confirmations",
    "check_factor_sets",
    "check_issuer_role",
    "check_status",
    "check_uniqueness",
]



def check_anchor(p: ParsedReport, reader: Reader) -> tuple[str, str]:
    roots: dict[str, AnchorInfo] = {}
    batches: dict[str, AnchorInfo] = {}
    txs: dict[str, tuple[Receipt, list[ChainEvent]] | None] = {}
    for shipment_id, a in p.anchors:
        if a.transaction_hash not in txs:
            receipt = reader.receipt(Bytes32.parse(a.transaction_hash))
            txs[a.transaction_hash] = (None if receipt is None
                                       else (receipt, reader.events_in(receipt)))
        mined = txs[a.transaction_hash]
        if mined is None:
            raise CheckFailed(f"shipment {shipment_id}: transaction {a.transaction_hash} is not on "
                              "chain: the anchoring is lost (the chain was reset, rolled back or "
                              "forked since the report was issued, or the transaction was "
                              "dropped)" + _anchored_again(a, p.issuer, reader))
        tx, events = mined
        if tx.status != 1 or tx.block_number != a.block_number:
            raise CheckFailed(f"shipment {shipment_id}: transaction is in block {tx.block_number} "
                              f"(status {tx.status}), the report says block {a.block_number}: "
                              "the chain was reorganised or reset since the report was issued")
        if a.path == "root":
            root = str(a.merkle_root)
            if a.batch_id != root:
                raise CheckFailed(f"shipment {shipment_id}: on the root path the batch id is the "
                                  f"Merkle root {root}, the report says {a.batch_id}")
            if root not in roots:
                roots[root] = reader.root_info(Bytes32.parse(root))
            info = roots[root]
            found = any(isinstance(e, RootAnchored) and e.root == Bytes32.parse(root)
                        and e.exporter == p.issuer
                        and e.factor_set_id == Bytes32.parse(a.factor_set_id) for e in events)
            what = f"root {root}"
        else:
            if a.batch_id not in batches:
                batches[a.batch_id] = reader.batch_info(Bytes32.parse(a.batch_id))
            info = batches[a.batch_id]
            found = any(isinstance(e, ShipmentRecorded)
                        and e.shipment_id == Bytes32.parse(a.chain_shipment_id)
                        and e.record_hash == Bytes32.parse(a.record_hash) and e.exporter == p.issuer
                        and e.factor_set_id == Bytes32.parse(a.factor_set_id)
                        and (e.co2e_wtw_g, e.co2e_ttw_g) == (a.co2e_wtw_g, a.co2e_ttw_g)
                        for e in events)
            what = f"batch {a.batch_id}"
        if info.exporter is None:
            raise CheckFailed(f"shipment {shipment_id}: {what} is not anchored on chain")
        if info.exporter != p.issuer or info.block_number != a.block_number:
            raise CheckFailed(f"shipment {shipment_id}: {what} was anchored by {info.exporter} in "
                        f"block {info.block_number}, the report says {p.issuer} in block "
                        f"{a.block_number}")
        if not found:
            raise CheckFailed(f"shipment {shipment_id}: transaction {a.transaction_hash} does not "
                        f"carry the anchoring event of {what} by the issuer under factor set "
                        f"{a.factor_set_id}")
    return PASS, (f"{len(roots)} root(s) and {len(batches)} batch(es) anchored by the issuer "
                  f"in {len(txs)} transaction(s)")


def _anchored_again(a: Any, issuer: str, reader: Reader) -> str:
    """What the chain holds now of an anchor whose transaction it lost: the batch (or root)
    recorded again by the issuer in another block, or nothing."""
    root = a.path == "root"
    key = Bytes32.parse(str(a.merkle_root) if root else a.batch_id)
    info = reader.root_info(key) if root else reader.batch_info(key)
    what = "root" if root else "batch"
    if info.exporter is None:
        return f"; its {what} is not anchored on this chain"
    if info.exporter.lower() == issuer.lower():
        return (f"; its {what} was anchored again in block {info.block_number} (after the chain "
                "lost it): this report no longer verifies, ask its issuer for a new one")
    return f"; its {what} is anchored by {info.exporter} in block {info.block_number}"


def check_issuer_role(p: ParsedReport, reader: Reader) -> tuple[str, str]:
    notes = []
    for block in sorted({a.block_number for _, a in p.anchors}):
        try:
            held = reader.has_role(EXPORTER_ROLE, p.issuer, block=block)
        except LedgerError:  # a node without historical state
            held = reader.has_role(EXPORTER_ROLE, p.issuer)
            notes.append(f"block {block} state unavailable, checked the latest block")
        if not held:
            raise CheckFailed(f"{p.issuer} did not hold the exporter role at block {block}")
    return PASS, "exporter role held at the anchoring block(s)" + (
        f" ({'; '.join(notes)})" if notes else "")


def check_factor_sets(p: ParsedReport, reader: Reader) -> tuple[str, str]:
    """Every factor set the anchors name is registered on chain, under the URI they state."""
    ids = sorted({a.factor_set_id for _, a in p.anchors})
    for fid in ids:
        if not reader.is_factor_set_registered(Bytes32.parse(fid)):
            raise CheckFailed(f"factor set {fid} is not registered on chain")
    uris: dict[str, str] = {}
    for shipment_id, a in p.anchors:
        if not a.factor_set_uri:
            continue  # no URI claimed
        if a.factor_set_id not in uris:
            uris[a.factor_set_id] = reader.factor_set_uri(Bytes32.parse(a.factor_set_id))
        if uris[a.factor_set_id] != a.factor_set_uri:
            raise CheckFailed(f"shipment {shipment_id}: factor set {a.factor_set_id} is "
                              f"registered on chain as {uris[a.factor_set_id]!r}, the report "
                              f"says {a.factor_set_uri!r}")
    return PASS, "registered on chain: " + ", ".join(ids) + (
        "; URIs match the chain" if uris else "")


def check_status(p: ParsedReport, reader: Reader) -> tuple[str, str]:
    ended = reader.ended_records(p.issuer)
    for shipment_id, a in p.anchors:
        state = ended.get(Bytes32.parse(a.record_hash))
        if state is not None:
            raise CheckFailed(f"shipment {shipment_id}: record {a.record_hash} was "
                        f"{state.name.lower()} by its exporter")
    return PASS, "no record revoked or superseded"


def check_uniqueness(p: ParsedReport, reader: Reader) -> tuple[str, str]:
    """No other live record of each shipment *by the report's exporter*. The contract derives
    every id from its sender, so the events under this exporter's id are its own; a record by
    another writer there (which only a contract that took ids as sent allowed) still cannot make
    the owner's report fail: it is named in a warning instead, as a second line of defence."""
    per_shipment = [(s, a) for s, a in p.anchors if a.path == "per-shipment"]
    if not per_shipment:
        return NOT_APPLICABLE, ("root-only anchoring: shipment ids are not on chain, so the "
                                "absence of another live record is not provable on chain")
    issuer = p.issuer.lower()
    foreign: list[str] = []
    for shipment_id, a in per_shipment:
        live = live_shipment_records(reader.shipment_events(Bytes32.parse(a.chain_shipment_id)))
        ours = [r for r in live if r.exporter.lower() == issuer]
        others = [r for r in ours if r.record_hash != Bytes32.parse(a.record_hash)]
        if others:
            raise CheckFailed(f"shipment {shipment_id}: {len(others)} other live record(s) of "
                              f"its exporter on chain, e.g. 0x{others[0].record_hash.hex()}")
        foreign += [f"{shipment_id} (0x{r.record_hash.hex()} by {r.exporter})"
                    for r in live if r.exporter.lower() != issuer]
    note = "" if len(per_shipment) == len(p.anchors) else (
        f"; {len(p.anchors) - len(per_shipment)} root-anchored shipment(s) not provable")
    if foreign:
        note += ("; warning: records written by other keys under this exporter's shipment "
                 "ids, not counted: " + ", ".join(foreign[:5])
                 + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""))
    return PASS, f"one live record per shipment by its exporter ({len(per_shipment)} checked)" \
        + note


def check_confirmations(p: ParsedReport, reader: Reader, required: int) -> tuple[str, str]:
    latest = reader.block_number()
    deepest = max(a.block_number for _, a in p.anchors)
    have = latest - deepest + 1
    if have < required:
        raise CheckFailed(f"block {deepest} has {have} confirmation(s), {required} required")
    return PASS, f"{have} confirmation(s) (required {required})"


def check_attestations(verdict: Verdict, reader: Reader, report_hash: bytes,
                  required: bool) -> tuple[str, str]:
    found = reader.attestations(SubjectKind.REPORT, report_hash)
    verdict.attestations = [attestation_dict(a) for a in found]
    live = [a for a in found if a.live and a.holds_auditor_role]
    revoked = [a for a in found if not a.live]
    tail = f"; {len(revoked)} revoked" if revoked else ""
    if live:
        return PASS, "attested by " + ", ".join(
            f"{a.auditor} at {a.attested_at}" for a in live) + tail
    if required:
        raise CheckFailed("no live attestation by an auditor" + tail)
    return NOT_APPLICABLE, "no live attestation" + tail


def attestation_dict(a: AttestationInfo) -> dict[str, Any]:
    """An attestation as the verdict lists it (JSON names, the evidence as ``0x`` hex)."""
    return {"auditor": a.auditor, "attestedAt": a.attested_at, "revokedAt": a.revoked_at,
            "evidence": "0x" + a.evidence.hex(), "holdsAuditorRole": a.holds_auditor_role,
            "live": a.live}
