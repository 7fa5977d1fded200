"""Commands ``anchor``, ``proof``, ``status``, ``lookup`` and ``revoke``: thin shells over the
library.

Settings come from the environment (``CARBON_LEDGER_*``, see :mod:`ledger.config`); the store is
``--store`` (a SQLAlchemy URL or a SQLite file), else ``CARBON_LEDGER_STORE``, else
``var/ledger.sqlite``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Literal

import typer

from ledger.anchoring.anchor import anchor_shipments
from ledger.anchoring.options import AnchorOptions, AnchorProgress, AnchorResult, scope_of
from ledger.anchoring.outbox import Outbox, OutboxPolicy
from ledger.anchoring.proofs import check_bundle, lookup_shipment, proof_bundle, revoke_shipment
from ledger.chain.contract import CarbonLedgerContract
from ledger.cli.footprint import CsvOptions, EncodingOption, IgnoreColumnOption, SeparatorOption
from ledger.cli.output import write_output
from ledger.config import ChainSettings, load_chain_settings, signer_private_key
from ledger.errors import ConfigError, LedgerError, StoreError
from ledger.store.rows import BatchStatus, LostAnchor, Scope
from ledger.store.store import LedgerStore, open_store

__all__ = ["DEFAULT_STORE", "STORE_ENV", "print_anchor_result", "register"]

STORE_ENV = "CARBON_LEDGER_STORE"
DEFAULT_STORE = Path("var/ledger.sqlite")
#: Shipments listed one by one after a run (the rest are counted).
_LISTED = 50

StoreOption = Annotated[
    str | None,
    typer.Option("--store", help=f"Ledger store: SQLAlchemy URL or SQLite file "
                                 f"(default ${STORE_ENV} or {DEFAULT_STORE})."),
]


def _store_target(store: str | None) -> str:
    return store or os.environ.get(STORE_ENV) or str(DEFAULT_STORE)


def _existing_store(store: str | None) -> str:
    """The store target of a read-only command: a SQLite file must exist already (it is never
    created here); ConfigError names the path looked at and where it came from."""
    from ledger.store.engine import store_url

    target = _store_target(store)
    url = store_url(target)
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        path = Path(url.removeprefix("sqlite:///"))
        if not path.is_file():
            source = ("--store" if store else f"${STORE_ENV}" if os.environ.get(STORE_ENV)
                      else "the default store")
            raise ConfigError(f"no ledger store at {path} ({source}): anchor shipments first, "
                              f"or give the store with --store or ${STORE_ENV}")
    return target


@contextmanager
def _ledger(settings: ChainSettings, *, read_only: bool = False
            ) -> Iterator[CarbonLedgerContract]:
    from ledger.chain.client import connect
    from ledger.chain.deploy import load_deployment, open_deployment

    deployment = load_deployment(settings.deployment_path(), chain_id=settings.chain_id)
    with connect(settings, read_only=read_only) as client:
        yield open_deployment(client, deployment)


def _offline_scope(settings: ChainSettings, exporter: str | None) -> Scope:
    """The scope from the deployment file and the key (or ``--exporter``), without a node."""
    from eth_account import Account

    from ledger.chain.deploy import load_deployment

    deployment = load_deployment(settings.deployment_path(), chain_id=settings.chain_id)
    if exporter is None:
        exporter = str(Account.from_key(signer_private_key(settings)).address)
    return Scope(settings.chain_id, deployment.address, exporter)


def _short(value: str | None, keep: int = 10) -> str:
    return "-" if not value else value[:keep] + "…"


def _where(status: BatchStatus) -> str:
    tx = status.tx
    if tx is None:
        return "not sent yet"
    if tx.receipt is None:
        return f"tx {tx.attempts[-1].tx_hash} (nonce {tx.nonce}), not mined yet"
    return f"tx {tx.receipt.tx_hash}, block {tx.receipt.block_number}"


def _lost_where(status: BatchStatus, lost_by_tx: Mapping[int, LostAnchor]) -> str:
    """Where a batch whose newest transaction the chain lost stands, and what to do."""
    tx = status.tx
    assert tx is not None  # a lost state is a transaction's
    lost = lost_by_tx.get(tx.id)
    tx_hash = (lost.tx_hash if lost is not None else None) or (
        tx.attempts[-1].tx_hash if tx.attempts else None)
    sent = f"tx {tx_hash or '(never broadcast)'} (nonce {tx.nonce})"
    if lost is not None and lost.batch_key and lost.batch_key != status.batch.batch_key:
        sent += (f" anchored {lost.batch_key}, which the contract's state holds while the node "
                 "serves no block, receipt or event of it (the node lost that history); the "
                 "batch has a new key")
    elif lost is not None and lost.block_number is not None:
        sent += f" was mined in block {lost.block_number}, which the chain no longer holds"
    else:
        sent += " can never be mined on this chain"
    return f"{sent}; not anchored again yet: run `carbon-ledger recover`"


def print_anchor_result(result: AnchorResult, store: LedgerStore) -> None:
    """Each new shipment and where its proof is, then a summary."""
    scope = result.scope
    by_batch = {status.batch.id: status for status in result.batches}
    new = set(result.new_shipments)
    shown = 0
    for status in result.batches:
        records = [r for r in store.batch_records(status.batch.id) if r.shipment_id in new]
        for record in records:
            shown += 1
            if shown > _LISTED:
                continue
            batch = by_batch[record.batch_id]
            where = _where(batch)
            if batch.batch.path == "root":
                place = f"root {batch.batch.batch_key} ({batch.state}), {where}"
            else:
                place = f"event #{record.position} of batch {batch.batch.batch_key[:18]}… " \
                        f"({batch.state}), {where}"
            typer.echo(f"{record.shipment_id}: {place}; proof: carbon-ledger proof "
                       f"{record.shipment_id}")
    if shown > _LISTED:
        typer.echo(f"... and {shown - _LISTED} more (carbon-ledger proof SHIPMENT_ID)")
    if result.nothing_new:
        typer.echo(f"nothing new to anchor: all {len(result.already_anchored)} shipment(s) were "
                   f"anchored before by {scope.exporter} on chain {scope.chain_id}")
        return
    states: dict[str, int] = {}
    for status in result.batches:
        states[status.state] = states.get(status.state, 0) + 1
    finished = (f"finished {len(result.resumed_batches)} batch(es) left by an earlier run "
                "or found on chain" if result.resumed_batches else "")
    typer.echo(
        (f"anchored {len(result.new_shipments)} new shipment(s) on the {result.path} path"
         if result.new_shipments else f"no new shipment in the input; {finished}")
        + (f", {len(result.already_anchored)} already anchored" if result.already_anchored
           else "")
        + (f", {finished}" if result.new_shipments and finished else "")
        + f"; contract {scope.contract}, chain {scope.chain_id}; batches: "
        + ", ".join(f"{n} {s}" for s, n in sorted(states.items()))
    )
    sets: dict[str, int] = {}
    for status in result.batches:
        sets[status.batch.factor_set_id] = sets.get(status.batch.factor_set_id, 0) + 1
    if len(sets) > 1:
        typer.echo("batches by factor set: " + ", ".join(f"{fsid} {n}" for fsid, n in
                                                         sorted(sets.items())))


class _Watch:
    """Progress of an anchoring run on standard error: each stage, then every ``every_s``
    seconds of waiting for the chain, the transactions signed and final so far."""

    def __init__(self, poll_interval_s: float, every_s: float = 5.0) -> None:
        self.poll_interval_s = poll_interval_s
        self.every_s = every_s
        self.start = self.last = time.monotonic()
        self.seen: AnchorProgress | None = None

    def progress(self, report: AnchorProgress) -> None:
        now = time.monotonic()
        if self.seen is None or report.stage != self.seen.stage or now - self.last >= self.every_s:
            self.last = now
            counts = (f": {report.signed} transaction(s) signed, {report.final} final"
                      if report.stage == "sending" else "")
            typer.echo(f"{report.stage} {report.shipments} shipment(s){counts}", err=True)
        self.seen = report

    def idle(self) -> None:
        time.sleep(self.poll_interval_s)
        now = time.monotonic()
        if now - self.last >= self.every_s and self.seen is not None:
            self.last = now
            typer.echo(f"  ... waiting for the chain ({now - self.start:.0f} s): "
                       f"{self.seen.signed} transaction(s) signed, {self.seen.final} final",
                       err=True)


def anchor_command(
    file: Annotated[Path, typer.Argument(help="Shipments file (.json or .csv).", exists=True,
                                         dir_okay=False)],
    *,
    path: Annotated[Literal["events", "root"], typer.Option(
        "--path", help="events (per-shipment events) or root (Merkle root only).")] = "events",
    confirmations: Annotated[int | None, typer.Option(
        "--confirmations", min=0, help="Blocks on top before a batch is final "
                                       "(default $CARBON_LEDGER_CONFIRMATIONS or 0).")] = None,
    finalized: Annotated[bool, typer.Option(
        "--finalized", help="Final only once the chain's 'finalized' block covers it.")] = False,
    wait: Annotated[Literal["final", "mined", "sent"], typer.Option(
        "--wait", help="Wait until batches are final, mined, or just sent.")] = "final",
    factor_set: Annotated[Path | None, typer.Option(
        "--factor-set", help="Factor-set manifest (default: the shipped one).", exists=True,
        dir_okay=False)] = None,
    by_dispatch_date: Annotated[bool, typer.Option(
        "--by-dispatch-date", help="Choose each shipment's factor set by its dispatch date "
        "(the shipped schedule, or --schedule); each set's shipments go in batches of their "
        "own.")] = False,
    schedule: Annotated[Path | None, typer.Option(
        "--schedule", help="Factor-set schedule (JSON) for --by-dispatch-date.",
        exists=True, dir_okay=False)] = None,
    store: StoreOption = None,
    separator: SeparatorOption = None,
    encoding: EncodingOption = None,
    ignore_column: IgnoreColumnOption = None,
) -> None:
    """Anchor the footprints of FILE's shipments on chain; running it again sends nothing new."""
    from ledger.anchoring.anchor import anchor_by_dispatch_date
    from ledger.errors import InputError, InputProblem
    from ledger.factors.factorset import load_factor_set
    from ledger.factors.schedule import load_schedule

    if (by_dispatch_date or schedule is not None) and factor_set is not None:
        raise InputError([InputProblem("give either --factor-set (one set for every shipment) "
                                       "or --by-dispatch-date / --schedule", field="--factor-set")])
    plan = load_schedule(schedule) if by_dispatch_date or schedule is not None else None
    options = AnchorOptions(path=path, wait_until=wait)
    overrides = {} if confirmations is None else {"confirmations": confirmations}
    settings = load_chain_settings(**overrides)
    shipments = CsvOptions(separator, encoding, tuple(ignore_column or ())).read_shipments(file)
    factors = load_factor_set(factor_set) if plan is None else None
    policy = OutboxPolicy(confirmations=settings.confirmations, finalized_tag=finalized,
                          poll_interval_s=settings.poll_interval_s,
                          timeout_s=settings.receipt_timeout_s,
                          send_retries=settings.rpc_retries, send_backoff_s=settings.rpc_backoff_s)
    with _ledger(settings) as ledger, open_store(_store_target(store)) as opened:
        watch = _Watch(settings.poll_interval_s)
        if plan is not None:
            result = anchor_by_dispatch_date(shipments, plan, store=opened, ledger=ledger,
                                             options=options, policy=policy, idle=watch.idle,
                                             progress=watch.progress)
        else:
            assert factors is not None
            result = anchor_shipments(shipments, factors, store=opened, ledger=ledger,
                                      options=options, policy=policy, idle=watch.idle,
                                      progress=watch.progress)
        print_anchor_result(result, opened)


def proof_command(
    shipment_id: Annotated[str, typer.Argument(help="The shipment id as in the input file.")],
    *,
    exporter: Annotated[str | None, typer.Option(
        "--exporter", help="Exporter address (default: the signing key's).")] = None,
    check: Annotated[bool, typer.Option(
        "--check", help="Also check the bundle against the chain.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write the bundle here.")] = None,
    record_version: Annotated[int | None, typer.Option(
        "--record-version", min=1, help="Of a superseded shipment, which version: 1 is the "
                                        "first anchored (default: the latest).")] = None,
    store: StoreOption = None,
) -> None:
    """Print a shipment's proof bundle: record, leaf, proof, batch, tx, block, chain, contract."""
    settings = load_chain_settings()
    target = _existing_store(store)
    scope = _offline_scope(settings, exporter)
    with open_store(target) as opened:
        kept = opened.record_versions(scope, shipment_id)
        wanted = record_version if record_version is not None else (
            kept[-1].version if kept else 1)
        if wanted == 1:
            bundle = proof_bundle(opened, scope, shipment_id)
        else:
            found = [k.bundle for k in kept if k.version == wanted]
            if not found:
                raise typer.BadParameter(
                    f"{shipment_id} has {1 + len(kept)} version(s) in this store",
                    param_hint="--record-version")
            bundle = found[0]  # type: ignore[assignment]
    if kept:
        typer.echo(f"{shipment_id}: version {wanted} of {1 + len(kept)} (1 is the first "
                   "anchored; each later one superseded the one before on chain)", err=True)
    text = json.dumps(bundle, indent=2, sort_keys=True)
    if out is not None:
        write_output(out, text + "\n")
        typer.echo(f"wrote {out}")
    else:
        typer.echo(text)
    if check:
        with _ledger(settings, read_only=True) as ledger:
            checks = check_bundle(bundle, ledger)
        for item in checks:
            typer.echo(f"{'ok  ' if item.ok else 'FAIL'} {item.name}: {item.detail}", err=True)
        if not all(item.ok for item in checks):
            raise typer.Exit(1)


def status_command(
    *,
    sync: Annotated[bool, typer.Option(
        "--sync/--no-sync", help="First bring the store up to date with the chain "
                                 "(receipts, finality, reorgs).")] = True,
    store: StoreOption = None,
) -> None:
    """Show batches as pending, confirmed (mined), final, failed or lost (anchored on a chain
    that no longer holds it: `carbon-ledger recover` anchors it again)."""
    settings = load_chain_settings()
    with open_store(_existing_store(store)) as opened:
        if sync:
            try:
                _sync(opened, settings)
            except (StoreError, LedgerError) as exc:
                typer.echo(f"(not synced with the chain: {exc})", err=True)
        groups = {"pending": 0, "confirmed": 0, "final": 0, "failed": 0, "lost": 0}
        for scope in opened.scopes():
            statuses = opened.batch_statuses(scope)
            if not statuses:
                continue
            lost_txs: dict[int | None, list[str]] = {}
            lost_by_tx: dict[int, LostAnchor] = {}
            for lost in opened.lost_anchors(scope):
                lost_txs.setdefault(lost.batch_id, []).append(lost.tx_hash or f"nonce {lost.nonce}")
                lost_by_tx[lost.tx_id] = lost
            typer.echo(f"chain {scope.chain_id}, contract {scope.contract}, "
                       f"exporter {scope.exporter}:")
            for status in statuses:
                group = {"mined": "confirmed", "final": "final", "failed": "failed",
                         "lost": "lost"}.get(status.state, "pending")
                groups[group] += 1
                tx = status.tx
                depth = ""
                if tx is not None and tx.receipt is not None and status.state != "lost":
                    depth = (" finalized tag" if tx.finalized_tag
                             else f" depth {tx.confirmations}")
                where = (_lost_where(status, lost_by_tx) if status.state == "lost"
                         else _where(status))
                earlier = lost_txs.get(status.batch.id, [])
                if earlier and status.state != "lost":
                    where += f"; anchored again after lost tx {', '.join(earlier)}"
                typer.echo(f"  batch {status.batch.id:>4} {status.batch.path:<6} "
                           f"{_short(status.batch.batch_key, 18):<20} "
                           f"{status.batch.shipment_count:>7} shipments  "
                           f"{group:<9} ({status.state}{depth})  {where}")
        typer.echo("batches: " + ", ".join(f"{n} {g}" for g, n in groups.items()))


def _sync(store: LedgerStore, settings: ChainSettings) -> None:
    from ledger.anchoring.submit import landed_check, refuse_lost_chain

    with _ledger(settings) as ledger:
        scope = scope_of(ledger)
        with store.writer_lock(scope.chain_id, scope.exporter):
            refuse_lost_chain(ledger, store, scope)  # else reconciling would send them again
            Outbox(store, ledger.client, OutboxPolicy(), landed=landed_check(ledger, store)
                   ).reconcile()


def lookup_command(
    shipment_id: Annotated[str, typer.Argument(help="The shipment id as the exporter wrote it.")],
    *,
    exporter: Annotated[str | None, typer.Option(
        "--exporter", help="Exporter address (default: the signing key's).")] = None,
    store: StoreOption = None,
) -> None:
    """Every on-chain record of a shipment id (with revocations and supersessions)."""
    target = _existing_store(store)
    settings = load_chain_settings()
    scope = _offline_scope(settings, exporter)
    with _ledger(settings, read_only=True) as ledger, open_store(target) as opened:
        found = lookup_shipment(ledger, scope.exporter, shipment_id, opened)
    typer.echo(f"shipment {shipment_id!r} of {scope.exporter}: on-chain id "
               f"0x{found.chain_shipment_id.hex()}")
    for event in found.events:
        name = type(event).__name__
        fields = {k: ("0x" + v.hex() if isinstance(v, bytes) else v)
                  for k, v in vars(event).items() if k not in ("meta", "shipment_id")}
        typer.echo(f"  block {event.meta.block_number} tx 0x{event.meta.tx_hash.hex()} "
                   f"log {event.meta.log_index}: {name} {fields}")
    if not found.events:
        typer.echo("  no per-shipment event on chain (root-path records show only their root)")
    for where, record in found.stored:
        typer.echo(f"  in this store: record {record.record_hash} (chain {where.chain_id}, "
                   f"contract {where.contract}, exporter {where.exporter})")
    typer.echo(f"live records on chain: {len(found.live)}"
               + ("  CONFLICT: more than one live record of this shipment" if found.conflict
                  else ""))


def revoke_command(
    shipment_id: Annotated[str, typer.Argument(help="The shipment id as in the input file.")],
    *,
    store: StoreOption = None,
) -> None:
    """Revoke the signing exporter's anchored record of a shipment on chain (never an edit:
    the record stays on chain, marked revoked; reports that rely on it stop verifying)."""
    with _ledger(load_chain_settings()) as ledger, open_store(_store_target(store)) as opened:
        done = revoke_shipment(ledger, opened, shipment_id)
    typer.echo(f"revoked record {done.record_hash} of {shipment_id} in transaction "
               f"{done.tx_hash} (block {done.block_number})")


def recover_command(
    *,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Only show which batches the chain lost and what would be sent "
                          "again; change nothing.")] = False,
    confirmations: Annotated[int | None, typer.Option(
        "--confirmations", min=0, help="Blocks on top before a re-anchored batch is final "
                                       "(default $CARBON_LEDGER_CONFIRMATIONS or 0).")] = None,
    wait: Annotated[Literal["final", "mined", "sent"], typer.Option(
        "--wait", help="Wait until re-anchored batches are final, mined, or just sent.")
    ] = "final",
    anchor_again: Annotated[bool, typer.Option(
        "--anchor-again",
        help="Also anchor again, under a new batch id or root, a batch whose history the node "
             "lost (the contract's state records it, no block, receipt or event is served). "
             "Only when that history is gone for good (a local node restarted from a state "
             "saved while mining); on a network whose other nodes keep it, use such a node "
             "(an archive node) instead.")] = False,
    from_contract: Annotated[str | None, typer.Option(
        "--from-contract", metavar="ADDRESS",
        help="Anchor this store's records of an earlier contract (gone for good, or left for "
             "a new deployment) on the current one: same records, new batches; the earlier "
             "records stay in the store as they were.")] = None,
    from_chain_id: Annotated[int | None, typer.Option(
        "--from-chain-id", min=1,
        help="With --from-contract: the chain the earlier contract was on, when the store "
             "holds that address on several.")] = None,
    store: StoreOption = None,
) -> None:
    """Recover after the chain lost anchored batches (a chain reset or restarted without its
    state, a rollback, a fork) or the node lost their history (the contract's state records
    the batch, but no block, receipt or event is served): mark each lost batch's transaction
    as lost (kept in the store for audit: when, why, which chain, contract, block, transaction
    and key; never deleted), then anchor the lost batches' records again in new transactions
    (under a new batch id or root when the state still holds the old one), so that the store
    and the chain agree. Safe to run again at any time: killed halfway, the next run
    finishes the job; nothing is sent twice. Reports issued from a lost batch stop verifying
    (their transaction is not on chain): issue them again. The contract must be deployed at
    the deployment file's address, with the factor sets registered. With --from-contract,
    anchor the records the store holds for an earlier contract on the current one instead."""
    from ledger.anchoring.recover import find_lost, lost_summary, recover

    overrides = {} if confirmations is None else {"confirmations": confirmations}
    settings = load_chain_settings(**overrides)
    if from_contract is not None:
        _move(settings, store, from_contract, from_chain_id, dry_run=dry_run, wait=wait)
        return
    if from_chain_id is not None:
        raise typer.BadParameter("--from-chain-id goes with --from-contract",
                                 param_hint="--from-chain-id")
    with _ledger(settings) as ledger, open_store(_existing_store(store)) as opened:
        if dry_run:
            found = find_lost(ledger, opened, anchor_again=anchor_again)
        else:
            policy, watch = _recovery_policy(settings)
            found = recover(ledger, opened, anchor_again=anchor_again, policy=policy,
                            wait_until=wait, idle=watch.idle)
    scope = found.scope
    left = found.history_left
    where = (f"contract {scope.contract} on chain {scope.chain_id} (height "
             f"{found.chain_height}), exporter {scope.exporter}")
    if found.nothing_to_do and not left:
        typer.echo(f"nothing to recover: the chain holds every batch of this store for {where}"
                   + (f"; {len(found.lost_before)} lost anchoring(s) kept from earlier "
                      "recoveries" if found.lost_before else ""))
        return
    if found.nothing_to_do:
        _history_left(left)
        raise typer.Exit(1)
    verb = "would mark" if dry_run else "marked"
    typer.echo(f"{where}:")
    if found.newly_lost:
        typer.echo(f"{verb} {len(found.newly_lost)} transaction(s) lost:\n"
                   + lost_summary(found.newly_lost))
    for r in found.rekeyed:
        typer.echo(f"batch {r.batch_id} ({r.path}): the node lost its history; "
                   + ("would be anchored" if dry_run else "anchored")
                   + f" again under a new {'root' if r.path == 'root' else 'batch id'} "
                   f"{r.new_key} (was {r.old_key})")
    shipments = sum(b.shipment_count for b in found.to_anchor)
    if dry_run:
        typer.echo(f"would anchor again {len(found.to_anchor)} batch(es), {shipments} "
                   "shipment(s): " + ", ".join(f"{b.id} ({b.path} {_short(b.batch_key, 18)})"
                                               for b in found.to_anchor))
        if found.adopted:
            typer.echo(f"would adopt {len(found.adopted)} batch(es) recorded by another "
                       "transaction of this key that the node serves")
        if left:
            _history_left(left)
        typer.echo("nothing was changed (--dry-run)")
        return
    if found.adopted:
        typer.echo(f"adopted {len(found.adopted)} batch(es) recorded by another transaction of "
                   "this key that the node serves")
    typer.echo(f"anchored again {len(found.to_anchor)} batch(es), {shipments} shipment(s):")
    for status in found.batches:
        typer.echo(f"  batch {status.batch.id} {status.batch.path} "
                   f"{_short(status.batch.batch_key, 18)} ({status.state}): {_where(status)}")
    if left:
        _history_left(left)
        raise typer.Exit(1)


def _history_left(left: Sequence[tuple[LostAnchor, object]]) -> None:
    """The lost-history batches recovery found and left alone (no --anchor-again)."""
    from ledger.anchoring.recover import lost_summary

    typer.echo(f"{len(left)} batch(es) whose history the node lost were left as they are:\n"
               + lost_summary([lost for lost, _ in left])
               + "\nUse a node that keeps the chain's history (an archive node); if that "
               "history is gone for good (a local node restarted from a state saved while "
               "mining), run `carbon-ledger recover --anchor-again` (see --dry-run first)",
               err=True)


def _recovery_policy(settings: ChainSettings) -> tuple[OutboxPolicy, _Watch]:
    """The outbox policy and progress watch of a recovery run, from the chain settings."""
    policy = OutboxPolicy(confirmations=settings.confirmations,
                          poll_interval_s=settings.poll_interval_s,
                          timeout_s=settings.receipt_timeout_s,
                          send_retries=settings.rpc_retries,
                          send_backoff_s=settings.rpc_backoff_s)
    return policy, _Watch(settings.poll_interval_s)


def _move(settings: ChainSettings, store: str | None, contract: str, chain_id: int | None, *,
          dry_run: bool, wait: str) -> None:
    """``recover --from-contract``: the earlier contract's records anchored on this one."""
    from ledger.anchoring.move import move_records, source_scope

    with _ledger(settings) as ledger, open_store(_existing_store(store)) as opened:
        source = source_scope(opened, scope_of(ledger), contract, chain_id)
        if dry_run:
            moved = move_records(ledger, opened, source, dry_run=True)
        else:
            policy, watch = _recovery_policy(settings)
            moved = move_records(ledger, opened, source, policy=policy, wait_until=wait,
                                 idle=watch.idle)
    where = (f"contract {moved.source.contract} (chain {moved.source.chain_id}) -> contract "
             f"{moved.scope.contract} (chain {moved.scope.chain_id}), exporter "
             f"{moved.scope.exporter}")
    kept = f"; {len(moved.already)} already there" if moved.already else ""
    if not moved.new_shipments and not moved.batches:
        typer.echo(f"nothing to anchor: {where}: every record is there{kept}")
        return
    if dry_run:
        typer.echo(f"{where}: would anchor {moved.new_shipments} record(s){kept}")
        typer.echo("nothing was changed (--dry-run)")
        return
    typer.echo(f"{where}: anchored {moved.new_shipments} record(s) in "
               f"{len(moved.batches)} batch(es){kept}:")
    for status in moved.batches:
        typer.echo(f"  batch {status.batch.id} {status.batch.path} "
                   f"{_short(status.batch.batch_key, 18)} ({status.state}): {_where(status)}")


def register(app: typer.Typer) -> None:
    app.command("anchor")(anchor_command)
    app.command("proof")(proof_command)
    app.command("status")(status_command)
    app.command("lookup")(lookup_command)
    app.command("revoke")(revoke_command)
    app.command("recover")(recover_command)
