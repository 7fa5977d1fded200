"""What a verifier reads from the ledger contract, and the connection to a report's chain.

:class:`Reader` names the reads :mod:`ledger.verify.verifier` makes: the node's chain id and
head, a transaction's receipt and its contract events, role membership at a block, anchored
roots and batches, factor sets, ended records, a shipment's events and the attestations on a
subject. :class:`ledger.chain.contract.CarbonLedgerContract` is the reader on a real chain (the
tests also use an in-memory one).

:func:`prefetch_report` sends the independent reads of one report's verification as one JSON-RPC
batch, so that verifying it costs one or two round trips instead of one per read.

:func:`open_report_chain` opens the ledger contract a report names: read-only (no key) for
verification, or with a key for the auditor's writes (:mod:`ledger.verify.attest`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TYPE_CHECKING, Any, Protocol

from ledger.chain.abi import RecordStatus, SubjectKind
from ledger.chain.client import connect, no_contract_message
from ledger.chain.contract import EXPORTER_ROLE, CarbonLedgerContract
from ledger.errors import LedgerError
from ledger.reports import vc
from ledger.reports.parse import parse_report, report_chain

if TYPE_CHECKING:
    from ledger.chain.events import ChainEvent
    from ledger.chain.types import AnchorInfo, AttestationInfo, Receipt
    from ledger.config import ChainSettings

__all__ = ["Reader", "missing_contract", "open_report_chain", "prefetch_report"]


class Reader(Protocol):
    """The chain reads verification needs (those of
    :class:`~ledger.chain.contract.CarbonLedgerContract` of the same names)."""

    def node_chain_id(self) -> int: ...
    def block_number(self) -> int: ...
    def receipt(self, tx_hash: bytes) -> Receipt | None: ...
    def events_in(self, receipt: Receipt) -> list[ChainEvent]: ...
    def has_role(self, role: bytes, account: str, *, block: int | str = "latest") -> bool: ...
    def root_info(self, root: bytes) -> AnchorInfo: ...
    def batch_info(self, batch_id: bytes) -> AnchorInfo: ...
    def is_factor_set_registered(self, factor_set_id: bytes) -> bool: ...
    def factor_set_uri(self, factor_set_id: bytes) -> str: ...
    def ended_records(self, exporter: str) -> dict[bytes, RecordStatus]: ...
    def shipment_events(self, shipment_id: bytes) -> list[ChainEvent]: ...
    def attestations(self, kind: SubjectKind, subject: bytes) -> list[AttestationInfo]: ...


def missing_contract(reader: Reader, contract: str, chain_id: int) -> str | None:
    """Why the report's chain cannot answer for its contract: no contract code at the address
    (the chain was reset, or it is another chain than the report's); ``None`` when there is
    code, or when the reader is not a real chain's."""
    if not isinstance(reader, CarbonLedgerContract):
        return None
    if reader.client.code(contract):
        return None
    return no_contract_message(contract, chain_id)


def prefetch_report(ledger: CarbonLedgerContract, document: Any
                    ) -> AbstractContextManager[None]:
    """Reads what verifying ``document`` will read from ``ledger``, in one JSON-RPC batch; inside
    the ``with`` block (on this thread) those reads are answered from it.

    Verification gives the same verdict with or without it: a read missing from the batch, or a
    batch that failed, goes to the node as usual. A report that does not parse, or names another
    contract, prefetches nothing.
    """
    try:
        p = parse_report(document)
        if p.contract.lower() != ledger.address.lower():
            return nullcontext()
        report_hash = vc.report_hash(document)
    except LedgerError:
        return nullcontext()
    client = ledger.client
    reads = [client.chain_id_request(), client.block_number_request(),
             client.code_request(ledger.address)]
    reads += [ledger.view_request("hasRole", EXPORTER_ROLE, p.issuer, block=block)
              for block in sorted({a.block_number for _, a in p.anchors})]
    for _, a in p.anchors:
        reads.append(client.receipt_request(_b32(a.transaction_hash)))
        if a.path == "root":
            reads.append(ledger.view_request("rootInfo", _b32(str(a.merkle_root))))
        else:
            reads.append(ledger.view_request("batchInfo", _b32(a.batch_id)))
            reads.append(ledger.shipment_events_request(_b32(a.chain_shipment_id)))
        reads.append(ledger.view_request("isFactorSetRegistered", _b32(a.factor_set_id)))
        reads.append(ledger.view_request("factorSetUri", _b32(a.factor_set_id)))
    reads.append(ledger.ended_records_request(p.issuer))
    reads.append(ledger.attestations_request(SubjectKind.REPORT, report_hash))
    return client.batched(reads)


def _b32(value: str) -> bytes:
    return bytes.fromhex(value[2:])


@contextmanager
def open_report_chain(document: Mapping[str, Any], settings: ChainSettings, *,
                      private_key: bytes | str | None = None
                      ) -> Iterator[CarbonLedgerContract]:
    """The ledger contract a report names, on a connection to its chain closed on exit.

    The RPC URL and the other connection settings come from ``settings``; the chain id is the
    report's (the node must serve it: ``ChainIdMismatch`` otherwise). Without ``private_key``
    the handle is read-only and its client holds no key.
    """
    chain_id, contract = report_chain(document)
    settings = settings.model_copy(update={"chain_id": chain_id})
    client = (connect(settings, read_only=True) if private_key is None
              else connect(settings, private_key=private_key))
    with client:
        ledger = CarbonLedgerContract(client, contract)
        ledger.require_shipment_id_rule()
        yield ledger
