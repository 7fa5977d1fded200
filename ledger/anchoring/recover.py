"""Recovery after the chain lost anchored batches: ``carbon-ledger recover``.

A chain can lose what the store holds as mined or final: a development chain reset or restarted
without its state, a rollback, a fork. The store then says a batch is anchored and the chain
says it is not; :func:`~ledger.anchoring.submit.refuse_lost_chain` stops every anchoring run
there rather than guess. :func:`recover` makes them agree again, in two steps:

1. **mark**: every transaction of the signing key whose block is no longer in the chain and
   whose batch the contract does not record is marked ``lost``, and what it was (transaction
   hash, nonce, block, chain, contract, chain height, when and why) is kept in the store's
   ``lost_anchors``, in one commit; so is a transaction sent after one the chain lost, whose
   nonce the chain can now never reach. Nothing is deleted; the lost receipt stays, no longer
   current.
2. **re-anchor**: the batches left without a live transaction are sent again through the
   outbox, in new transactions (a batch's key is the hash of its records, so the same records
   are anchored again under the same batch key or Merkle root).

Each step is crash-safe and the whole is idempotent: killed after step 1, the next run finds
nothing new to mark and sends the batches; killed during step 2, the outbox resumes the
transactions it stored (signed bytes are stored before they are sent) and sends the rest. The
contract refuses a batch recorded twice, so nothing is doubled. :func:`find_lost` is the
read-only half (``--dry-run``).

Reports issued before the loss name the lost transaction: their ``anchor`` check fails, saying
the transaction is not on chain (see :func:`ledger.verify.onchain.check_anchor`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ledger.anchoring.checks import preflight
from ledger.anchoring.options import AnchorOptions, scope_of
from ledger.anchoring.outbox import Checkpoint, OutboxPolicy
from ledger.anchoring.submit import Run, landed_check, submit
from ledger.chain.contract import CarbonLedgerContract
from ledger.store.rows import BatchRow, BatchStatus, LostAnchor, Scope, TxRow
from ledger.store.store import LedgerStore
from ledger.types import Bytes32

__all__ = ["Recovery", "find_lost", "lost_summary", "recover"]


@dataclass(frozen=True)
class Recovery:
    """What recovery found (and, unless a dry run, did) for one contract and key."""

    scope: Scope
    chain_height: int
    newly_lost: tuple[LostAnchor, ...]
    """Transactions found lost by this run (marked, unless a dry run)."""
    lost_before: tuple[LostAnchor, ...]
    """Lost anchorings earlier runs kept."""
    to_anchor: tuple[BatchRow, ...]
    """Batches without a live transaction: anchored again (a dry run: would be)."""
    batches: tuple[BatchStatus, ...] = ()
    """After a run: where each re-anchored batch stands."""

    @property
    def nothing_to_do(self) -> bool:
        return not self.newly_lost and not self.to_anchor


def find_lost(ledger: CarbonLedgerContract, store: LedgerStore, scope: Scope | None = None
              ) -> Recovery:
    """What recovery would do now, without writing or sending anything.

    Raises :class:`~ledger.errors.ContractMissing` when the chain holds no contract at the
    deployment address (deploy it again first: a batch cannot be anchored without it).
    """
    client = ledger.client
    client.check_chain_id()
    client.require_code(ledger.address)
    scope = scope or scope_of(ledger)
    height = client.block_number()
    lost_before = tuple(store.lost_anchors(scope))
    ours = {b.batch.id for b in store.batch_statuses(scope)}
    landed = landed_check(ledger, store)
    newly: list[LostAnchor] = []
    mined = store.txs_in_states(scope.chain_id, scope.exporter, ("mined", "final"), light=True)
    for tx in mined:
        if tx.batch_id not in ours or tx.receipt is None:
            continue
        gone = _block_gone(ledger, tx)
        if gone is None or landed(tx):
            continue  # the block is there, or the batch is recorded all the same
        newly.append(_lost(scope, tx, height, (
            f"{gone}, and its batch is not recorded by {scope.exporter} at {scope.contract} "
            f"(chain {scope.chain_id}, height {height}): the chain was reset, rolled back or "
            "forked")))
    opened = store.open_txs(scope.chain_id, scope.exporter)
    lowest = min((a.nonce for a in (*lost_before, *newly)), default=None)
    if lowest is not None and opened:
        newly += _stuck_after_loss(ledger, scope, opened, lowest=lowest, height=height,
                                   landed=landed)
    lost_ids = {a.tx_id for a in newly}
    to_anchor = list(store.unstarted_batches(scope))
    known = {b.id for b in to_anchor}
    for tx in (*mined, *opened):
        if tx.id in lost_ids and tx.batch_id is not None and tx.batch_id not in known:
            known.add(tx.batch_id)
            to_anchor.append(store.batch(tx.batch_id))
    return Recovery(scope, height, tuple(newly), lost_before,
                    tuple(sorted(to_anchor, key=lambda b: b.id)))


def recover(
    ledger: CarbonLedgerContract,
    store: LedgerStore,
    *,
    policy: OutboxPolicy | None = None,
    wait_until: str = "final",
    checkpoint: Checkpoint | None = None,
    idle: Callable[[], None] | None = None,
) -> Recovery:
    """Mark the lost transactions and anchor their batches again (see the module docstring).

    Checks before changing anything that the batches can be sent (the signing key's exporter
    role, each factor set registered on the contract): a refusal leaves the store as it was.
    ``checkpoint`` hears ``("marked", None)`` once the lost transactions are stored, then every
    step of the outbox.
    """
    scope = scope_of(ledger)
    with store.writer_lock(scope.chain_id, scope.exporter):
        found = find_lost(ledger, store, scope)
        if found.nothing_to_do:
            return found
        for factor_set in sorted({b.factor_set_id for b in found.to_anchor}):
            preflight(ledger, Bytes32.parse(factor_set, "factor_set_id"))
        store.mark_lost(found.newly_lost)
        if checkpoint is not None:
            checkpoint("marked", None)
        run = Run(store, ledger, scope, AnchorOptions(wait_until=wait_until), policy,
                  checkpoint, idle)
        submit(run, None)
    wanted = {b.id for b in found.to_anchor}
    statuses = tuple(s for s in store.batch_statuses(scope) if s.batch.id in wanted)
    return Recovery(found.scope, found.chain_height, found.newly_lost, found.lost_before,
                    found.to_anchor, statuses)


def _stuck_after_loss(ledger: CarbonLedgerContract, scope: Scope, opened: list[TxRow], *,
                      lowest: int, height: int, landed: Callable[[TxRow], bool | None]
                      ) -> list[LostAnchor]:
    """Unsettled transactions sent after one the chain lost (nonce above ``lowest``) that can
    never be mined there: a nonce between the key's next one on chain and theirs belongs to no
    unsettled transaction of this store, so nothing will ever fill the gap."""
    next_nonce = ledger.client.pending_nonce(scope.exporter)
    live = {tx.nonce for tx in opened}
    found: list[LostAnchor] = []
    for tx in sorted(opened, key=lambda t: t.nonce):
        gap = next((n for n in range(next_nonce, tx.nonce) if n not in live), None)
        if tx.nonce <= lowest or gap is None or landed(tx):
            continue
        live.discard(tx.nonce)
        found.append(_lost(scope, tx, height, (
            f"sent after a transaction the chain lost: its nonce {tx.nonce} is above the key's "
            f"next nonce {next_nonce} on chain {scope.chain_id} and nothing will use nonce "
            f"{gap} before it, so it can never be mined there")))
    return found


def _block_gone(ledger: CarbonLedgerContract, tx: TxRow) -> str | None:
    """Why the transaction's block is no longer in the chain, or ``None`` when it is."""
    receipt = tx.receipt
    assert receipt is not None
    block = ledger.client.find_block(receipt.block_number)
    if block is None:
        return (f"transaction {receipt.tx_hash} was mined in block {receipt.block_number}, "
                "which the chain no longer has")
    if Bytes32(block.hash).hex0x != receipt.block_hash:
        return (f"transaction {receipt.tx_hash} was mined in block {receipt.block_number} "
                f"({receipt.block_hash}); the chain's block {receipt.block_number} is another "
                f"one now ({Bytes32(block.hash).hex0x})")
    return None


def _lost(scope: Scope, tx: TxRow, height: int, reason: str) -> LostAnchor:
    receipt = tx.receipt
    return LostAnchor(
        tx_id=tx.id, batch_id=tx.batch_id, chain_id=scope.chain_id, contract=scope.contract,
        sender=scope.exporter, nonce=tx.nonce,
        tx_hash=receipt.tx_hash if receipt else (tx.attempts[-1].tx_hash if tx.attempts
                                                 else None),
        block_number=receipt.block_number if receipt else None,
        block_hash=receipt.block_hash if receipt else None,
        chain_height=height, reason=reason,
    )


def lost_summary(lost: Sequence[LostAnchor]) -> str:
    """One line per lost anchoring, for the command's output."""
    return "\n".join(
        f"  batch {a.batch_id}: tx {a.tx_hash} (nonce {a.nonce}"
        + (f", block {a.block_number}" if a.block_number is not None else "")
        + f") on chain {a.chain_id}, contract {a.contract}: {a.reason}"
        for a in lost)
