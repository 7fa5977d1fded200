"""What a verifier reads from the ledger contract, and the connection to a report's chain.

:class:`LedgerReader` is the read side used by :mod:`ledger.verify.verifier`: role membership,
anchored roots and batches, transactions, factor sets, record status, a shipment's events and the
attestations on a subject. It goes through :class:`ledger.chain.client.ChainClient` (the one module
that talks to the node) and the contract ABI; every read that depends on a block takes it
explicitly.
:meth:`LedgerReader.prefetch` sends the independent reads of one report's verification as one
JSON-RPC batch, so that verifying it costs one or two round trips instead of one per read.

:func:`open_report_chain` connects to the chain and ledger contract a report names: read-only
(no key) for verification, or with a key for the auditor's writes (:mod:`ledger.verify.attest`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ledger.chain.abi import AbiCodec, RawLog, RecordStatus, SubjectKind
from ledger.chain.events import (
    Attested,
    ChainEvent,
    RecordRevoked,
    RecordSuperseded,
    to_event,
)
from ledger.errors import LedgerError
from ledger.reports.parse import parse_report, report_chain

if TYPE_CHECKING:
    from ledger.chain.client import ChainClient
    from ledger.chain.types import RpcRequest
    from ledger.config import ChainSettings

__all__ = [
    "AttestationInfo",
    "LedgerReader",
    "Reader",
    "ReportChain",
    "TxInfo",
    "open_report_chain",
]


@dataclass(frozen=True)
class TxInfo:
    """A mined transaction: where it is and the contract events it emitted."""

    block_number: int
    status: int
    events: tuple[ChainEvent, ...]


@dataclass(frozen=True)
class AttestationInfo:
    """One auditor's attestation of a subject."""

    auditor: str
    attested_at: int
    revoked_at: int
    evidence: str
    is_auditor: bool

    @property
    def live(self) -> bool:
        return self.attested_at != 0 and self.revoked_at == 0

    def to_dict(self) -> dict[str, Any]:
        return {"auditor": self.auditor, "attestedAt": self.attested_at,
                "revokedAt": self.revoked_at, "evidence": self.evidence,
                "holdsAuditorRole": self.is_auditor, "live": self.live}


class Reader(Protocol):
    """The chain reads verification needs (see :class:`LedgerReader`)."""

    def chain_id(self) -> int: ...
    def latest_block(self) -> int: ...
    def transaction(self, tx_hash: bytes) -> TxInfo | None: ...
    def has_role(self, role: str, account: str, block: int | str = "latest") -> bool: ...
    def root_info(self, root: bytes) -> tuple[str, int, int]: ...
    def batch_info(self, batch_id: bytes) -> tuple[str, int, int]: ...
    def factor_set_registered(self, factor_set_id: bytes) -> bool: ...
    def ended_records(self, exporter: str) -> dict[bytes, RecordStatus]: ...
    def shipment_events(self, chain_shipment_id: bytes) -> list[ChainEvent]: ...
    def attestations(self, kind: SubjectKind, subject: bytes) -> list[AttestationInfo]: ...


class _Client(Protocol):
    chain_id: int

    def node_chain_id(self) -> int: ...
    def block_number(self) -> int: ...
    def call(self, to: str | None, data: bytes, *, value: int = 0,
             block: int | str = "latest", what: str = "call") -> bytes: ...
    def get_logs(self, address: str, topics: Any, *, from_block: int = 0,
                 to_block: int | str = "latest") -> list[RawLog]: ...
    def receipt(self, tx_hash: bytes) -> Any: ...
    def chain_id_request(self) -> RpcRequest: ...
    def block_number_request(self) -> RpcRequest: ...
    def call_request(self, to: str | None, data: bytes, *, value: int = 0,
                     block: int | str = "latest") -> RpcRequest: ...
    def logs_request(self, address: str, topics: Any, *, from_block: int = 0,
                     to_block: int | str = "latest") -> RpcRequest: ...
    def receipt_request(self, tx_hash: bytes) -> RpcRequest: ...
    def batched(self, reads: Sequence[RpcRequest]) -> AbstractContextManager[None]: ...


class LedgerReader:
    """Reads of one deployed ledger contract through a chain client; caches role ids."""

    def __init__(self, client: _Client, codec: AbiCodec, contract: str) -> None:
        self._client = client
        self._codec = codec
        self.contract = contract
        self._roles: dict[str, bytes] = {}

    def _call(self, name: str, *args: Any, block: int | str = "latest") -> tuple[Any, ...]:
        data = self._client.call(self.contract, self._codec.encode_call(name, *args),
                                 block=block, what=name)
        return self._codec.decode_result(name, data)

    def _call_request(self, name: str, *args: Any, block: int | str = "latest") -> RpcRequest:
        """The request :meth:`_call` sends for the same arguments."""
        return self._client.call_request(self.contract, self._codec.encode_call(name, *args),
                                         block=block)

    def _events(self, logs: list[RawLog]) -> Iterator[ChainEvent]:
        for log in logs:
            if log.removed or log.address.lower() != self.contract.lower():
                continue
            decoded = self._codec.decode_log(log)
            event = to_event(decoded) if decoded is not None else None
            if event is not None:
                yield event

    def chain_id(self) -> int:
        return self._client.node_chain_id()

    def latest_block(self) -> int:
        return self._client.block_number()

    def transaction(self, tx_hash: bytes) -> TxInfo | None:
        receipt = self._client.receipt(tx_hash)
        if receipt is None:
            return None
        return TxInfo(receipt.block_number, receipt.status,
                      tuple(self._events(list(receipt.logs))))

    def role_id(self, role: str) -> bytes:
        """``EXPORTER_ROLE`` / ``AUDITOR_ROLE`` id, read once from the contract."""
        if role not in self._roles:
            (value,) = self._call(f"{role.upper()}_ROLE")
            self._roles[role] = bytes(value)
        return self._roles[role]

    def has_role(self, role: str, account: str, block: int | str = "latest") -> bool:
        (held,) = self._call("hasRole", self.role_id(role), account, block=block)
        return bool(held)

    def root_info(self, root: bytes) -> tuple[str, int, int]:
        exporter, block, count = self._call("rootInfo", root)
        return str(exporter), int(block), int(count)

    def batch_info(self, batch_id: bytes) -> tuple[str, int, int]:
        exporter, block, count = self._call("batchInfo", batch_id)
        return str(exporter), int(block), int(count)

    def factor_set_registered(self, factor_set_id: bytes) -> bool:
        (registered,) = self._call("isFactorSetRegistered", factor_set_id)
        return bool(registered)

    def record_status(self, exporter: str, record_hash: bytes) -> RecordStatus:
        status, _ = self._call("recordStatus", exporter, record_hash)
        return RecordStatus(int(status))

    def _ended_topics(self, exporter: str) -> list[Any]:
        return [[self._codec.event_topic("RecordRevoked"),
                 self._codec.event_topic("RecordSuperseded")],
                None, b"\x00" * 12 + bytes.fromhex(exporter[2:])]

    def _shipment_topics(self, chain_shipment_id: bytes) -> list[Any]:
        return [[self._codec.event_topic(n) for n in
                 ("ShipmentRecorded", "RecordRevoked", "RecordSuperseded")], chain_shipment_id]

    def _attested_topics(self, kind: SubjectKind, subject: bytes) -> list[Any]:
        return [self._codec.event_topic("Attested"), subject, None,
                int(kind).to_bytes(32, "big")]

    def ended_records(self, exporter: str) -> dict[bytes, RecordStatus]:
        """Record hashes the exporter revoked or superseded (one log query for all records)."""
        topics = self._ended_topics(exporter)
        ended: dict[bytes, RecordStatus] = {}
        for event in self._events(self._client.get_logs(self.contract, topics)):
            if isinstance(event, RecordRevoked):
                ended[event.record_hash] = RecordStatus.REVOKED
            elif isinstance(event, RecordSuperseded):
                ended[event.old_record_hash] = RecordStatus.SUPERSEDED
        return ended

    def shipment_events(self, chain_shipment_id: bytes) -> list[ChainEvent]:
        topics = self._shipment_topics(chain_shipment_id)
        return list(self._events(self._client.get_logs(self.contract, topics)))

    def attestations(self, kind: SubjectKind, subject: bytes) -> list[AttestationInfo]:
        """Every auditor's attestation of ``subject``; the attestations and the auditors' roles
        are read in one batch."""
        topics = self._attested_topics(kind, subject)
        auditors: list[str] = []
        for event in self._events(self._client.get_logs(self.contract, topics)):
            if not isinstance(event, Attested):
                continue
            auditor = str(event.auditor)
            if auditor not in auditors:
                auditors.append(auditor)
        if not auditors:
            return []
        role = self.role_id("auditor")
        reads = [request for auditor in auditors for request in (
            self._call_request("attestation", auditor, int(kind), subject),
            self._call_request("hasRole", role, auditor))]
        out = []
        with self._client.batched(reads):
            for auditor in auditors:
                attested_at, revoked_at, evidence = self._call("attestation", auditor,
                                                               int(kind), subject)
                out.append(AttestationInfo(auditor, int(attested_at), int(revoked_at),
                                           "0x" + bytes(evidence).hex(),
                                           self.has_role("auditor", auditor)))
        return out

    def prefetch(self, document: Any) -> AbstractContextManager[None]:
        """Reads what verifying ``document`` will read from this contract, in one JSON-RPC
        batch; inside the ``with`` block (on this thread) those reads are answered from it.

        Verification gives the same verdict with or without it: a read missing from the batch,
        or a batch that failed, goes to the node as usual. A report that does not parse, or
        names another contract, prefetches nothing.
        """
        from ledger.reports import vc

        try:
            p = parse_report(document)
            if p.contract.lower() != self.contract.lower():
                return nullcontext()
            report_hash = vc.report_hash(document)
            exporter_role = self.role_id("exporter")
        except LedgerError:
            return nullcontext()
        client = self._client
        reads = [client.chain_id_request(), client.block_number_request()]
        reads += [self._call_request("hasRole", exporter_role, p.issuer, block=block)
                  for block in sorted({a.block_number for _, a in p.anchors})]
        for _, a in p.anchors:
            reads.append(client.receipt_request(_b32(a.transaction_hash)))
            if a.path == "root":
                reads.append(self._call_request("rootInfo", _b32(str(a.merkle_root))))
            else:
                reads.append(self._call_request("batchInfo", _b32(a.batch_id)))
                reads.append(client.logs_request(
                    self.contract, self._shipment_topics(_b32(a.chain_shipment_id))))
            reads.append(self._call_request("isFactorSetRegistered", _b32(a.factor_set_id)))
        reads.append(client.logs_request(self.contract, self._ended_topics(p.issuer)))
        reads.append(client.logs_request(self.contract,
                                         self._attested_topics(SubjectKind.REPORT, report_hash)))
        return client.batched(reads)


def _b32(value: str) -> bytes:
    return bytes.fromhex(value[2:])


@dataclass(frozen=True)
class ReportChain:
    """A connection to the chain and ledger contract of one report."""

    client: ChainClient
    codec: AbiCodec
    reader: LedgerReader

    @property
    def contract(self) -> str:
        return self.reader.contract


@contextmanager
def open_report_chain(document: Mapping[str, Any], settings: ChainSettings, *,
                      private_key: bytes | str | None = None) -> Iterator[ReportChain]:
    """Connects to the chain and contract a report names, closed on exit.

    The RPC URL and the other connection settings come from ``settings``; the chain id is the
    report's (the node must serve it: ``ChainIdMismatch`` otherwise). Without ``private_key``
    the client is read-only and holds no key.
    """
    from ledger.chain.artifacts import load_artifact
    from ledger.chain.client import connect

    chain_id, contract = report_chain(document)
    settings = settings.model_copy(update={"chain_id": chain_id})
    client = (connect(settings, read_only=True) if private_key is None
              else connect(settings, private_key=private_key))
    with client:
        codec = AbiCodec(load_artifact().abi)
        yield ReportChain(client, codec, LedgerReader(client, codec, contract))
