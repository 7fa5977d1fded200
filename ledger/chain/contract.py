"""Typed access to a deployed CarbonLedger contract through a
:class:`ledger.chain.client.ChainClient`: the one contract wrapper, for writers and readers.

Every contract function has a method here: views return Python values, writes simulate first
(a revert raises :class:`~ledger.errors.ContractRevert` and sends nothing), then sign, send and
wait for the receipt. ``*_calldata`` methods return the encoded call for callers that drive the
client's lower-level pieces themselves (an outbox).

**Read-only handles.** On a client made with ``connect(settings, read_only=True)`` (no key) the
wrapper reads everything and refuses every write with a :class:`~ledger.errors.ChainError` that
says the handle is read-only, before anything is encoded or sent (:attr:`read_only`).

**Reads at a block, and in one batch.** Views that a verifier asks about the past take
``block=``; ``*_request`` methods return the JSON-RPC request a read sends (a view's
:meth:`~CarbonLedgerContract.view_request`, the log queries of
:meth:`~CarbonLedgerContract.shipment_events`, :meth:`~CarbonLedgerContract.ended_records` and
:meth:`~CarbonLedgerContract.attestations`), so that a caller can send many as one batch with
:meth:`ledger.chain.client.ChainClient.batched` and then read them as usual.

Per-shipment records: :meth:`CarbonLedgerContract.record_shipments` refuses a batch with a
repeated shipment id, an entry whose shipment id is not the one the contract derives from its
key for this signer, and by default a shipment id that already has a live record on chain
(``InputError``); :meth:`~CarbonLedgerContract.record_in_batches` splits a list so that each
transaction fits under the per-transaction gas cap.

**Shipment-id rule.** The contract derives each shipment id from its sender
(``shipmentIdRule() == 2``, see ``docs/contracts.md``). A contract that predates the rule
takes ids as sent; :meth:`CarbonLedgerContract.require_shipment_id_rule` refuses it with a
:class:`~ledger.errors.ConfigError` naming its address (``open_deployment`` and the verifier
call it), so the two rules are never mixed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils.crypto import keccak

from ledger.chain.abi import AbiCodec, RawLog, RecordStatus, SubjectKind
from ledger.chain.artifacts import ContractArtifact, load_artifact
from ledger.chain.client import ChainClient
from ledger.chain.events import (
    Attested,
    ChainEvent,
    RecordRevoked,
    RecordSuperseded,
    RootAnchored,
    ShipmentBatchRecorded,
    ShipmentRecorded,
    live_shipment_records,
    to_event,
)
from ledger.chain.gas import (
    DEFAULT_BATCH_GAS,
    BatchGasModel,
    ShipmentEntry,
    batch_id_for,
    pack_shipments,
    plan_batches,
)
from ledger.chain.types import AnchorInfo, AttestationInfo, Receipt, RpcRequest
from ledger.errors import ChainError, ConfigError, ContractRevert, InputError, InputProblem
from ledger.records.canonical import SHIPMENT_ID_RULE, shipment_id_of
from ledger.records.merkle import Leaf

__all__ = [
    "AUDITOR_ROLE",
    "DEFAULT_ADMIN_ROLE",
    "EXPORTER_ROLE",
    "ROLE_LABELS",
    "CarbonLedgerContract",
    "RecordedBatch",
]

DEFAULT_ADMIN_ROLE = bytes(32)
EXPORTER_ROLE = keccak(text="EXPORTER_ROLE")
AUDITOR_ROLE = keccak(text="AUDITOR_ROLE")
#: Role ids by name, as revert messages show them.
ROLE_LABELS = {
    DEFAULT_ADMIN_ROLE: "DEFAULT_ADMIN_ROLE",
    EXPORTER_ROLE: "EXPORTER_ROLE",
    AUDITOR_ROLE: "AUDITOR_ROLE",
}
_TOPICS_PER_QUERY = 100
_Topics = list[bytes | Sequence[bytes] | None]
_NO_ADDRESS = "0x0000000000000000000000000000000000000000"


@dataclass(frozen=True)
class RecordedBatch:
    """A per-shipment batch written on chain."""

    batch_id: bytes
    count: int
    receipt: Receipt


class CarbonLedgerContract:
    """One deployed CarbonLedger, used by the client's signer (or only read, see
    :attr:`read_only`)."""

    def __init__(self, client: ChainClient, address: str, *,
                 artifact: ContractArtifact | None = None, from_block: int = 0) -> None:
        self.client = client
        self.address = address
        self.artifact = artifact if artifact is not None else load_artifact()
        self.codec = AbiCodec(self.artifact.abi, labels=ROLE_LABELS)
        self.from_block = from_block
        client.with_codec(self.codec)

    def for_client(self, client: ChainClient) -> CarbonLedgerContract:
        """The same contract used by another signer."""
        return CarbonLedgerContract(client, self.address, artifact=self.artifact,
                                    from_block=self.from_block)

    @property
    def read_only(self) -> bool:
        """True when the handle's client holds no signing key: it reads, and writes raise."""
        return self.client.read_only

    # ------------------------------------------------------------------ plumbing

    def _view(self, name: str, *args: object, block: int | str = "latest") -> tuple[Any, ...]:
        data = self.client.call(self.address, self.codec.encode_call(name, *args), block=block,
                                what=name)
        return self.codec.decode_result(name, data)

    def view_request(self, name: str, *args: object, block: int | str = "latest") -> RpcRequest:
        """The ``eth_call`` the view ``name`` sends with these arguments (for a batch)."""
        return self.client.call_request(self.address, self.codec.encode_call(name, *args),
                                        block=block)

    def _write(self, name: str, *args: object) -> Receipt:
        if self.read_only:
            raise ChainError(
                f"{name} on CarbonLedger {self.address}: this contract handle is read-only "
                "(its client holds no signing key); open it on a client connected with a "
                "private key or keystore to send transactions"
            )
        return self.client.transact(self.address, self.codec.encode_call(name, *args), what=name)

    # ------------------------------------------------------------------ the node

    def node_chain_id(self) -> int:
        """The chain id the node serves now (asked, never cached)."""
        return self.client.node_chain_id()

    def block_number(self) -> int:
        """The node's latest block number."""
        return self.client.block_number()

    def receipt(self, tx_hash: bytes) -> Receipt | None:
        """A mined transaction's receipt (``None`` when not mined, or no longer); its contract
        events are :meth:`events_in`."""
        return self.client.receipt(tx_hash)

    # ------------------------------------------------------------------ roles

    def exporter_role(self) -> bytes:
        return bytes(self._view("EXPORTER_ROLE")[0])

    def auditor_role(self) -> bytes:
        return bytes(self._view("AUDITOR_ROLE")[0])

    def has_role(self, role: bytes, account: str, *, block: int | str = "latest") -> bool:
        """Whether ``account`` holds ``role`` (at ``block``: a node without that block's state
        raises ``ChainError``)."""
        return bool(self._view("hasRole", role, account, block=block)[0])

    def grant_role(self, role: bytes, account: str) -> Receipt:
        return self._write("grantRole", role, account)

    def revoke_role(self, role: bytes, account: str) -> Receipt:
        return self._write("revokeRole", role, account)

    def supports_interface(self, interface_id: bytes) -> bool:
        return bool(self._view("supportsInterface", interface_id)[0])

    # ------------------------------------------------------------------ shipment ids

    def shipment_id_rule(self, *, block: int | str = "latest") -> int | None:
        """The contract's ``shipmentIdRule()``; ``None`` for a contract without it (one that
        predates the rule and took shipment ids as sent)."""
        try:
            data = self.client.call(self.address, self.codec.encode_call("shipmentIdRule"),
                                    block=block, what="shipmentIdRule")
        except ContractRevert:
            return None  # no such function, and no fallback: an older contract
        if not data:
            return None  # no code at the address, or a contract that returns nothing
        return int(self.codec.decode_result("shipmentIdRule", data)[0])

    def require_shipment_id_rule(self) -> None:
        """Refuses (``ConfigError``) a contract whose shipment ids are not derived from the
        sender by the rule this package computes (:data:`SHIPMENT_ID_RULE`)."""
        rule = self.shipment_id_rule()
        if rule == SHIPMENT_ID_RULE:
            return
        if rule is None and not self.client.code(self.address):
            return  # no contract there: the caller's own check names what is missing
        if rule is None:
            raise ConfigError(
                f"the CarbonLedger at {self.address} predates sender-derived shipment ids (it has "
                f"no shipmentIdRule()): it takes any exporter's shipment id as sent, and this "
                f"package's ids (rule {SHIPMENT_ID_RULE}) would not match its records. Deploy a "
                "new contract (`carbon-ledger deploy`) and anchor there; records already on the "
                "old contract stay readable with the package version that wrote them"
            )
        raise ConfigError(
            f"the CarbonLedger at {self.address} makes shipment ids by rule {rule}, this package "
            f"by rule {SHIPMENT_ID_RULE}; use the package version that matches the contract or "
            "deploy a new contract"
        )

    def shipment_id_of(self, writer: str, shipment_key: bytes) -> bytes:
        """The contract's ``shipmentIdOf(writer, shipmentKey)``."""
        return bytes(self._view("shipmentIdOf", writer, shipment_key)[0])

    # ------------------------------------------------------------------ factor sets

    def register_factor_set(self, factor_set_id: bytes, uri: str) -> Receipt:
        return self._write("registerFactorSet", factor_set_id, uri)

    def is_factor_set_registered(self, factor_set_id: bytes) -> bool:
        return bool(self._view("isFactorSetRegistered", factor_set_id)[0])

    def factor_set_uri(self, factor_set_id: bytes) -> str:
        return str(self._view("factorSetUri", factor_set_id)[0])

    # ------------------------------------------------------------------ per-shipment path

    def record_shipments_calldata(self, batch_id: bytes, factor_set_id: bytes,
                                  entries: Sequence[ShipmentEntry]) -> bytes:
        return self.codec.encode_call(
            "recordShipments", batch_id, factor_set_id, pack_shipments(entries)
        )

    def record_shipments(self, factor_set_id: bytes, entries: Sequence[ShipmentEntry], *,
                         batch_id: bytes | None = None,
                         refuse_recorded: bool = True) -> RecordedBatch:
        """Record one batch in one transaction (``GasCapExceeded`` when it cannot fit one)."""
        _refuse_repeats(entries)
        self._refuse_foreign(entries)
        if refuse_recorded:
            self._refuse_live(entries)
        packed = pack_shipments(entries)
        batch_id = batch_id if batch_id is not None else batch_id_for(factor_set_id, packed)
        receipt = self._write("recordShipments", batch_id, factor_set_id, packed)
        return RecordedBatch(batch_id, len(entries), receipt)

    def record_in_batches(self, factor_set_id: bytes, entries: Sequence[ShipmentEntry], *,
                          model: BatchGasModel = DEFAULT_BATCH_GAS,
                          max_shipments: int | None = None,
                          refuse_recorded: bool = True) -> list[RecordedBatch]:
        """Record ``entries`` in as many batches as the per-transaction gas cap needs."""
        _refuse_repeats(entries)
        self._refuse_foreign(entries)
        if refuse_recorded:
            self._refuse_live(entries)
        plan = plan_batches(entries, max_gas=self.client.max_tx_gas,
                            gas_margin=self.client.settings.gas_margin, model=model,
                            max_shipments=max_shipments)
        return [self.record_shipments(factor_set_id, batch, refuse_recorded=False)
                for batch in plan]

    def batch_info(self, batch_id: bytes) -> AnchorInfo:
        return _anchor_info(self._view("batchInfo", batch_id))

    def _refuse_foreign(self, entries: Sequence[ShipmentEntry]) -> None:
        """Entries whose key would land under another id than theirs when this signer sends it:
        records made for another exporter than the signer."""
        if self.read_only:
            return  # the write refuses with its own message
        signer = self.client.address
        problems = [
            InputProblem(
                f"its key gives shipment id 0x{shipment_id_of(signer, e.shipment_key).hex()} "
                f"when {signer} sends it: the record was made for another exporter than the "
                "signer; anchor it with that exporter's key",
                "0x" + e.shipment_id.hex(), row=row, field="shipment_key",
            )
            for row, e in enumerate(entries, start=1)
            if shipment_id_of(signer, e.shipment_key) != e.shipment_id
        ]
        if problems:
            raise InputError(problems)

    def _refuse_live(self, entries: Sequence[ShipmentEntry]) -> None:
        live = self.live_records_of([e.shipment_id for e in entries])
        problems = [
            InputProblem(
                f"already has a live record on chain (record 0x{r.record_hash.hex()}, "
                f"tx 0x{r.meta.tx_hash.hex()}); revoke or supersede it first",
                "0x" + shipment_id.hex(), field="shipment_id",
            )
            for shipment_id, records in live.items() for r in records
        ]
        if problems:
            raise InputError(problems)

    # ------------------------------------------------------------------ root-only path

    def anchor_root_calldata(self, root: bytes, factor_set_id: bytes, count: int) -> bytes:
        return self.codec.encode_call("anchorRoot", root, factor_set_id, count)

    def anchor_root(self, root: bytes, factor_set_id: bytes, count: int) -> Receipt:
        return self._write("anchorRoot", root, factor_set_id, count)

    def root_info(self, root: bytes) -> AnchorInfo:
        return _anchor_info(self._view("rootInfo", root))

    def anchoring_event(self, key: bytes, *, root: bool
                        ) -> RootAnchored | ShipmentBatchRecorded | None:
        """The ``RootAnchored`` event of a root, or the ``ShipmentBatchRecorded`` event of a batch
        id (``None`` when the node serves none)."""
        name, kind = (("RootAnchored", RootAnchored) if root
                      else ("ShipmentBatchRecorded", ShipmentBatchRecorded))
        topics: _Topics = [[self.codec.event_topic(name)], [key]]
        found = [e for e in self._typed(self._logs(topics)) if isinstance(e, kind)]
        return found[0] if found else None

    def verify_shipment(self, root: bytes, proof: Sequence[bytes], entry: ShipmentEntry | Leaf
                        ) -> bool:
        """Whether the contract accepts ``proof`` of ``entry``'s leaf under an anchored ``root``
        (the leaf's shipment id is the on-chain id, derived for the root's anchorer)."""
        return bool(self._view(
            "verifyShipment", root, list(proof), entry.shipment_id, entry.record_hash,
            entry.co2e_wtw_g, entry.co2e_ttw_g,
        )[0])

    # ------------------------------------------------------------------ revoke / supersede

    def revoke_record(self, shipment_key: bytes, record_hash: bytes) -> Receipt:
        """Revokes the signer's record; ``shipment_key`` as the record was sent with
        (:func:`ledger.records.canonical.chain_shipment_key`), the event names the derived id."""
        return self._write("revokeRecord", shipment_key, record_hash)

    def supersede_record(self, shipment_key: bytes, old_record_hash: bytes,
                         new_record_hash: bytes) -> Receipt:
        """Supersedes the signer's record; ``shipment_key`` as for :meth:`revoke_record`."""
        return self._write("supersedeRecord", shipment_key, old_record_hash, new_record_hash)

    def record_status(self, exporter: str, record_hash: bytes) -> tuple[RecordStatus, bytes]:
        status, successor = self._view("recordStatus", exporter, record_hash)
        return RecordStatus(int(status)), bytes(successor)

    # ------------------------------------------------------------------ attestations

    def attest(self, kind: SubjectKind, subject: bytes, evidence: bytes = bytes(32)) -> Receipt:
        return self._write("attest", int(kind), subject, evidence)

    def revoke_attestation(self, kind: SubjectKind, subject: bytes) -> Receipt:
        return self._write("revokeAttestation", int(kind), subject)

    def attestation(self, auditor: str, kind: SubjectKind, subject: bytes) -> AttestationInfo:
        """``auditor``'s attestation of ``subject`` (zero timestamps when it never attested)."""
        return self._attestations_by([auditor], kind, subject)[0]

    def _attested_topics(self, kind: SubjectKind, subject: bytes) -> _Topics:
        return [self.codec.event_topic("Attested"), subject, None, int(kind).to_bytes(32, "big")]

    def attestations_request(self, kind: SubjectKind, subject: bytes) -> RpcRequest:
        """The log query :meth:`attestations` starts with (for a batch)."""
        return self._logs_request(self._attested_topics(kind, subject))

    def attestations(self, kind: SubjectKind, subject: bytes) -> list[AttestationInfo]:
        """Every auditor's attestation of ``subject``, live or withdrawn, in the order they were
        first made: the auditors from the ``Attested`` events, then their attestations and roles
        read in one batch."""
        auditors: list[str] = []
        for event in self._typed(self._logs(self._attested_topics(kind, subject))):
            if isinstance(event, Attested) and event.auditor not in auditors:
                auditors.append(event.auditor)
        return self._attestations_by(auditors, kind, subject)

    def _attestations_by(self, auditors: Sequence[str], kind: SubjectKind, subject: bytes
                         ) -> list[AttestationInfo]:
        if not auditors:
            return []
        reads = [request for auditor in auditors for request in (
            self.view_request("attestation", auditor, int(kind), subject),
            self.view_request("hasRole", AUDITOR_ROLE, auditor))]
        found = []
        with self.client.batched(reads):
            for auditor in auditors:
                attested_at, revoked_at, evidence = self._view("attestation", auditor,
                                                               int(kind), subject)
                found.append(AttestationInfo(str(auditor), int(attested_at), int(revoked_at),
                                             bytes(evidence), self.has_role(AUDITOR_ROLE, auditor)))
        return found

    # ------------------------------------------------------------------ events

    def events_in(self, receipt: Receipt) -> list[ChainEvent]:
        """This contract's typed events in a receipt, in log order."""
        ours = self.address.lower()
        return self._typed(log for log in receipt.logs if log.address.lower() == ours)

    def events(self, *names: str, from_block: int | None = None,
               to_block: int | str = "latest") -> list[ChainEvent]:
        """This contract's typed events named ``names`` (all when none), in chain order."""
        topics: list[bytes | Sequence[bytes] | None] = (
            [[self.codec.event_topic(n) for n in names]] if names else []
        )
        logs = self.client.get_logs(
            self.address, topics,
            from_block=self.from_block if from_block is None else from_block, to_block=to_block,
        )
        return self._typed(logs)

    def shipment_events_request(self, shipment_id: bytes) -> RpcRequest:
        """The log query :meth:`shipment_events` sends (for a batch)."""
        return self._logs_request(self._shipment_topics([shipment_id]))

    def shipment_events(self, shipment_id: bytes) -> list[ChainEvent]:
        """Every record, revocation and supersession of one shipment id, in chain order."""
        return self._shipment_events([shipment_id])

    def _ended_topics(self, exporter: str) -> _Topics:
        return [[self.codec.event_topic("RecordRevoked"),
                 self.codec.event_topic("RecordSuperseded")],
                None, bytes(12) + bytes.fromhex(exporter.removeprefix("0x"))]

    def ended_records_request(self, exporter: str) -> RpcRequest:
        """The log query :meth:`ended_records` sends (for a batch)."""
        return self._logs_request(self._ended_topics(exporter))

    def ended_records(self, exporter: str) -> dict[bytes, RecordStatus]:
        """Record hashes ``exporter`` revoked or superseded, with how they ended (one log query
        for all of the exporter's records)."""
        ended: dict[bytes, RecordStatus] = {}
        for event in self._typed(self._logs(self._ended_topics(exporter))):
            if isinstance(event, RecordRevoked):
                ended[event.record_hash] = RecordStatus.REVOKED
            elif isinstance(event, RecordSuperseded):
                ended[event.old_record_hash] = RecordStatus.SUPERSEDED
        return ended

    def live_records(self, shipment_id: bytes) -> list[ShipmentRecorded]:
        """The shipment's records that are neither revoked nor superseded (more than one is a
        conflict)."""
        return live_shipment_records(self.shipment_events(shipment_id))

    def live_records_of(self, shipment_ids: Iterable[bytes]) -> dict[bytes, list[ShipmentRecorded]]:
        """Live records per shipment id, for those ids that have any."""
        ids = list(dict.fromkeys(shipment_ids))
        found: dict[bytes, list[ShipmentRecorded]] = {}
        for start in range(0, len(ids), _TOPICS_PER_QUERY):
            chunk = ids[start:start + _TOPICS_PER_QUERY]
            by_id: dict[bytes, list[ChainEvent]] = {}
            for event in self._shipment_events(chunk):
                by_id.setdefault(getattr(event, "shipment_id", b""), []).append(event)
            for shipment_id, events in by_id.items():
                live = live_shipment_records(events)
                if live:
                    found[shipment_id] = live
        return found

    def _shipment_topics(self, shipment_ids: Sequence[bytes]) -> _Topics:
        names = ("ShipmentRecorded", "RecordRevoked", "RecordSuperseded")
        return [[self.codec.event_topic(n) for n in names], list(shipment_ids)]

    def _shipment_events(self, shipment_ids: Sequence[bytes]) -> list[ChainEvent]:
        if not shipment_ids:
            return []
        return self._typed(self._logs(self._shipment_topics(shipment_ids)))

    def _logs_request(self, topics: _Topics) -> RpcRequest:
        return self.client.logs_request(self.address, topics, from_block=self.from_block)

    def _logs(self, topics: _Topics) -> list[RawLog]:
        """This contract's logs since :attr:`from_block` (the query ``_logs_request`` makes)."""
        return self.client.get_logs(self.address, topics, from_block=self.from_block)

    def _typed(self, logs: Iterable[RawLog]) -> list[ChainEvent]:
        events: list[ChainEvent] = []
        for log in logs:
            if log.removed:
                continue
            decoded = self.codec.decode_log(log)
            if decoded is None:
                continue
            event = to_event(decoded)
            if event is not None:
                events.append(event)
        return events


def _refuse_repeats(entries: Sequence[ShipmentEntry]) -> None:
    if not entries:
        raise InputError("a batch needs at least one shipment")
    seen: set[bytes] = set()
    problems = []
    for row, entry in enumerate(entries):
        if entry.shipment_id in seen:
            problems.append(InputProblem(
                "appears more than once in the batch", "0x" + entry.shipment_id.hex(),
                row=row, field="shipment_id",
            ))
        seen.add(entry.shipment_id)
    if problems:
        raise InputError(problems)


def _anchor_info(values: tuple[Any, ...]) -> AnchorInfo:
    exporter, block_number, count = values
    if not isinstance(exporter, str) or not isinstance(block_number, int) \
            or not isinstance(count, int):
        raise ChainError("unexpected result types from the contract")
    return AnchorInfo(None if exporter == _NO_ADDRESS else exporter, block_number, count)
