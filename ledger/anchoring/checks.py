"""What an anchoring run refuses, before any transaction is sent.

- :func:`preflight`: the wrong chain, no contract at the address, a signer without the
  exporter role, a factor set the contract does not know;
- :func:`check_input`: a shipment twice in the input;
- :func:`split_known`: a changed record for a shipment this exporter anchored before (the same
  record again is simply reported as already anchored);
- :func:`refuse_recorded_elsewhere` (events path): a shipment this exporter recorded on chain
  from another store;
- :func:`doubled_since` (events path, after sending): a shipment of the run that the same key
  also recorded from elsewhere while the run was under way (two stores used with one key at
  once), which the check before sending cannot see.

Every refusal of the input is one :class:`~ledger.errors.InputError` naming each shipment and
its row.
"""

from __future__ import annotations

from collections.abc import Sequence

from ledger.anchoring.plan import PreparedRecord
from ledger.chain.contract import EXPORTER_ROLE, CarbonLedgerContract
from ledger.errors import ConfigError, FactorError, InputError, InputProblem
from ledger.store.rows import Scope
from ledger.store.store import LedgerStore
from ledger.types import Bytes32

__all__ = [
    "check_input",
    "doubled_since",
    "preflight",
    "refuse_recorded_elsewhere",
    "split_known",
]


def preflight(ledger: CarbonLedgerContract, factor_set_id: Bytes32) -> None:
    """Refuse before sending: wrong chain, no contract, no exporter role, unknown factor set."""
    client = ledger.client
    client.check_chain_id()
    if not client.code(ledger.address):
        raise ConfigError(f"no contract at {ledger.address} on chain {client.chain_id}; "
                          "check the deployment file")
    if not ledger.has_role(EXPORTER_ROLE, client.address):
        raise ConfigError(
            f"the signing key's address {client.address} has no EXPORTER_ROLE on CarbonLedger "
            f"at {ledger.address} (chain {client.chain_id}); sign with an exporter's key, or ask "
            "the contract admin to grant the role"
        )
    if not ledger.is_factor_set_registered(factor_set_id):
        raise FactorError(
            f"factor set {factor_set_id.hex0x} is not registered on CarbonLedger at "
            f"{ledger.address}; records computed with it cannot be anchored until the admin "
            "registers it"
        )


def check_input(records: Sequence[PreparedRecord]) -> None:
    """Refuse a shipment given twice (the records are built for the run's exporter and factor
    set, so those always match)."""
    problems: list[InputProblem] = []
    first_row: dict[str, int | None] = {}
    for record in records:
        if record.shipment_id in first_row:
            problems.append(InputProblem(
                f"the shipment appears twice in the input (first in row "
                f"{first_row[record.shipment_id]})", record.shipment_id, record.row,
                "shipment_id",
            ))
        else:
            first_row[record.shipment_id] = record.row
    if problems:
        raise InputError(problems)


def split_known(store: LedgerStore, scope: Scope, records: Sequence[PreparedRecord]
                ) -> tuple[list[PreparedRecord], list[str]]:
    """New records, and the ids of those stored before with the same hash; a changed record of a
    stored shipment is refused."""
    known = store.find_records(scope, [r.shipment_id for r in records])
    if not known:
        return list(records), []
    new: list[PreparedRecord] = []
    same: list[str] = []
    problems: list[InputProblem] = []
    for record in records:
        stored = known.get(record.shipment_id)
        if stored is None:
            new.append(record)
            continue
        record_hash = Bytes32(record.record_hash).hex0x
        if stored.record_hash == record_hash:
            same.append(record.shipment_id)
        else:
            problems.append(InputProblem(
                f"already anchored by this exporter with record {stored.record_hash}; this "
                f"record ({record_hash}) differs. A record is never edited: "
                f"revoke the anchored one (`carbon-ledger revoke {record.shipment_id}`) and "
                "anchor the corrected shipment under a new shipment id",
                record.shipment_id, record.row, "shipment_id",
            ))
    if problems:
        raise InputError(problems)
    return new, same


def refuse_recorded_elsewhere(ledger: CarbonLedgerContract, store: LedgerStore, scope: Scope,
                              records: Sequence[PreparedRecord]) -> None:
    """Events path: refuse shipments this exporter already recorded on chain, from any store."""
    if not records:
        return
    ours = ledger.client.address
    batches_on_chain = [
        event for event in ledger.events("ShipmentBatchRecorded")
        if getattr(event, "exporter", None) == ours
    ]
    stored_keys = {s.batch.batch_key for s in store.batch_statuses(scope)}
    if all(Bytes32(e.batch_id).hex0x in stored_keys for e in batches_on_chain):  # type: ignore[union-attr]
        return  # every batch this exporter wrote is one of ours: nothing recorded elsewhere
    live = ledger.live_records_of(r.chain_shipment_id for r in records)
    by_key = {r.chain_shipment_id: r for r in records}
    problems = [
        InputProblem(
            f"already recorded on chain by this exporter (record "
            f"{Bytes32(event.record_hash).hex0x}, tx {Bytes32(event.meta.tx_hash).hex0x}) but "
            "not in this store; use the store that anchored it, or revoke that record first",
            by_key[key].shipment_id, by_key[key].row, "shipment_id",
        )
        for key, events in live.items() for event in events if event.exporter == ours
    ]
    if problems:
        raise InputError(problems)


def doubled_since(ledger: CarbonLedgerContract, store: LedgerStore, scope: Scope,
                  records: Sequence[PreparedRecord], from_block: int) -> None:
    """Events path, after the run's batches are mined: refuse to report success when batches
    this key wrote from elsewhere since ``from_block`` gave one of ``records`` a second live
    record (one key used by two stores at once). Costs one log query when nothing else wrote."""
    if not records:
        return
    ours = ledger.client.address
    stored_keys = {s.batch.batch_key for s in store.batch_statuses(scope)}
    foreign = [
        event for event in ledger.events("ShipmentBatchRecorded", from_block=from_block)
        if getattr(event, "exporter", None) == ours
        and Bytes32(event.batch_id).hex0x not in stored_keys  # type: ignore[union-attr]
    ]
    if not foreign:
        return
    live = ledger.live_records_of(r.chain_shipment_id for r in records)
    by_key = {r.chain_shipment_id: r for r in records}
    problems = []
    for key, events in live.items():
        mine = [e for e in events if e.exporter == ours]
        if len(mine) < 2:
            continue
        record = by_key[key]
        others = [e for e in mine if e.record_hash != record.record_hash]
        shown = others[0] if others else mine[-1]
        problems.append(InputProblem(
            f"recorded twice on chain by this key: this store's record and "
            f"{Bytes32(shown.record_hash).hex0x} (tx {Bytes32(shown.meta.tx_hash).hex0x}), "
            "written from another store with the same key while this run was under way; one "
            "key must be used by one store: revoke the record that store wrote "
            f"(`carbon-ledger revoke {record.shipment_id}` with that store)",
            record.shipment_id, record.row, "shipment_id",
        ))
    if problems:
        raise InputError(problems)
