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

A node that lost part of its history (restarted from a state saved while mining) is the other
case: the contract's state records the batch by this key, its nonce is used, and the node serves
no block, receipt or event for it. Its records cannot be proven through that node, and the same
batch key or root cannot be recorded again. Recovery marks the transaction ``lost`` (the key it
anchored kept in ``lost_anchors.batch_key``) and, in the same commit, gives the batch a new key
derived from the lost one (:func:`key_again`): on the events path that is the new batch id; on
the root path the tree gains one marker leaf (:func:`again_leaf`, which names the lost root and
is no shipment), so its root is new while every shipment's leaf and proof stay valid. The
batch's records are then anchored in a new transaction like any other lost batch.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ledger.anchoring.checks import preflight
from ledger.anchoring.options import AnchorOptions, scope_of
from ledger.anchoring.outbox import Checkpoint, OutboxPolicy
from ledger.anchoring.submit import Run, landed_check, submit
from ledger.chain.contract import CarbonLedgerContract
from ledger.errors import StoreError
from ledger.records.keccak import keccak256
from ledger.records.merkle import Leaf, tree_nodes
from ledger.store.rows import BatchRow, BatchStatus, LostAnchor, Scope, TxRow
from ledger.store.store import LedgerStore
from ledger.types import Bytes32

__all__ = ["AGAIN_DOMAIN", "Recovery", "Rekey", "again_leaf", "find_lost", "key_again",
           "lost_summary", "recover"]

#: Domain of the key a batch is anchored again under after a node lost its history.
AGAIN_DOMAIN = b"carbon-ledger/anchored-again/v1|"


def key_again(lost_key: bytes) -> bytes:
    """The batch id a per-shipment batch is anchored again under after the node lost the
    history of ``lost_key``: ``keccak256("carbon-ledger/anchored-again/v1|" ‖ lost_key)``."""
    return keccak256(AGAIN_DOMAIN + Bytes32.parse(lost_key, "batch key"))


def again_leaf(lost_root: bytes) -> Leaf:
    """The marker leaf a root-path batch's tree gains when it is anchored again after the node
    lost the history of ``lost_root``: shipment id :func:`key_again` of the lost root, record
    hash the lost root, zero grams. It is no shipment's leaf (no exporter's shipment id is that
    hash), so it changes the root and nothing else: each shipment keeps its leaf."""
    root = Bytes32.parse(lost_root, "root")
    return Leaf(key_again(root), root, 0, 0)


@dataclass(frozen=True)
class Rekey:
    """A batch to anchor again under a new key because the node lost the history of its own."""

    batch_id: int
    path: str
    old_key: str
    new_key: str
    tree: bytes | None
    """Root path: every node of the new tree (the old leaves and :func:`again_leaf`)."""


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
    rekeyed: tuple[Rekey, ...] = ()
    """Batches whose history the node lost, anchored again under a new key (a dry run: would
    be); only with ``anchor_again``. Their transactions are among :attr:`newly_lost`."""
    history_lost: tuple[tuple[LostAnchor, Rekey], ...] = ()
    """Every transaction found whose batch the state holds while the node serves no block,
    receipt or event of it, with the new key its batch would get (acted on only with
    ``anchor_again``)."""
    adopted: tuple[TxRow, ...] = ()
    """Open transactions whose batch the key recorded in another transaction the node serves
    (sent from another store): dropped, so that the served one is adopted (a dry run: would
    be)."""

    @property
    def nothing_to_do(self) -> bool:
        return not self.newly_lost and not self.to_anchor and not self.adopted

    @property
    def history_left(self) -> tuple[tuple[LostAnchor, Rekey], ...]:
        """Lost-history batches found but not acted on (``anchor_again`` not given)."""
        done = {r.batch_id for r in self.rekeyed}
        return tuple(h for h in self.history_lost if h[1].batch_id not in done)


def find_lost(ledger: CarbonLedgerContract, store: LedgerStore, scope: Scope | None = None,
              *, anchor_again: bool = False) -> Recovery:
    """What recovery would do now, without writing or sending anything.

    ``anchor_again``: also re-key and anchor again the batches whose history the node lost
    (see the module docstring); without it they are only reported (:attr:`Recovery.history_lost`),
    since on a network whose other nodes keep that history the batch is on chain and a node
    that keeps the history (an archive node) is the remedy.

    Raises :class:`~ledger.errors.ContractMissing` when the chain holds no contract at the
    deployment address (deploy it again first: a batch cannot be anchored without it).
    """
    client = ledger.client
    client.check_chain_id()
    client.require_code(ledger.address)
    scope = scope or scope_of(ledger)
    height = client.block_number()
    lost_before = tuple(store.lost_anchors(scope))
    keys = {b.batch.id: b.batch.batch_key for b in store.batch_statuses(scope)}
    ours = set(keys)
    landed = landed_check(ledger, store)
    newly: list[LostAnchor] = []
    suspects: list[tuple[TxRow, str]] = []  # in the state, but no block, receipt or event?
    mined = store.txs_in_states(scope.chain_id, scope.exporter, ("mined", "final"), light=True)
    for tx in mined:
        if tx.batch_id not in ours or tx.receipt is None:
            continue
        gone = _block_gone(ledger, tx)
        if gone is None:
            continue  # the block is there
        if landed(tx):
            suspects.append((tx, gone))  # recorded all the same: by a block the node serves?
            continue
        newly.append(_lost(scope, tx, height, (
            f"{gone}, and its batch is not recorded by {scope.exporter} at {scope.contract} "
            f"(chain {scope.chain_id}, height {height}): the chain was reset, rolled back or "
            "forked")))
    opened = store.open_txs(scope.chain_id, scope.exporter)  # every contract of the key
    used = ledger.client.mined_nonce(scope.exporter) if opened else 0
    suspects += [(tx, f"no attempt of transaction nonce {tx.nonce} has a receipt, and the "
                      f"key's nonce {tx.nonce} is used on chain")
                 for tx in opened
                 if tx.batch_id in ours and tx.nonce < used and not _has_receipt(ledger, tx)
                 and landed(tx)]
    lowest = min((a.nonce for a in (*lost_before, *newly)), default=None)
    if lowest is not None and opened:
        newly += _stuck_after_loss(ledger, scope, opened, ours, lowest=lowest, height=height,
                                   landed=landed)
    history: list[tuple[LostAnchor, Rekey]] = []
    adopted: list[TxRow] = []
    for tx, why in suspects:
        found = _history_lost(ledger, store, scope, tx, why=why, height=height)
        if isinstance(found, tuple):
            history.append(found)
        elif found is not None:
            adopted.append(tx)
    if anchor_again:
        newly += [lost for lost, _ in history]
    newly = [a if a.batch_key or a.batch_id is None
             else dataclasses.replace(a, batch_key=keys.get(a.batch_id)) for a in newly]
    lost_ids = {a.tx_id for a in newly}
    to_anchor = list(store.unstarted_batches(scope))
    known = {b.id for b in to_anchor}
    for tx in (*mined, *opened):
        if tx.id in lost_ids and tx.batch_id in ours and tx.batch_id not in known:
            assert tx.batch_id is not None
            known.add(tx.batch_id)
            to_anchor.append(store.batch(tx.batch_id))
    return Recovery(scope, height, tuple(newly), lost_before,
                    tuple(sorted(to_anchor, key=lambda b: b.id)),
                    rekeyed=tuple(r for _, r in history) if anchor_again else (),
                    history_lost=tuple(history), adopted=tuple(adopted))


def recover(
    ledger: CarbonLedgerContract,
    store: LedgerStore,
    *,
    anchor_again: bool = False,
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
        found = find_lost(ledger, store, scope, anchor_again=anchor_again)
        if found.nothing_to_do:
            return found
        for factor_set in sorted({b.factor_set_id for b in found.to_anchor}):
            preflight(ledger, Bytes32.parse(factor_set, "factor_set_id"))
        store.mark_lost_history(found.newly_lost, [
            (r.batch_id, r.old_key, r.new_key, r.tree) for r in found.rekeyed])
        for tx in found.adopted:  # its batch is sent by no one: the served one is adopted
            store.mark_dropped(tx.id, (
                f"nonce {tx.nonce} was used by another transaction of {scope.exporter}; its "
                "batch is recorded by a transaction the node serves, which is adopted"))
        if checkpoint is not None:
            checkpoint("marked", None)
        run = Run(store, ledger, scope, AnchorOptions(wait_until=wait_until), policy,
                  checkpoint, idle)
        submit(run, None)
    wanted = {b.id for b in found.to_anchor}
    statuses = tuple(s for s in store.batch_statuses(scope) if s.batch.id in wanted)
    return dataclasses.replace(found, batches=statuses)


def _has_receipt(ledger: CarbonLedgerContract, tx: TxRow) -> bool:
    client = ledger.client
    return any(client.receipt_summary(Bytes32.parse(a.tx_hash, "tx_hash")) is not None
               for a in tx.attempts)


def _history_lost(ledger: CarbonLedgerContract, store: LedgerStore, scope: Scope, tx: TxRow,
                  *, why: str, height: int) -> tuple[LostAnchor, Rekey] | bytes | None:
    """For a transaction whose batch the contract's state records by this key while the node
    serves no receipt of it: the lost anchoring and the new key its batch would get, when the
    node serves no event of the batch and the block the state names does not hold any of the
    transaction's attempts; the hash of the transaction that anchored the batch, when the node
    serves its event and it is not one of ours (another store sent it); ``None`` otherwise (the
    transaction is on chain: the outbox settles it)."""
    assert tx.batch_id is not None
    batch = store.batch(tx.batch_id)
    root = batch.path == "root"
    key = Bytes32.parse(batch.batch_key, "batch_key")
    attempts = {Bytes32.parse(a.tx_hash, "tx_hash") for a in tx.attempts}
    event = ledger.anchoring_event(key, root=root)
    if event is not None:
        return None if event.meta.tx_hash in attempts else event.meta.tx_hash
    info = ledger.root_info(key) if root else ledger.batch_info(key)
    if info.block_number is not None:
        held = ledger.client.block_transactions(info.block_number)
        if held is not None and attempts & set(held):
            return None  # the block holds it: a node that prunes receipts and logs
    tree = None
    if root:
        stored = store.batch_tree(batch.id)
        if stored is None:
            raise StoreError(f"root batch {batch.id} ({batch.batch_key}) has no stored tree")
        size = len(stored) // 32
        leaves = [stored[32 * i:32 * i + 32] for i in range(size - (size + 1) // 2, size)]
        tree = b"".join(tree_nodes(sorted([*leaves, again_leaf(key).hash()])))
        new_key = Bytes32(tree[:32]).hex0x
    else:
        new_key = Bytes32(key_again(key)).hex0x
    what = "root" if root else "batch"
    sent = tx.receipt.tx_hash if tx.receipt else (tx.attempts[-1].tx_hash if tx.attempts
                                                  else "the transaction")
    lost = _lost(scope, tx, height, (
        f"the node lost part of its history: the contract's state records {what} "
        f"{batch.batch_key} by {scope.exporter} in block {info.block_number}, but the node "
        f"serves no block, receipt or event of {sent} ({why}); a node restarted from a state "
        "saved while mining? Its records cannot be proven through this node and the same key "
        f"cannot be recorded again: the batch is anchored again under {new_key}"))
    lost = dataclasses.replace(lost, block_number=info.block_number, block_hash=None,
                               batch_key=batch.batch_key)
    return lost, Rekey(batch.id, batch.path, batch.batch_key, new_key, tree)


def _stuck_after_loss(ledger: CarbonLedgerContract, scope: Scope, opened: list[TxRow],
                      ours: set[int], *, lowest: int, height: int,
                      landed: Callable[[TxRow], bool | None]) -> list[LostAnchor]:
    """Unsettled transactions sent after one the chain lost (nonce above ``lowest``) that can
    never be mined there: a nonce between the key's next one on chain and theirs belongs to no
    unsettled transaction of this store, so nothing will ever fill the gap."""
    next_nonce = ledger.client.pending_nonce(scope.exporter)
    live = {tx.nonce for tx in opened}
    found: list[LostAnchor] = []
    for tx in sorted(opened, key=lambda t: t.nonce):
        gap = next((n for n in range(next_nonce, tx.nonce) if n not in live), None)
        if tx.batch_id not in ours or tx.nonce <= lowest or gap is None or landed(tx):
            continue  # another contract's transactions fill nonces but are not ours to mark
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
