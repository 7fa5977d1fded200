"""Start and stop a local Anvil node.

:func:`start_anvil` is a context manager: it picks a free port on 127.0.0.1, starts Anvil in its
own process group, waits until ``eth_chainId`` answers with the expected id, and on exit (normal,
exception or Ctrl-C) stops the whole group and reaps it, so no process and no zombie is left.
On Linux (with util-linux's ``setpriv``) the node also gets SIGTERM if the thread that started it
dies, which covers a parent killed outright.

By default the node enforces the EIP-7825 per-transaction gas cap (``--enable-tx-gas-limit``) as
public Osaka networks do, so a batch too large for one transaction fails here as it would there.

The Anvil executable comes from ``ToolchainSettings.anvil_binary`` (``CARBON_LEDGER_ANVIL``), else
the project's ``node_modules/.bin/anvil`` (``npm ci``), else ``anvil`` on ``PATH``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ledger.config import ToolchainSettings
from ledger.errors import ChainError, ConfigError

__all__ = ["AnvilNode", "find_anvil", "free_port", "start_anvil"]

_PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class AnvilNode:
    """A running Anvil: where to reach it and how it was started."""

    rpc_url: str
    host: str
    port: int
    chain_id: int
    process: subprocess.Popen[bytes] = field(repr=False)
    state_path: Path | None = None
    args: tuple[str, ...] = ()

    @property
    def pid(self) -> int:
        return self.process.pid

    def is_running(self) -> bool:
        return self.process.poll() is None

    def rpc(self, method: str, *params: Any, timeout_s: float = 30.0) -> Any:
        """One JSON-RPC call (for node controls such as ``evm_snapshot`` or ``evm_mine``)."""
        return _rpc(self.rpc_url, method, list(params), timeout_s=timeout_s)


def find_anvil(settings: ToolchainSettings | None = None) -> Path:
    """The Anvil executable to run (see the module docstring for the order)."""
    if settings is not None and settings.anvil_binary is not None:
        path = settings.anvil_binary
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise ConfigError(f"CARBON_LEDGER_ANVIL={path} is not an executable file")
        return path
    for root in (_PROJECT_ROOT, Path.cwd()):
        candidate = root / "node_modules" / ".bin" / "anvil"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    on_path = shutil.which("anvil")
    if on_path:
        return Path(on_path)
    raise ConfigError(
        "anvil not found: run `npm ci` in the project (it installs node_modules/.bin/anvil) "
        "or set CARBON_LEDGER_ANVIL to an anvil executable"
    )


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def start_anvil(
    *,
    chain_id: int = 31337,
    block_time: float | None = None,
    gas_limit_cap: bool = True,
    state_path: Path | None = None,
    no_mining: bool = False,
    accounts: int | None = None,
    block_gas_limit: int | None = None,
    port: int | None = None,
    host: str = "127.0.0.1",
    settings: ToolchainSettings | None = None,
    startup_timeout_s: float = 30.0,
    stop_timeout_s: float = 15.0,
    extra_args: Sequence[str] = (),
    die_with_parent: bool = True,
) -> Iterator[AnvilNode]:
    """Run Anvil for the duration of the ``with`` block and stop it afterwards, always.

    ``state_path`` (``--state``) loads the chain from that file when it exists and writes it back
    when the node stops, so a restart keeps the chain. ``no_mining`` disables automine (mine with
    ``evm_mine``). ``accounts=0`` starts a node without any funded or unlocked dev account.
    ``die_with_parent`` ties the node's life to the starting *thread* (Linux).
    """
    if block_time is not None and no_mining:
        raise ConfigError("block_time and no_mining exclude each other")
    binary = find_anvil(settings)
    attempts = 1 if port is not None else 3
    with tempfile.TemporaryFile() as log:
        for attempt in range(attempts):
            log.seek(0)
            log.truncate()
            chosen = port if port is not None else free_port(host)
            if _port_in_use(host, chosen):
                if port is None and attempt + 1 < attempts:
                    continue
                raise ChainError(
                    f"port {chosen} on {host} is in use by another program; "
                    "choose another port (or none: a free one is picked)"
                )
            args = _anvil_args(
                binary, host=host, port=chosen, chain_id=chain_id, block_time=block_time,
                gas_limit_cap=gas_limit_cap, state_path=state_path, no_mining=no_mining,
                accounts=accounts, block_gas_limit=block_gas_limit, extra_args=extra_args,
            )
            process = subprocess.Popen(
                _with_parent_death_signal(args) if die_with_parent else args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            node = AnvilNode(
                rpc_url=f"http://{host}:{chosen}", host=host, port=chosen, chain_id=chain_id,
                process=process, state_path=state_path, args=tuple(args),
            )
            try:
                _wait_ready(node, log, timeout_s=startup_timeout_s)
                break
            except ChainError as exc:
                _stop(process, stop_timeout_s)
                port_taken = "in use" in str(exc).lower()
                if port_taken and attempt + 1 < attempts:
                    continue  # another program took the free port first: pick another
                raise
            except BaseException:
                _stop(process, stop_timeout_s)
                raise
        try:
            yield node
        finally:
            _stop(node.process, stop_timeout_s)


def _port_in_use(host: str, port: int) -> bool:
    """Whether something accepts connections on ``host:port`` (so Anvil could not bind it, and
    a readiness probe would be answered by that other program)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((host, port)) == 0


def _anvil_args(
    binary: Path, *, host: str, port: int, chain_id: int, block_time: float | None,
    gas_limit_cap: bool, state_path: Path | None, no_mining: bool, accounts: int | None,
    block_gas_limit: int | None, extra_args: Sequence[str],
) -> list[str]:
    args = [str(binary), "--host", host, "--port", str(port), "--chain-id", str(chain_id),
            "--silent"]
    if block_time is not None:
        args += ["--block-time", _number(block_time)]
    if no_mining:
        args.append("--no-mining")
    if gas_limit_cap:
        args.append("--enable-tx-gas-limit")
    if state_path is not None:
        args += ["--state", str(state_path)]
    if accounts is not None:
        args += ["--accounts", str(accounts)]
    if block_gas_limit is not None:
        args += ["--gas-limit", str(block_gas_limit)]
    args += list(extra_args)
    return args


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _with_parent_death_signal(args: list[str]) -> list[str]:
    """Prefix ``setpriv --pdeathsig TERM`` (util-linux) when available: it sets the signal and
    execs Anvil in place, so the node gets SIGTERM if the starting thread dies."""
    setpriv = shutil.which("setpriv") if sys.platform == "linux" else None
    if setpriv is None:
        return args
    return [setpriv, "--pdeathsig", "TERM", "--", *args]


def _rpc(url: str, method: str, params: list[Any], *, timeout_s: float) -> Any:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        reply = json.loads(response.read())
    if "error" in reply:
        raise ChainError(f"{method} failed on {url}: {reply['error']}")
    return reply.get("result")


def _tail(log: IO[bytes], limit: int = 2000) -> str:
    log.flush()
    log.seek(0)
    return log.read().decode("utf-8", "replace")[-limit:].strip()


def _wait_ready(node: AnvilNode, log: IO[bytes], *, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if node.process.poll() is not None:
            raise ChainError(
                f"anvil exited with code {node.process.returncode} while starting "
                f"on port {node.port}: {_tail(log) or '(no output)'}"
            )
        try:
            answer = node.rpc("eth_chainId", timeout_s=1.0)
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            answer = None
        if answer is not None and node.process.poll() is None:
            reported = int(answer, 16)
            if reported != node.chain_id:
                raise ChainError(
                    f"anvil on port {node.port} reports chain id {reported}, "
                    f"expected {node.chain_id}"
                )
            return
        if time.monotonic() > deadline:
            raise ChainError(
                f"anvil did not answer eth_chainId on {node.rpc_url} within {timeout_s:g} s: "
                f"{_tail(log) or '(no output)'}"
            )
        time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes], timeout_s: float) -> None:
    """SIGTERM the node's process group (Anvil writes ``--state`` then), SIGKILL if it lingers."""
    for sig, wait_s in ((signal.SIGTERM, timeout_s), (signal.SIGKILL, 10.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait_s)
            break
        except subprocess.TimeoutExpired:
            continue
    # The group may hold stragglers even after the leader exited.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
