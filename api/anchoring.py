"""Anchoring an organisation's pending shipments, as a background job with progress.

A job runs :func:`ledger.anchoring.anchor.anchor_footprints` (the call behind ``carbon-ledger
anchor``) over the shipments of the organisation that the ledger store does not hold yet. The
ledger store commits each batch before its transaction is sent, so a job that dies (a crash, a dead
RPC node) leaves nothing half-recorded: running it again resumes the stored batches and sends
nothing twice. Jobs left queued or running when the service stopped are started again when it
starts.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from ledger.errors import LedgerError

if TYPE_CHECKING:
    from api.context import ServiceContext

__all__ = ["JobRunner", "anchor_pending", "shipment_states"]

log = logging.getLogger("api.jobs")


def shipment_states(ctx: ServiceContext, address: str | None, shipment_ids: list[str]
                    ) -> dict[str, dict[str, Any]]:
    """Anchoring state of each shipment: ``pending`` (not anchored yet) or its batch's state
    (``unstarted``, ``signed``, ``broadcast``, ``mined``, ``final``, ``failed``) with the batch."""
    out: dict[str, dict[str, Any]] = {sid: {"state": "pending"} for sid in shipment_ids}
    if address is None or not shipment_ids:
        return out
    try:
        scope = ctx.chain.scope(address)
    except LedgerError:
        return out
    found = ctx.ledger_store.find_records(scope, shipment_ids)
    if not found:
        return out
    statuses = {s.batch.id: s for s in ctx.ledger_store.batch_statuses(scope)}
    for sid, key in found.items():
        status = statuses.get(key.batch_id)
        if status is None:
            continue
        tx = status.tx
        receipt = tx.receipt if tx is not None else None
        out[sid] = {
            "state": status.state, "record_hash": key.record_hash,
            "batch": {"id": status.batch.id, "path": status.batch.path,
                      "key": status.batch.batch_key},
            "transaction": None if tx is None else {
                "hash": receipt.tx_hash if receipt else tx.attempts[-1].tx_hash,
                "block_number": receipt.block_number if receipt else None},
        }
    return out


def anchor_pending(ctx: ServiceContext, org_id: int, shipment_ids: list[str] | None,
                   progress: Callable[..., None]) -> dict[str, Any]:
    """Anchors the organisation's shipments not anchored yet (or the named ones)."""
    from ledger.anchoring.anchor import AnchorOptions, anchor_footprints
    from ledger.anchoring.outbox import OutboxPolicy
    from ledger.footprint.single import compute_shipment
    from ledger.inputs.shipments import Shipment

    org = ctx.store.org(org_id)
    if org is None or org.keystore is None:
        raise LedgerError("the organisation has no signing key")
    key = ctx.keyring.open(org.keystore)
    scope = ctx.chain.scope(key.address)
    rows = ctx.store.shipments(org_id, shipment_ids=shipment_ids) if shipment_ids else \
        ctx.store.shipments(org_id)
    known = ctx.ledger_store.find_records(scope, [r.shipment_id for r in rows])
    pending = [r for r in rows if r.shipment_id not in known]
    progress(phase=f"computing {len(pending)} record(s)", done=0, total=len(pending))
    pairs = []
    for number, row in enumerate(pending, start=1):
        shipment = Shipment.from_dict(json.loads(row.shipment_json))
        footprint = compute_shipment(shipment, ctx.factor_set, router=ctx.router)
        pairs.append((shipment.to_dict(), footprint.to_dict()))
        if number % 200 == 0:
            progress(done=number)
    progress(phase="sending batches", done=len(pending))
    sent = {"signed": 0, "final": 0}

    def checkpoint(point: str, _tx: Any) -> None:
        if point in sent:
            sent[point] += 1
            progress(phase=f"{sent['signed']} transaction(s) signed, {sent['final']} final")

    settings = ctx.chain.settings
    policy = OutboxPolicy(confirmations=ctx.settings.anchor_confirmations,
                          poll_interval_s=settings.poll_interval_s,
                          timeout_s=settings.receipt_timeout_s,
                          send_retries=settings.rpc_retries, send_backoff_s=settings.rpc_backoff_s)
    options = AnchorOptions(path=ctx.settings.anchor_path, wait_until="final")
    with ctx.chain.key_lock(key.address), ctx.chain.ledger(key) as ledger:
        result = anchor_footprints(pairs, store=ctx.ledger_store, ledger=ledger,
                                   factor_set_id=ctx.factor_set.id, options=options,
                                   policy=policy, checkpoint=checkpoint)
    batches = []
    for status in result.batches:
        tx = status.tx
        receipt = tx.receipt if tx is not None else None
        batches.append({
            "id": status.batch.id, "path": status.batch.path, "key": status.batch.batch_key,
            "shipments": status.batch.shipment_count, "state": status.state,
            "transaction": None if tx is None else {
                "hash": receipt.tx_hash if receipt else tx.attempts[-1].tx_hash,
                "block_number": receipt.block_number if receipt else None,
                "status": receipt.status if receipt else None},
        })
    touched = {b for b in result.resumed_batches}
    new_ids = set(result.new_shipments)
    if new_ids:
        found = ctx.ledger_store.find_records(scope, sorted(new_ids))
        touched |= {k.batch_id for k in found.values()}
    return {
        "anchored": len(result.new_shipments), "already_anchored": len(known),
        "resumed_batches": list(result.resumed_batches),
        "chain_id": scope.chain_id, "contract": scope.contract, "exporter": scope.exporter,
        "batches": [b for b in batches if b["id"] in touched],
    }


class JobRunner:
    """Runs jobs on a small thread pool, one at a time per organisation, recording progress."""

    def __init__(self, ctx: ServiceContext, workers: int) -> None:
        self._ctx = ctx
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="job")
        self._org_locks: dict[int, threading.Lock] = {}
        self._guard = threading.Lock()
        self._futures: dict[str, Future[None]] = {}

    def start_anchoring(self, org_id: int, shipment_ids: list[str] | None) -> str:
        job_id = str(uuid.uuid4())
        self._ctx.store.add_job(job_id, org_id, "anchor", {"shipment_ids": shipment_ids})
        self._submit(job_id, org_id, shipment_ids)
        return job_id

    def resume(self) -> int:
        """Starts again the jobs a previous run of the service left open; returns how many."""
        count = 0
        for job in self._ctx.store.open_jobs():
            if job.kind == "anchor":
                self._submit(job.id, job.org_id, job.request.get("shipment_ids"))
                count += 1
        return count

    def _submit(self, job_id: str, org_id: int, shipment_ids: list[str] | None) -> None:
        self._futures[job_id] = self._pool.submit(self._run, job_id, org_id, shipment_ids)

    def wait(self, job_id: str, timeout_s: float | None = None) -> None:
        future = self._futures.get(job_id)
        if future is not None:
            future.result(timeout=timeout_s)

    def _run(self, job_id: str, org_id: int, shipment_ids: list[str] | None) -> None:
        store = self._ctx.store

        def progress(**values: Any) -> None:
            store.update_job(job_id, **values)

        with self._guard:
            lock = self._org_locks.setdefault(org_id, threading.Lock())
        with lock:
            store.update_job(job_id, state="running", phase="starting")
            try:
                result = anchor_pending(self._ctx, org_id, shipment_ids, progress)
            except LedgerError as exc:
                log.warning("anchoring job %s failed: %s", job_id, exc)
                store.update_job(job_id, state="failed", phase="failed", error=str(exc))
            except Exception as exc:
                log.exception("anchoring job %s failed", job_id)
                store.update_job(job_id, state="failed", phase="failed",
                                 error=f"internal error: {type(exc).__name__}")
            else:
                store.update_job(job_id, state="done", phase="done", result=result)

    def run_in_background(self, fn: Callable[[], None]) -> None:
        """Runs ``fn`` on the pool (PACT event answers); errors are logged."""
        def wrapped() -> None:
            try:
                fn()
            except Exception:
                log.exception("background task failed")
        self._pool.submit(wrapped)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)
