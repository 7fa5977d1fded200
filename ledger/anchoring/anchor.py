"""Anchoring: canonical records -> batches -> outbox -> chain, on either path.

- ``events``: per-shipment ``ShipmentRecorded`` events (``recordShipments``), batches split so
  each transaction stays under the per-transaction gas cap; the shipment id is a topic, so every
  record of a shipment is visible on chain.
- ``root``: one StandardMerkleTree per batch and only its root on chain (``anchorRoot``); each
  shipment keeps its Merkle proof in the store.

:func:`anchor_records` checks everything it can before any transaction is sent (chain id, code at
the contract address, the signer's exporter role, the factor set's registration, records of
another exporter or factor set, a shipment twice in the input, a changed record for a shipment
this exporter anchored before), then, holding the store's writer lock, reconciles what earlier
runs left open, stores the new batches in one commit and hands them to the
:class:`~ledger.anchoring.outbox.Outbox`. Idempotency key: (chain id, contract, exporter, shipment
id); a shipment stored with the same record hash is reported as already anchored and not sent again.

:func:`anchor_footprints` starts from (shipment, footprint) dicts. On the root path with only
new shipments it streams: forked helpers build the records chunk by chunk while this process
stores each chunk as a record block in one open transaction, sealing each batch with its tree
once its records are in; the commit still comes before anything is signed. Otherwise (or when
the store refuses a shipment it holds already) it builds the records and calls
:func:`anchor_records`. An optional ``progress`` callback hears where the run stands
(:class:`AnchorProgress`: stage and counts), for a caller that reports it (the service's jobs).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ledger.anchoring.outbox import Checkpoint, Outbox, OutboxPolicy
from ledger.chain.contract import EXPORTER_ROLE, CarbonLedgerContract
from ledger.chain.gas import (
    RECORD_BYTES,
    ShipmentEntry,
    batch_gas_bound,
    batch_id_for,
    pack_shipments,
    plan_batches,
)
from ledger.errors import ConfigError, FactorError, InputError, InputProblem, RecordConflict
from ledger.records.blocks import pack_block
from ledger.records.canonical import canonical_json, chain_shipment_id_bytes
from ledger.records.chunks import EntryChunk, iter_shaped_chunks, paused_gc
from ledger.records.keccak import keccak256
from ledger.records.merkle import Leaf, build_tree, tree_nodes
from ledger.store.bulk import BulkBatches
from ledger.store.rows import (
    BatchRow,
    BatchStatus,
    BlockRecords,
    NewBatch,
    NewRecord,
    Scope,
    TxRow,
)
from ledger.store.store import LedgerStore

__all__ = [
    "PATHS",
    "STAGES",
    "AnchorOptions",
    "AnchorProgress",
    "AnchorResult",
    "PlannedCall",
    "PreparedRecord",
    "Progress",
    "anchor_footprints",
    "anchor_records",
    "anchor_shipments",
    "batch_call",
    "paused_gc",
    "prepare_footprints",
    "prepare_records",
    "scope_of",
]

PATHS = ("events", "root")
#: Leaves per root-path batch by default (proofs of at most 16 siblings).
DEFAULT_ROOT_LEAVES = 1 << 16
_HEX32 = re.compile(r"0x[0-9a-fA-F]{64}")
#: Times a run sends a batch again whose transaction was dropped or failed.
_RESEND_ROUNDS = 3
#: The stages a run reports to its ``progress`` callback, in order (see :class:`AnchorProgress`).
STAGES = ("computing", "preparing", "storing", "sending", "done")


@dataclass(frozen=True)
class AnchorProgress:
    """Where an anchoring run stands, as its ``progress`` callback hears it.

    ``stage`` is one of :data:`STAGES`: ``computing`` (the footprints; :func:`anchor_shipments`
    only), ``preparing`` (building and checking the records, settling what earlier runs left
    open), ``storing`` (the streamed root path stored one more record block, its write
    transaction still open: a callback that writes to the same SQLite database would wait for
    it), ``sending`` (the batches are committed; transactions are signed, sent and watched) and
    ``done``. ``shipments`` is the number of shipments given; ``signed`` and ``final`` count
    this run's transactions signed and final so far.
    """

    stage: str
    shipments: int
    signed: int = 0
    final: int = 0


#: ``progress(AnchorProgress)``: called as an anchoring run moves on; an exception it raises
#: stops the run as a checkpoint's does (nothing half-written).
Progress = Callable[[AnchorProgress], None]


class PreparedRecord(NamedTuple):
    """A record ready to anchor: its canonical bytes and its leaf (hash, on-chain id, totals)."""

    shipment_id: str
    exporter: str
    factor_set_id: str
    canonical: bytes
    leaf: Leaf
    row: int | None = None

    @property
    def record_hash(self) -> bytes:
        return self.leaf.record_hash

    @property
    def chain_shipment_id(self) -> bytes:
        return self.leaf.shipment_id

    @property
    def co2e_wtw_g(self) -> int:
        return self.leaf.co2e_wtw_g

    @property
    def co2e_ttw_g(self) -> int:
        return self.leaf.co2e_ttw_g

    def entry(self) -> ShipmentEntry:
        return ShipmentEntry(*self.leaf)


@dataclass(frozen=True)
class AnchorOptions:
    """What to anchor how. ``wait_until``: ``final``, ``mined`` or ``sent`` (no waiting)."""

    path: str = "events"
    wait_until: str = "final"
    max_root_leaves: int = DEFAULT_ROOT_LEAVES
    max_batch_shipments: int | None = None
    check_chain: bool = True
    """Events path: refuse shipments this exporter recorded on chain outside this store."""

    def __post_init__(self) -> None:
        if self.path not in PATHS:
            raise ConfigError(f"unknown anchoring path {self.path!r}; expected one of "
                              + ", ".join(PATHS))
        if self.wait_until not in ("final", "mined", "sent"):
            raise ConfigError(f"wait_until must be final, mined or sent, not {self.wait_until!r}")
        if self.max_root_leaves < 1 or (self.max_batch_shipments or 1) < 1:
            raise ConfigError("batch sizes must be at least 1")


@dataclass(frozen=True)
class AnchorResult:
    """What a run did: new and already anchored shipments, and every batch it touched."""

    scope: Scope
    path: str
    new_shipments: tuple[str, ...]
    already_anchored: tuple[str, ...]
    resumed_batches: tuple[int, ...]
    batches: tuple[BatchStatus, ...] = field(default=())

    @property
    def nothing_new(self) -> bool:
        return not self.new_shipments and not self.resumed_batches


def scope_of(ledger: CarbonLedgerContract) -> Scope:
    """The store scope of this contract and signer."""
    return Scope(ledger.client.chain_id, ledger.address, ledger.client.address)


def prepare_records(records: Sequence[Mapping[str, Any]]) -> list[PreparedRecord]:
    """Prepared records from records built by ``build_record`` (serialised once more here)."""
    keccak = keccak256
    prepared = []
    for row, record in enumerate(records, start=1):
        shipment_id, exporter = str(record["shipment_id"]), str(record["exporter"])
        canonical = canonical_json(record)
        footprint = record["footprint"]
        leaf = Leaf(chain_shipment_id_bytes(exporter, shipment_id), keccak(canonical),
                    int(footprint["co2e_wtw_g"]), int(footprint["co2e_ttw_g"]))
        prepared.append(PreparedRecord(shipment_id, exporter, str(record["factor_set_id"]),
                                       canonical, leaf, row))
    return prepared


def prepare_footprints(
    pairs: Iterable[tuple[Mapping[str, Any], Mapping[str, Any]]], *, exporter: str,
    factor_set_id: str, workers: int | None = None,
) -> list[PreparedRecord]:
    """Records of (shipment, footprint) dicts, each canonicalised and hashed once
    (:func:`ledger.records.chunks.build_entries`, on several processes for large inputs), for
    :func:`anchor_records`. ``workers``: as ``build_entries`` takes it."""
    from ledger.records.chunks import build_entries

    items = pairs if isinstance(pairs, Sequence) else list(pairs)
    with paused_gc():
        entries = build_entries(items, exporter=exporter, factor_set_id=factor_set_id,
                                workers=workers)
        return [
            PreparedRecord(str(shipment["shipment_id"]), exporter, factor_set_id,
                           entry.canonical, entry.leaf, row)
            for row, ((shipment, _), entry) in enumerate(zip(items, entries, strict=True),
                                                         start=1)
        ]


# ---------------------------------------------------------------------------------- checks


def preflight(ledger: CarbonLedgerContract, factor_set_id: bytes) -> None:
    """Refuse before sending: wrong chain, no contract, no exporter role, unknown factor set."""
    client = ledger.client
    client.check_chain_id()
    if not client.code(ledger.address):
        raise ConfigError(f"no contract at {ledger.address} on chain {client.chain_id}; "
                          "check the deployment file")
    if not ledger.has_role(EXPORTER_ROLE, client.address):
        raise ConfigError(
            f"the signing key's address {client.address} has no EXPORTER_ROLE on CarbonLedger "
            f"at {ledger.address} (chain {client.chain_id}); sign with an exporter's key, or ask "
            "the contract admin to grant the role"
        )
    if not ledger.is_factor_set_registered(factor_set_id):
        raise FactorError(
            f"factor set 0x{factor_set_id.hex()} is not registered on CarbonLedger at "
            f"{ledger.address}; records computed with it cannot be anchored until the admin "
            "registers it"
        )


def _check_input(records: Sequence[PreparedRecord], exporter: str, factor_set_id: str) -> None:
    problems: list[InputProblem] = []
    first_row: dict[str, int | None] = {}
    for record in records:
        if record.exporter.lower() != exporter.lower():
            problems.append(InputProblem(
                f"the record names exporter {record.exporter}, but the signing key is "
                f"{exporter}", record.shipment_id, record.row, "exporter",
            ))
        if record.factor_set_id.lower() != factor_set_id.lower():
            problems.append(InputProblem(
                f"the record was computed with factor set {record.factor_set_id}, not the "
                f"run's {factor_set_id}", record.shipment_id, record.row, "factor_set_id",
            ))
        if record.shipment_id in first_row:
            problems.append(InputProblem(
                f"the shipment appears twice in the input (first in row "
                f"{first_row[record.shipment_id]})", record.shipment_id, record.row,
                "shipment_id",
            ))
        else:
            first_row[record.shipment_id] = record.row
    if problems:
        raise InputError(problems)


def _split_known(store: LedgerStore, scope: Scope, records: Sequence[PreparedRecord]
                 ) -> tuple[list[PreparedRecord], list[str]]:
    """New records, and the ids of those stored before with the same hash; a changed record of a
    stored shipment is refused."""
    known = store.find_records(scope, [r.shipment_id for r in records])
    if not known:
        return list(records), []
    new: list[PreparedRecord] = []
    same: list[str] = []
    problems: list[InputProblem] = []
    for record in records:
        stored = known.get(record.shipment_id)
        if stored is None:
            new.append(record)
        elif stored.record_hash == "0x" + record.record_hash.hex():
            same.append(record.shipment_id)
        else:
            problems.append(InputProblem(
                f"already anchored by this exporter with record {stored.record_hash}; this "
                f"record (0x{record.record_hash.hex()}) differs. A record is never edited: "
                f"revoke the anchored one (`carbon-ledger revoke {record.shipment_id}`) and "
                "anchor the corrected shipment under a new shipment id",
                record.shipment_id, record.row, "shipment_id",
            ))
    if problems:
        raise InputError(problems)
    return new, same


def _refuse_recorded_elsewhere(ledger: CarbonLedgerContract, store: LedgerStore, scope: Scope,
                               records: Sequence[PreparedRecord]) -> None:
    """Events path: refuse shipments this exporter already recorded on chain, from any store."""
    if not records:
        return
    ours = ledger.client.address
    batches_on_chain = [
        event for event in ledger.events("ShipmentBatchRecorded")
        if getattr(event, "exporter", None) == ours
    ]
    stored_keys = {s.batch.batch_key for s in store.batch_statuses(scope)}
    if all("0x" + e.batch_id.hex() in stored_keys for e in batches_on_chain):  # type: ignore[union-attr]
        return  # every batch this exporter wrote is one of ours: nothing recorded elsewhere
    live = ledger.live_records_of(r.chain_shipment_id for r in records)
    by_key = {r.chain_shipment_id: r for r in records}
    problems = [
        InputProblem(
            f"already recorded on chain by this exporter (record 0x{event.record_hash.hex()}, "
            f"tx 0x{event.meta.tx_hash.hex()}) but not in this store; use the store that "
            "anchored it, or revoke that record first",
            by_key[key].shipment_id, by_key[key].row, "shipment_id",
        )
        for key, events in live.items() for event in events if event.exporter == ours
    ]
    if problems:
        raise InputError(problems)


# ---------------------------------------------------------------------------------- batches


def _new_record(record: PreparedRecord, position: int, tree_index: int | None = None,
                leaf_hash: bytes | None = None) -> NewRecord:
    shipment_key, record_hash, wtw_g, ttw_g = record.leaf
    return NewRecord(
        record.shipment_id, "0x" + shipment_key.hex(), "0x" + record_hash.hex(), wtw_g, ttw_g,
        record.canonical, position, None if leaf_hash is None else "0x" + leaf_hash.hex(),
        tree_index,
    )


class PlannedCall(NamedTuple):
    """A per-shipment batch as planned: its ``packed`` argument and its gas bound (no margin)."""

    packed: bytes
    gas_bound: int


def plan_event_batches(ledger: CarbonLedgerContract, factor_set_id: bytes,
                       records: Sequence[PreparedRecord], options: AnchorOptions,
                       calls: dict[str, PlannedCall] | None = None) -> list[NewBatch]:
    """Per-shipment batches, each small enough for one transaction under the gas cap.

    ``calls``, when given, receives each batch's :class:`PlannedCall` by batch key, so that
    :func:`batch_call` need not rebuild the batch from the store.
    """
    by_key = {r.chain_shipment_id: r for r in records}
    plan = plan_batches(
        [r.entry() for r in records], max_gas=ledger.client.max_tx_gas,
        gas_margin=ledger.client.settings.gas_margin, max_shipments=options.max_batch_shipments,
    )
    batches = []
    for entries in plan:
        packed = pack_shipments(entries)
        batch_key = "0x" + batch_id_for(factor_set_id, packed).hex()
        if calls is not None:
            calls[batch_key] = PlannedCall(packed, batch_gas_bound(entries))
        batches.append(NewBatch(
            "events", batch_key, "0x" + factor_set_id.hex(),
            [_new_record(by_key[e.shipment_id], i) for i, e in enumerate(entries)],
        ))
    return batches


def plan_root_batches(factor_set_id: bytes, records: Sequence[PreparedRecord],
                      options: AnchorOptions) -> list[NewBatch]:
    """Merkle batches of at most ``max_root_leaves`` shipments, each with its tree."""
    batches = []
    size = options.max_root_leaves
    for start in range(0, len(records), size):
        chunk = records[start:start + size]
        tree = build_tree([r.leaf for r in chunk])
        nodes = tree.nodes
        batches.append(NewBatch(
            "root", "0x" + tree.root_bytes.hex(), "0x" + factor_set_id.hex(),
            [NewRecord(r.shipment_id, "0x" + r.leaf[0].hex(), "0x" + r.leaf[1].hex(),
                       r.leaf[2], r.leaf[3], r.canonical, i, "0x" + nodes[tree_index].hex(),
                       tree_index)
             for i, (r, tree_index) in enumerate(zip(chunk, tree.tree_indices, strict=True))],
            tree=b"".join(nodes),
        ))
    return batches


def batch_call(ledger: CarbonLedgerContract, store: LedgerStore, batch: BatchRow,
               planned: Mapping[str, PlannedCall] | None = None) -> tuple[bytes, int | None]:
    """The call that anchors a stored batch, and its gas bound (per-shipment batches: the local
    bound that planned them; roots: left to the node).

    A per-shipment batch is rebuilt from the store, or taken from ``planned`` (what
    :func:`plan_event_batches` gave in this run) when that holds it: its batch key is the hash of
    the packed shipments, so a planned call whose hash matches is the stored batch.
    """
    factor_set_id = bytes.fromhex(batch.factor_set_id[2:])
    key = bytes.fromhex(batch.batch_key[2:])
    if batch.path == "root":
        return ledger.anchor_root_calldata(key, factor_set_id, batch.shipment_count), None
    call = planned.get(batch.batch_key) if planned is not None else None
    if call is None or len(call.packed) != RECORD_BYTES * batch.shipment_count \
            or batch_id_for(factor_set_id, call.packed) != key:
        entries = [ShipmentEntry(*leaf) for leaf in store.batch_leaves(batch.id)]
        call = PlannedCall(pack_shipments(entries), batch_gas_bound(entries))
    client = ledger.client
    gas = min(math.ceil(call.gas_bound * client.settings.gas_margin), client.max_tx_gas)
    return ledger.codec.encode_call("recordShipments", key, factor_set_id, call.packed), gas


def _send_batch(outbox: Outbox, ledger: CarbonLedgerContract, store: LedgerStore,
                batch: BatchRow, planned: Mapping[str, PlannedCall] | None = None) -> TxRow:
    data, gas = batch_call(ledger, store, batch, planned)
    return outbox.submit(to=ledger.address, data=data, gas=gas, batch_id=batch.id,
                         what=f"{batch.path} batch {batch.batch_key}")


def landed_check(ledger: CarbonLedgerContract, store: LedgerStore
                 ) -> Callable[[TxRow], bool | None]:
    """Whether a transaction's batch is recorded on chain by the signer."""
    def landed(tx: TxRow) -> bool | None:
        if tx.batch_id is None:
            return None
        batch = store.batch(tx.batch_id)
        key = bytes.fromhex(batch.batch_key[2:])
        info = ledger.root_info(key) if batch.path == "root" else ledger.batch_info(key)
        return info.exporter == ledger.client.address
    return landed


def _advance_oldest(outbox: Outbox, store: LedgerStore, tx_ids: Sequence[int]) -> None:
    """Advance the unmined ones of these transactions (sent in nonce order), oldest first, up to
    the first that is still unmined: the ones after it cannot be mined before it."""
    states = store.tx_states(tx_ids)
    for tx_id in tx_ids:
        if states.get(tx_id) in ("signed", "broadcast") \
                and outbox.advance(store.tx(tx_id)).state in ("signed", "broadcast"):
            return


# ---------------------------------------------------------------------------------- the run


class _Run(NamedTuple):
    """What every anchoring run is given besides its records."""

    store: LedgerStore
    ledger: CarbonLedgerContract
    scope: Scope
    options: AnchorOptions
    policy: OutboxPolicy | None
    checkpoint: Checkpoint | None
    idle: Callable[[], None] | None


def _submit(run: _Run, store_new: Callable[[dict[str, PlannedCall]], None] | None
            ) -> tuple[int, ...]:
    """Under the writer lock: settle what earlier runs left open, store this run's batches
    (``store_new``, given the dict for planned calls), send every unstarted batch and wait as
    ``options.wait_until`` says. Returns the ids of the batches earlier runs left open."""
    store, ledger, scope, options = run.store, run.ledger, run.scope, run.options
    outbox = Outbox(store, ledger.client, run.policy, landed=landed_check(ledger, store),
                    checkpoint=run.checkpoint, idle=run.idle)
    left_open = {tx.batch_id for tx in store.open_txs(scope.chain_id, scope.exporter)}
    left_open |= {b.id for b in store.unstarted_batches(scope)}
    resumed = tuple(sorted(i for i in left_open if i is not None))
    outbox.reconcile()  # settle earlier runs before signing anything new
    calls: dict[str, PlannedCall] = {}
    if store_new is not None:
        store_new(calls)
        if run.checkpoint is not None:
            run.checkpoint("stored", None)
    sent: list[int] = [tx.id for tx in store.open_txs(scope.chain_id, scope.exporter)]
    for batch in store.unstarted_batches(scope):
        while outbox.in_flight(sent) >= outbox.policy.max_in_flight:
            outbox.idle()
            _advance_oldest(outbox, store, sent)
        tx = _send_batch(outbox, ledger, store, batch, calls)
        sent.append(tx.id)
        if run.checkpoint is not None:
            run.checkpoint("between_batches", tx)
    if options.wait_until != "sent":
        outbox.wait(sent, until=options.wait_until)
        # a dropped (or failed) transaction freed its batch: send it again, wait once more
        for _ in range(_RESEND_ROUNDS):
            if not store.unstarted_batches(scope):
                break
            for batch in store.unstarted_batches(scope):
                sent.append(_send_batch(outbox, ledger, store, batch, calls).id)
            outbox.wait(sent, until=options.wait_until)
    return resumed


def anchor_records(
    records: Sequence[PreparedRecord],
    *,
    store: LedgerStore,
    ledger: CarbonLedgerContract,
    factor_set_id: bytes,
    options: AnchorOptions | None = None,
    policy: OutboxPolicy | None = None,
    checkpoint: Checkpoint | None = None,
    idle: Callable[[], None] | None = None,
) -> AnchorResult:
    """Anchor ``records`` (see the module docstring); resumes whatever earlier runs left open."""
    options = options or AnchorOptions()
    run = _Run(store, ledger, scope_of(ledger), options, policy, checkpoint, idle)
    scope = run.scope
    _check_input(records, scope.exporter, "0x" + factor_set_id.hex())
    preflight(ledger, factor_set_id)
    with store.writer_lock(scope.chain_id, scope.exporter):
        new, same = _split_known(store, scope, records)
        if options.path == "events" and options.check_chain:
            _refuse_recorded_elsewhere(ledger, store, scope, new)

        def store_new(calls: dict[str, PlannedCall]) -> None:
            with paused_gc():
                planned = (plan_event_batches(ledger, factor_set_id, new, options, calls)
                           if options.path == "events"
                           else plan_root_batches(factor_set_id, new, options))
                store.add_batches(scope, planned)
                del planned

        resumed = _submit(run, store_new if new else None)
    return AnchorResult(
        scope=scope, path=options.path, new_shipments=tuple(r.shipment_id for r in new),
        already_anchored=tuple(same), resumed_batches=resumed,
        batches=tuple(store.batch_statuses(scope)),
    )


def anchor_footprints(
    pairs: Iterable[tuple[Mapping[str, Any], Mapping[str, Any]]],
    *,
    store: LedgerStore,
    ledger: CarbonLedgerContract,
    factor_set_id: str,
    options: AnchorOptions | None = None,
    policy: OutboxPolicy | None = None,
    checkpoint: Checkpoint | None = None,
    idle: Callable[[], None] | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> AnchorResult:
    """Anchor (shipment, footprint) dicts (``Shipment.to_dict()``, ``ShipmentFootprint.to_dict()``)
    as records of the signing exporter: the fast way from footprints to the chain.

    On the root path, when none of the shipments is in the store yet, the records are built on
    every CPU and stored chunk by chunk as they come, in one transaction, while the rest are
    still being built (:func:`ledger.records.chunks.iter_shaped_chunks`,
    :meth:`ledger.store.store.LedgerStore.bulk_batches`); each batch's tree follows from the leaf
    hashes. Otherwise (events path, shipments stored before, a problem in the input) it is
    :func:`prepare_footprints` and :func:`anchor_records`, which sort the shipments out one by
    one. Either way the store and the chain end the same, and so do the errors.
    ``workers``: processes that build records (default: one per CPU this process may use; on
    the streamed root path they are forked helpers while this process stores, and ``1`` keeps
    everything in this process). ``progress`` hears each stage and count
    (:class:`AnchorProgress`); ``checkpoint`` still hears every outbox step.
    """
    items = pairs if isinstance(pairs, Sequence) else list(pairs)
    options = options or AnchorOptions()
    counts = _ProgressCounts(progress, len(items))
    counts.tell("preparing")
    checkpoint = counts.checkpoint(checkpoint)
    run = _Run(store, ledger, scope_of(ledger), options, policy, checkpoint, idle)
    result = None
    if options.path == "root":
        result = _anchor_root_streamed(run, items, factor_set_id, workers)
    if result is None:
        records = prepare_footprints(items, exporter=run.scope.exporter,
                                     factor_set_id=factor_set_id, workers=workers)
        result = anchor_records(records, store=store, ledger=ledger,
                                factor_set_id=bytes.fromhex(factor_set_id[2:]), options=options,
                                policy=policy, checkpoint=checkpoint, idle=idle)
    counts.tell("done")
    return result


class _ProgressCounts:
    """Turns the outbox's checkpoints into :class:`AnchorProgress` reports for ``progress``."""

    def __init__(self, progress: Progress | None, shipments: int) -> None:
        self._progress = progress
        self._shipments = shipments
        self._signed: set[int] = set()
        self._final: set[int] = set()

    def tell(self, stage: str) -> None:
        if self._progress is not None:
            self._progress(AnchorProgress(stage, self._shipments, len(self._signed),
                                          len(self._final)))

    def checkpoint(self, checkpoint: Checkpoint | None) -> Checkpoint | None:
        """``checkpoint``, also reporting progress (``checkpoint`` itself when nobody listens)."""
        if self._progress is None:
            return checkpoint

        def heard(point: str, tx: TxRow | None) -> None:
            if checkpoint is not None:
                checkpoint(point, tx)
            if point == "storing":
                self.tell("storing")
            elif point == "stored":
                self.tell("sending")
            elif point in ("signed", "final") and tx is not None:
                counted = self._signed if point == "signed" else self._final
                if tx.id not in counted:  # a fee bump signs the same transaction again
                    counted.add(tx.id)
                    self.tell("sending")

        return heard


def _anchor_root_streamed(run: _Run, items: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]],
                          factor_set_id: str, workers: int | None) -> AnchorResult | None:
    """:func:`anchor_footprints` on the root path with records stored as they are built;
    ``None`` (nothing stored) when the store holds one of the shipments already or the input
    names one twice: those are sorted out one by one."""
    if not items or _HEX32.fullmatch(factor_set_id) is None:
        return None
    store, ledger, scope = run.store, run.ledger, run.scope
    factor_set = factor_set_id.lower()
    preflight(ledger, bytes.fromhex(factor_set[2:]))
    new: list[str] = []

    def store_new(_calls: dict[str, PlannedCall]) -> None:
        new.extend(_store_root_chunks(store, scope, items, factor_set_id=factor_set,
                                      batch_size=run.options.max_root_leaves,
                                      workers=workers, checkpoint=run.checkpoint))

    with store.writer_lock(scope.chain_id, scope.exporter):
        try:
            resumed = _submit(run, store_new)
        except RecordConflict:
            if new:  # the records were stored: the conflict came later, it is not ours to hide
                raise
            return None
    return AnchorResult(scope=scope, path="root", new_shipments=tuple(new), already_anchored=(),
                        resumed_batches=resumed, batches=tuple(store.batch_statuses(scope)))


def _store_root_chunks(store: LedgerStore, scope: Scope,
                       items: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]], *,
                       factor_set_id: str, batch_size: int, workers: int | None,
                       checkpoint: Checkpoint | None = None) -> list[str]:
    """Root batches of ``batch_size`` consecutive shipments, stored in one transaction: each
    chunk of records as it is built (one record block per chunk, by forked helpers while this
    process stores the ones before), and each batch's tree once its records are all in. Returns
    the shipment ids.
    ``checkpoint`` hears ``storing`` after each block (the transaction still open)."""
    ids: list[str] = [""] * len(items)
    with paused_gc(), store.bulk_batches(scope) as bulk:
        sizes = [min(batch_size, len(items) - start) for start in range(0, len(items), batch_size)]
        batch_ids = [bulk.open_batch("root", factor_set_id, size) for size in sizes]
        leaf_hashes: list[list[bytes]] = [[] for _ in sizes]
        missing = list(sizes)
        for chunk, block in iter_shaped_chunks(items, exporter=scope.exporter,
                                               factor_set_id=factor_set_id, shape=_packed,
                                               helpers=None if workers is None
                                               else workers if workers > 1 else 0,
                                               build_here=False):
            placement, touched = [], []  # a chunk may straddle two batches
            first, end = chunk.start, chunk.start + chunk.size
            ids[first:end] = chunk.shipment_ids
            while first < end:
                batch, position = divmod(first, batch_size)
                last = min(end, (batch + 1) * batch_size)
                placement.append((batch_ids[batch], first - chunk.start, last - chunk.start,
                                  position))
                leaf_hashes[batch].append(
                    chunk.leaf_hashes[32 * (first - chunk.start):32 * (last - chunk.start)])
                missing[batch] -= last - first
                touched.append(batch)
                first = last
            bulk.add_block(block, BlockRecords(chunk.shipment_ids, chunk.keys,
                                               chunk.record_hashes, chunk.leaf_hashes,
                                               chunk.grams, chunk.lengths), placement)
            for batch in touched:
                if missing[batch] == 0:  # complete: its tree while the other batches come
                    _seal_root(bulk, batch_ids[batch], leaf_hashes[batch])
            if checkpoint is not None:
                checkpoint("storing", None)
    return ids


def _seal_root(bulk: BulkBatches, batch_id: int, blobs: list[bytes]) -> None:
    """Seal a root batch whose records are all stored: its tree from their leaf hashes."""
    joined = b"".join(blobs)
    nodes = tree_nodes(sorted(joined[at:at + 32] for at in range(0, len(joined), 32)))
    bulk.seal(batch_id, "0x" + nodes[0].hex(), b"".join(nodes))


def _packed(chunk: EntryChunk) -> tuple[EntryChunk, bytes]:
    """A chunk with its records packed as a record block (where the chunk was built)."""
    return chunk._replace(records=b""), pack_block(chunk.records)


def anchor_shipments(
    shipments: Sequence[Any],
    factor_set: Any,
    *,
    store: LedgerStore,
    ledger: CarbonLedgerContract,
    options: AnchorOptions | None = None,
    policy: OutboxPolicy | None = None,
    idle: Callable[[], None] | None = None,
    checkpoint: Checkpoint | None = None,
    router: Any = None,
    progress: Progress | None = None,
) -> AnchorResult:
    """Footprints -> records -> batches -> chain for parsed shipments, signed by the ledger's
    client (the exporter). The one call behind ``carbon-ledger anchor``, the demo and the API.

    ``shipments`` are :class:`ledger.inputs.shipments.Shipment` objects and ``factor_set`` a loaded
    :class:`ledger.factors.factorset.FactorSet`; the footprints are computed on the single path (the
    path a verifier recomputes with). ``router`` (a :class:`ledger.factors.distances.Router`) lets a
    long-lived caller share its route cache; ``checkpoint`` is called at each step of the
    outbox (fault injection), ``progress`` at each stage (:class:`AnchorProgress`, from
    ``computing`` on).
    """
    from ledger.footprint.single import compute_shipments

    if progress is not None:
        progress(AnchorProgress("computing", len(shipments)))
    footprints = compute_shipments(shipments, factor_set, router=router)
    return anchor_footprints(
        [(s.to_dict(), f.to_dict()) for s, f in zip(shipments, footprints, strict=True)],
        store=store, ledger=ledger, factor_set_id=factor_set.id, options=options, policy=policy,
        checkpoint=checkpoint, idle=idle, progress=progress,
    )
