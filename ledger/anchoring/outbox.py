"""The transaction manager: crash-safe, idempotent sending through the ledger store (an outbox).

A transaction goes ``signed`` -> ``broadcast`` -> ``mined`` -> ``final`` (or ``failed`` when
mined with status 0, or ``dropped`` when its nonce went to another transaction). The rules:

- The signed raw bytes and their nonce are committed to the store *before* the first broadcast,
  so whatever happens next, the same bytes (same hash) can be sent again.
- Every send error is "outcome unknown": the transaction is then found by the receipt of any of
  its attempts' hashes, or by the sender's mined nonce, never assumed lost.
- A transaction without a receipt whose nonce the chain has not used is broadcast again (the same
  raw bytes); one that stays unmined for ``stuck_after_s`` gets a replacement with both fee fields
  bumped by at least 12.5 %, stored as a new attempt before it is sent; every attempt is watched.
- A receipt is read as a summary, without its logs (a batch's receipt holds thousands), and
  stored with its block number and hash. The transaction is final once the block
  is ``confirmations`` deep (or at or below the ``finalized`` block), after checking that the
  node still reports the receipt in that block. A receipt that disappears (a reorg) sends the
  transaction back to ``broadcast`` and its raw bytes go out again at once; final transactions
  above the chain's finalized block are re-checked on every :meth:`Outbox.reconcile`.

One writer per key: callers hold :meth:`ledger.store.store.LedgerStore.writer_lock` while an
:class:`Outbox` sends, and before each send after its first the outbox checks that the key's
nonce on chain is still the one it expects: when another process or person sent with the same
key meanwhile, it refuses (:class:`~ledger.errors.NonceMoved`) before signing anything.
``checkpoint(point, tx)`` is called at each durable step (``signed``, ``broadcast``,
``receipt``, ``final``, ``reorg``, ``dropped``) for progress reports; an exception it raises
stops the run with nothing half-written.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ledger.chain.client import ChainClient
from ledger.chain.types import Fees, ReceiptSummary, SignedTx
from ledger.errors import ChainError, ChainIdMismatch, GasCapExceeded, NonceMoved, RpcUnavailable
from ledger.store.rows import NewAttempt, NewReceipt, TxRow
from ledger.store.store import LedgerStore
from ledger.types import Bytes32

__all__ = [
    "Checkpoint",
    "Outbox",
    "OutboxPolicy",
]

#: ``checkpoint(point, tx)``: called after each durable step of a transaction.
Checkpoint = Callable[[str, TxRow | None], None]
#: The note on a transaction whose batch the contract's state holds while the node serves no
#: receipt for it (indexing lag, or a node that lost history).
_NO_HISTORY = ("recorded in the contract's state, but the node serves no receipt for any "
               "attempt yet")
#: Whether a transaction's batch is recorded on chain by the sender (``None``: unknown).
LandedCheck = Callable[[TxRow], bool | None]


@dataclass(frozen=True)
class OutboxPolicy:
    """How patient the transaction manager is, and when a transaction counts as final."""

    confirmations: int = 0
    """Blocks on top of the receipt's block before a transaction is final."""
    finalized_tag: bool = False
    """Final only at or below the chain's ``finalized`` block (ignores ``confirmations``)."""
    stuck_after_s: float = 60.0
    """Replace a transaction with bumped fees when it stays unmined this long."""
    max_fee_bumps: int = 5
    rebroadcast_after_s: float = 10.0
    """Send the newest attempt again when it has no receipt this long after the last send."""
    send_retries: int = 5
    send_backoff_s: float = 0.25
    timeout_s: float = 300.0
    poll_interval_s: float = 0.02
    max_in_flight: int = 16
    """Transactions sent but not yet mined at one time (nodes cap pending ones per account)."""


class Outbox:
    """Sends and watches one sender's transactions through the store (see the module docstring)."""

    def __init__(
        self,
        store: LedgerStore,
        client: ChainClient,
        policy: OutboxPolicy | None = None,
        *,
        landed: LandedCheck | None = None,
        checkpoint: Checkpoint | None = None,
        idle: Callable[[], None] | None = None,
    ) -> None:
        self._store = store
        self._client = client
        self.policy = policy or OutboxPolicy()
        self._landed = landed
        self._checkpoint = checkpoint or (lambda _point, _tx: None)
        self._idle = idle or (lambda: time.sleep(self.policy.poll_interval_s))
        self.chain_id = client.chain_id
        self.sender = client.address.lower()
        self._sent_at: dict[int, float] = {}  # attempt id -> monotonic time of the last send
        self._first_sent_at: dict[int, float] = {}  # attempt id -> first send in this process
        self._next_nonce: int | None = None
        self.adopted_batches: list[int] = []
        """Batches whose transaction was found on chain, sent from elsewhere (:meth:`adopt`)."""

    # ------------------------------------------------------------------ sending

    def submit(self, *, to: str, data: bytes, batch_id: int | None, gas: int | None = None,
               what: str = "transaction") -> TxRow:
        """Simulate, sign with the next nonce, store, then broadcast one transaction.

        ``gas``: a known upper bound of the gas it uses (else the node estimates it).
        """
        nonce = self._take_nonce()
        try:
            signed = self._client.build_transaction(to, data, nonce=nonce, gas=gas, what=what)
            if self._store.has_attempt(Bytes32(signed.tx_hash).hex0x):
                # the same bytes as a transaction a chain lost (same nonce, call and fees after
                # a reset): a new transaction needs a hash of its own
                signed = self._client.bump_fees(signed)
        except BaseException:
            self._next_nonce = None  # nothing stored: the nonce is free again
            raise
        tx = self._store.add_signed_tx(
            chain_id=self.chain_id, sender=self.sender, nonce=nonce, to_address=to, data=data,
            gas_limit=signed.gas, batch_id=batch_id, confirmations=self.policy.confirmations,
            finalized_tag=self.policy.finalized_tag,
            attempt=NewAttempt(Bytes32(signed.tx_hash).hex0x, signed.raw,
                               signed.fees.max_fee_per_gas, signed.fees.max_priority_fee_per_gas),
        )
        self._checkpoint("signed", tx)
        self._broadcast(tx, tx.attempts[-1].id, tx.attempts[-1].raw)
        return tx

    def adopt(self, signed: SignedTx, *, batch_id: int | None) -> TxRow:
        """Store a transaction this key sent elsewhere (another store, a lost run) as this
        batch's, then advance it like any other: its receipt found, it becomes final."""
        tx = self._store.add_signed_tx(
            chain_id=self.chain_id, sender=self.sender, nonce=signed.nonce,
            to_address=signed.to or "", data=signed.data, gas_limit=signed.gas,
            batch_id=batch_id, confirmations=self.policy.confirmations,
            finalized_tag=self.policy.finalized_tag,
            attempt=NewAttempt(Bytes32(signed.tx_hash).hex0x, signed.raw,
                               signed.fees.max_fee_per_gas, signed.fees.max_priority_fee_per_gas),
        )
        self._checkpoint("signed", tx)
        if batch_id is not None:
            self.adopted_batches.append(batch_id)
        return self.advance(tx)

    def revive(self, tx_hash: str) -> TxRow | None:
        """The stored transaction with an attempt of this hash, when the chain holds it: one
        marked ``lost`` that was mined after all (a node that sent it again from its pool) goes
        back to ``broadcast`` and is advanced like any other; ``None`` when none is stored."""
        tx = self._store.tx_of_attempt(tx_hash)
        if tx is None:
            return None
        if tx.state == "lost":
            self._store.revive_lost(tx.id, f"found on chain after it was marked lost ({tx_hash})")
            tx = self._store.tx(tx.id)
        return self.advance(tx)

    def _take_nonce(self) -> int:
        if self._next_nonce is None:
            stored = self._store.next_nonce(self.chain_id, self.sender) or 0
            self._next_nonce = max(stored, self._client.pending_nonce())
        else:
            self._refuse_moved_nonce(self._next_nonce)
        nonce = self._next_nonce
        self._next_nonce += 1
        return nonce

    def _refuse_moved_nonce(self, expected: int) -> None:
        """Refuse when the key's next nonce on chain is past the one this outbox expects: a
        transaction of this key that the store does not hold was sent meanwhile."""
        found = self._client.pending_nonce()
        if found > expected:
            raise NonceMoved(
                f"the signing key {self._client.address} was used by another writer: its next "
                f"nonce on chain {self.chain_id} is {found}, this run expected {expected} (its "
                f"own last transaction has nonce {expected - 1}). Nothing more was sent. "
                "Stop the other process or wallet sending with this key (one writer per key: "
                "give each service, script or person its own key), then run the same command "
                "again: what is stored resumes and nothing is sent twice"
            )

    def _broadcast(self, tx: TxRow, attempt_id: int, raw: bytes) -> None:
        """Send raw bytes; any error leaves the outcome unknown for reconciliation to settle."""
        error: str | None = None
        unreachable = False
        for attempt in range(self.policy.send_retries):
            try:
                self._client.send_raw(raw)
                error, unreachable = None, False
                break
            except RpcUnavailable as exc:
                error, unreachable = str(exc), True
                if attempt + 1 < self.policy.send_retries:
                    time.sleep(self.policy.send_backoff_s * 2**attempt)
            except (ChainIdMismatch, GasCapExceeded):
                raise
            except ChainError as exc:
                error = str(exc)
                break
        now = time.monotonic()
        self._sent_at[attempt_id] = now
        self._first_sent_at.setdefault(attempt_id, now)
        self._store.note_broadcast(tx.id, attempt_id, error)
        self._checkpoint("broadcast", tx)
        if unreachable:
            raise RpcUnavailable(
                f"{error}. Transaction {tx.attempts[-1].tx_hash} (nonce {tx.nonce}) is stored; "
                "run the same command again when the node is back: nothing is lost or sent twice"
            )

    # ------------------------------------------------------------------ reconciling

    def reconcile(self) -> list[TxRow]:
        """One pass over every open transaction of the sender, and a re-check of recent finals.

        Run before anything new is signed: it stores receipts that arrived, re-broadcasts what
        the node lost, marks reorged and dropped transactions, and re-checks final ones that are
        above the chain's finalized block.
        """
        for tx in self._recent_finals():
            self.advance(tx)
        return [self.advance(tx) for tx in self._store.open_txs(self.chain_id, self.sender)]

    def _recent_finals(self) -> list[TxRow]:
        try:
            finalized = self._client.block("finalized").number
        except ChainError:
            finalized = 0
        return self._store.final_txs_above(self.chain_id, self.sender, finalized)

    def advance(self, tx: TxRow) -> TxRow:
        """Move one transaction as far as the chain allows right now; returns its new row."""
        stored = tx.receipt
        if tx.state in ("mined", "final") and stored is not None \
                and self._block_still_there(stored.block_number, stored.block_hash):
            # Cheap path: the stored receipt's block is still in the chain (a receipt with
            # thousands of logs costs far more to fetch than a block header).
            if tx.state == "mined" and self._deep_enough(stored.block_number):
                self._store.mark_final(tx.id)
                tx = self._store.tx(tx.id)
                self._checkpoint("final", tx)
            return tx
        found = self._find_receipt(tx)
        if found is not None:
            return self._on_receipt(tx, found)
        if tx.state in ("mined", "final"):
            gone = tx.receipt.tx_hash if tx.receipt else "the transaction"
            self._store.mark_reorged(tx.id, f"the receipt of {gone} is no longer in the chain")
            tx = self._store.tx(tx.id)
            for attempt in tx.attempts:  # the node dropped it with its block: send it now
                self._sent_at.pop(attempt.id, None)
            self._checkpoint("reorg", tx)
        if tx.state in ("failed", "dropped"):
            return tx
        if self._client.mined_nonce(self.sender) > tx.nonce:
            return self._nonce_used(tx)
        return self._resend_if_due(tx)

    def _find_receipt(self, tx: TxRow) -> ReceiptSummary | None:
        for attempt in reversed(tx.attempts):
            found = self._client.receipt_summary(Bytes32.parse(attempt.tx_hash, "tx_hash"))
            if found is not None:
                return found
        return None

    def _on_receipt(self, tx: TxRow, found: ReceiptSummary) -> TxRow:
        stored = tx.receipt
        if (stored is None or stored.block_hash != Bytes32(found.block_hash).hex0x
                or stored.tx_hash != Bytes32(found.tx_hash).hex0x
                or tx.state not in ("mined", "final")):
            if tx.state == "final" and stored is not None:
                self._store.mark_reorged(tx.id, f"block {stored.block_number} was replaced")
            tx = self._store.store_receipt(tx.id, NewReceipt(
                tx_hash=Bytes32(found.tx_hash).hex0x, block_number=found.block_number,
                block_hash=Bytes32(found.block_hash).hex0x, status=found.status,
                gas_used=found.gas_used, effective_gas_price=found.effective_gas_price,
                first_log_index=found.first_log_index,
            ))
            self._checkpoint("receipt", tx)
        if tx.state == "mined" and self._deep_enough(found.block_number) \
                and self._block_still_there(found.block_number, Bytes32(found.block_hash).hex0x):
            self._store.mark_final(tx.id)
            tx = self._store.tx(tx.id)
            self._checkpoint("final", tx)
        return tx

    def _deep_enough(self, block_number: int) -> bool:
        if self.policy.finalized_tag:
            return block_number <= self._client.block("finalized").number
        return self._client.block_number() - block_number >= self.policy.confirmations

    def _block_still_there(self, block_number: int, block_hash: str) -> bool:
        """Whether the chain still has this block at this height (no reorg replaced it)."""
        found = self._client.find_block(block_number)
        return found is not None and Bytes32(found.hash).hex0x == block_hash

    def _nonce_used(self, tx: TxRow) -> TxRow:
        """The nonce is used but no attempt has a receipt: mined meanwhile, or taken by another."""
        found = self._find_receipt(tx)  # it may have been mined between the two lookups
        if found is not None:
            return self._on_receipt(tx, found)
        landed = self._landed(tx) if self._landed is not None else False
        if landed:
            self._store.note_error(tx.id, _NO_HISTORY)
            return self._store.tx(tx.id)
        self._store.mark_dropped(
            tx.id, f"nonce {tx.nonce} was used by another transaction of {self.sender}; "
            "its batch will be sent again",
        )
        tx = self._store.tx(tx.id)
        self._next_nonce = None
        self._checkpoint("dropped", tx)
        return tx

    def _resend_if_due(self, tx: TxRow) -> TxRow:
        newest = tx.attempts[-1]
        now = time.monotonic()
        first = self._first_sent_at.get(newest.id)
        if (first is not None and now - first >= self.policy.stuck_after_s
                and len(tx.attempts) <= self.policy.max_fee_bumps):
            return self._replace(tx)
        last = self._sent_at.get(newest.id)
        if last is None or now - last >= self.policy.rebroadcast_after_s:
            self._broadcast(tx, newest.id, newest.raw)
            return self._store.tx(tx.id)
        return tx

    def _replace(self, tx: TxRow) -> TxRow:
        """Re-sign the same call and nonce with both fees bumped >= 12.5 %; store, then send."""
        newest = tx.attempts[-1]
        previous = SignedTx(
            raw=newest.raw, tx_hash=Bytes32.parse(newest.tx_hash, "tx_hash"),
            sender=self.sender,
            nonce=tx.nonce, to=tx.to_address, data=tx.data, value=0, gas=tx.gas_limit,
            fees=Fees(newest.max_fee_per_gas, newest.max_priority_fee_per_gas),
            chain_id=self.chain_id,
        )
        bumped = self._client.bump_fees(previous)
        tx = self._store.add_attempt(tx.id, NewAttempt(
            Bytes32(bumped.tx_hash).hex0x, bumped.raw, bumped.fees.max_fee_per_gas,
            bumped.fees.max_priority_fee_per_gas,
        ))
        self._checkpoint("signed", tx)
        self._broadcast(tx, tx.attempts[-1].id, tx.attempts[-1].raw)
        return self._store.tx(tx.id)

    # ------------------------------------------------------------------ waiting

    def idle(self) -> None:
        """Wait a little for the chain (sleep one poll interval, or what the caller gave)."""
        self._idle()

    def in_flight(self, tx_ids: Iterable[int]) -> int:
        """How many of these transactions are sent but not mined yet."""
        states = self._store.tx_states(tx_ids)
        return sum(1 for state in states.values() if state in ("signed", "broadcast"))

    def wait(self, tx_ids: Iterable[int], *, until: str = "final",
             timeout_s: float | None = None) -> list[TxRow]:
        """Advance these transactions until each is settled (``mined`` or ``final``).

        Raises ``ChainError`` on timeout; the store keeps every transaction, so running again
        later picks up where this left off.
        """
        ids = list(dict.fromkeys(tx_ids))
        timeout_s = self.policy.timeout_s if timeout_s is None else timeout_s
        deadline = time.monotonic() + timeout_s
        while True:
            pending = self._pending(ids, until)
            if not pending:
                return [self._store.tx(i) for i in ids]
            for tx_id in pending:
                self.advance(self._store.tx(tx_id))
            pending = self._pending(ids, until)
            if not pending:
                return [self._store.tx(i) for i in ids]
            if time.monotonic() > deadline:
                first = self._store.tx(pending[0])
                lost = [t for t in map(self._store.tx, pending) if t.last_error == _NO_HISTORY]
                if lost:
                    raise ChainError(
                        f"{len(lost)} batch transaction(s) (first: nonce {lost[0].nonce}, batch "
                        f"{lost[0].batch_id}) are recorded in the contract's state, but the node "
                        "serves no block, receipt or event for them: it lost part of its history "
                        "(a local node restarted from a state saved while mining?). Their "
                        "records cannot be proven through this node. Use a node with the full "
                        "history (an archive node); if that history is gone for good, run "
                        "`carbon-ledger recover --anchor-again` (see --dry-run first): it "
                        "marks the transaction lost and anchors the batch again under a new "
                        "key (docs/anchoring.md, 'A node that lost history')"
                    )
                raise ChainError(
                    f"{len(pending)} transaction(s) not {until} after {timeout_s:g} s "
                    f"(first: nonce {first.nonce}, {first.state}); they stay in the "
                    "store: `carbon-ledger status` shows them and running again resumes them"
                )
            self._idle()

    def _pending(self, ids: list[int], until: str) -> list[int]:
        states = self._store.tx_states(ids)
        done = {"final", "failed", "dropped"} | ({"mined"} if until == "mined" else set())
        return [i for i in ids if states.get(i) not in done]
