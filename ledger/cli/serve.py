"""Command ``serve``: the HTTP service (API, PACT endpoints, web pages) on one machine.

With no RPC configured (no ``--rpc-url`` and no ``CARBON_LEDGER_RPC_URL``) it starts an embedded
Anvil whose chain is kept in the var folder (or ``--state FILE``) across restarts, deploys
CarbonLedger (or reuses the deployment kept with that chain), registers the
shipped factor set and, with ``--demo`` (the default there), creates demo organisations with
well-known credentials. With an RPC URL it serves that chain: the deployment file, the service
secret and an admin client come from the settings (see docs/service.md).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from ledger.errors import ConfigError

__all__ = ["DEMO_CLIENTS", "demo_leftovers", "register", "seed_demo", "shown_rpc_url",
           "shown_store_url"]

#: Demo organisations on the embedded chain: name, role, dev key index, client id, secret.
DEMO_CLIENTS: tuple[tuple[str, str, int | None, str, str], ...] = (
    ("Ningbo Cixi Home Appliances Co., Ltd. (demo)", "exporter", 1, "demo-exporter",
     "demo-exporter-secret"),
    ("Rotterdam Verification B.V. (demo)", "auditor", 5, "demo-auditor", "demo-auditor-secret"),
    ("Duisburg Appliances Import GmbH (demo buyer)", "buyer", None, "demo-buyer",
     "demo-buyer-secret"),
    ("Service administrator (demo)", "admin", None, "demo-admin", "demo-admin-secret"),
)


def seed_demo(ctx: Any) -> list[tuple[str, str, str]]:
    """Creates the demo organisations that do not exist yet; (role, client id, secret) of all."""
    from ledger.dev.devkeys import dev_key

    for name, role, key_index, client_id, secret in DEMO_CLIENTS:
        if ctx.store.org_by_name(name) is not None:
            continue
        key = dev_key(key_index).private_key if key_index is not None else None
        ctx.create_org(name, role, private_key=key, client_id=client_id, client_secret=secret,
                       grant_on_chain=True)
    exporter, buyer = (ctx.store.org_by_name(DEMO_CLIENTS[i][0]) for i in (0, 2))
    if exporter is not None and buyer is not None:  # the demo buyer reads the demo footprints
        from api.sharing_store import SharingStore

        SharingStore(ctx.store.ledger).add_grant(exporter.id, buyer.id, None, "leaf")
    return [(role, client_id, secret) for _, role, _, client_id, secret in DEMO_CLIENTS]


def demo_leftovers(ctx: Any) -> list[str]:
    """What of the demo a store holds that must never face a real chain: live demo clients
    (public secrets) and organisations whose signing key is a public development key."""
    from ledger.dev.devkeys import DEV_KEYS

    found = [f"client {client_id}" for _, _, _, client_id, _ in DEMO_CLIENTS
             if ctx.store.client(client_id) is not None]
    public = {key.address.lower(): key.index for key in DEV_KEYS}
    found += [f"organisation {org.name!r} (development key {public[org.address.lower()]})"
              for org in ctx.store.orgs()
              if org.address is not None and org.address.lower() in public]
    return found


def shown_rpc_url(url: str) -> str:
    """An RPC URL as it may be printed: scheme, host and port only (``/…`` where more was cut).

    Provider URLs often carry an API key in the path, the query or the user part.
    """
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    host = parts.hostname or ""
    shown = f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")
    hidden = bool(parts.username or parts.password or parts.query or parts.fragment) \
        or parts.path not in ("", "/")
    return shown + ("/…" if hidden else "")


def shown_store_url(url: str) -> str:
    """A store URL as it may be printed: its password replaced by ``***`` (a SQLite file path
    as it is)."""
    from ledger.store.engine import _redact

    return _redact(url) if "://" in url else url


def _bootstrap_admin(ctx: Any) -> None:
    settings = ctx.settings
    if settings.admin_client_id is None or settings.admin_client_secret is None:
        return
    if ctx.store.client(settings.admin_client_id) is not None:
        return
    ctx.create_org(f"Administrator ({settings.admin_client_id})", "admin",
                   client_id=settings.admin_client_id,
                   client_secret=settings.admin_client_secret.get_secret_value())


def _local_secret(path: Path) -> str:
    """The embedded setup's service secret, made once and kept beside the store (mode 0600)."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    path.touch(mode=0o600)
    path.write_text(value + "\n", encoding="utf-8")
    return value


@contextmanager
def _embedded_chain(state: Path | None, anvil_port: int | None, deployments_dir: Path
                    ) -> Iterator[tuple[Any, Any, str]]:
    """The local chain (:func:`ledger.dev.local.local_ledger`): chain settings, deployment, and
    the admin's key (dev key 0), which grants roles to new organisations."""
    from ledger.dev.local import local_ledger

    with local_ledger(port=anvil_port, state_path=state, deployments_dir=deployments_dir
                      ) as chain:
        yield chain.settings, chain.deployment, chain.admin.private_key


def serve(*, host: str, port: int, store: str | None, rpc_url: str | None, demo: bool | None,
          state: Path | None, anvil_port: int | None, var_dir: Path) -> None:
    """Starts the service and blocks until it is stopped (Ctrl-C or SIGTERM)."""
    import os

    import uvicorn

    from api.app import create_app
    from api.limits import cap_recursion_limit
    from api.server import server_config
    from api.settings import SERVICE_ENV_PREFIX, ServiceSettings
    overrides: dict[str, Any] = {}
    if store is not None:
        overrides["store_url"] = store
    elif f"{SERVICE_ENV_PREFIX}STORE_URL" not in os.environ:
        overrides["store_url"] = str(var_dir / "service.sqlite")
    embedded = rpc_url is None and "CARBON_LEDGER_RPC_URL" not in os.environ
    if demo and not embedded:
        source = "--rpc-url" if rpc_url is not None else "CARBON_LEDGER_RPC_URL"
        raise ConfigError(f"--demo uses public development keys and secrets: only on the "
                          f"embedded chain, and an RPC URL is set ({source}); unset it or "
                          "drop --demo")
    has_secret = any(f"{SERVICE_ENV_PREFIX}{n}" in os.environ for n in ("SECRET", "SECRET_FILE"))
    if embedded and not has_secret:
        overrides["secret"] = _local_secret(var_dir / "service.secret")
    settings = ServiceSettings(**overrides)
    if embedded:
        # the chain is kept beside the store by default: a restart finds the records again
        state = state if state is not None else var_dir / "anvil-state.json"
        chain_cm: Any = _embedded_chain(state, anvil_port, var_dir / "deployments")
    else:
        chain_cm = _remote_chain(rpc_url)
    with chain_cm as (chain_settings, deployment, admin_key):
        if embedded and settings.public_rpc_url is None:
            # the embedded Anvil's loopback URL carries no key: report pages may show it
            settings = settings.model_copy(update={"public_rpc_url": chain_settings.rpc_url})
        app = create_app(settings, chain_settings, deployment=deployment, admin_key=admin_key)
        ctx = app.state.ctx
        leftovers = [] if embedded else demo_leftovers(ctx)
        if leftovers:
            ctx.close()
            raise ConfigError(
                f"the store {shown_store_url(settings.store_url)} holds demo logins and keys "
                f"that are public ({', '.join(leftovers)}): it was made on the embedded chain "
                "and is not served against an RPC URL; serve a new store (--store) there")
        _bootstrap_admin(ctx)
        if not embedded and ctx.chain.register_factor_set(ctx.factor_set.id, ctx.factor_set.uri):
            print(f"registered factor set {ctx.factor_set.id} on chain", flush=True)
        lines = ["carbon-ledger serve",
                 f"  API and pages   http://{host}:{port}/  (docs: /docs, PACT: /2/footprints)",
                 f"  chain           {shown_rpc_url(chain_settings.rpc_url)} "
                 f"(chain id {chain_settings.chain_id})"
                 + (" embedded Anvil" if embedded else ""),
                 f"  contract        {ctx.chain.deployment.address}",
                 f"  store           {shown_store_url(settings.store_url)}"]
        if demo if demo is not None else embedded:
            lines.append("  demo clients (PUBLIC, for the local chain only):")
            for role, client_id, secret in seed_demo(ctx):
                lines.append(f"    {role:<9} {client_id} / {secret}")
        print("\n".join(lines), flush=True)
        cap_recursion_limit()  # again, after every import the start-up made
        config = server_config(app, settings, host=host, port=port, log_level="info",
                               proxy_headers=True)
        uvicorn.Server(config).run()


@contextmanager
def _remote_chain(rpc_url: str | None) -> Iterator[tuple[Any, Any, Any]]:
    from ledger.chain.deploy import load_deployment
    from ledger.config import load_chain_settings, signer_private_key

    overrides: dict[str, Any] = {} if rpc_url is None else {"rpc_url": rpc_url}
    chain_settings = load_chain_settings(**overrides)
    deployment = load_deployment(chain_settings.deployment_path(),
                                 chain_id=chain_settings.chain_id)
    admin_key = None
    if chain_settings.private_key is not None or chain_settings.keystore_file is not None:
        admin_key = signer_private_key(chain_settings)
    yield chain_settings, deployment, admin_key


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve_command(  # noqa: PLR0917 - typer maps parameters to options
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
        store: Annotated[str | None, typer.Option(
            "--store", help="Service store: SQLAlchemy URL or SQLite file (default "
                            "$CARBON_LEDGER_SERVICE_STORE_URL or var/service.sqlite).")] = None,
        rpc_url: Annotated[str | None, typer.Option(
            "--rpc-url", help="Serve this chain (default $CARBON_LEDGER_RPC_URL; with neither, "
                              "an embedded Anvil).")] = None,
        demo: Annotated[bool | None, typer.Option(
            "--demo/--no-demo", help="Create demo organisations (default: on the embedded "
                                     "chain only).")] = None,
        state: Annotated[Path | None, typer.Option(
            "--state", help="Embedded Anvil: keep the chain in FILE across restarts "
                            "(default: anvil-state.json in --var-dir).")] = None,
        anvil_port: Annotated[int | None, typer.Option(
            "--anvil-port", help="Embedded Anvil's port (default: a free one).")] = None,
        var_dir: Annotated[Path, typer.Option(
            "--var-dir", help="Folder for the store, deployment and secret.")] = Path("var"),
    ) -> None:
        """Run the HTTP service: exporter and auditor API, PACT v2 endpoints, web pages."""
        serve(host=host, port=port, store=store, rpc_url=rpc_url, demo=demo, state=state,
              anvil_port=anvil_port, var_dir=var_dir)
