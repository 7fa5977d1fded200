"""Anchoring an organisation's pending shipments, as a background job with progress.

A job runs :func:`ledger.anchoring.anchor.anchor_shipments` (the call behind ``carbon-ledger
anchor``) over the shipments of the organisation that the ledger store does not hold yet, and
records the stages and counts its ``progress`` callback hears on the job. The ledger store commits
each batch before its transaction is sent, so a job that dies (a crash, a dead RPC node) leaves
nothing half-recorded: running it again resumes the stored batches and sends nothing twice. Jobs
left queued or running when the service stopped are started again when it starts
(:func:`resume_jobs`).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from api.context import ServiceContext
from api.jobs import JobWork, Report
from api.store import JobRow
from ledger.anchoring.anchor import anchor_shipments
from ledger.anchoring.options import AnchorOptions, AnchorProgress
from ledger.anchoring.outbox import OutboxPolicy
from ledger.chain.gas import MAX_UINT48, ShipmentEntry, batch_gas_bound, plan_batches
from ledger.errors import ChainError, LedgerError
from ledger.inputs.shipments import Shipment
from ledger.store.rows import BatchStatus

__all__ = ["ROOT_TX_GAS_BOUND", "anchor_pending", "check_funds", "funds_needed",
           "queue_anchoring", "resume_jobs", "shipment_states"]

ANCHOR_JOB = "anchor"


def _transaction(status: BatchStatus, *, with_status: bool) -> dict[str, Any] | None:
    tx = status.tx
    if tx is None:
        return None
    receipt = tx.receipt
    out: dict[str, Any] = {"hash": receipt.tx_hash if receipt else tx.attempts[-1].tx_hash,
                           "block_number": receipt.block_number if receipt else None}
    if with_status:
        out["status"] = receipt.status if receipt else None
    return out


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
        out[sid] = {
            "state": status.state, "record_hash": key.record_hash,
            "batch": {"id": status.batch.id, "path": status.batch.path,
                      "key": status.batch.batch_key},
            "transaction": _transaction(status, with_status=False),
        }
    return out


def _phase(progress: AnchorProgress) -> tuple[str, int, int] | None:
    """The job's (phase, done, total) for a stage of the run; ``None`` for ``storing``, heard
    while the store's write transaction is open (the job's row waits for the commit)."""
    total = progress.shipments
    if progress.stage == "computing":
        return f"computing {total} footprint(s)", 0, total
    if progress.stage == "preparing":
        return f"building {total} record(s)", 0, total
    if progress.stage == "sending":
        return (f"{progress.signed} transaction(s) signed, {progress.final} final", total,
                total)
    if progress.stage == "done":
        return "finishing", total, total
    return None


def anchor_pending(ctx: ServiceContext, org_id: int, shipment_ids: list[str] | None,
                   report: Report) -> dict[str, Any]:
    """Anchors the organisation's shipments not anchored yet (or the named ones)."""
    key = ctx.signing_key(org_id)
    scope = ctx.chain.scope(key.address)
    rows = ctx.store.shipments(org_id, shipment_ids=shipment_ids) if shipment_ids else \
        ctx.store.shipments(org_id)
    known = ctx.ledger_store.find_records(scope, [r.shipment_id for r in rows])
    pending = [Shipment.from_dict(json.loads(r.shipment_json)) for r in rows
               if r.shipment_id not in known]

    def progress(heard: AnchorProgress) -> None:
        phase = _phase(heard)
        if phase is not None:
            report(*phase)

    settings = ctx.chain.settings
    policy = OutboxPolicy(confirmations=ctx.settings.anchor_confirmations,
                          poll_interval_s=settings.poll_interval_s,
                          timeout_s=settings.receipt_timeout_s,
                          send_retries=settings.rpc_retries, send_backoff_s=settings.rpc_backoff_s)
    options = AnchorOptions(path=ctx.settings.anchor_path, wait_until="final")
    with ctx.chain.key_lock(key.address), ctx.chain.ledger(key) as ledger:
        if pending:  # refused before anything is stored or signed when the key cannot pay
            check_funds(ledger.client, key.address, len(pending), options)
        result = anchor_shipments(pending, ctx.factor_set, store=ctx.ledger_store, ledger=ledger,
                                  options=options, policy=policy, router=ctx.router,
                                  progress=progress)
    touched = set(result.resumed_batches)
    if result.new_shipments:
        found = ctx.ledger_store.find_records(scope, sorted(result.new_shipments))
        touched |= {k.batch_id for k in found.values()}
    return {
        "anchored": len(result.new_shipments), "already_anchored": len(known),
        "resumed_batches": list(result.resumed_batches),
        "chain_id": scope.chain_id, "contract": scope.contract, "exporter": scope.exporter,
        "batches": [{
            "id": status.batch.id, "path": status.batch.path, "key": status.batch.batch_key,
            "shipments": status.batch.shipment_count, "state": status.state,
            "transaction": _transaction(status, with_status=True),
        } for status in result.batches if status.batch.id in touched],
    }


#: Gas bound of one ``anchorRoot`` transaction (root path: one root, its count and factor
#: set stored, one event; the cost does not grow with the leaves). A root of the four demo
#: shipments used 51,786 gas on Anvil 1.7.1 (``tests/api/test_api_chain_state.py`` checks a
#: real anchoring stays within the bound). A bound: the check can ask for too much, not too
#: little.
ROOT_TX_GAS_BOUND = 200_000
#: The margin the client adds to a gas estimate (``ledger.chain.gas.plan_batches``' default).
_GAS_MARGIN = 1.2


def funds_needed(shipments: int, options: AnchorOptions, max_fee_per_gas: int
                 ) -> tuple[int, int]:
    """(transactions, wei) that anchoring ``shipments`` can cost at most at this fee cap."""
    if options.path == "root":
        txs = -(-shipments // options.max_root_leaves)
        gas = txs * ROOT_TX_GAS_BOUND
    else:  # the worst records: every byte non-zero
        worst = ShipmentEntry(b"\xff" * 32, b"\xff" * 32, MAX_UINT48, MAX_UINT48, b"\xff" * 32)
        batches = plan_batches([worst] * shipments, max_shipments=options.max_batch_shipments)
        txs = len(batches)
        gas = sum(batch_gas_bound(batch) for batch in batches)
    return txs, int(gas * _GAS_MARGIN) * max_fee_per_gas


def _eth(wei: int) -> str:
    return f"{Decimal(wei) / Decimal(10**18):.6f} ETH"


def check_funds(client: Any, address: str, shipments: int, options: AnchorOptions) -> None:
    """ChainError naming the balance and the amount needed when ``address`` cannot pay for
    anchoring ``shipments`` at the node's current fee cap."""
    fees = client.suggest_fees()
    txs, needed = funds_needed(shipments, options, fees.max_fee_per_gas)
    balance = int(client.balance(address))
    if balance < needed:
        raise ChainError(
            f"the signing key {address} holds {balance} wei ({_eth(balance)}) on chain "
            f"{client.chain_id}; anchoring {shipments} shipment(s) in {txs} transaction(s) "
            f"needs up to {needed} wei ({_eth(needed)}) at the current fee cap of "
            f"{fees.max_fee_per_gas} wei per gas: fund the address, then anchor again "
            "(nothing was stored or sent)")


def _anchoring_work(ctx: ServiceContext, org_id: int, shipment_ids: list[str] | None
                    ) -> JobWork:
    def work(report: Report) -> dict[str, Any]:
        return anchor_pending(ctx, org_id, shipment_ids, report)

    return work


def queue_anchoring(ctx: ServiceContext, org_id: int, shipment_ids: list[str] | None) -> str:
    """Queues an anchoring job of the organisation's pending (or named) shipments; its id."""
    return ctx.jobs.start(org_id, ANCHOR_JOB, {"shipment_ids": shipment_ids},
                          _anchoring_work(ctx, org_id, shipment_ids))


def resume_jobs(ctx: ServiceContext) -> int:
    """Starts again the anchoring jobs a previous run left open; returns how many."""
    def work_of(job: JobRow) -> JobWork | None:
        if job.kind != ANCHOR_JOB:
            return None
        return _anchoring_work(ctx, job.org_id, job.request.get("shipment_ids"))

    return ctx.jobs.resume(work_of)
