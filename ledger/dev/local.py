"""The local development chain in one call: Anvil, CarbonLedger deployed, roles, factor sets.

:func:`local_ledger` is the one bootstrap behind ``carbon-ledger demo``, ``devnet`` and
``serve`` (embedded chain), the test fixtures and the benchmarks. Inside its ``with`` block:

1. Anvil runs on a free 127.0.0.1 port (or the one given), the EIP-7825 per-transaction gas cap
   enforced (:func:`ledger.dev.anvil.start_anvil`);
2. the chain settings point at it; the embedded chain ignores a signer configured in the
   environment: every transaction is signed with a public development key
   (:mod:`ledger.dev.devkeys`);
3. dev key 0 deploys CarbonLedger and is its admin; the first ``exporters`` of dev keys 1-4 get
   the exporter role, the first ``auditors`` of dev key 5 the auditor role; the factor sets are
   registered (by default the shipped one, :func:`ledger.factors.factorset.load_factor_set`);
4. with ``deployments_dir``, the deployment file ``<dir>/<chain id>.json`` is written, or reused
   when the chain still holds its contract (a node restarted with ``state_path``); the factor
   sets missing on a reused contract are registered then.

On leaving the block (normally, by an exception or by Ctrl-C) the node is stopped; with
``state_path`` it writes its chain there first.

Deploying, granting and registering go through :func:`ledger.chain.deploy.deploy_ledger`, the
call behind ``carbon-ledger deploy`` on a public chain, so the local chain tests that path.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ledger.chain.client import ChainClient, connect
from ledger.chain.deploy import Deployment, deploy_ledger, ensure_deployment
from ledger.config import (
    ChainSettings,
    ToolchainSettings,
    load_chain_settings,
    load_toolchain_settings,
)
from ledger.dev.anvil import AnvilNode, start_anvil
from ledger.dev.devkeys import (
    DEV_ADMIN_INDEX,
    DEV_AUDITOR_INDEXES,
    DEV_EXPORTER_INDEXES,
    DevKey,
    dev_key,
)
from ledger.errors import ConfigError
from ledger.factors.factorset import FactorSet, load_factor_set

__all__ = ["LocalLedger", "local_ledger"]


@dataclass(frozen=True)
class LocalLedger:
    """A running local chain with CarbonLedger deployed, and who holds which role on it."""

    node: AnvilNode
    settings: ChainSettings
    deployment: Deployment
    admin: DevKey
    exporters: tuple[DevKey, ...]
    auditors: tuple[DevKey, ...]
    #: (32-byte id, URI) of every factor set registered by the bootstrap, in order.
    factor_sets: tuple[tuple[bytes, str], ...]
    #: The deployment file, when the bootstrap kept one.
    deployment_file: Path | None = None
    #: Whether the contract came from the state file (a reused deployment).
    reused: bool = False

    @property
    def factor_set_id(self) -> bytes | None:
        """The first registered factor set's id (the shipped one by default)."""
        return self.factor_sets[0][0] if self.factor_sets else None

    def connect(self, key: DevKey) -> ChainClient:
        """A client on this chain signing with ``key`` (use it in a ``with`` block)."""
        return connect(self.settings, private_key=key.private_key)


def _factor_set_entry(entry: FactorSet | tuple[bytes, str]) -> tuple[bytes, str]:
    if isinstance(entry, FactorSet):
        return bytes.fromhex(entry.id.removeprefix("0x")), entry.uri
    factor_set_id, uri = entry
    if len(factor_set_id) != 32:
        raise ConfigError(f"a factor set id is 32 bytes, got {len(factor_set_id)}")
    return bytes(factor_set_id), uri


def _unique_factor_sets(entries: Sequence[FactorSet | tuple[bytes, str]]
                        ) -> tuple[tuple[bytes, str], ...]:
    """The factor sets to register, each once (a set named twice is registered once)."""
    unique: dict[bytes, str] = {}
    for factor_set_id, uri in map(_factor_set_entry, entries):
        if unique.setdefault(factor_set_id, uri) != uri:
            raise ConfigError(f"factor set 0x{factor_set_id.hex()} is given with two URIs: "
                              f"{unique[factor_set_id]!r} and {uri!r}; keep one")
    return tuple(unique.items())


def _role_keys(what: str, count: int, indexes: Sequence[int]) -> tuple[DevKey, ...]:
    if not 0 <= count <= len(indexes):
        raise ConfigError(f"the local chain has {len(indexes)} {what} key(s) "
                          f"(dev keys {', '.join(map(str, indexes))}); {count} asked for")
    return tuple(dev_key(i) for i in indexes[:count])


@contextlib.contextmanager
def local_ledger(
    *,
    chain_id: int = 31337,
    block_time: float | None = None,
    state_path: Path | None = None,
    port: int | None = None,
    exporters: int = len(DEV_EXPORTER_INDEXES),
    auditors: int = len(DEV_AUDITOR_INDEXES),
    factor_sets: Sequence[FactorSet | tuple[bytes, str]] | None = None,
    deployments_dir: Path | None = None,
    confirmations: int | None = None,
    poll_interval_s: float | None = None,
    receipt_timeout_s: float | None = None,
    toolchain: ToolchainSettings | None = None,
) -> Iterator[LocalLedger]:
    """Run the local chain for the ``with`` block (see the module docstring) and stop it after.

    ``factor_sets=None`` registers the shipped factor set, ``()`` none. Without
    ``deployments_dir`` no deployment file is read or written. ``confirmations``,
    ``poll_interval_s`` and ``receipt_timeout_s`` go to the chain settings (their defaults
    otherwise). ``toolchain`` picks the Anvil binary (default: from the environment).
    """
    admin = dev_key(DEV_ADMIN_INDEX)
    exporter_keys = _role_keys("exporter", exporters, DEV_EXPORTER_INDEXES)
    auditor_keys = _role_keys("auditor", auditors, DEV_AUDITOR_INDEXES)
    registered = _unique_factor_sets([load_factor_set()] if factor_sets is None else factor_sets)
    tuning = {name: value for name, value in (
        ("confirmations", confirmations), ("poll_interval_s", poll_interval_s),
        ("receipt_timeout_s", receipt_timeout_s)) if value is not None}
    with start_anvil(chain_id=chain_id, block_time=block_time, state_path=state_path, port=port,
                     settings=toolchain if toolchain is not None else load_toolchain_settings()
                     ) as node:
        settings = load_chain_settings(
            rpc_url=node.rpc_url, chain_id=chain_id, private_key=None, keystore_file=None,
            deployment_file=None,
            **({"deployments_dir": deployments_dir} if deployments_dir is not None else {}),
            **tuning,
        )
        exporter_addresses = [k.address for k in exporter_keys]
        auditor_addresses = [k.address for k in auditor_keys]
        path = settings.deployment_path() if deployments_dir is not None else None
        with connect(settings, private_key=admin.private_key) as client:
            if path is not None:
                deployment, _, reused = ensure_deployment(
                    client, path, exporters=exporter_addresses, auditors=auditor_addresses,
                    factor_sets=registered)
            else:
                deployment, _ = deploy_ledger(
                    client, exporters=exporter_addresses, auditors=auditor_addresses,
                    factor_sets=registered)
                reused = False
        yield LocalLedger(node=node, settings=settings, deployment=deployment, admin=admin,
                          exporters=exporter_keys, auditors=auditor_keys,
                          factor_sets=registered, deployment_file=path, reused=reused)
