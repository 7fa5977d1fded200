"""A store's records anchored on another deployment: ``carbon-ledger recover --from-contract``.

A store keeps its records per chain, contract and exporter (a :class:`~ledger.store.rows.Scope`).
When the contract they were anchored on is gone for good (a development chain reset and the
contract deployed again at another address, a test network abandoned for another), or the
exporter moves to a new deployment, :func:`move_records` anchors the records of that earlier
scope on the current contract: the same canonical records, hashes and leaves, planned into new
batches on the path each was anchored on before (per factor set), stored in one commit under the
current scope, then sent through the outbox like any anchoring run.

Nothing of the earlier scope is changed or deleted: its batches, transactions and records stay
as they were, for audit. A record the current scope holds already with the same hash is counted
as there (a run killed halfway, then run again, sends only what is missing); one it holds with
another hash is refused, as anchoring refuses it. Reports issued from the earlier deployment
name it and keep verifying against it while it exists; issue new ones from the new proofs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from ledger.anchoring.checks import preflight, refuse_recorded_elsewhere, split_known
from ledger.anchoring.options import AnchorOptions, scope_of
from ledger.anchoring.outbox import Checkpoint, OutboxPolicy
from ledger.anchoring.plan import PlannedCall, PreparedRecord, plan_event_batches, plan_root_batches
from ledger.anchoring.submit import Run, submit
from ledger.chain.contract import CarbonLedgerContract
from ledger.errors import InputError, InputProblem
from ledger.records.canonical import chain_shipment_key_function, shipment_id_of
from ledger.records.merkle import Leaf
from ledger.store.rows import BatchRow, BatchStatus, Scope
from ledger.store.store import LedgerStore
from ledger.types import Bytes32

__all__ = ["Moved", "move_records", "source_scope"]

_ADDRESS = re.compile(r"0x[0-9a-f]{40}")


@dataclass(frozen=True)
class Moved:
    """What :func:`move_records` found (and, unless a dry run, anchored)."""

    source: Scope
    scope: Scope
    new_shipments: int
    """How many records of ``source`` were not in ``scope`` yet: anchored (a dry run: would
    be)."""
    already: tuple[str, ...]
    """Records ``scope`` holds already with the same hash."""
    batches: tuple[BatchStatus, ...] = ()
    """After a run: the new batches and where each stands."""


def source_scope(store: LedgerStore, scope: Scope, contract: str,
                 chain_id: int | None = None) -> Scope:
    """The store's scope of ``contract`` for the current exporter (on ``chain_id``, or on the
    only chain the store holds it for); an ``InputError`` naming what the store holds when there
    is none, several, or it is the current scope itself."""
    wanted = contract.lower()
    if not _ADDRESS.fullmatch(wanted):
        raise InputError([InputProblem(
            f"--from-contract must be a contract address (0x and 40 hex digits), got {contract!r}",
            field="from_contract")])
    mine = [s for s in store.scopes() if s.exporter.lower() == scope.exporter.lower()]
    found = [s for s in mine if s.contract == wanted
             and (chain_id is None or s.chain_id == chain_id)]
    held = ", ".join(f"{s.contract} on chain {s.chain_id}" for s in mine) or "none"
    if not found:
        raise InputError([InputProblem(
            f"this store holds no records of exporter {scope.exporter} for contract {wanted}"
            + (f" on chain {chain_id}" if chain_id is not None else "")
            + f" (it holds: {held})", field="from_contract")])
    if len(found) > 1:
        raise InputError([InputProblem(
            f"this store holds records for contract {wanted} on several chains "
            f"({', '.join(str(s.chain_id) for s in found)}): name one with --from-chain-id",
            field="from_chain_id")])
    if found[0].contract == scope.contract.lower() and found[0].chain_id == scope.chain_id:
        raise InputError([InputProblem(
            f"contract {wanted} on chain {scope.chain_id} is the current deployment: its lost "
            "batches are recovered by `carbon-ledger recover` without --from-contract",
            field="from_contract")])
    return found[0]


def move_records(
    ledger: CarbonLedgerContract,
    store: LedgerStore,
    source: Scope,
    *,
    dry_run: bool = False,
    policy: OutboxPolicy | None = None,
    wait_until: str = "final",
    checkpoint: Checkpoint | None = None,
    idle: Callable[[], None] | None = None,
) -> Moved:
    """Anchor the records of ``source`` (see :func:`source_scope`) on ``ledger``'s contract.

    Source batches are read, planned and stored one at a time (a store of a million records is
    never held in memory at once); each record's on-chain id is derived again for the current
    contract's rule from the exporter and the shipment id. Refused before anything is stored: a
    shipment corrected on the earlier contract (a superseding version would be lost: version 1
    would be live again), a factor set not registered on the new contract, a key without the
    exporter role; on the events path, shipments the key recorded on the new contract from
    another store. ``dry_run`` only counts.
    """
    scope = scope_of(ledger)
    corrected = store.corrected_shipments(source)
    if corrected:
        listed = ", ".join(f"{s} (version {v})" for s, v in sorted(corrected.items())[:5])
        raise InputError([InputProblem(
            f"{len(corrected)} shipment(s) of contract {source.contract} were corrected there "
            f"(first: {listed}); moving them would make their first record live again. "
            "Anchor those shipments' current records on the new contract under new shipment "
            "ids instead", field="from_contract")])
    sources = [s.batch for s in store.batch_statuses(source)]
    if dry_run:
        new_count, same = 0, []
        for _, new, known in _fresh(store, scope, sources):
            new_count += len(new)
            same += known
        return Moved(source, scope, new_count, tuple(same))
    for factor_set in sorted({b.factor_set_id for b in sources}):
        preflight(ledger, Bytes32.parse(factor_set, "factor_set_id"))
    moved = 0
    same_ids: list[str] = []
    with store.writer_lock(scope.chain_id, scope.exporter):
        events = [b for b in sources if b.path == "events"]
        for _, new, _ in _fresh(store, scope, events):  # before anything is stored
            refuse_recorded_elsewhere(ledger, store, scope, new)
        before = {s.batch.id for s in store.batch_statuses(scope)}

        def store_new(calls: dict[str, PlannedCall]) -> None:
            nonlocal moved
            for batch, new, same in _fresh(store, scope, sources):
                same_ids.extend(same)
                if not new:
                    continue
                set_id = Bytes32.parse(batch.factor_set_id, "factor_set_id")
                options = AnchorOptions(path="events" if batch.path == "events" else "root")
                store.add_batches(scope, plan_event_batches(ledger, set_id, new, options, calls)
                                  if batch.path == "events"
                                  else plan_root_batches(set_id, new, options))
                moved += len(new)

        run = Run(store, ledger, scope, AnchorOptions(wait_until=wait_until), policy,
                  checkpoint, idle)
        resumed = set(submit(run, store_new))
    batches = tuple(s for s in store.batch_statuses(scope)
                    if s.batch.id not in before or s.batch.id in resumed)
    return Moved(source, scope, moved, tuple(same_ids), batches)


def _fresh(store: LedgerStore, scope: Scope, sources: Sequence[BatchRow]
           ) -> Iterator[tuple[BatchRow, list[PreparedRecord], list[str]]]:
    """Each source batch, one at a time, with its records ``scope`` does not hold yet and the
    ids of those it holds with the same hash (one held with another hash is refused)."""
    for batch in sources:
        new, same = split_known(store, scope, _prepared(store, batch, scope.exporter))
        yield batch, new, same


def _prepared(store: LedgerStore, batch: BatchRow, exporter: str) -> list[PreparedRecord]:
    """A source batch's records as records to anchor for ``exporter``: the same canonical bytes
    and record hash, the on-chain id derived by the current rule (a store written for a contract
    that took ids as sent holds other ids)."""
    shipment_key = chain_shipment_key_function(exporter)
    out = []
    for row in store.batch_records(batch.id):
        key = shipment_key(row.shipment_id)
        out.append(PreparedRecord(
            row.shipment_id, row.record_json,
            Leaf(shipment_id_of(exporter, key), Bytes32.parse(row.record_hash, "record_hash"),
                 row.co2e_wtw_g, row.co2e_ttw_g),
            key))
    return out
