"""Gas arithmetic and the packed per-shipment batch format, computed locally (no network).

- EIP-7623 (Prague) calldata floor: a transaction pays at least ``21000 + 10 × tokens`` where
  ``tokens = zero bytes + 4 × non-zero bytes`` of its calldata; the standard cost counts 4 gas
  per token plus execution. Source: https://eips.ethereum.org/EIPS/eip-7623
  (``STANDARD_TOKEN_COST = 4``, ``TOTAL_COST_FLOOR_PER_TOKEN = 10``).
- EIP-7825 (Osaka) caps one transaction at 16,777,216 gas (2**24).
  Source: https://eips.ethereum.org/EIPS/eip-7825
- ``recordShipments`` takes N records of 76 bytes each, big-endian and unpadded:
  ``shipmentId (32) | recordHash (32) | co2eWtwG (uint48) | co2eTtwG (uint48)``
  (``contracts/ICarbonLedger.sol``).

:func:`plan_batches` splits shipments into batches whose ``recordShipments`` transaction stays
under the per-transaction cap with the client's gas margin, so no planned batch needs a
transaction that must fail.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from eth_utils.crypto import keccak

from ledger.errors import GasCapExceeded, InputError, InputProblem
from ledger.records.canonical import shipment_id_of

__all__ = [
    "DEFAULT_BATCH_GAS",
    "FLOOR_GAS_PER_TOKEN",
    "MAX_TX_GAS",
    "MAX_UINT48",
    "RECORD_BYTES",
    "STANDARD_GAS_PER_TOKEN",
    "TX_BASE_GAS",
    "BatchGasModel",
    "ShipmentEntry",
    "batch_gas_bound",
    "batch_id_for",
    "calldata_tokens",
    "floor_gas",
    "intrinsic_gas",
    "pack_shipments",
    "plan_batches",
    "unpack_shipments",
]

TX_BASE_GAS = 21_000
STANDARD_GAS_PER_TOKEN = 4
FLOOR_GAS_PER_TOKEN = 10
CREATE_GAS = 32_000
INITCODE_WORD_GAS = 2  # EIP-3860
MAX_TX_GAS = 16_777_216
RECORD_BYTES = 76
MAX_UINT48 = 2**48 - 1
#: selector + batchId + factorSetId + offset + length of ``recordShipments(bytes32,bytes32,bytes)``
_RECORD_SHIPMENTS_HEAD_BYTES = 4 + 4 * 32


def calldata_tokens(data: bytes) -> int:
    """EIP-7623 tokens: zero bytes + 4 × non-zero bytes."""
    zeros = data.count(0)
    return zeros + 4 * (len(data) - zeros)


def floor_gas(data: bytes) -> int:
    """The least gas a transaction with this calldata is charged (EIP-7623 floor)."""
    return TX_BASE_GAS + FLOOR_GAS_PER_TOKEN * calldata_tokens(data)


def intrinsic_gas(data: bytes, *, create: bool = False) -> int:
    """Gas charged before execution: base, calldata at 4 gas per token, contract creation."""
    gas = TX_BASE_GAS + STANDARD_GAS_PER_TOKEN * calldata_tokens(data)
    if create:
        gas += CREATE_GAS + INITCODE_WORD_GAS * math.ceil(len(data) / 32)
    return gas


@dataclass(frozen=True)
class ShipmentEntry:
    """One shipment as the per-shipment path records it: ids and integer grams.

    ``shipment_id`` is the on-chain id (the event topic and leaf value,
    :func:`ledger.records.canonical.chain_shipment_id`); ``shipment_key`` is what the calldata
    carries (:func:`ledger.records.canonical.chain_shipment_key`), from which the contract
    derives ``shipment_id`` for its sender."""

    shipment_id: bytes
    record_hash: bytes
    co2e_wtw_g: int
    co2e_ttw_g: int
    shipment_key: bytes

    def __post_init__(self) -> None:
        problems = []
        label = "0x" + self.shipment_id.hex() if isinstance(self.shipment_id, bytes) else None
        for name in ("shipment_id", "record_hash", "shipment_key"):
            value = getattr(self, name)
            if not isinstance(value, bytes) or len(value) != 32:
                problems.append(InputProblem("must be 32 bytes", label, field=name))
            elif value == bytes(32):
                problems.append(InputProblem("must not be zero", label, field=name))
        for name in ("co2e_wtw_g", "co2e_ttw_g"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                problems.append(InputProblem("must be an integer of grams", label, field=name))
            elif not 0 <= value <= MAX_UINT48:
                problems.append(InputProblem(
                    f"{value} g is outside 0..{MAX_UINT48} (uint48 on chain)", label, field=name
                ))
        if problems:
            raise InputError(problems)

    def packed(self) -> bytes:
        """The entry's 76 bytes (the shipment key, not the id: the contract derives the id)."""
        return (
            self.shipment_key
            + self.record_hash
            + self.co2e_wtw_g.to_bytes(6, "big")
            + self.co2e_ttw_g.to_bytes(6, "big")
        )


def pack_shipments(entries: Iterable[ShipmentEntry]) -> bytes:
    """The ``packed`` argument of ``recordShipments``."""
    return b"".join(entry.packed() for entry in entries)


def unpack_shipments(packed: bytes, writer: str) -> list[ShipmentEntry]:
    """Inverse of :func:`pack_shipments`, for the batch as ``writer`` sends it: each entry's
    shipment id is the one the contract derives for ``writer`` from the packed key."""
    if len(packed) % RECORD_BYTES:
        raise InputError(f"packed batch of {len(packed)} bytes is not a multiple of 76")
    return [
        ShipmentEntry(
            shipment_id_of(writer, packed[i:i + 32]),
            packed[i + 32:i + 64],
            int.from_bytes(packed[i + 64:i + 70], "big"),
            int.from_bytes(packed[i + 70:i + 76], "big"),
            packed[i:i + 32],
        )
        for i in range(0, len(packed), RECORD_BYTES)
    ]


def batch_id_for(factor_set_id: bytes, packed: bytes) -> bytes:
    """The default batch id: ``keccak256(factorSetId ‖ packed)``, so a resubmitted batch reverts."""
    return keccak(factor_set_id + packed)


@dataclass(frozen=True)
class BatchGasModel:
    """Execution gas of ``recordShipments``: a fixed part plus a part per shipment.

    Defaults are upper bounds of what ``eth_estimateGas`` reports on Anvil 1.7.1 (measured:
    ~30,100 fixed and ~2,045 per shipment beyond 1,000 shipments;
    ``tests/unit/chain/test_chain_gas.py`` checks the bound against the node): the fixed part
    covers the role check, the factor-set lookup, the batch slot (a fresh SSTORE) and the batch
    event; the per-shipment part one LOG2 with 96 data bytes and its loop.
    """

    fixed_exec_gas: int = 36_000
    exec_gas_per_shipment: int = 2_150


DEFAULT_BATCH_GAS = BatchGasModel()


def _head_tokens_bound() -> int:
    return 4 * _RECORD_SHIPMENTS_HEAD_BYTES  # as if every head byte were non-zero


def batch_gas_bound(entries: Sequence[ShipmentEntry], model: BatchGasModel = DEFAULT_BATCH_GAS
                    ) -> int:
    """An upper bound of the gas ``recordShipments`` uses for ``entries``."""
    tokens = _head_tokens_bound() + 31 + sum(calldata_tokens(e.packed()) for e in entries)
    standard = (
        TX_BASE_GAS + STANDARD_GAS_PER_TOKEN * tokens
        + model.fixed_exec_gas + model.exec_gas_per_shipment * len(entries)
    )
    return max(standard, TX_BASE_GAS + FLOOR_GAS_PER_TOKEN * tokens)


def plan_batches(
    entries: Sequence[ShipmentEntry],
    *,
    max_gas: int = MAX_TX_GAS,
    gas_margin: float = 1.2,
    model: BatchGasModel = DEFAULT_BATCH_GAS,
    max_shipments: int | None = None,
) -> list[list[ShipmentEntry]]:
    """Split ``entries`` (in order) into batches that each fit one transaction.

    A batch fits when its gas bound times ``gas_margin`` (the margin the client adds to an
    estimate) stays within ``max_gas``.
    """
    budget = int(max_gas / gas_margin)
    head = TX_BASE_GAS + model.fixed_exec_gas
    head_tokens = _head_tokens_bound() + 31
    batches: list[list[ShipmentEntry]] = []
    current: list[ShipmentEntry] = []
    tokens = head_tokens
    for entry in entries:
        entry_tokens = calldata_tokens(entry.packed())
        grown = tokens + entry_tokens
        exec_gas = model.exec_gas_per_shipment * (len(current) + 1)
        gas = max(
            head + STANDARD_GAS_PER_TOKEN * grown + exec_gas,
            TX_BASE_GAS + FLOOR_GAS_PER_TOKEN * grown,
        )
        full = max_shipments is not None and len(current) >= max_shipments
        if current and (gas > budget or full):
            batches.append(current)
            current, tokens = [], head_tokens
            grown = tokens + entry_tokens
        if not current and batch_gas_bound([entry], model) > budget:
            raise GasCapExceeded(
                f"one shipment needs more than the {budget:,} gas a transaction may use"
            )
        current.append(entry)
        tokens = grown
    if current:
        batches.append(current)
    return batches
