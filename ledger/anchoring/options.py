"""What an anchoring run is asked for and what it reports: :class:`AnchorOptions` in,
:class:`AnchorProgress` along the way, :class:`AnchorResult` out.

The two paths (:data:`PATHS`):

- ``events``: per-shipment ``ShipmentRecorded`` events (``recordShipments``), batches split so
  each transaction stays under the per-transaction gas cap; the shipment id is a topic, so every
  record of a shipment is visible on chain.
- ``root``: one StandardMerkleTree per batch and only its root on chain (``anchorRoot``); each
  shipment keeps its Merkle proof in the store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ledger.chain.contract import CarbonLedgerContract
from ledger.errors import ConfigError
from ledger.store.rows import BatchStatus, Scope

__all__ = [
    "DEFAULT_ROOT_LEAVES",
    "PATHS",
    "STAGES",
    "AnchorOptions",
    "AnchorProgress",
    "AnchorResult",
    "Progress",
    "scope_of",
]

PATHS = ("events", "root")
#: Leaves per root-path batch by default (proofs of at most 16 siblings).
DEFAULT_ROOT_LEAVES = 1 << 16
#: The stages a run reports to its ``progress`` callback, in order (see :class:`AnchorProgress`).
STAGES = ("computing", "preparing", "storing", "sending", "done")


@dataclass(frozen=True)
class AnchorOptions:
    """What to anchor how. ``wait_until``: ``final``, ``mined`` or ``sent`` (no waiting)."""

    path: str = "events"
    wait_until: str = "final"
    max_root_leaves: int = DEFAULT_ROOT_LEAVES
    max_batch_shipments: int | None = None
    check_chain: bool = True
    """Events path: refuse shipments this exporter recorded on chain outside this store."""

    def __post_init__(self) -> None:
        if self.path not in PATHS:
            raise ConfigError(f"unknown anchoring path {self.path!r}; expected one of "
                              + ", ".join(PATHS))
        if self.wait_until not in ("final", "mined", "sent"):
            raise ConfigError(f"wait_until must be final, mined or sent, not {self.wait_until!r}")
        if self.max_root_leaves < 1 or (self.max_batch_shipments or 1) < 1:
            raise ConfigError("batch sizes must be at least 1")


@dataclass(frozen=True)
class AnchorProgress:
    """Where an anchoring run stands, as its ``progress`` callback hears it.

    ``stage`` is one of :data:`STAGES`: ``computing`` (the footprints;
    :func:`~ledger.anchoring.anchor.anchor_shipments` only), ``preparing`` (building and
    checking the records, settling what earlier runs left open), ``storing`` (the streamed root
    path stored one more record block, its write transaction still open: a callback that writes
    to the same SQLite database would wait for it), ``sending`` (the batches are committed;
    transactions are signed, sent and watched) and ``done``. ``shipments`` is the number of
    shipments given; ``signed`` and ``final`` count this run's transactions signed and final so
    far.
    """

    stage: str
    shipments: int
    signed: int = 0
    final: int = 0


#: ``progress(AnchorProgress)``: called as an anchoring run moves on; an exception it raises
#: stops the run as a checkpoint's does (nothing half-written).
Progress = Callable[[AnchorProgress], None]


@dataclass(frozen=True)
class AnchorResult:
    """What a run did: new and already anchored shipments, and every batch it touched."""

    scope: Scope
    path: str
    new_shipments: tuple[str, ...]
    already_anchored: tuple[str, ...]
    resumed_batches: tuple[int, ...]
    batches: tuple[BatchStatus, ...] = field(default=())

    @property
    def nothing_new(self) -> bool:
        return not self.new_shipments and not self.resumed_batches


def scope_of(ledger: CarbonLedgerContract) -> Scope:
    """The store scope of this contract and signer: the run's idempotency key (chain id,
    contract, exporter) without the shipment id."""
    return Scope(ledger.client.chain_id, ledger.address, ledger.client.address)
