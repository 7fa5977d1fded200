"""The chain client: the one module that talks to a node (through web3.py).

Guarantees of :class:`ChainClient`:

- **Right chain.** :func:`connect` checks ``eth_chainId`` against the configured id
  (:class:`~ledger.errors.ChainIdMismatch`), and so does :meth:`ChainClient.build_transaction`
  before it signs; every transaction carries the chain id it was signed for, so a node of
  another chain refuses it. The id is not asked again on every call (web3.py's per-call
  validation, which only re-asks it, is left out). An unreachable endpoint raises
  :class:`~ledger.errors.RpcUnavailable` after bounded retries with exponential backoff.
- **Local signing only.** Every transaction is an EIP-1559 transaction signed here with
  eth-account; ``eth_sendTransaction`` and unlocked accounts are never used, on Anvil neither.
  A client made with ``connect(settings, read_only=True)`` holds no key at all: it reads, and
  anything that needs a signer raises :class:`~ledger.errors.ChainError` saying so.
- **Own nonces.** A counter read once from the ``pending`` count, advanced per signed
  transaction and resynchronised on "nonce too low".
- **Reads as plain JSON-RPC.** Calls, logs, receipts, blocks and the chain id are read without
  web3.py's result formatting; :meth:`ChainClient.batched` sends independent reads as one
  JSON-RPC batch and answers them from it while its block runs (on that thread only).
- **Nothing sent that must fail.** Before signing, the call is simulated (``eth_call``), so a
  revert raises :class:`~ledger.errors.ContractRevert` (naming the custom error and its
  arguments) and no transaction leaves; gas is ``max(estimate × margin, EIP-7623 floor +
  margin)`` and a transaction over the EIP-7825 cap or the block gas limit is refused with
  :class:`~ledger.errors.GasCapExceeded`.

The pieces are separate methods so that a crash-safe outbox can drive them: build and sign
without sending (:meth:`ChainClient.build_transaction`), send raw bytes
(:meth:`~ChainClient.send_raw`), look up a receipt (:meth:`~ChainClient.receipt`, or
:meth:`~ChainClient.receipt_summary` without its logs) or a transaction
(:meth:`~ChainClient.transaction`), the mined nonce (:meth:`~ChainClient.mined_nonce`), a block
(:meth:`~ChainClient.block`; :meth:`~ChainClient.find_block` gives ``None`` for a height the chain
does not have), and re-sign with bumped fees (:meth:`~ChainClient.bump_fees`).
:meth:`~ChainClient.transact` chains them for simple callers.
"""

from __future__ import annotations

import functools
import math
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from web3 import Web3
from web3.exceptions import BadResponseFormat, ContractLogicError, Web3Exception, Web3RPCError
from web3.providers.rpc import HTTPProvider
from web3.types import RPCEndpoint

from ledger.chain.abi import AbiCodec, RawLog
from ledger.chain.gas import MAX_TX_GAS, floor_gas
from ledger.chain.types import (
    FEE_BUMP,
    BlockInfo,
    Fees,
    Receipt,
    ReceiptSummary,
    RpcRequest,
    SignedTx,
    TxInfo,
    block_from_json,
    log_from_rpc,
    receipt_from_rpc,
    receipt_summary_from_json,
    tx_info_from_json,
)
from ledger.config import ChainSettings, signer_private_key
from ledger.errors import (
    ChainError,
    ChainIdMismatch,
    ContractMissing,
    ContractRevert,
    GasCapExceeded,
    InsufficientFunds,
    RpcUnavailable,
)

__all__ = ["ChainClient", "connect", "no_contract_message"]

#: Gas added to the EIP-7623 floor when the floor decides the gas limit.
FLOOR_MARGIN_GAS = 2_000
_DEFAULT_PRIORITY_FEE_WEI = 1_000_000_000
#: Methods whose JSON-RPC error may be a contract revert (with its encoded reason as data).
_MAY_REVERT = frozenset({"eth_call", "eth_estimateGas"})

T = TypeVar("T")


class _MalformedReply(Exception):
    """A reply that parsed as JSON but is not a JSON-RPC reply (retried as a transient fault)."""


def no_contract_message(address: str, chain_id: int) -> str:
    """What to say when the chain holds no contract code at the deployment address."""
    return (f"no contract at {to_checksum_address(address)} on chain ID {chain_id} (reset or "
            "wrong chain): the chain "
            "at the RPC endpoint was reset or restarted without its state, or it is another "
            "chain than the deployment's. Point CARBON_LEDGER_RPC_URL at the chain that holds "
            "the ledger; on a development chain, deploy again and run `carbon-ledger recover`")


def _ether(wei: int) -> str:
    """Wei as ether with up to 18 decimals, trailing zeros dropped (``0.0021 ETH``)."""
    whole, fraction = divmod(wei, 10**18)
    digits = f"{fraction:018d}".rstrip("0")
    return f"{whole}.{digits} ETH" if digits else f"{whole} ETH"


def _short(exc: BaseException, limit: int = 120) -> str:
    """An exception's message cut to ``limit`` characters (a proxy's HTML page can be long)."""
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _redact(url: str) -> str:
    """The URL without path, query or credentials (RPC URLs often embed an API key)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    tail = "/…" if parts.path not in ("", "/") or parts.query else ""
    return f"{parts.scheme}://{host}{port}{tail}"


def _hex_data(data: Any) -> bytes:
    if isinstance(data, dict):
        data = data.get("data")
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    if isinstance(data, str) and data.startswith("0x"):
        try:
            return bytes.fromhex(data[2:])
        except ValueError:
            return b""
    return b""


@functools.lru_cache(maxsize=1024)
def _checksummed(address: str) -> str:
    """``to_checksum_address`` of the few addresses a client reads from, each hashed once."""
    return str(to_checksum_address(address))


def _session(url: str) -> requests.Session:
    """An HTTP session with the environment's proxy, CA bundle and ``.netrc`` login for ``url``
    read once, as ``requests`` would read them again before every request."""
    session = requests.Session()
    proxies = requests.utils.get_environ_proxies(url)
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    login = requests.utils.get_netrc_auth(url)
    session.trust_env = False
    session.proxies.update(proxies)
    if bundle:
        session.verify = bundle
    if login:
        session.auth = login
    return session


def _tag(block: int | str) -> str:
    return hex(block) if isinstance(block, int) else block


def _quantity(value: Any, what: str) -> int:
    """A JSON-RPC quantity (``0x``-hex) as an int."""
    try:
        return int(value, 16)
    except (TypeError, ValueError):
        raise ChainError(f"{what}: the node answered {value!r}, not a hex quantity") from None


def _rpc_message(exc: Web3RPCError) -> str:
    response = exc.rpc_response or {}
    error = response.get("error") if isinstance(response, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])
    return str(exc.user_message or exc)


class ChainClient:
    """A signer bound to one node and one chain id, or a reader holding no key when ``account``
    is ``None`` (see the module docstring)."""

    def __init__(
        self,
        w3: Web3,
        account: LocalAccount | None,
        settings: ChainSettings,
        *,
        codec: AbiCodec | None = None,
        session: requests.Session | None = None,
        max_tx_gas: int = MAX_TX_GAS,
    ) -> None:
        self._w3 = w3
        self._account = account
        self._settings = settings
        self._codec = codec
        self._session = session
        self.chain_id = settings.chain_id
        self.max_tx_gas = max_tx_gas
        self._nonce_lock = threading.Lock()
        self._next_nonce: int | None = None
        self._local = threading.local()  # this thread's batch replies (see batched)

    # ------------------------------------------------------------------ life-cycle

    def close(self) -> None:
        """Release the HTTP connections."""
        if self._session is not None:
            self._session.close()

    def __enter__(self) -> ChainClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def read_only(self) -> bool:
        """True when the client holds no signing key (it can only read)."""
        return self._account is None

    def _signer(self, what: str) -> LocalAccount:
        if self._account is None:
            raise ChainError(
                f"{what} needs a signing key, but this client is read-only (connected with "
                "read_only=True); connect with a private key or keystore to send transactions"
            )
        return self._account

    @property
    def address(self) -> str:
        """The signer's checksummed address (``ChainError`` on a read-only client)."""
        return str(self._signer("the signer's address").address)

    @property
    def settings(self) -> ChainSettings:
        return self._settings

    def with_codec(self, codec: AbiCodec) -> None:
        """Decode reverts with this contract ABI (set by the contract wrapper)."""
        self._codec = codec

    # ------------------------------------------------------------------ RPC plumbing

    def _rpc(self, what: str, call: Callable[[], T], *, retry: bool = True) -> T:
        """``call()`` with the endpoint's transient faults retried with exponential backoff.

        Transient: a refused or dropped connection, a timeout, an HTTP 5xx or 429 answer, and a
        body that is not a JSON-RPC reply (a proxy's error page, a cut-off answer). After the
        last attempt they end in :class:`RpcUnavailable` naming the endpoint and the last fault.
        Another HTTP status (401, 404, ...) is not retried: the URL or its credentials are
        wrong, and :class:`ChainError` says so. ``retry=False`` makes one attempt.
        """
        attempts = self._settings.rpc_retries if retry else 1
        fault = ""
        for attempt in range(attempts):
            try:
                return call()
            except (requests.ConnectionError, requests.Timeout) as exc:
                fault = type(exc).__name__
            except requests.HTTPError as exc:
                status = exc.response.status_code if exc.response is not None else 0
                if status < 500 and status != 429:
                    raise ChainError(
                        f"the RPC endpoint {_redact(self._settings.rpc_url)} answered HTTP "
                        f"{status} to {what}; check the URL and its credentials "
                        "(CARBON_LEDGER_RPC_URL)"
                    ) from None
                fault = f"HTTP {status}"
            except (ValueError, BadResponseFormat, _MalformedReply) as exc:
                # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
                fault = f"an answer that is not a JSON-RPC reply ({_short(exc)})"
            except ContractLogicError as exc:
                raise self._revert(_hex_data(exc.data), exc.message, what) from None
            except Web3RPCError as exc:
                raise ChainError(f"{what} failed: {_rpc_message(exc)}") from None
            except requests.RequestException as exc:
                fault = f"{type(exc).__name__}: {_short(exc)}"
            if attempt + 1 < attempts:
                time.sleep(self._settings.rpc_backoff_s * 2**attempt)
        raise RpcUnavailable(
            f"cannot reach the RPC endpoint {_redact(self._settings.rpc_url)} "
            f"({what}, {attempts} attempt{'s' if attempts > 1 else ''}): "
            f"{fault}; check CARBON_LEDGER_RPC_URL and that the node is running"
        )

    def _request(self, what: str, method: str, params: Sequence[Any], *,
                 retry: bool = True) -> Any:
        """One JSON-RPC call through the provider, its plain JSON result (no web3 formatting);
        answered from this thread's batch when the same request is in it (see :meth:`batched`).
        """
        replies: dict[str, Any] | None = getattr(self._local, "replies", None)
        if replies:
            reply = replies.get(RpcRequest(method, tuple(params)).key)
            if isinstance(reply, dict) and ("result" in reply or "error" in reply):
                return self._result(what, method, reply)

        def call() -> Any:
            reply = self._w3.provider.make_request(RPCEndpoint(method), list(params))
            return self._result(what, method, reply)

        return self._rpc(what, call, retry=retry)

    def _result(self, what: str, method: str, reply: Any) -> Any:
        """The result of one JSON-RPC reply, or its error raised (a revert as ContractRevert)."""
        if not isinstance(reply, dict) or ("result" not in reply and "error" not in reply):
            raise _MalformedReply(f"{type(reply).__name__} without result or error")
        error = reply.get("error")
        if error is None:
            return reply.get("result")
        message = str(error.get("message") or error) if isinstance(error, dict) else str(error)
        if method in _MAY_REVERT and isinstance(error, dict) and (
                error.get("code") == 3 or "revert" in message.lower()):
            raise self._revert(_hex_data(error.get("data")), message, what)
        raise ChainError(f"{what} failed: {message}")

    def _revert(self, data: bytes, message: str | None, what: str) -> ContractRevert:
        if self._codec is not None and data:
            return self._codec.decode_revert(data, context=what)
        if data:
            return AbiCodec([]).decode_revert(data, context=what)
        return ContractRevert(f"{what} reverted: {message or 'no reason given'}", None, {})

    @contextmanager
    def batched(self, reads: Sequence[RpcRequest]) -> Iterator[None]:
        """Sends ``reads`` as one JSON-RPC batch; while the block runs, the same reads on
        this thread are answered from the batch's replies (an error reply raises as the read
        would), so they cost no round trip. Reads not in the batch go to the node as usual.

        The batch is sent once, without retries; when it fails (or the node does not take
        batches) every read goes to the node on its own, so nothing but speed depends on it.
        Keep the block to the reads that belong together: inside it, a read repeated to see the
        chain move on (the block number while waiting for a receipt) gets the batch's answer.
        """
        unique = list({r.key: r for r in reads}.items())
        replies: dict[str, Any] = {}
        make_batch = getattr(self._w3.provider, "make_batch_request", None)
        if unique and make_batch is not None:
            def send() -> Any:
                return make_batch([(RPCEndpoint(r.method), list(r.params)) for _, r in unique])

            try:
                answered = self._rpc(f"a batch of {len(unique)} reads", send, retry=False)
            except (ChainError, requests.RequestException, ValueError):
                answered = None
            if isinstance(answered, list) and len(answered) == len(unique):
                replies = {key: reply for (key, _), reply in zip(unique, answered, strict=True)
                           if isinstance(reply, dict)}
        previous: dict[str, Any] | None = getattr(self._local, "replies", None)
        self._local.replies = {**(previous or {}), **replies}
        try:
            yield
        finally:
            self._local.replies = previous

    # ------------------------------------------------------------------ reads

    def chain_id_request(self) -> RpcRequest:
        return RpcRequest("eth_chainId", ())

    def node_chain_id(self) -> int:
        """The chain id the node reports now (asked, never cached)."""
        return _quantity(self._request("eth_chainId", "eth_chainId", []), "eth_chainId")

    def check_chain_id(self) -> None:
        """Raise ``ChainIdMismatch`` unless the node serves the configured chain."""
        reported = self.node_chain_id()
        if reported != self.chain_id:
            raise ChainIdMismatch(
                f"the node at {_redact(self._settings.rpc_url)} serves chain id {reported}, "
                f"but chain id {self.chain_id} is configured (CARBON_LEDGER_CHAIN_ID); "
                "point CARBON_LEDGER_RPC_URL at the right network or fix the chain id"
            )

    def find_block(self, identifier: int | str = "latest") -> BlockInfo | None:
        """A block by number or tag, or ``None`` when the chain has no such block (yet)."""
        tag = hex(identifier) if isinstance(identifier, int) else identifier
        raw = self._request(f"eth_getBlockByNumber({identifier})", "eth_getBlockByNumber",
                            [tag, False])
        return None if raw is None else block_from_json(raw)

    def block_transactions(self, number: int) -> tuple[bytes, ...] | None:
        """The hashes of the transactions in block ``number`` (``None``: no such block)."""
        raw = self._request(f"eth_getBlockByNumber({number})", "eth_getBlockByNumber",
                            [hex(number), False])
        if raw is None:
            return None
        return tuple(bytes.fromhex(str(h).removeprefix("0x"))
                     for h in raw.get("transactions") or ())

    def block(self, identifier: int | str = "latest") -> BlockInfo:
        """A block by number or tag (``latest``, ``safe``, ``finalized``, ``pending``).

        A block the chain does not have (a height above its head) raises ``ChainError``.
        """
        found = self.find_block(identifier)
        if found is None:
            raise ChainError(
                f"the node at {_redact(self._settings.rpc_url)} has no block {identifier} "
                "(the chain is not that high yet, or a reorg removed it)"
            )
        return found

    def block_number_request(self) -> RpcRequest:
        return RpcRequest("eth_blockNumber", ())

    def block_number(self) -> int:
        return _quantity(self._request("eth_blockNumber", "eth_blockNumber", []),
                         "eth_blockNumber")

    def mined_nonce(self, address: str | None = None) -> int:
        """Transactions of ``address`` (default: the signer) in the ``latest`` block."""
        who = to_checksum_address(address or self.address)
        return self._rpc("eth_getTransactionCount(latest)",
                         lambda: int(self._w3.eth.get_transaction_count(who, "latest")))

    def pending_nonce(self, address: str | None = None) -> int:
        """Transactions of ``address`` including those waiting in the node's pool."""
        who = to_checksum_address(address or self.address)
        return self._rpc("eth_getTransactionCount(pending)",
                         lambda: int(self._w3.eth.get_transaction_count(who, "pending")))

    def balance(self, address: str | None = None) -> int:
        who = to_checksum_address(address or self.address)
        return self._rpc("eth_getBalance", lambda: int(self._w3.eth.get_balance(who)))

    def code_request(self, address: str) -> RpcRequest:
        """The ``eth_getCode`` request at ``latest`` (for :meth:`batched`)."""
        return RpcRequest("eth_getCode", (to_checksum_address(address), "latest"))

    def code(self, address: str) -> bytes:
        """The contract code at ``address`` (empty when none: a reset chain, another chain)."""
        request = self.code_request(address)
        raw = self._request("eth_getCode", request.method, request.params)
        if not isinstance(raw, str) or not raw.startswith("0x"):
            raise ChainError(f"eth_getCode answered {raw!r}, not hex")
        return bytes.fromhex(raw[2:])

    def require_code(self, address: str) -> None:
        """Raise ``ContractMissing`` when the chain holds no contract code at ``address``."""
        if not self.code(address):
            raise ContractMissing(no_contract_message(address, self.chain_id))

    def call_request(self, to: str | None, data: bytes, *, value: int = 0,
                     block: int | str = "latest") -> RpcRequest:
        """The ``eth_call`` request :meth:`call` sends (for :meth:`batched`)."""
        tx: dict[str, Any] = {}
        if self._account is not None:
            tx["from"] = self._account.address
        if to is not None:
            tx["to"] = _checksummed(to)
        tx["data"] = "0x" + data.hex()
        tx["value"] = hex(value)
        return RpcRequest("eth_call", (tx, _tag(block)))

    def call(self, to: str | None, data: bytes, *, value: int = 0,
             block: int | str = "latest", what: str = "call") -> bytes:
        """``eth_call`` from the signer (no sender on a read-only client); a revert raises
        ``ContractRevert``."""
        request = self.call_request(to, data, value=value, block=block)
        return _hex_data(self._request(what, request.method, request.params))

    def logs_request(self, address: str, topics: Sequence[bytes | Sequence[bytes] | None], *,
                     from_block: int = 0, to_block: int | str = "latest") -> RpcRequest:
        """The ``eth_getLogs`` request :meth:`get_logs` sends (for :meth:`batched`)."""
        encoded: list[Any] = []
        for topic in topics:
            if topic is None or isinstance(topic, bytes):
                encoded.append(None if topic is None else "0x" + topic.hex())
            else:
                encoded.append(["0x" + t.hex() for t in topic])
        return RpcRequest("eth_getLogs", ({
            "address": _checksummed(address), "topics": encoded,
            "fromBlock": _tag(from_block), "toBlock": _tag(to_block),
        },))

    def get_logs(self, address: str, topics: Sequence[bytes | Sequence[bytes] | None], *,
                 from_block: int = 0, to_block: int | str = "latest") -> list[RawLog]:
        """Logs of ``address`` matching ``topics`` (a list per position means "any of")."""
        request = self.logs_request(address, topics, from_block=from_block, to_block=to_block)
        raw = self._request("eth_getLogs", request.method, request.params)
        return [log_from_rpc(entry) for entry in raw or ()]

    # ------------------------------------------------------------------ nonces and fees

    def reserve_nonce(self) -> int:
        """The next nonce of the signer's counter (read from ``pending`` the first time)."""
        with self._nonce_lock:
            if self._next_nonce is None:
                self._next_nonce = self.pending_nonce()
            nonce = self._next_nonce
            self._next_nonce += 1
            return nonce

    def resync_nonce(self) -> int:
        """Reset the counter from the node's ``pending`` count; returns the next nonce."""
        with self._nonce_lock:
            self._next_nonce = self.pending_nonce()
            return self._next_nonce

    def suggest_fees(self) -> Fees:
        """``maxFee = 2 × base fee + tip``; the tip from ``eth_maxPriorityFeePerGas``."""
        base = self.block("latest").base_fee_per_gas
        try:
            tip = self._rpc("eth_maxPriorityFeePerGas",
                            lambda: int(self._w3.eth.max_priority_fee), retry=False)
        except ChainError:
            tip = _DEFAULT_PRIORITY_FEE_WEI
        return Fees(2 * base + tip, tip)

    # ------------------------------------------------------------------ gas

    def _check_floor(self, data: bytes, what: str) -> int:
        floor = floor_gas(data)
        if floor > self.max_tx_gas:
            raise GasCapExceeded(
                f"{what} needs at least {floor:,} gas for its {len(data):,} calldata bytes "
                f"(EIP-7623 floor), over the {self.max_tx_gas:,} per-transaction cap; "
                "split it into smaller batches"
            )
        return floor

    def estimate_gas(self, to: str | None, data: bytes, *, value: int = 0,
                     what: str = "transaction") -> int:
        """The node's ``eth_estimateGas`` for a call from the signer."""
        tx: dict[str, Any] = {"from": self.address, "data": data, "value": value}
        if to is not None:
            tx["to"] = to_checksum_address(to)
        return self._rpc(f"estimate gas for {what}",
                         lambda: int(self._w3.eth.estimate_gas(tx)))  # type: ignore[arg-type]

    def gas_limit(self, to: str | None, data: bytes, *, value: int = 0,
                  what: str = "transaction") -> int:
        """Gas limit for a call; raises ``GasCapExceeded`` or ``ContractRevert`` before sending."""
        floor = self._check_floor(data, what)
        try:
            estimate = self.estimate_gas(to, data, value=value, what=what)
        except ChainError as exc:
            if isinstance(exc, ContractRevert | RpcUnavailable):
                raise
            raise GasCapExceeded(
                f"{what} cannot be estimated within the node's gas limits ({exc}); "
                "split it into smaller batches"
            ) from None
        block_limit = self.block("latest").gas_limit
        cap = min(self.max_tx_gas, block_limit)
        need = max(estimate, floor)
        if need > cap:
            raise GasCapExceeded(
                f"{what} needs {need:,} gas, over the cap of {cap:,} "
                f"(per transaction {self.max_tx_gas:,}, block {block_limit:,}); split it"
            )
        wanted = max(math.ceil(estimate * self._settings.gas_margin), floor + FLOOR_MARGIN_GAS)
        return min(wanted, cap)

    # ------------------------------------------------------------------ signing and sending

    def sign(self, to: str | None, data: bytes, *, nonce: int, gas: int, fees: Fees,
             value: int = 0) -> SignedTx:
        """Sign an EIP-1559 transaction locally (no network)."""
        tx: dict[str, Any] = {
            "type": 2, "chainId": self.chain_id, "nonce": nonce, "gas": gas,
            "maxFeePerGas": fees.max_fee_per_gas,
            "maxPriorityFeePerGas": fees.max_priority_fee_per_gas,
            "value": value, "data": data, "accessList": [],
        }
        if to is not None:
            tx["to"] = to_checksum_address(to)
        signed = self._signer(f"signing a transaction to {to}").sign_transaction(tx)
        return SignedTx(
            raw=bytes(signed.raw_transaction), tx_hash=bytes(signed.hash), sender=self.address,
            nonce=nonce, to=None if to is None else to_checksum_address(to), data=data,
            value=value, gas=gas, fees=fees, chain_id=self.chain_id,
        )

    def build_transaction(self, to: str | None, data: bytes, *, value: int = 0,
                          gas: int | None = None, fees: Fees | None = None,
                          nonce: int | None = None, what: str = "transaction") -> SignedTx:
        """Simulate, size the gas, price, take a nonce and sign; sends nothing.

        A built transaction holds its nonce: send it (or a fee-bumped copy), or call
        :meth:`resync_nonce` to give the nonce back.
        """
        self._signer(what)
        floor = self._check_floor(data, what)
        self.check_chain_id()
        if gas is not None and gas < floor:
            raise ChainError(
                f"{what}: gas {gas:,} is below the EIP-7623 floor of {floor:,} for its calldata; "
                "a node may accept such a transaction and then silently drop it"
            )
        self.call(to, data, value=value, what=what)
        gas = gas if gas is not None else self.gas_limit(to, data, value=value, what=what)
        if gas > self.max_tx_gas:
            raise GasCapExceeded(f"{what}: gas {gas:,} is over the {self.max_tx_gas:,} cap")
        fees = fees if fees is not None else self.suggest_fees()
        self._check_funds(gas * fees.max_fee_per_gas + value, gas, fees, what)
        nonce = nonce if nonce is not None else self.reserve_nonce()
        return self.sign(to, data, nonce=nonce, gas=gas, fees=fees, value=value)

    def _check_funds(self, cost: int, gas: int, fees: Fees, what: str) -> None:
        """Refuse before signing when the key cannot pay ``cost`` wei (gas x max fee + value)."""
        held = self.balance()
        if held >= cost:
            return
        raise InsufficientFunds(
            f"{what}: the signing key {self.address} holds {_ether(held)} on chain "
            f"{self.chain_id}, and the transaction may cost up to {_ether(cost)} (gas "
            f"{gas:,} x max fee {fees.max_fee_per_gas / 10**9:g} gwei); fund the key with at "
            f"least {_ether(cost - held)} more and run again: nothing was signed or stored"
        )

    def bump_fees(self, signed: SignedTx, factor: float = FEE_BUMP) -> SignedTx:
        """The same transaction (nonce, gas, call) re-signed with both fee fields × ``factor``."""
        if factor < FEE_BUMP:
            raise ChainError(f"a replacement needs a fee bump of at least {FEE_BUMP}, got {factor}")
        fees = signed.fees.bumped(factor)
        current = self.suggest_fees()
        fees = Fees(max(fees.max_fee_per_gas, current.max_fee_per_gas),
                    fees.max_priority_fee_per_gas)
        return self.sign(signed.to, signed.data, nonce=signed.nonce, gas=signed.gas, fees=fees,
                         value=signed.value)

    def send_raw(self, signed: SignedTx | bytes) -> bytes:
        """Broadcast signed bytes; returns the hash. Sending the same bytes again is harmless.

        A network failure raises ``RpcUnavailable``: the node may or may not have the
        transaction, so look up its receipt (or the mined nonce) before sending anything else.
        """
        raw = signed.raw if isinstance(signed, SignedTx) else signed
        tx_hash = signed.tx_hash if isinstance(signed, SignedTx) else Web3.keccak(raw)
        try:
            return bytes(self._rpc("eth_sendRawTransaction",
                                   lambda: self._w3.eth.send_raw_transaction(raw), retry=False))
        except RpcUnavailable as exc:
            raise RpcUnavailable(
                f"{exc}; transaction 0x{bytes(tx_hash).hex()} may or may not have reached the "
                "node: check its receipt before sending again"
            ) from None
        except ChainError as exc:
            return self._send_failed(bytes(tx_hash), str(exc))

    def _send_failed(self, tx_hash: bytes, message: str) -> bytes:
        lowered = message.lower()
        if "already known" in lowered or "already imported" in lowered:
            return tx_hash
        if "nonce too low" in lowered:
            if self.receipt(tx_hash) is not None:
                return tx_hash  # the very same transaction was mined before
            nonce = self.resync_nonce()
            raise ChainError(f"{message}; the nonce counter was resynced to {nonce}, sign again")
        if "invalid chain id" in lowered:
            raise ChainIdMismatch(f"{message}: the node is not on chain id {self.chain_id}")
        if "gas limit" in lowered or "intrinsic gas too high" in lowered:
            raise GasCapExceeded(message)
        if "underpriced" in lowered:
            raise ChainError(f"{message}; bump both fees by at least 12.5 % (bump_fees)")
        raise ChainError(message)

    def receipt_request(self, tx_hash: bytes) -> RpcRequest:
        """The ``eth_getTransactionReceipt`` request (for :meth:`batched`)."""
        return RpcRequest("eth_getTransactionReceipt", ("0x" + tx_hash.hex(),))

    def receipt(self, tx_hash: bytes) -> Receipt | None:
        """The receipt of a mined transaction, or ``None`` when it is not (or no longer) mined."""
        request = self.receipt_request(tx_hash)
        raw = self._request("eth_getTransactionReceipt", request.method, request.params)
        return None if raw is None else receipt_from_rpc(raw)

    def receipt_summary(self, tx_hash: bytes) -> ReceiptSummary | None:
        """The receipt of a mined transaction without its logs (``None`` when not mined).

        Much cheaper than :meth:`receipt` for a transaction with thousands of logs: the JSON is
        read as is, without decoding and checksumming every log.
        """
        request = self.receipt_request(tx_hash)
        raw = self._request("eth_getTransactionReceipt", request.method, request.params)
        return None if raw is None else receipt_summary_from_json(raw)

    def transaction(self, tx_hash: bytes) -> TxInfo | None:
        """A transaction by hash, mined or pending (``None`` when the node does not know it)."""
        raw = self._request("eth_getTransactionByHash", "eth_getTransactionByHash",
                            ["0x" + tx_hash.hex()])
        return None if raw is None else tx_info_from_json(raw)

    def signed_transaction(self, tx_hash: bytes) -> SignedTx | None:
        """A transaction the node knows, as signed bytes and what went into it (``None`` when
        the node knows neither it nor its raw bytes): for adopting a transaction this key sent
        from elsewhere into the store's outbox."""
        hex_hash = "0x" + tx_hash.hex()
        fields = self._request("eth_getTransactionByHash", "eth_getTransactionByHash", [hex_hash])
        raw = self._request("eth_getRawTransactionByHash", "eth_getRawTransactionByHash",
                            [hex_hash])
        if not isinstance(fields, dict) or not isinstance(raw, str):
            return None
        to = fields.get("to")
        priority = fields.get("maxPriorityFeePerGas") or fields.get("gasPrice") or "0x0"
        max_fee = fields.get("maxFeePerGas") or fields.get("gasPrice") or "0x0"
        return SignedTx(
            raw=bytes.fromhex(raw.removeprefix("0x")), tx_hash=tx_hash,
            sender=to_checksum_address(fields["from"]), nonce=int(fields["nonce"], 16),
            to=None if to is None else to_checksum_address(to),
            data=bytes.fromhex(str(fields.get("input", "0x")).removeprefix("0x")),
            value=int(fields.get("value", "0x0"), 16), gas=int(fields["gas"], 16),
            fees=Fees(int(max_fee, 16), int(priority, 16)), chain_id=self.chain_id,
        )

    def wait_for_receipt(self, tx_hash: bytes, *, timeout_s: float | None = None,
                         confirmations: int | None = None) -> Receipt:
        """Poll (every ``poll_interval_s``) until mined with ``confirmations`` blocks on top."""
        timeout_s = self._settings.receipt_timeout_s if timeout_s is None else timeout_s
        depth = self._settings.confirmations if confirmations is None else confirmations
        deadline = time.monotonic() + timeout_s
        while True:
            found = self.receipt(tx_hash)
            if found is not None and (
                depth == 0 or self.block_number() - found.block_number >= depth
            ):
                return found
            if time.monotonic() > deadline:
                state = "mined but not confirmed" if found else "not mined"
                raise ChainError(
                    f"transaction 0x{tx_hash.hex()} {state} after {timeout_s:g} s; it may still "
                    "be mined: check its receipt later or replace it with bumped fees"
                )
            time.sleep(self._settings.poll_interval_s)

    def transact(self, to: str | None, data: bytes, *, value: int = 0,
                 gas: int | None = None, what: str = "transaction") -> Receipt:
        """Build, sign, send and wait; a failed transaction raises ``ContractRevert``."""
        signed = self.build_transaction(to, data, value=value, gas=gas, what=what)
        self.send_raw(signed)
        found = self.wait_for_receipt(signed.tx_hash)
        if found.status != 1:
            raise ContractRevert(
                f"{what} 0x{found.tx_hash.hex()} failed on chain in block {found.block_number} "
                f"(status 0, {found.gas_used:,} gas used)", None, {"txHash": found.tx_hash.hex()},
            )
        return found


def connect(settings: ChainSettings, *, private_key: bytes | str | None = None,
            codec: AbiCodec | None = None, read_only: bool = False) -> ChainClient:
    """A client for ``settings`` signing with ``private_key`` (default: from the settings).

    With ``read_only=True`` no key is read or needed: the client reads (calls, logs, receipts,
    blocks) and refuses to sign with a ``ChainError``. Checks the chain id; raises
    ``RpcUnavailable`` when the node cannot be reached after ``rpc_retries`` attempts and
    ``ChainIdMismatch`` when it serves another chain.
    """
    account: LocalAccount | None = None
    if read_only:
        if private_key is not None:
            raise ChainError("give a private key or read_only=True, not both")
    else:
        key = private_key if private_key is not None else signer_private_key(settings)
        try:
            account = Account.from_key(key)
        except (ValueError, TypeError, Web3Exception) as exc:
            raise ChainError(f"the signing key is not a valid secp256k1 key: {exc}") from None
    session = _session(settings.rpc_url)
    provider = HTTPProvider(
        settings.rpc_url,
        request_kwargs={"timeout": settings.rpc_timeout_s},
        session=session,
        exception_retry_configuration=None,
    )
    w3 = Web3(provider)
    # web3.py's validation asks eth_chainId before every call and estimate, only to compare it
    # with a chainId field those requests never carry here; the client checks the id itself
    w3.middleware_onion.remove("validation")
    client = ChainClient(w3, account, settings, codec=codec, session=session)
    try:
        client.check_chain_id()
    except BaseException:
        client.close()
        raise
    return client

