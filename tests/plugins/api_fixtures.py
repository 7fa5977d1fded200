"""Fixtures of the service tests: an app on a fresh SQLite store, with or without a chain.

- ``offline_service``: the app on a store in ``tmp_path`` whose chain is unreachable (a fixed
  deployment address), for everything that needs no chain: auth, roles, submissions, errors.
- ``service_chain`` (session): CarbonLedger deployed on the session's Anvil by dev key 0 with the
  shipped factor set registered; ``chain_service`` builds an app on it, whose admin key grants
  roles to new organisations (keys generated and funded per test).

Test modules import the fixtures they use by name (and list them in ``__all__``).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account

from api.app import create_app
from api.context import NewOrganisation, ServiceContext
from api.settings import PactPartner, ServiceSettings
from ledger.chain.deploy import Deployment
from ledger.config import ChainSettings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

SECRET = "test-service-secret-0123456789"
OFFLINE_DEPLOYMENT = Deployment(
    chain_id=31337, address="0x" + "c1" * 20, deployer="0x" + "d0" * 20, admin="0x" + "d0" * 20,
    block_number=1, block_hash="0x" + "00" * 32, tx_hash="0x" + "00" * 32,
    artifact_hash="sha256:" + "ab" * 32,
    contract_name="CarbonLedger", roles={}, factor_sets={},
)
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def service_settings(tmp_path: Path, **overrides: Any) -> ServiceSettings:
    values: dict[str, Any] = {"store_url": str(tmp_path / "service.sqlite"), "secret": SECRET,
                              "keystore_kdf_iterations": 1024, "job_workers": 2}
    values.update(overrides)
    return ServiceSettings(**values)


@dataclass
class Service:
    """An app under test, its context and a client; helpers to make organisations and tokens."""

    app: Any
    ctx: ServiceContext
    client: TestClient
    node: Any = None
    _tokens: dict[str, str] = field(default_factory=dict)

    def org(self, name: str, role: str) -> NewOrganisation:
        """A new organisation; on a chain its fresh key is funded and granted its role."""
        key = None
        if self.node is not None and role in ("exporter", "auditor"):
            account = Account.create()
            self.node.rpc("anvil_setBalance", account.address, hex(10**21))
            key = bytes(account.key)
        return self.ctx.create_org(name, role, private_key=key)

    def token(self, made: NewOrganisation) -> str:
        if made.client_id not in self._tokens:
            response = self.client.post("/auth/token", data={"grant_type": "client_credentials"},
                                        auth=(made.client_id, made.client_secret))
            assert response.status_code == 200, response.text
            self._tokens[made.client_id] = response.json()["access_token"]
        return self._tokens[made.client_id]

    def auth(self, made: NewOrganisation, **headers: str) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token(made)}", **headers}

    def wait_job(self, made: NewOrganisation, job_id: str, timeout_s: float = 60) -> Any:
        deadline = time.monotonic() + timeout_s
        while True:
            job = self.client.get(f"/v1/jobs/{job_id}", headers=self.auth(made)).json()
            if job["state"] in ("done", "failed") or time.monotonic() > deadline:
                return job
            time.sleep(0.05)


def make_service(app: Any, node: Any = None, base_url: str = "http://testserver", *,
                 raise_server_exceptions: bool = True) -> Service:
    """The app with a test client; ``raise_server_exceptions=False`` lets a 500 be answered
    (as a real server would) instead of raised in the test."""
    client = TestClient(app, base_url=base_url, raise_server_exceptions=raise_server_exceptions)
    return Service(app, app.state.ctx, client, node)


@pytest.fixture
def offline_service(tmp_path: Path) -> Iterator[Service]:
    chain = ChainSettings(rpc_url="http://127.0.0.1:9", chain_id=31337, rpc_retries=1,
                          rpc_timeout_s=1, deployments_dir=tmp_path)
    app = create_app(service_settings(tmp_path), chain, deployment=OFFLINE_DEPLOYMENT)
    made = make_service(app)
    try:
        yield made
    finally:
        made.client.close()
        made.ctx.close()


@dataclass(frozen=True)
class ServiceChain:
    node: Any
    settings: ChainSettings
    deployment: Deployment
    admin_key: str


@pytest.fixture(scope="session")
def service_chain(anvil_node: Any, chain_settings: ChainSettings) -> ServiceChain:
    from ledger.chain.client import connect
    from ledger.chain.deploy import deploy_ledger
    from ledger.dev.devkeys import DEV_ADMIN_INDEX, dev_key
    from ledger.factors.factorset import load_factor_set

    factor_set = load_factor_set()
    admin = dev_key(DEV_ADMIN_INDEX).private_key
    with connect(chain_settings, private_key=admin) as client:
        deployment, _ = deploy_ledger(
            client, factor_sets=[(bytes.fromhex(factor_set.id[2:]), factor_set.uri)])
    return ServiceChain(anvil_node, chain_settings, deployment, admin)


def chain_app(tmp_path: Path, chain: ServiceChain, **overrides: Any) -> Any:
    return create_app(service_settings(tmp_path, **overrides), chain.settings,
                      deployment=chain.deployment, admin_key=chain.admin_key)


@pytest.fixture
def chain_service(tmp_path: Path, service_chain: ServiceChain) -> Iterator[Service]:
    made = make_service(chain_app(tmp_path, service_chain), service_chain.node)
    try:
        yield made
    finally:
        made.client.close()
        made.ctx.close()


POSTGRES_ENV = "CARBON_LEDGER_TEST_POSTGRES_URL"


@contextmanager
def postgres_schema() -> Iterator[str]:
    """The URL of a new PostgreSQL schema on the test server (dropped at the end); the test is
    skipped when no server is configured."""
    import secrets

    import sqlalchemy as sa

    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"PostgreSQL tier: set {POSTGRES_ENV} to a server URL to run it "
                    "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)")
    schema = f"cl_test_{secrets.token_hex(6)}"
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in url else "?"
    try:
        yield f"{url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """An ASGI app served by uvicorn on a free loopback port, in a thread."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def start_serve(var_dir: Path, port: int, anvil_port: int, *options: str
                ) -> subprocess.Popen[bytes]:
    """``carbon-ledger serve`` in its own process on the embedded chain (kept in ``var_dir``)."""
    state = var_dir / "anvil-state.json"
    return subprocess.Popen(
        [str(Path(sys.executable).with_name("carbon-ledger")), "serve", "--port", str(port),
         "--var-dir", str(var_dir), "--anvil-port", str(anvil_port), "--state", str(state),
         *options],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})


def wait_up(process: subprocess.Popen[bytes], url: str) -> None:
    """Waits until the served ``/health`` answers 200 (fails when the process exits first)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited early:\n{stop_serve(process)}")
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("serve did not come up within 60 s")


def stop_serve(process: subprocess.Popen[bytes]) -> str:
    """Stops a served process with SIGTERM (SIGKILL after 30 s); what it printed."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert process.stdout is not None
    with process.stdout:
        return process.stdout.read().decode()


def demo_token(url: str, client_id: str) -> dict[str, str]:
    """The authorization header of a demo client of a served process."""
    response = httpx.post(url + "/auth/token", data={"grant_type": "client_credentials"},
                          auth=(client_id, f"{client_id}-secret"))
    assert response.status_code == 200, response.text
    return {"authorization": f"Bearer {response.json()['access_token']}"}


def partner(base_url: str, client_id: str, secret: str) -> PactPartner:
    return PactPartner(base_url=base_url, client_id=client_id, client_secret=secret)
