"""Reading anchored records back: proof bundles, their checks, on-chain lookups, store audits.

- :func:`proof_bundle`: everything a third party needs to check one shipment with an RPC
  endpoint: the record, its hash and leaf, the Merkle proof (root path) or the event's place
  (events path), the batch, the transaction and block, chain id and contract.
- :func:`check_bundle`: recomputes the record hash and leaf, verifies the Merkle proof in Python
  and with the contract's ``verifyShipment`` view (root path) or finds the ``ShipmentRecorded``
  event in the receipt (events path), and checks that the block is still in the chain.
- :func:`lookup_shipment`: every on-chain record of an exporter's shipment id (with revocations
  and supersessions), so two live records (a conflict) show up, plus what the store holds.
- :func:`audit_store`: the store against the chain, event for event.

A proof bundle is a JSON object (:class:`ProofBundle`; every 32-byte value as ``0x`` text)::

    {"format": "carbon-ledger-proof/1", "state": "final",       # the transaction's state
     "chain_id": 31337, "contract": "0x...", "exporter": "0x...", "shipment_id": "NGB-1",
     "record": {...},                                             # the canonical record
     "record_hash": "0x...",
     "leaf": {"shipment_id": "0x...", "record_hash": "0x...",     # the on-chain shipment id
              "co2e_wtw_g": "250000", "co2e_ttw_g": "200000"},    # decimal strings
     "path": "root",                                              # or "events"
     "batch": {"root": "0x...",                                   # events: "batch_id"
               "factor_set_id": "0x...", "count": 3, "position": 1},
     "leaf_hash": "0x...", "proof": ["0x...", ...],               # root path only
     "tx": {"hash": "0x...", "nonce": 0, "confirmations_required": 1, "finalized_tag": false,
            "block_number": 12, "block_hash": "0x...", "status": 1,
            "log_index": 3}}                                      # events path, once mined

``tx`` is ``null`` until a transaction carries the batch; its block fields are ``null`` until
it is mined.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any, NotRequired, Required, TypedDict

from ledger.anchoring.options import scope_of
from ledger.chain.contract import CarbonLedgerContract
from ledger.chain.events import (
    ChainEvent,
    RootAnchored,
    ShipmentRecorded,
    live_shipment_records,
)
from ledger.errors import InputError, StoreError
from ledger.records.canonical import (
    canonical_json,
    chain_shipment_id_bytes,
    chain_shipment_key_bytes,
    parse_canonical,
)
from ledger.records.keccak import keccak256
from ledger.records.merkle import Leaf, stored_tree_index, verify_proof
from ledger.store.rows import RecordRow, Scope, TxRow
from ledger.store.store import LedgerStore
from ledger.types import Bytes32

__all__ = [
    "BUNDLE_FORMAT",
    "BundleBatch",
    "BundleCheck",
    "BundleLeaf",
    "BundleTx",
    "ProofBundle",
    "Revocation",
    "ShipmentLookup",
    "StoreAudit",
    "audit_store",
    "check_bundle",
    "lookup_shipment",
    "proof_bundle",
    "revoke_shipment",
]

BUNDLE_FORMAT = "carbon-ledger-proof/1"


class BundleLeaf(TypedDict):
    """The Merkle leaf / event fields of a shipment; the totals as decimal strings."""

    shipment_id: str
    record_hash: str
    co2e_wtw_g: str
    co2e_ttw_g: str


class BundleBatch(TypedDict, total=False):
    """The batch: ``root`` (root path) or ``batch_id`` (events path), and the shipment's place."""

    root: str
    batch_id: str
    factor_set_id: Required[str]
    count: Required[int]
    position: Required[int]


class BundleTx(TypedDict):
    """The newest transaction that carries the batch; block fields ``None`` until mined."""

    hash: str
    nonce: int
    confirmations_required: int
    finalized_tag: bool
    block_number: int | None
    block_hash: str | None
    status: int | None
    log_index: NotRequired[int]


class ProofBundle(TypedDict):
    """A proof bundle (see the module docstring). ``record`` is the canonical record as parsed
    JSON (its fields: :mod:`ledger.records.record`)."""

    format: str
    state: str
    chain_id: int
    contract: str
    exporter: str
    shipment_id: str
    record: dict[str, Any]
    record_hash: str
    leaf: BundleLeaf
    path: str
    batch: BundleBatch
    tx: BundleTx | None
    leaf_hash: NotRequired[str | None]
    proof: NotRequired[list[str]]


def _merkle_proof(tree: bytes, tree_index: int) -> list[str]:
    """Sibling hashes from a stored tree's leaf up to the root (StandardMerkleTree layout)."""
    proof = []
    position = tree_index
    while position > 0:
        sibling = position + 1 if position & 1 else position - 1
        proof.append(Bytes32(tree[32 * sibling:32 * sibling + 32]).hex0x)
        position = (position - 1) >> 1
    return proof


def _newest_tx(store: LedgerStore, batch_id: int) -> TxRow | None:
    txs = store.batch_txs(batch_id, light=True)
    # by id, not nonce: a batch sent again after a chain lost it may have a lower nonce
    return max(txs, key=lambda t: t.id) if txs else None


def proof_bundle(store: LedgerStore, scope: Scope, shipment_id: str) -> ProofBundle:
    """The proof bundle of one shipment (JSON-able); ``StoreError`` when the store lacks it."""
    record = store.record(scope, shipment_id)
    if record is None:
        raise StoreError(
            f"shipment {shipment_id!r} of exporter {scope.exporter} is not in this store for "
            f"contract {scope.contract} on chain {scope.chain_id}; anchor it first "
            "(`carbon-ledger anchor FILE`)"
        )
    batch = store.batch(record.batch_id)
    tx = _newest_tx(store, batch.id)
    receipt = tx.receipt if tx is not None else None
    state = tx.state if tx is not None else "unstarted"
    batch_fields: BundleBatch = {
        "factor_set_id": batch.factor_set_id,
        "count": batch.shipment_count,
        "position": record.position,
    }
    batch_fields["root" if batch.path == "root" else "batch_id"] = batch.batch_key
    bundle: ProofBundle = {
        "format": BUNDLE_FORMAT,
        "state": state,
        "chain_id": scope.chain_id,
        "contract": scope.contract,
        "exporter": scope.exporter,
        "shipment_id": shipment_id,
        "record": json.loads(record.record_json),
        "record_hash": record.record_hash,
        "leaf": {
            "shipment_id": record.shipment_key,
            "record_hash": record.record_hash,
            "co2e_wtw_g": str(record.co2e_wtw_g),
            "co2e_ttw_g": str(record.co2e_ttw_g),
        },
        "path": batch.path,
        "batch": batch_fields,
        "tx": None,
    }
    if batch.path == "root":
        tree = store.batch_tree(batch.id)
        # rows stored chunk by chunk carry no tree index: their leaf hash is found in the tree
        tree_index = record.tree_index
        if tree is not None and tree_index is None and record.leaf_hash is not None:
            tree_index = stored_tree_index(tree, Bytes32.parse(record.leaf_hash))
        if tree is None or tree_index is None:
            raise StoreError(f"root batch {batch.batch_key} has no stored tree with "
                             f"shipment {shipment_id!r} in it")
        bundle["leaf_hash"] = record.leaf_hash
        bundle["proof"] = _merkle_proof(tree, tree_index)
    if tx is not None:
        bundle_tx: BundleTx = {
            "hash": receipt.tx_hash if receipt else tx.attempts[-1].tx_hash,
            "nonce": tx.nonce,
            "confirmations_required": tx.confirmations,
            "finalized_tag": tx.finalized_tag,
            "block_number": receipt.block_number if receipt else None,
            "block_hash": receipt.block_hash if receipt else None,
            "status": receipt.status if receipt else None,
        }
        if batch.path == "events" and receipt is not None and receipt.first_log_index is not None:
            # the batch event comes first, then one ShipmentRecorded per shipment in order
            bundle_tx["log_index"] = receipt.first_log_index + 1 + record.position
        bundle["tx"] = bundle_tx
    return bundle


# ---------------------------------------------------------------------------------- checks


@dataclass(frozen=True)
class BundleCheck:
    name: str
    ok: bool
    detail: str


def _bundle_leaf(bundle: ProofBundle) -> Leaf:
    leaf = bundle["leaf"]
    return Leaf(Bytes32.parse(leaf["shipment_id"]), Bytes32.parse(leaf["record_hash"]),
                int(leaf["co2e_wtw_g"]), int(leaf["co2e_ttw_g"]))


def check_bundle(bundle: ProofBundle, ledger: CarbonLedgerContract | None = None
                 ) -> list[BundleCheck]:
    """Checks of a proof bundle (one made here, or read from a file: a malformed one raises
    ``KeyError`` or ``TypeError``); the chain checks run when ``ledger`` is given."""
    checks: list[BundleCheck] = []
    record = bundle["record"]
    keccak = keccak256
    try:
        computed = Bytes32(keccak(canonical_json(record))).hex0x
        parse_canonical(canonical_json(record))
    except InputError as exc:
        return [BundleCheck("record", False, f"the record is not canonical JSON: {exc}")]
    checks.append(BundleCheck("record hash", computed == bundle["record_hash"],
                              f"keccak-256 of the canonical record is {computed}"))
    leaf = _bundle_leaf(bundle)
    expected_id = chain_shipment_id_bytes(record["exporter"], record["shipment_id"])
    footprint = record.get("footprint", {})
    leaf_ok = (leaf.shipment_id == expected_id and Bytes32(leaf.record_hash).hex0x == computed
               and leaf.co2e_wtw_g == footprint.get("co2e_wtw_g")
               and leaf.co2e_ttw_g == footprint.get("co2e_ttw_g"))
    checks.append(BundleCheck("leaf", leaf_ok, "the leaf holds the record's id, hash and totals"))
    if bundle["path"] == "root":
        root = bundle["batch"]["root"]
        checks.append(BundleCheck("merkle proof", verify_proof(root, leaf, bundle["proof"]),
                                  f"the proof leads from the leaf to root {root}"))
    if ledger is None:
        return checks
    tx = bundle.get("tx")
    block_number = tx.get("block_number") if tx else None
    if not tx or block_number is None:
        checks.append(BundleCheck("on chain", False, f"not mined yet ({bundle['state']})"))
        return checks
    block = ledger.client.block(int(block_number))
    checks.append(BundleCheck("block", Bytes32(block.hash).hex0x == tx["block_hash"],
                              f"block {tx['block_number']} is still {tx['block_hash']}"))
    if bundle["path"] == "root":
        root_key = Bytes32.parse(bundle["batch"]["root"])
        info = ledger.root_info(root_key)
        checks.append(BundleCheck(
            "root anchored", (info.exporter or "").lower() == bundle["exporter"].lower(),
            f"rootInfo: exporter {info.exporter}, block {info.block_number}, count {info.count}",
        ))
        on_chain = ledger.verify_shipment(root_key, [Bytes32.parse(p) for p in bundle["proof"]],
                                          leaf)
        checks.append(BundleCheck("verifyShipment", on_chain,
                                  "the contract's view accepts the proof"))
        return checks
    receipt = ledger.client.receipt(Bytes32.parse(tx["hash"]))
    events = ledger.events_in(receipt) if receipt is not None else []
    match = [
        e for e in events
        if isinstance(e, ShipmentRecorded) and e.meta.log_index == tx.get("log_index")
        and e.shipment_id == leaf.shipment_id and e.record_hash == leaf.record_hash
        and e.co2e_wtw_g == leaf.co2e_wtw_g and e.co2e_ttw_g == leaf.co2e_ttw_g
        and e.exporter.lower() == bundle["exporter"].lower()
    ]
    checks.append(BundleCheck("event", bool(match),
                              f"ShipmentRecorded at log {tx.get('log_index')} of {tx['hash']}"))
    return checks


# ---------------------------------------------------------------------------------- lookups


@dataclass(frozen=True)
class ShipmentLookup:
    """Every on-chain event about one exporter's shipment id, and the store's records of it."""

    shipment_id: str
    exporter: str
    chain_shipment_id: bytes
    events: tuple[ChainEvent, ...]
    live: tuple[ShipmentRecorded, ...]
    stored: tuple[tuple[Scope, RecordRow], ...]

    @property
    def conflict(self) -> bool:
        """More than one live record of the shipment on chain."""
        return len(self.live) > 1


def lookup_shipment(ledger: CarbonLedgerContract, exporter: str, shipment_id: str,
                    store: LedgerStore | None = None) -> ShipmentLookup:
    """Every on-chain record of ``shipment_id`` by ``exporter`` (any writer of that id)."""
    key = chain_shipment_id_bytes(exporter, shipment_id)
    events = ledger.shipment_events(key)
    stored = tuple(store.records_of_shipment(shipment_id)) if store is not None else ()
    return ShipmentLookup(shipment_id, exporter, key, tuple(events),
                          tuple(live_shipment_records(events)), stored)


# ---------------------------------------------------------------------------------- audit


@dataclass(frozen=True)
class StoreAudit:
    """Differences between the store and the chain for one scope (empty lists: they agree)."""

    missing_on_chain: tuple[str, ...]
    unknown_to_store: tuple[str, ...]
    recorded_twice: tuple[str, ...]
    checked_events: int

    @property
    def ok(self) -> bool:
        return not (self.missing_on_chain or self.unknown_to_store or self.recorded_twice)


def audit_store(store: LedgerStore, ledger: CarbonLedgerContract, scope: Scope) -> StoreAudit:
    """Compare mined and final batches in the store with the exporter's events on chain."""
    ours = scope.exporter.lower()
    mined: dict[int, str] = {}
    roots_in_store: set[tuple[str, int, str]] = set()
    for status in store.batch_statuses(scope):
        tx = status.tx
        if tx is None or tx.state not in ("mined", "final") or tx.receipt is None:
            continue
        if status.batch.path == "root":
            roots_in_store.add((status.batch.batch_key, status.batch.shipment_count,
                                tx.receipt.tx_hash))
        else:
            mined[status.batch.id] = tx.receipt.tx_hash
    records_in_store = {
        (r.shipment_key, r.record_hash, mined[r.batch_id])
        for r in store.scope_records(scope) if r.batch_id in mined
    }
    chain_events = ledger.events("ShipmentRecorded", "RootAnchored")
    shipments_on_chain: list[tuple[str, str, str]] = []
    roots_on_chain: set[tuple[str, int, str]] = set()
    for event in chain_events:
        if isinstance(event, ShipmentRecorded) and event.exporter.lower() == ours:
            shipments_on_chain.append((Bytes32(event.shipment_id).hex0x,
                                       Bytes32(event.record_hash).hex0x,
                                       Bytes32(event.meta.tx_hash).hex0x))
        elif isinstance(event, RootAnchored) and event.exporter.lower() == ours:
            roots_on_chain.add((Bytes32(event.root).hex0x, event.count,
                                Bytes32(event.meta.tx_hash).hex0x))
    chain_set = set(shipments_on_chain) | {(r, str(c), t) for r, c, t in roots_on_chain}
    store_set = records_in_store | {(r, str(c), t) for r, c, t in roots_in_store}
    twice = Counter(key for key, _, _ in shipments_on_chain)
    return StoreAudit(
        missing_on_chain=tuple(sorted(" ".join(x) for x in store_set - chain_set)),
        unknown_to_store=tuple(sorted(" ".join(x) for x in chain_set - store_set)),
        recorded_twice=tuple(sorted(k for k, n in twice.items() if n > 1)),
        checked_events=len(shipments_on_chain) + len(roots_on_chain),
    )


# ---------------------------------------------------------------------------------- revoke


@dataclass(frozen=True)
class Revocation:
    """A record the exporter revoked on chain: which, and in which transaction."""

    shipment_id: str
    record_hash: str
    tx_hash: str
    block_number: int


def revoke_shipment(ledger: CarbonLedgerContract, store: LedgerStore, shipment_id: str
                    ) -> Revocation:
    """Revoke the signer's anchored record of ``shipment_id`` on chain (``revokeRecord``).

    The record comes from the store (the signer's scope); the contract keeps the status per
    (exporter, record hash), so only the signer's own record can change. A record already
    revoked or superseded is refused by the contract's simulation before anything is sent.
    """
    scope = scope_of(ledger)
    record = store.record(scope, shipment_id)
    if record is None:
        raise StoreError(
            f"shipment {shipment_id!r} of exporter {scope.exporter} is not in this store for "
            f"contract {scope.contract} on chain {scope.chain_id}; nothing to revoke"
        )
    receipt = ledger.revoke_record(chain_shipment_key_bytes(scope.exporter, shipment_id),
                                   Bytes32.parse(record.record_hash))
    return Revocation(shipment_id, record.record_hash, Bytes32(receipt.tx_hash).hex0x,
                      receipt.block_number)
