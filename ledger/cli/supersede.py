"""Command ``supersede SHIPMENT_ID FILE``: a corrected record replaces the anchored one on chain.

A record is never edited. The corrected shipment (the entry of FILE with that id) is computed,
recorded on chain as a new per-shipment record under the same on-chain shipment id, and the
contract's ``supersedeRecord(shipmentKey, old, new)`` marks the anchored record as superseded by
it; both transactions are signed by the exporter's key, simulated first (a refusal is named),
and their waits show progress. After that, a report on the old record is refused by ``report``
and fails ``verify``'s status check; ``lookup`` lists both records and the supersession.

Running it again after a stop between the two transactions finishes the job without recording
the corrected record twice. The store keeps both versions: the anchored (first) one as it was,
the corrected one with its proof bundle as version 2 (3, ... for later corrections;
``proof SHIPMENT_ID --version N``). The bundle is also written to ``--out`` (default
``<SHIPMENT_ID>.superseding.proof.json``), from which ``report`` issues the corrected report.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from ledger.cli.anchor import StoreOption, _existing_store, _ledger
from ledger.cli.footprint import CsvOptions, EncodingOption, IgnoreColumnOption, SeparatorOption
from ledger.cli.output import write_output
from ledger.errors import InputError, InputProblem, LedgerError, StoreError

__all__ = ["register"]


def _progress(line: str) -> None:
    typer.echo(line, err=True)


def supersede_command(
    shipment_id: Annotated[str, typer.Argument(help="The anchored shipment's id.")],
    file: Annotated[Path, typer.Argument(
        help="Shipments file (.json or .csv) holding the corrected shipment.", exists=True,
        dir_okay=False)],
    *,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Where the corrected record's proof bundle is written (default "
                      "<SHIPMENT_ID>.superseding.proof.json).", dir_okay=False)] = None,
    factor_set: Annotated[Path | None, typer.Option(
        "--factor-set", help="Factor-set manifest (default: the shipped one).", exists=True,
        dir_okay=False)] = None,
    store: StoreOption = None,
    separator: SeparatorOption = None,
    encoding: EncodingOption = None,
    ignore_column: IgnoreColumnOption = None,
) -> None:
    """Replace the anchored record of SHIPMENT_ID on chain by the corrected one in FILE
    (supersedeRecord); the old record stays on chain, marked superseded."""
    from ledger.anchoring.options import scope_of
    from ledger.anchoring.plan import prepare_footprints
    from ledger.chain.abi import RecordStatus
    from ledger.chain.deploy import send_and_wait
    from ledger.chain.events import ShipmentRecorded
    from ledger.chain.gas import batch_id_for, pack_shipments
    from ledger.config import load_chain_settings
    from ledger.factors.factorset import load_factor_set
    from ledger.footprint.single import compute_shipments
    from ledger.store.store import open_store
    from ledger.types import Bytes32

    shipments = CsvOptions(separator, encoding, tuple(ignore_column or ())).read_shipments(file)
    chosen = [s for s in shipments if s.shipment_id == shipment_id]
    if not chosen:
        raise InputError([InputProblem(
            f"{file} has no shipment {shipment_id!r} (it has {len(shipments)}: "
            f"{', '.join(s.shipment_id for s in shipments[:5])}"
            f"{' ...' if len(shipments) > 5 else ''})", field="shipment_id")])
    factors = load_factor_set(factor_set)
    factor_set_id = bytes.fromhex(factors.id.removeprefix("0x"))
    settings = load_chain_settings()
    target = _existing_store(store)
    with _ledger(settings) as ledger, open_store(target) as opened:
        scope = scope_of(ledger)
        old = opened.record(scope, shipment_id)
        if old is None:
            raise StoreError(f"shipment {shipment_id!r} of {scope.exporter} is not anchored in "
                             f"this store (chain {scope.chain_id}, contract {scope.contract}); "
                             "anchor it first: a record that is not anchored has nothing to "
                             "supersede")
        (footprint,) = compute_shipments(chosen, factors)
        (new,) = prepare_footprints([(chosen[0].to_dict(), footprint.to_dict())],
                                    exporter=scope.exporter, factor_set_id=factors.id,
                                    workers=1)
        new_hash = Bytes32(new.record_hash)
        # the version the corrected record replaces: the latest kept one, or the one this very
        # correction replaced when it is run again
        current = old.record_hash
        for kept in opened.record_versions(scope, shipment_id):
            if kept.record_hash == new_hash.hex0x:
                break
            current = kept.record_hash
        # the on-chain id (events are indexed by it) and the key that is sent for it
        old_hash, key = Bytes32.parse(current), Bytes32.parse(old.shipment_key)
        sent_key = new.shipment_key
        if new_hash == old_hash:
            raise InputError([InputProblem(
                f"the record in {file} is the anchored one ({current}): nothing to "
                "correct", shipment_id=shipment_id, field="shipment_id")])
        status, successor = ledger.record_status(scope.exporter, old_hash)
        if status == RecordStatus.REVOKED or (
                status == RecordStatus.SUPERSEDED and successor != new_hash):
            ended = ("revoked" if status == RecordStatus.REVOKED
                     else f"superseded by 0x{successor.hex()} already")
            raise LedgerError(f"record {current} of {shipment_id!r} is {ended}; only a "
                              "live record can be superseded")
        recorded = [e for e in ledger.shipment_events(key)
                    if isinstance(e, ShipmentRecorded) and e.record_hash == new_hash
                    and e.exporter.lower() == scope.exporter.lower()]
        packed = pack_shipments([new.entry()])
        if recorded:
            _progress(f"the corrected record {new_hash.hex0x} is on chain already "
                      f"(transaction 0x{recorded[0].meta.tx_hash.hex()})")
            receipt = ledger.receipt(recorded[0].meta.tx_hash)
            if receipt is None:
                raise LedgerError(f"the transaction 0x{recorded[0].meta.tx_hash.hex()} of the "
                                  "corrected record has no receipt; run again later")
        else:
            receipt = send_and_wait(
                ledger.client, ledger.address,
                ledger.codec.encode_call("recordShipments", batch_id_for(factor_set_id, packed),
                                         factor_set_id, packed),
                what=f"record the corrected {shipment_id}", progress=_progress)
        if status == RecordStatus.LIVE:
            done = send_and_wait(
                ledger.client, ledger.address,
                ledger.codec.encode_call("supersedeRecord", sent_key, old_hash, new_hash),
                what=f"supersede {current[:12]}… of {shipment_id}", progress=_progress)
            typer.echo(f"{shipment_id}: record {current} superseded by "
                       f"{new_hash.hex0x} in transaction 0x{done.tx_hash.hex()} "
                       f"(block {done.block_number})")
        else:
            typer.echo(f"{shipment_id}: record {current} was superseded by "
                       f"{new_hash.hex0x} already")
        tx = ledger.client.transaction(receipt.tx_hash)
        batch_logs = [log.log_index for log in receipt.logs
                      if log.address.lower() == ledger.address.lower() and log.topics
                      and log.topics[0] == ledger.codec.event_topic("ShipmentBatchRecorded")]
        depth = ledger.block_number() - receipt.block_number
        bundle: dict[str, Any] = {
            "format": "carbon-ledger-proof/1",
            "state": "final" if depth >= settings.confirmations else "mined",
            "chain_id": scope.chain_id, "contract": scope.contract,
            "exporter": scope.exporter, "shipment_id": shipment_id,
            "record": json.loads(new.canonical), "record_hash": new_hash.hex0x,
            "leaf": {"shipment_id": key.hex0x, "record_hash": new_hash.hex0x,
                     "co2e_wtw_g": str(new.co2e_wtw_g), "co2e_ttw_g": str(new.co2e_ttw_g)},
            "path": "events",
            "batch": {"factor_set_id": factors.id, "count": 1, "position": 0,
                      "batch_id": Bytes32(batch_id_for(factor_set_id, packed)).hex0x},
            "tx": {"hash": "0x" + receipt.tx_hash.hex(),
                   "nonce": tx.nonce if tx is not None else None,
                   "confirmations_required": settings.confirmations, "finalized_tag": False,
                   "block_number": receipt.block_number,
                   "block_hash": "0x" + receipt.block_hash.hex(), "status": receipt.status,
                   **({"log_index": batch_logs[0] + 1} if batch_logs else {})},
            "supersedes": current,
        }
        version = opened.add_record_version(scope, shipment_id, record_hash=new_hash.hex0x,
                                            supersedes=current, bundle=bundle)
    path = out if out is not None else Path(f"{shipment_id}.superseding.proof.json")
    write_output(path, json.dumps(bundle, indent=2, sort_keys=True) + "\n")
    typer.echo(f"proof bundle of the corrected record (version {version}): {path}; the store "
               f"keeps every version (`carbon-ledger proof {shipment_id} --version N`)")


def register(app: typer.Typer) -> None:
    app.command("supersede")(supersede_command)
