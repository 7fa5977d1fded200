"""Recovery of the service's exporters after the chain lost anchored batches.

The service holds its exporters' keys sealed, so its operator recovers through the API
(``POST /v1/recovery``, admin only) rather than with ``carbon-ledger recover`` and a raw key:
for each exporter organisation whose records the ledger store holds on this chain and contract,
:func:`ledger.anchoring.recover.recover` (on a dry run,
:func:`~ledger.anchoring.recover.find_lost`) under that key's lock, as anchoring jobs take it.
"""

from __future__ import annotations

from typing import Any

from api.context import ServiceContext
from ledger.anchoring.outbox import OutboxPolicy
from ledger.anchoring.recover import Recovery, find_lost, recover
from ledger.store.rows import LostAnchor

__all__ = ["recover_exporters"]


def recover_exporters(ctx: ServiceContext, *, dry_run: bool, anchor_again: bool = False
                      ) -> dict[str, Any]:
    """Recovery (or, ``dry_run``, what it would do) for every exporter with records here."""
    known = set(ctx.ledger_store.scopes())
    settings = ctx.chain.settings
    policy = OutboxPolicy(confirmations=ctx.settings.anchor_confirmations,
                          poll_interval_s=settings.poll_interval_s,
                          timeout_s=settings.receipt_timeout_s,
                          send_retries=settings.rpc_retries, send_backoff_s=settings.rpc_backoff_s)
    done = []
    for org in ctx.store.orgs():
        if org.role != "exporter" or org.keystore is None or org.address is None \
                or ctx.chain.scope(org.address) not in known:
            continue
        key = ctx.signing_key(org.id)
        with ctx.chain.key_lock(key.address), ctx.chain.ledger(key) as ledger:
            found = (find_lost(ledger, ctx.ledger_store, anchor_again=anchor_again) if dry_run
                     else recover(ledger, ctx.ledger_store, anchor_again=anchor_again,
                                  policy=policy))
        done.append({"organisation": org.id, "name": org.name, **_recovery_dict(found)})
    return {"dry_run": dry_run, "chain_id": ctx.chain.chain_id,
            "contract": ctx.chain.deployment.address.lower(), "exporters": done}


def _recovery_dict(found: Recovery) -> dict[str, Any]:
    rekeyed = {r.batch_id: r.new_key for r in found.rekeyed}
    return {
        "exporter": found.scope.exporter, "chain_height": found.chain_height,
        "lost": [_lost_dict(a) for a in found.newly_lost],
        "lost_before": len(found.lost_before),
        "history_lost": [{**_lost_dict(a), "new_key": r.new_key,
                          "anchored_again": r.batch_id in {k.batch_id for k in found.rekeyed}}
                         for a, r in found.history_lost],
        "adopted": [{"batch": t.batch_id, "nonce": t.nonce} for t in found.adopted],
        "anchored_again": [{
            "id": b.id, "path": b.path, "key": rekeyed.get(b.id, b.batch_key),
            "shipments": b.shipment_count,
        } for b in found.to_anchor],
        "batches": [{
            "id": s.batch.id, "state": s.state,
            "transaction": None if s.tx is None or s.tx.receipt is None else {
                "hash": s.tx.receipt.tx_hash, "block_number": s.tx.receipt.block_number},
        } for s in found.batches],
    }


def _lost_dict(a: LostAnchor) -> dict[str, Any]:
    return {"batch": a.batch_id, "key": a.batch_key, "transaction": a.tx_hash, "nonce": a.nonce,
            "block_number": a.block_number, "reason": a.reason}
