"""Queries of the outbox: transactions, their attempts (signed raw bytes) and receipts.

Each function works inside a connection or transaction its caller opened
(:class:`ledger.store.store.LedgerStore`). The states a transaction walks through are listed in
:mod:`ledger.store.schema`; a batch has at most one live transaction (one not dropped or
failed) at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ledger.errors import StoreError, WriteRefused
from ledger.store.engine import chunks, new_id, now
from ledger.store.rows import AttemptRow, LostAnchor, NewAttempt, NewReceipt, ReceiptRow, TxRow
from ledger.store.schema import (
    ENDED_STATES,
    OPEN_STATES,
    attempts,
    lost_anchors,
    receipts,
    transactions,
)

__all__ = [
    "add_attempt",
    "add_signed_tx",
    "batch_txs",
    "final_txs_above",
    "has_attempt",
    "lost_anchors_of",
    "mark_dropped",
    "mark_final",
    "mark_lost",
    "mark_reorged",
    "next_nonce",
    "note_broadcast",
    "note_error",
    "open_txs",
    "revive_lost",
    "select_txs",
    "store_receipt",
    "tx",
    "tx_of_attempt",
    "tx_states",
    "txs_in_states",
]


def add_signed_tx(
    conn: Connection, *, chain_id: int, sender: str, nonce: int, to_address: str, data: bytes,
    gas_limit: int, batch_id: int | None, confirmations: int, finalized_tag: bool,
    attempt: NewAttempt,
) -> TxRow:
    at = now()
    if batch_id is not None:
        busy = conn.execute(
            sa.select(transactions.c.id).where(
                transactions.c.batch_id == batch_id, transactions.c.state.not_in(ENDED_STATES)
            )
        ).first()
        if busy is not None:
            raise WriteRefused(f"batch {batch_id} already has live transaction {busy.id}")
    tx_id = new_id(conn.execute(
        transactions.insert().values(
            chain_id=chain_id, sender=sender.lower(), nonce=nonce,
            to_address=to_address.lower(), data=data, gas_limit=gas_limit,
            batch_id=batch_id, state="signed", confirmations=confirmations,
            finalized_tag=finalized_tag, reorg_count=0, created_at=at, updated_at=at,
        )
    ))
    _insert_attempt(conn, tx_id, attempt, at)
    return select_txs(conn, transactions.c.id == tx_id)[0]


def add_attempt(conn: Connection, tx_id: int, attempt: NewAttempt) -> TxRow:
    at = now()
    _insert_attempt(conn, tx_id, attempt, at)
    conn.execute(transactions.update().where(transactions.c.id == tx_id).values(updated_at=at))
    return select_txs(conn, transactions.c.id == tx_id)[0]


def note_broadcast(conn: Connection, tx_id: int, attempt_id: int, error: str | None) -> None:
    at = now()
    conn.execute(
        attempts.update().where(attempts.c.id == attempt_id).values(
            broadcast_count=attempts.c.broadcast_count + 1, last_broadcast_at=at,
            last_error=error,
        )
    )
    conn.execute(
        transactions.update()
        .where(transactions.c.id == tx_id, transactions.c.state == "signed")
        .values(state="broadcast", updated_at=at)
    )


def store_receipt(conn: Connection, tx_id: int, receipt: NewReceipt) -> TxRow:
    at = now()
    attempt_id = conn.execute(
        sa.select(attempts.c.id).where(attempts.c.tx_id == tx_id,
                                       attempts.c.tx_hash == receipt.tx_hash.lower())
    ).scalar()
    conn.execute(receipts.update().where(receipts.c.tx_id == tx_id, receipts.c.current)
                 .values(current=False, reorged_at=at))
    conn.execute(receipts.insert().values(
        tx_id=tx_id, attempt_id=attempt_id, tx_hash=receipt.tx_hash.lower(),
        block_number=receipt.block_number, block_hash=receipt.block_hash.lower(),
        status=receipt.status, gas_used=receipt.gas_used,
        effective_gas_price=str(receipt.effective_gas_price),
        first_log_index=receipt.first_log_index, current=True, observed_at=at,
    ))
    state = "mined" if receipt.status == 1 else "failed"
    error = None if receipt.status == 1 else "the transaction was mined but reverted"
    conn.execute(transactions.update().where(transactions.c.id == tx_id)
                 .values(state=state, last_error=error, updated_at=at))
    return select_txs(conn, transactions.c.id == tx_id)[0]


def mark_final(conn: Connection, tx_id: int) -> None:
    conn.execute(transactions.update()
                 .where(transactions.c.id == tx_id, transactions.c.state == "mined")
                 .values(state="final", updated_at=now()))


def mark_reorged(conn: Connection, tx_id: int, reason: str) -> None:
    at = now()
    conn.execute(receipts.update().where(receipts.c.tx_id == tx_id, receipts.c.current)
                 .values(current=False, reorged_at=at))
    conn.execute(transactions.update().where(transactions.c.id == tx_id).values(
        state="broadcast", reorg_count=transactions.c.reorg_count + 1,
        last_error=reason, updated_at=at,
    ))


def mark_dropped(conn: Connection, tx_id: int, reason: str) -> None:
    conn.execute(transactions.update().where(transactions.c.id == tx_id)
                 .values(state="dropped", last_error=reason, updated_at=now()))


def mark_lost(conn: Connection, lost: LostAnchor) -> bool:
    """Marks a transaction ``lost`` and keeps what it was in ``lost_anchors``; its receipt stays,
    no longer current. False (nothing written) when it is lost already."""
    at = now()
    done = conn.execute(transactions.update().where(
        transactions.c.id == lost.tx_id, transactions.c.state != "lost",
    ).values(state="lost", last_error=lost.reason, updated_at=at))
    if done.rowcount == 0:
        return False
    conn.execute(receipts.update().where(receipts.c.tx_id == lost.tx_id, receipts.c.current)
                 .values(current=False, reorged_at=at))
    conn.execute(lost_anchors.insert().values(
        tx_id=lost.tx_id, batch_id=lost.batch_id, chain_id=lost.chain_id,
        contract=lost.contract.lower(), sender=lost.sender.lower(), nonce=lost.nonce,
        tx_hash=lost.tx_hash, block_number=lost.block_number, block_hash=lost.block_hash,
        chain_height=lost.chain_height, reason=lost.reason, found_at=at,
        batch_key=None if lost.batch_key is None else lost.batch_key.lower(),
    ))
    return True


def has_attempt(conn: Connection, tx_hash: str) -> bool:
    """Whether a stored attempt has this transaction hash."""
    return conn.execute(sa.select(attempts.c.id).where(attempts.c.tx_hash == tx_hash.lower())
                        ).first() is not None


def tx_of_attempt(conn: Connection, tx_hash: str) -> TxRow | None:
    """The transaction one of whose attempts has this hash."""
    found = conn.execute(sa.select(attempts.c.tx_id).where(
        attempts.c.tx_hash == tx_hash.lower())).scalar()
    return None if found is None else tx(conn, found)


def revive_lost(conn: Connection, tx_id: int, note: str) -> None:
    """A lost transaction the chain holds after all: ``broadcast`` again, for the outbox to find
    its receipt; its ``lost_anchors`` row stays (it was lost when it was found so)."""
    conn.execute(transactions.update().where(
        transactions.c.id == tx_id, transactions.c.state == "lost",
    ).values(state="broadcast", last_error=note, updated_at=now()))


def lost_anchors_of(conn: Connection, chain_id: int, contract: str, sender: str
                    ) -> list[LostAnchor]:
    """The lost anchorings kept for one contract and sender, oldest first."""
    rows = conn.execute(sa.select(lost_anchors).where(
        lost_anchors.c.chain_id == chain_id, lost_anchors.c.contract == contract.lower(),
        lost_anchors.c.sender == sender.lower(),
    ).order_by(lost_anchors.c.id))
    return [LostAnchor(r.tx_id, r.batch_id, r.chain_id, r.contract, r.sender, r.nonce, r.tx_hash,
                       r.block_number, r.block_hash, r.chain_height, r.reason, r.found_at,
                       r.batch_key)
            for r in rows]


def txs_in_states(conn: Connection, chain_id: int, sender: str, states: Sequence[str], *,
                  light: bool = False) -> list[TxRow]:
    """The sender's transactions in these states, by nonce (``light``: see :func:`select_txs`)."""
    return select_txs(conn, sa.and_(
        transactions.c.chain_id == chain_id, transactions.c.sender == sender.lower(),
        transactions.c.state.in_(states),
    ), light=light)


def note_error(conn: Connection, tx_id: int, error: str) -> None:
    conn.execute(transactions.update().where(transactions.c.id == tx_id)
                 .values(last_error=error, updated_at=now()))


def open_txs(conn: Connection, chain_id: int, sender: str) -> list[TxRow]:
    return select_txs(conn, sa.and_(
        transactions.c.chain_id == chain_id, transactions.c.sender == sender.lower(),
        transactions.c.state.in_(OPEN_STATES),
    ))


def final_txs_above(conn: Connection, chain_id: int, sender: str, block_number: int
                    ) -> list[TxRow]:
    recent = sa.select(receipts.c.tx_id).where(
        receipts.c.current, receipts.c.block_number > block_number
    )
    return select_txs(conn, sa.and_(
        transactions.c.chain_id == chain_id, transactions.c.sender == sender.lower(),
        transactions.c.state == "final", transactions.c.id.in_(recent),
    ))


def tx(conn: Connection, tx_id: int) -> TxRow:
    found = select_txs(conn, transactions.c.id == tx_id)
    if not found:
        raise StoreError(f"no transaction {tx_id} in the ledger store")
    return found[0]


def batch_txs(conn: Connection, batch_ids: Sequence[int], *, light: bool = False
              ) -> list[TxRow]:
    """Every transaction that carried one of these batches, by nonce."""
    return select_txs(conn, transactions.c.batch_id.in_(batch_ids), light=light)


def tx_states(conn: Connection, tx_ids: Iterable[int]) -> dict[int, str]:
    ids = list(tx_ids)
    found: dict[int, str] = {}
    for part in chunks(ids):
        for row in conn.execute(sa.select(transactions.c.id, transactions.c.state)
                                .where(transactions.c.id.in_(part))):
            found[row.id] = row.state
    return found


def next_nonce(conn: Connection, chain_id: int, sender: str) -> int | None:
    top = conn.execute(sa.select(sa.func.max(transactions.c.nonce)).where(
        transactions.c.chain_id == chain_id, transactions.c.sender == sender.lower(),
        transactions.c.state != "lost",  # the chain that lost them forgot their nonces
    )).scalar()
    return None if top is None else int(top) + 1


def select_txs(conn: Connection, where: sa.ColumnElement[bool], *, light: bool = False
               ) -> list[TxRow]:
    """The transactions ``where`` selects, by nonce, each with its attempts and current receipt;
    ``light`` leaves out the bytes of the transaction and of its attempts."""
    tx_cols = [c for c in transactions.c if not (light and c.name == "data")]
    attempt_cols = [c for c in attempts.c if not (light and c.name == "raw")]
    tx_rows = list(conn.execute(sa.select(*tx_cols).where(where)
                                .order_by(transactions.c.nonce, transactions.c.id)))
    if not tx_rows:
        return []
    ids = [row.id for row in tx_rows]
    by_tx: dict[int, list[AttemptRow]] = {i: [] for i in ids}
    current: dict[int, ReceiptRow] = {}
    for part in chunks(ids):
        for a in conn.execute(sa.select(*attempt_cols).where(attempts.c.tx_id.in_(part))
                              .order_by(attempts.c.id)):
            by_tx[a.tx_id].append(AttemptRow(
                a.id, a.tx_hash, b"" if light else bytes(a.raw), int(a.max_fee_per_gas),
                int(a.max_priority_fee_per_gas), a.broadcast_count, a.last_error,
            ))
        for r in conn.execute(sa.select(receipts).where(receipts.c.tx_id.in_(part),
                                                        receipts.c.current)):
            current[r.tx_id] = ReceiptRow(
                r.attempt_id, r.tx_hash, r.block_number, r.block_hash, r.status, r.gas_used,
                int(r.effective_gas_price), r.first_log_index,
            )
    return [
        TxRow(
            id=row.id, chain_id=row.chain_id, sender=row.sender, nonce=row.nonce,
            to_address=row.to_address, data=b"" if light else bytes(row.data),
            gas_limit=row.gas_limit, batch_id=row.batch_id, state=row.state,
            confirmations=row.confirmations, finalized_tag=bool(row.finalized_tag),
            reorg_count=row.reorg_count, last_error=row.last_error,
            attempts=tuple(by_tx[row.id]), receipt=current.get(row.id),
        )
        for row in tx_rows
    ]


def _insert_attempt(conn: Connection, tx_id: int, attempt: NewAttempt, at: datetime) -> None:
    conn.execute(attempts.insert().values(
        tx_id=tx_id, tx_hash=attempt.tx_hash.lower(), raw=attempt.raw,
        max_fee_per_gas=str(attempt.max_fee_per_gas),
        max_priority_fee_per_gas=str(attempt.max_priority_fee_per_gas),
        broadcast_count=0, created_at=at,
    ))
