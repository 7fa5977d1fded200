"""The anchoring entry point: footprints -> canonical records -> batches -> outbox -> chain.

:func:`anchor_footprints` is the one way in (:func:`anchor_shipments` computes the footprints
first and calls it). It checks everything it can before any transaction is sent (chain id, code
at the contract address, the signer's exporter role, the factor set's registration, a shipment
twice in the input, a changed record for a shipment this exporter anchored before; see
:mod:`ledger.anchoring.checks`), then, holding the store's writer lock, reconciles what earlier
runs left open, stores the new batches in one commit and hands them to the
:class:`~ledger.anchoring.outbox.Outbox` (:mod:`ledger.anchoring.submit`). Idempotency key:
(chain id, contract, exporter, shipment id); a shipment stored with the same record hash is
reported as already anchored and not sent again.

On the root path with only new shipments the records are stored as they are built
(:mod:`ledger.anchoring.streamed`). Otherwise (events path, shipments stored before, a problem
in the input) the run goes record by record: all records built
(:func:`~ledger.anchoring.plan.prepare_footprints`), checked, planned into batches
(:mod:`ledger.anchoring.plan`) and stored at once. Either way the store and the chain end the
same, and so do the errors. An optional ``progress`` callback hears where the run stands
(:class:`~ledger.anchoring.options.AnchorProgress`: stage and counts), for a caller that
reports it (the service's jobs).

One batch records one factor set on chain, so every footprint of a run must have been
computed under the run's set; footprints of several sets are refused, naming them.
:func:`anchor_by_factor_set` anchors several sets in one run, each set's shipments in batches of
their own (all checked before anything is stored, all stored in one commit), and
:func:`anchor_by_dispatch_date` does so for shipments whose set a schedule chooses by dispatch
date.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from ledger.anchoring.checks import (
    check_input,
    doubled_since,
    preflight,
    refuse_recorded_elsewhere,
    split_known,
)
from ledger.anchoring.options import AnchorOptions, AnchorProgress, AnchorResult, Progress, scope_of
from ledger.anchoring.outbox import Checkpoint, OutboxPolicy
from ledger.anchoring.plan import (
    FootprintPair,
    PlannedCall,
    PreparedRecord,
    plan_event_batches,
    plan_root_batches,
    prepare_footprints,
)
from ledger.anchoring.streamed import anchor_root_streamed
from ledger.anchoring.submit import Run, submit
from ledger.chain.contract import CarbonLedgerContract
from ledger.errors import InputError, InputProblem
from ledger.factors.distances import Router
from ledger.factors.factorset import FactorSet
from ledger.factors.schedule import FactorSetSchedule
from ledger.footprint.single import compute_shipments
from ledger.inputs.shipments import Shipment
from ledger.records.chunks import paused_gc
from ledger.store.rows import TxRow
from ledger.store.store import LedgerStore
from ledger.types import Bytes32

__all__ = [
    "anchor_by_dispatch_date",
    "anchor_by_factor_set",
    "anchor_footprints",
    "anchor_shipments",
]


def anchor_footprints(
    pairs: Iterable[FootprintPair],
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
    as records of the signing exporter (see the module docstring); resumes whatever earlier runs
    left open.

    ``workers``: processes that build records (default: one per CPU this process may use; on
    the streamed root path they are forked helpers while this process stores, and ``1`` keeps
    everything in this process). ``progress`` hears each stage and count
    (:class:`~ledger.anchoring.options.AnchorProgress`); ``checkpoint`` still hears every
    outbox step.
    """
    items = pairs if isinstance(pairs, Sequence) else list(pairs)
    _refuse_other_sets(items, factor_set_id)
    options = options or AnchorOptions()
    counts = _ProgressCounts(progress, len(items))
    counts.tell("preparing")
    checkpoint = counts.checkpoint(checkpoint)
    run = Run(store, ledger, scope_of(ledger), options, policy, checkpoint, idle)
    result: AnchorResult | tuple[int, ...] = ()
    if options.path == "root":
        try:
            streamed_set = Bytes32.parse(factor_set_id, "factor_set_id")
        except InputError:  # reported row by row on the record-by-record path
            pass
        else:
            result = anchor_root_streamed(run, items, streamed_set, workers)
    if not isinstance(result, AnchorResult):
        result = _anchor_records(run, [(factor_set_id, items, None)], workers,
                                 settled_before=result)
    counts.tell("done")
    return result


def _refuse_other_sets(items: Sequence[FootprintPair], factor_set_id: str) -> None:
    """InputError when footprints were computed under another factor set than the run's: the
    run's batches would claim its set on chain for them."""
    wanted = str(factor_set_id).lower()
    others: dict[str, list[str]] = {}
    for shipment, footprint in items:
        named = footprint.get("factor_set_id")
        if isinstance(named, str) and named.lower() != wanted:
            others.setdefault(named.lower(), []).append(str(shipment.get("shipment_id")))
    if others:
        listed = "; ".join(f"{len(ids)} under {fsid} (first {ids[0]})"
                           for fsid, ids in sorted(others.items()))
        raise InputError([InputProblem(
            f"footprints computed under other factor sets than this run's {wanted}: {listed}; "
            "a batch records one factor set on chain, so anchor each set's shipments in "
            "batches of their own (anchor_by_factor_set, or carbon-ledger anchor "
            "--by-dispatch-date)", field="footprint.factor_set_id")])


#: Footprints of one factor set: (set id, pairs, the pairs' rows in the input or None for
#: their positions in the group).
_Group = tuple[str, Sequence[FootprintPair], Sequence[int] | None]


def _anchor_records(run: Run, groups: Sequence[_Group], workers: int | None,
                    settled_before: tuple[int, ...] = ()) -> AnchorResult:
    """The record-by-record way: every record of every group built first, then checked against
    the input and the store, planned into batches (each group's in batches of its own set) and
    stored in one commit, then sent. ``settled_before``: batches of earlier runs that a
    streamed attempt of this run settled before it gave way."""
    store, ledger, scope, options = run.store, run.ledger, run.scope, run.options
    prepared: list[list[PreparedRecord]] = []
    for set_id, items, rows in groups:
        records = prepare_footprints(items, exporter=scope.exporter, factor_set_id=set_id,
                                     workers=workers)
        if rows is not None:
            records = [r._replace(row=row) for r, row in zip(records, rows, strict=True)]
        prepared.append(records)
    everything = prepared[0] if len(prepared) == 1 else [r for g in prepared for r in g]
    check_input(everything)
    sets = [Bytes32.parse(set_id, "factor_set_id") for set_id, _, _ in groups]
    for factor_set in sets:
        preflight(ledger, factor_set)
    with store.writer_lock(scope.chain_id, scope.exporter):
        new, same = split_known(store, scope, everything)
        if options.path == "events" and options.check_chain:
            refuse_recorded_elsewhere(ledger, store, scope, new)

        def store_new(calls: dict[str, PlannedCall]) -> None:
            with paused_gc():
                planned = []
                for factor_set, records in _new_by_set(sets, prepared, new):
                    planned.extend(plan_event_batches(ledger, factor_set, records, options, calls)
                                   if options.path == "events"
                                   else plan_root_batches(factor_set, records, options))
                store.add_batches(scope, planned)
                del planned

        from_block = ledger.client.block_number()
        resumed = submit(run, store_new if new else None)
        if options.path == "events" and options.check_chain and options.wait_until != "sent":
            doubled_since(ledger, store, scope, new, from_block)
    return AnchorResult(
        scope=scope, path=options.path, new_shipments=tuple(r.shipment_id for r in new),
        already_anchored=tuple(same),
        resumed_batches=tuple(sorted(set(resumed) | set(settled_before))),
        batches=tuple(store.batch_statuses(scope)),
    )


def _new_by_set(sets: Sequence[Bytes32], prepared: Sequence[Sequence[PreparedRecord]],
                new: Sequence[PreparedRecord]) -> list[tuple[Bytes32, Sequence[PreparedRecord]]]:
    """The new records of each factor set (sets without new records left out)."""
    if len(sets) == 1:
        return [(sets[0], new)] if new else []
    fresh = {r.shipment_id for r in new}
    out: list[tuple[Bytes32, Sequence[PreparedRecord]]] = []
    for factor_set, records in zip(sets, prepared, strict=True):
        mine = [r for r in records if r.shipment_id in fresh]
        if mine:
            out.append((factor_set, mine))
    return out


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


def anchor_shipments(
    shipments: Sequence[Shipment],
    factor_set: FactorSet,
    *,
    store: LedgerStore,
    ledger: CarbonLedgerContract,
    options: AnchorOptions | None = None,
    policy: OutboxPolicy | None = None,
    idle: Callable[[], None] | None = None,
    checkpoint: Checkpoint | None = None,
    router: Router | None = None,
    progress: Progress | None = None,
) -> AnchorResult:
    """Footprints -> records -> batches -> chain for parsed shipments, signed by the ledger's
    client (the exporter). The one call behind ``carbon-ledger anchor``, the demo and the API.

    The footprints are computed on the single path (the path a verifier recomputes with).
    ``router`` lets a long-lived caller share its route cache; ``checkpoint`` is called at each
    step of the outbox (fault injection), ``progress`` at each stage
    (:class:`~ledger.anchoring.options.AnchorProgress`, from ``computing`` on).
    """
    if progress is not None:
        progress(AnchorProgress("computing", len(shipments)))
    footprints = compute_shipments(shipments, factor_set, router=router)
    return anchor_footprints(
        [(s.to_dict(), f.to_dict()) for s, f in zip(shipments, footprints, strict=True)],
        store=store, ledger=ledger, factor_set_id=factor_set.id, options=options, policy=policy,
        checkpoint=checkpoint, idle=idle, progress=progress,
    )


def anchor_by_factor_set(
    groups: Sequence[tuple[str, Sequence[FootprintPair]]],
    *,
    store: LedgerStore,
    ledger: CarbonLedgerContract,
    options: AnchorOptions | None = None,
    policy: OutboxPolicy | None = None,
    checkpoint: Checkpoint | None = None,
    idle: Callable[[], None] | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> AnchorResult:
    """Anchor (factor-set id, pairs) groups in one run, each set's shipments in batches of their
    own that record that set on chain.

    As :func:`anchor_footprints` (on the record-by-record way), with every group's records
    built and checked before anything is stored, and all batches stored in one commit before
    anything is sent: a shipment in two groups, a footprint of another set than its group's,
    a set not registered on chain or any other problem of any group stops the run with
    nothing stored or sent. Problems name rows as positions in the groups, one after the
    other.
    """
    rows: list[Sequence[int] | None] = []
    start = 1
    for _, pairs in groups:
        rows.append(range(start, start + len(pairs)))
        start += len(pairs)
    return _anchor_groups([(s, p, r) for (s, p), r in zip(groups, rows, strict=True)],
                          store=store, ledger=ledger, options=options, policy=policy,
                          checkpoint=checkpoint, idle=idle, workers=workers, progress=progress)


def _anchor_groups(groups: Sequence[_Group], *, store: LedgerStore,
                   ledger: CarbonLedgerContract, options: AnchorOptions | None,
                   policy: OutboxPolicy | None, checkpoint: Checkpoint | None,
                   idle: Callable[[], None] | None, workers: int | None,
                   progress: Progress | None) -> AnchorResult:
    for set_id, pairs, _ in groups:
        _refuse_other_sets(pairs, set_id)
    options = options or AnchorOptions()
    counts = _ProgressCounts(progress, sum(len(pairs) for _, pairs, _ in groups))
    counts.tell("preparing")
    checkpoint = counts.checkpoint(checkpoint)
    run = Run(store, ledger, scope_of(ledger), options, policy, checkpoint, idle)
    if not groups:
        scope = run.scope
        result = AnchorResult(scope=scope, path=options.path, new_shipments=(),
                              already_anchored=(), resumed_batches=(),
                              batches=tuple(store.batch_statuses(scope)))
    else:
        result = _anchor_records(run, groups, workers)
    counts.tell("done")
    return result


def anchor_by_dispatch_date(
    shipments: Sequence[Shipment],
    schedule: FactorSetSchedule,
    *,
    store: LedgerStore,
    ledger: CarbonLedgerContract,
    options: AnchorOptions | None = None,
    policy: OutboxPolicy | None = None,
    idle: Callable[[], None] | None = None,
    checkpoint: Checkpoint | None = None,
    router: Router | None = None,
    progress: Progress | None = None,
) -> AnchorResult:
    """Footprints with each shipment's factor set chosen by its dispatch date
    (:func:`ledger.footprint.dated.compute_by_dispatch_date`: no fallback), anchored set by
    set in one run (as :func:`anchor_by_factor_set`; problems name the shipments' rows in
    ``shipments``): every batch records the set its records were computed under. The one call
    behind ``carbon-ledger anchor --by-dispatch-date``."""
    from ledger.footprint.dated import compute_by_dispatch_date

    if progress is not None:
        progress(AnchorProgress("computing", len(shipments)))
    dated = compute_by_dispatch_date(shipments, schedule, router=router)
    footprints = dated.footprints()
    groups: list[_Group] = [
        (set_id, [(shipments[i].to_dict(), footprints[i].to_dict()) for i in index],
         [i + 1 for i in index])
        for set_id, index in dated.groups_by_factor_set()]
    return _anchor_groups(groups, store=store, ledger=ledger, options=options, policy=policy,
                          checkpoint=checkpoint, idle=idle, workers=None, progress=progress)
