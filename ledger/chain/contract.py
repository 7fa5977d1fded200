"""Typed access to a deployed CarbonLedger contract through a
:class:`ledger.chain.client.ChainClient`.

Every contract function has a method here: views return Python values, writes simulate first
(a revert raises :class:`~ledger.errors.ContractRevert` and sends nothing), then sign, send and
wait for the receipt. ``*_calldata`` methods return the encoded call for callers that drive the
client's lower-level pieces themselves (an outbox).

Per-shipment records: :meth:`CarbonLedgerContract.record_shipments` refuses a batch with a
repeated shipment id, and by default a shipment id that already has a live record on chain
(``InputError``); :meth:`~CarbonLedgerContract.record_in_batches` splits a list so that each
transaction fits under the per-transaction gas cap.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils.crypto import keccak

from ledger.chain.abi import AbiCodec, RawLog, RecordStatus, SubjectKind
from ledger.chain.artifacts import ContractArtifact, load_artifact
from ledger.chain.client import ChainClient, Receipt
from ledger.chain.events import (
    ChainEvent,
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
from ledger.errors import ChainError, InputError, InputProblem

__all__ = [
    "AUDITOR_ROLE",
    "DEFAULT_ADMIN_ROLE",
    "EXPORTER_ROLE",
    "ROLE_LABELS",
    "AnchorInfo",
    "AttestationInfo",
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
_NO_ADDRESS = "0x0000000000000000000000000000000000000000"


@dataclass(frozen=True)
class AnchorInfo:
    """Who wrote a batch or root (``None`` when unknown), in which block, how many entries."""

    exporter: str | None
    block_number: int
    count: int


@dataclass(frozen=True)
class AttestationInfo:
    attested_at: int
    revoked_at: int
    evidence: bytes

    @property
    def live(self) -> bool:
        return self.attested_at != 0 and self.revoked_at == 0


@dataclass(frozen=True)
class RecordedBatch:
    """A per-shipment batch written on chain."""

    batch_id: bytes
    count: int
    receipt: Receipt


class CarbonLedgerContract:
    """One deployed CarbonLedger, used by the client's signer."""

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

    # ------------------------------------------------------------------ plumbing

    def _view(self, name: str, *args: object) -> tuple[Any, ...]:
        data = self.client.call(self.address, self.codec.encode_call(name, *args), what=name)
        return self.codec.decode_result(name, data)

    def _write(self, name: str, *args: object) -> Receipt:
        return self.client.transact(self.address, self.codec.encode_call(name, *args), what=name)

    # ------------------------------------------------------------------ roles

    def exporter_role(self) -> bytes:
        return bytes(self._view("EXPORTER_ROLE")[0])

    def auditor_role(self) -> bytes:
        return bytes(self._view("AUDITOR_ROLE")[0])

    def has_role(self, role: bytes, account: str) -> bool:
        return bool(self._view("hasRole", role, account)[0])

    def grant_role(self, role: bytes, account: str) -> Receipt:
        return self._write("grantRole", role, account)

    def revoke_role(self, role: bytes, account: str) -> Receipt:
        return self._write("revokeRole", role, account)

    def supports_interface(self, interface_id: bytes) -> bool:
        return bool(self._view("supportsInterface", interface_id)[0])

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
        if refuse_recorded:
            self._refuse_live(entries)
        plan = plan_batches(entries, max_gas=self.client.max_tx_gas,
                            gas_margin=self.client.settings.gas_margin, model=model,
                            max_shipments=max_shipments)
        return [self.record_shipments(factor_set_id, batch, refuse_recorded=False)
                for batch in plan]

    def batch_info(self, batch_id: bytes) -> AnchorInfo:
        return _anchor_info(self._view("batchInfo", batch_id))

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

    def verify_shipment(self, root: bytes, proof: Sequence[bytes], entry: ShipmentEntry) -> bool:
        """Whether the contract accepts ``proof`` of ``entry``'s leaf under an anchored ``root``."""
        return bool(self._view(
            "verifyShipment", root, list(proof), entry.shipment_id, entry.record_hash,
            entry.co2e_wtw_g, entry.co2e_ttw_g,
        )[0])

    # ------------------------------------------------------------------ revoke / supersede

    def revoke_record(self, shipment_id: bytes, record_hash: bytes) -> Receipt:
        return self._write("revokeRecord", shipment_id, record_hash)

    def supersede_record(self, shipment_id: bytes, old_record_hash: bytes,
                         new_record_hash: bytes) -> Receipt:
        return self._write("supersedeRecord", shipment_id, old_record_hash, new_record_hash)

    def record_status(self, exporter: str, record_hash: bytes) -> tuple[RecordStatus, bytes]:
        status, successor = self._view("recordStatus", exporter, record_hash)
        return RecordStatus(int(status)), bytes(successor)

    # ------------------------------------------------------------------ attestations

    def attest(self, kind: SubjectKind, subject: bytes, evidence: bytes = bytes(32)) -> Receipt:
        return self._write("attest", int(kind), subject, evidence)

    def revoke_attestation(self, kind: SubjectKind, subject: bytes) -> Receipt:
        return self._write("revokeAttestation", int(kind), subject)

    def attestation(self, auditor: str, kind: SubjectKind, subject: bytes) -> AttestationInfo:
        attested_at, revoked_at, evidence = self._view("attestation", auditor, int(kind), subject)
        return AttestationInfo(int(attested_at), int(revoked_at), bytes(evidence))

    # ------------------------------------------------------------------ events

    def events_in(self, receipt: Receipt) -> list[ChainEvent]:
        """This contract's typed events in a receipt, in log order."""
        return self._typed(log for log in receipt.logs if log.address == self.address)

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

    def shipment_events(self, shipment_id: bytes) -> list[ChainEvent]:
        """Every record, revocation and supersession of one shipment id, in chain order."""
        return self._shipment_events([shipment_id])

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

    def _shipment_events(self, shipment_ids: Sequence[bytes]) -> list[ChainEvent]:
        if not shipment_ids:
            return []
        names = ("ShipmentRecorded", "RecordRevoked", "RecordSuperseded")
        logs = self.client.get_logs(
            self.address,
            [[self.codec.event_topic(n) for n in names], list(shipment_ids)],
            from_block=self.from_block,
        )
        return self._typed(logs)

    def _typed(self, logs: Iterable[RawLog]) -> list[ChainEvent]:
        events: list[ChainEvent] = []
        for log in logs:
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
