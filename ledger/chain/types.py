"""Values the chain client and the contract wrapper hand out: fees, signed transactions,
receipts, transactions and blocks; what the contract says about anchors and attestations.

Plain data (no network, no web3 import), so that stores and outboxes can keep and compare them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eth_utils.address import to_checksum_address

from ledger.chain.abi import RawLog

__all__ = [
    "FEE_BUMP",
    "AnchorInfo",
    "AttestationInfo",
    "BlockInfo",
    "Fees",
    "Receipt",
    "ReceiptSummary",
    "RpcRequest",
    "SignedTx",
    "TxInfo",
    "block_from_json",
    "log_from_rpc",
    "receipt_from_rpc",
    "receipt_summary_from_json",
    "tx_info_from_json",
]

#: Minimum replacement bump on both fee fields (geth asks 10 %, some clients 12.5 %).
FEE_BUMP = 1.125


@dataclass(frozen=True)
class Fees:
    """EIP-1559 fee caps in wei."""

    max_fee_per_gas: int
    max_priority_fee_per_gas: int

    def bumped(self, factor: float = FEE_BUMP) -> Fees:
        """Both fields times ``factor`` (rounded up, at least +1 wei)."""
        return Fees(
            max(math.ceil(self.max_fee_per_gas * factor), self.max_fee_per_gas + 1),
            max(math.ceil(self.max_priority_fee_per_gas * factor),
                self.max_priority_fee_per_gas + 1),
        )


@dataclass(frozen=True)
class SignedTx:
    """A signed transaction ready to send: its raw bytes, hash and what went into it."""

    raw: bytes
    tx_hash: bytes
    sender: str
    nonce: int
    to: str | None
    data: bytes
    value: int
    gas: int
    fees: Fees
    chain_id: int


@dataclass(frozen=True)
class Receipt:
    """A mined transaction's receipt."""

    tx_hash: bytes
    status: int
    block_number: int
    block_hash: bytes
    gas_used: int
    effective_gas_price: int
    contract_address: str | None
    logs: tuple[RawLog, ...]


@dataclass(frozen=True)
class ReceiptSummary:
    """A mined transaction's receipt without its logs: status, block, gas and where its logs are.

    What a transaction manager stores; a receipt with thousands of logs is read this way in a
    small fraction of the time the full :class:`Receipt` takes.
    """

    tx_hash: bytes
    status: int
    block_number: int
    block_hash: bytes
    gas_used: int
    effective_gas_price: int
    log_count: int
    first_log_index: int | None
    """Block-wide index of the transaction's first log (``None`` when it has none)."""


@dataclass(frozen=True)
class TxInfo:
    """A transaction the node knows, mined (``block_number`` set) or waiting in its pool."""

    tx_hash: bytes
    sender: str
    nonce: int
    to: str | None
    block_number: int | None
    block_hash: bytes | None


@dataclass(frozen=True)
class AnchorInfo:
    """Who wrote a batch or root (``None`` when unknown), in which block, how many entries."""

    exporter: str | None
    block_number: int
    count: int


@dataclass(frozen=True)
class AttestationInfo:
    """One auditor's attestation of a subject: when it was made and withdrawn (block timestamps,
    0 for never), its evidence hash, and whether the auditor holds ``AUDITOR_ROLE`` now."""

    auditor: str
    attested_at: int
    revoked_at: int
    evidence: bytes
    holds_auditor_role: bool

    @property
    def live(self) -> bool:
        """Made and not withdrawn (whoever holds the role)."""
        return self.attested_at != 0 and self.revoked_at == 0


@dataclass(frozen=True)
class RpcRequest:
    """One JSON-RPC read, as sent: the method and its JSON parameters."""

    method: str
    params: tuple[Any, ...]

    @property
    def key(self) -> str:
        """The request as canonical JSON (equal requests, equal keys)."""
        return json.dumps([self.method, self.params], sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class BlockInfo:
    """The parts of a block header the ledger uses."""

    number: int
    hash: bytes
    timestamp: int
    gas_limit: int
    base_fee_per_gas: int


def _int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


def _bytes(value: Any) -> bytes:
    if isinstance(value, str):
        return bytes.fromhex(value[2:] if value[:2] in ("0x", "0X") else value)
    return bytes(value)


def log_from_rpc(entry: Any) -> RawLog:
    """A log as the node sends it (JSON, hex strings) or as web3.py returns it, as a
    :class:`RawLog`."""
    return RawLog(
        address=to_checksum_address(entry["address"]),
        topics=tuple(_bytes(t) for t in entry["topics"]),
        data=_bytes(entry["data"]),
        block_number=_int(entry["blockNumber"]),
        block_hash=_bytes(entry["blockHash"]),
        tx_hash=_bytes(entry["transactionHash"]),
        log_index=_int(entry["logIndex"]),
        removed=bool(entry.get("removed", False)),
    )


def receipt_from_rpc(raw: Any) -> Receipt:
    """A receipt as the node sends it (JSON) or as web3.py returns it, as a :class:`Receipt`."""
    address = raw.get("contractAddress")
    return Receipt(
        tx_hash=_bytes(raw["transactionHash"]),
        status=_int(raw["status"]),
        block_number=_int(raw["blockNumber"]),
        block_hash=_bytes(raw["blockHash"]),
        gas_used=_int(raw["gasUsed"]),
        effective_gas_price=_int(raw.get("effectiveGasPrice") or 0),
        contract_address=None if address is None else to_checksum_address(address),
        logs=tuple(log_from_rpc(entry) for entry in raw["logs"]),
    )


def receipt_summary_from_json(raw: Mapping[str, Any]) -> ReceiptSummary:
    """A :class:`ReceiptSummary` from an ``eth_getTransactionReceipt`` JSON result."""
    logs = raw.get("logs") or []
    return ReceiptSummary(
        tx_hash=_bytes(raw["transactionHash"]),
        status=_int(raw["status"]),
        block_number=_int(raw["blockNumber"]),
        block_hash=_bytes(raw["blockHash"]),
        gas_used=_int(raw["gasUsed"]),
        effective_gas_price=_int(raw.get("effectiveGasPrice") or 0),
        log_count=len(logs),
        first_log_index=_int(logs[0]["logIndex"]) if logs else None,
    )


def tx_info_from_json(raw: Mapping[str, Any]) -> TxInfo:
    """A :class:`TxInfo` from an ``eth_getTransactionByHash`` JSON result."""
    block_number = raw.get("blockNumber")
    block_hash = raw.get("blockHash")
    to = raw.get("to")
    return TxInfo(
        tx_hash=_bytes(raw["hash"]),
        sender=to_checksum_address(raw["from"]),
        nonce=_int(raw["nonce"]),
        to=None if to is None else to_checksum_address(to),
        block_number=None if block_number is None else _int(block_number),
        block_hash=None if block_hash is None else _bytes(block_hash),
    )


def block_from_json(raw: Mapping[str, Any]) -> BlockInfo:
    """A :class:`BlockInfo` from an ``eth_getBlockByNumber`` JSON result."""
    return BlockInfo(
        number=_int(raw["number"]),
        hash=_bytes(raw["hash"]),
        timestamp=_int(raw["timestamp"]),
        gas_limit=_int(raw["gasLimit"]),
        base_fee_per_gas=_int(raw.get("baseFeePerGas") or 0),
    )
