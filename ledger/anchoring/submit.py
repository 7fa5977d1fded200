"""Stored batches -> signed transactions -> chain, through the :class:`Outbox`.

:func:`submit` is the part every anchoring run shares: holding the store's writer lock (its
caller takes it), it settles what earlier runs left open, has the run's new batches stored in
one commit, then sends every unstarted batch (at most ``max_in_flight`` unmined at a time),
waits as ``wait_until`` says, and sends again a batch whose transaction was dropped or failed.
:func:`batch_call` is the call that anchors one stored batch; :func:`landed_check` tells the
outbox whether a batch it lost track of is on chain after all.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

from ledger.anchoring.options import AnchorOptions
from ledger.anchoring.outbox import Checkpoint, Outbox, OutboxPolicy
from ledger.anchoring.plan import PlannedCall
from ledger.chain.contract import CarbonLedgerContract
from ledger.chain.gas import (
    RECORD_BYTES,
    ShipmentEntry,
    batch_gas_bound,
    batch_id_for,
    pack_shipments,
)
from ledger.errors import ChainError, StoreError
from ledger.records.canonical import chain_shipment_key_function, shipment_id_of
from ledger.store.rows import BatchRow, Scope, TxRow
from ledger.store.store import LedgerStore
from ledger.types import Bytes32

__all__ = ["Run", "batch_call", "landed_check", "left_open", "refuse_lost_chain", "submit"]

#: Times a run sends a batch again whose transaction was dropped or failed.
_RESEND_ROUNDS = 3


class Run(NamedTuple):
    """What every anchoring run is given besides its records."""

    store: LedgerStore
    ledger: CarbonLedgerContract
    scope: Scope
    options: AnchorOptions
    policy: OutboxPolicy | None
    checkpoint: Checkpoint | None
    idle: Callable[[], None] | None


def batch_call(ledger: CarbonLedgerContract, store: LedgerStore, batch: BatchRow,
               planned: Mapping[str, PlannedCall] | None = None) -> tuple[bytes, int | None]:
    """The call that anchors a stored batch, and its gas bound (per-shipment batches: the local
    bound that planned them; roots: left to the node).

    A per-shipment batch is rebuilt from the store, or taken from ``planned`` (what
    :func:`~ledger.anchoring.plan.plan_event_batches` gave in this run) when that holds it: its
    batch key is the hash of the packed shipments, so a planned call whose hash matches is the
    stored batch.
    """
    factor_set_id = Bytes32.parse(batch.factor_set_id, "factor_set_id")
    key = Bytes32.parse(batch.batch_key, "batch_key")
    if batch.path == "root":
        return ledger.anchor_root_calldata(key, factor_set_id, batch.shipment_count), None
    call = planned.get(batch.batch_key) if planned is not None else None
    if call is None or len(call.packed) != RECORD_BYTES * batch.shipment_count \
            or batch_id_for(factor_set_id, call.packed) != key:
        entries = stored_entries(store, batch)
        call = PlannedCall(pack_shipments(entries), batch_gas_bound(entries))
    client = ledger.client
    gas = min(math.ceil(call.gas_bound * client.settings.gas_margin), client.max_tx_gas)
    return ledger.codec.encode_call("recordShipments", key, factor_set_id, call.packed), gas


def stored_entries(store: LedgerStore, batch: BatchRow) -> list[ShipmentEntry]:
    """A stored per-shipment batch's entries, each with the shipment key its calldata carries.

    The key is computed again from the exporter and the shipment id; a stored id that is not
    the one the contract derives from that key (a batch planned under an earlier shipment-id
    rule) is refused rather than sent under another id.
    """
    shipment_key = chain_shipment_key_function(batch.exporter)
    entries = []
    stale = []
    for shipment_id, leaf in zip(store.batch_shipment_ids(batch.id),
                                 store.batch_leaves(batch.id), strict=True):
        key = shipment_key(shipment_id)
        if shipment_id_of(batch.exporter, key) != leaf[0]:
            stale.append(shipment_id)
        entries.append(ShipmentEntry(*leaf, key))
    if stale:
        raise StoreError(
            f"batch {batch.id} ({batch.batch_key}) holds {len(stale)} shipment id(s) that are "
            f"not the contract's sender-derived ids (first: {stale[0]!r}): it was planned under "
            "an earlier shipment-id rule. Anchor its records again from their files into a "
            "store for a contract deployed with this version"
        )
    return entries


def landed_check(ledger: CarbonLedgerContract, store: LedgerStore
                 ) -> Callable[[TxRow], bool | None]:
    """Whether a transaction's batch is recorded on chain by the signer."""
    def landed(tx: TxRow) -> bool | None:
        if tx.batch_id is None:
            return None
        batch = store.batch(tx.batch_id)
        key = Bytes32.parse(batch.batch_key, "batch_key")
        info = ledger.root_info(key) if batch.path == "root" else ledger.batch_info(key)
        return info.exporter == ledger.client.address
    return landed


def _send_batch(outbox: Outbox, ledger: CarbonLedgerContract, store: LedgerStore,
                batch: BatchRow, planned: Mapping[str, PlannedCall] | None = None) -> TxRow:
    adopted = _adopt_anchored(outbox, ledger, batch)
    if adopted is not None:
        return adopted
    data, gas = batch_call(ledger, store, batch, planned)
    return outbox.submit(to=ledger.address, data=data, gas=gas, batch_id=batch.id,
                         what=f"{batch.path} batch {batch.batch_key}")


def _adopt_anchored(outbox: Outbox, ledger: CarbonLedgerContract, batch: BatchRow
                    ) -> TxRow | None:
    """A batch (or root) this key anchored before from elsewhere — another store with the same
    records, or a run whose store was lost — is not sent again, which the contract would refuse
    (``BatchAlreadyRecorded``, ``RootAlreadyAnchored``): its transaction is adopted as this
    batch's. One anchored by another key is refused, naming it; ``None``: not on chain, send it.
    """
    key = Bytes32.parse(batch.batch_key, "batch_key")
    root = batch.path == "root"
    info = ledger.root_info(key) if root else ledger.batch_info(key)
    if info.exporter is None:
        return None
    what = f"{'root' if root else 'events batch'} {key.hex0x} (batch {batch.id})"
    ours = ledger.client.address
    if info.exporter.lower() != ours.lower():
        raise ChainError(
            f"{what} was anchored in block {info.block_number} by {info.exporter}, not by this "
            f"key ({ours}); it stays unsent in the store"
        )
    event = ledger.anchoring_event(key, root=root)
    if event is not None:
        stored = outbox.revive(Bytes32(event.meta.tx_hash).hex0x)
        if stored is not None:
            return stored
    signed = None if event is None else ledger.client.signed_transaction(event.meta.tx_hash)
    if signed is None:
        raise ChainError(
            f"{what} is anchored by this key in block {info.block_number}, but the node serves "
            "neither its event nor its transaction; use a node that keeps the chain's history "
            "(an archive node) and run again"
        )
    return outbox.adopt(signed, batch_id=batch.id)


def _advance_oldest(outbox: Outbox, store: LedgerStore, tx_ids: Sequence[int]) -> None:
    """Advance the unmined ones of these transactions (sent in nonce order), oldest first, up to
    the first that is still unmined: the ones after it cannot be mined before it."""
    states = store.tx_states(tx_ids)
    for tx_id in tx_ids:
        if states.get(tx_id) in ("signed", "broadcast") \
                and outbox.advance(store.tx(tx_id)).state in ("signed", "broadcast"):
            return


def refuse_lost_chain(ledger: CarbonLedgerContract, store: LedgerStore, scope: Scope) -> None:
    """Refuse to go on when the chain does not hold what the store says is final there: its
    oldest final batch is not recorded by this key (a reset development chain with the contract
    deployed again at the same address, another chain behind the same id, a rollback). A recent
    reorg is the outbox's to settle; a batch final longer than any reorg is not."""
    finals = store.final_txs_above(scope.chain_id, scope.exporter, -1)
    anchored = [t for t in finals if t.batch_id is not None and t.receipt is not None
                and t.to_address.lower() == scope.contract]  # this contract's batches only
    if not anchored:
        return
    oldest = min(anchored, key=lambda t: (t.receipt.block_number if t.receipt else 0, t.nonce))
    if landed_check(ledger, store)(oldest):
        return
    batch = store.batch(oldest.batch_id) if oldest.batch_id is not None else None
    height = ledger.client.block_number()
    block = oldest.receipt.block_number if oldest.receipt else 0
    raise ChainError(
        f"the chain at {ledger.address} (chain {scope.chain_id}, height {height}) does not hold "
        f"this store's records: batch {batch.batch_key if batch else oldest.batch_id}, final in "
        f"block {block} by {scope.exporter}, is not recorded there. The chain was reset, rolled "
        "back or is another one; nothing was sent. If this chain is the one to keep (a "
        "development chain reset or restarted without its state, a rollback), run "
        "`carbon-ledger recover` (see --dry-run first): it marks the lost batches and anchors "
        "their records again; else point the command at the chain that holds them "
        "(docs/anchoring.md, 'A chain that lost batches')"
    )


def left_open(store: LedgerStore, scope: Scope) -> tuple[int, ...]:
    """The batches earlier runs left open: with a transaction not settled, or never sent."""
    found = {tx.batch_id for tx in store.open_txs(scope.chain_id, scope.exporter)}
    found |= {b.id for b in store.unstarted_batches(scope)}
    return tuple(sorted(i for i in found if i is not None))


def submit(run: Run, store_new: Callable[[dict[str, PlannedCall]], None] | None
           ) -> tuple[int, ...]:
    """Under the writer lock: settle what earlier runs left open, store this run's batches
    (``store_new``, given the dict for planned calls), send every unstarted batch and wait as
    ``options.wait_until`` says. Returns the ids of the batches earlier runs left open, and of
    root batches found anchored by this key from elsewhere (their transaction adopted)."""
    store, ledger, scope, options = run.store, run.ledger, run.scope, run.options
    outbox = Outbox(store, ledger.client, run.policy, landed=landed_check(ledger, store),
                    checkpoint=run.checkpoint, idle=run.idle)
    refuse_lost_chain(ledger, store, scope)
    resumed = left_open(store, scope)
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
    return tuple(sorted(set(resumed) | set(outbox.adopted_batches)))
