"""Client authentication under attack: the same work for unknown and known clients, back-off
per client id and per address, no unchecked ``Host`` in generated URLs, server timeouts for
slow headers and bodies, and client and token revocation by admins."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from api_fixtures import (
    OFFLINE_DEPLOYMENT,
    Service,
    TestClient,
    free_port,
    make_service,
    offline_service,
    service_settings,
)

import api.auth
from api.app import create_app
from api.ratelimit import AuthLimiter
from api.server import server_config
from ledger.config import ChainSettings

__all__ = ["offline_service"]
pytestmark = pytest.mark.api

FORM = {"grant_type": "client_credentials"}


def _app(tmp_path: Path, **overrides: Any) -> Any:
    chain = ChainSettings(rpc_url="http://127.0.0.1:9", chain_id=31337, rpc_retries=1,
                          rpc_timeout_s=1, deployments_dir=tmp_path)
    return create_app(service_settings(tmp_path, **overrides), chain,
                      deployment=OFFLINE_DEPLOYMENT)


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[Service]:
    made = make_service(_app(tmp_path, auth_free_failures=2, auth_backoff_s=60))
    try:
        yield made
    finally:
        made.client.close()
        made.ctx.close()


# ---------------------------------------------------------------------------------- same work


def test_an_unknown_client_costs_the_same_secret_check(offline_service: Service,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    s = offline_service
    known = s.org("Ningbo", "exporter")
    checks: list[str] = []
    real = api.auth.verify_secret

    def counted(secret: str, stored: str) -> bool:
        checks.append(stored.split("$", maxsplit=1)[0])
        return real(secret, stored)

    monkeypatch.setattr(api.auth, "verify_secret", counted)
    for client_id in ("no-such-client", known.client_id):
        answer = s.client.post("/auth/token", data=FORM, auth=(client_id, "wrong"))
        assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"
    assert checks == ["scrypt", "scrypt"]  # one full scrypt check each
    unknown, wrong = (s.client.post("/auth/token", data=FORM, auth=(c, "wrong")).json()
                      for c in ("nobody-else", known.client_id))
    assert unknown == wrong  # the same answer, word for word


# ---------------------------------------------------------------------------------- back-off


def test_failed_authentications_back_off_per_client(limited: Service) -> None:
    s = limited
    victim = s.org("Victim", "exporter")
    for _ in range(3):  # two free failures, then the third blocks
        assert s.client.post("/auth/token", data=FORM,
                             auth=(victim.client_id, "guess")).status_code == 401
    blocked = s.client.post("/auth/token", data=FORM,
                            auth=(victim.client_id, victim.client_secret))
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) >= 1
    assert "access_token" not in blocked.text and "try again" in blocked.json()["message"]
    # another address may still use another client, but not the blocked one
    other = s.org("Other", "exporter")
    elsewhere = TestClient(s.app, client=("192.0.2.7", 40000))
    try:
        assert elsewhere.post("/auth/token", data=FORM, auth=(
            other.client_id, other.client_secret)).status_code == 200
        assert elsewhere.post("/auth/token", data=FORM, auth=(
            victim.client_id, victim.client_secret)).status_code == 429
    finally:
        elsewhere.close()


def test_failed_authentications_back_off_per_address(limited: Service) -> None:
    s = limited
    honest = s.org("Honest", "exporter")
    guesser = TestClient(s.app, client=("198.51.100.9", 40000))
    try:
        for n in range(3):  # a different made-up client id each time
            assert guesser.post("/auth/token", data=FORM,
                                auth=(f"made-up-{n}", "x")).status_code == 401
        refused = guesser.post("/auth/token", data=FORM,
                               auth=(honest.client_id, honest.client_secret))
        assert refused.status_code == 429 and "this address" in refused.json()["message"]
    finally:
        guesser.close()
    assert s.client.post("/auth/token", data=FORM,  # from another address: fine
                         auth=(honest.client_id, honest.client_secret)).status_code == 200


def test_the_limiter_doubles_its_back_off_and_forgets() -> None:
    now = [1000.0]
    limiter = AuthLimiter(free=1, base_s=2, max_s=10, window_s=100, clock=lambda: now[0])
    limiter.failed("k")
    assert limiter.blocked("k") is None  # one free failure
    waits = []
    for _ in range(4):
        limiter.failed("k")
        found = limiter.blocked("k")
        assert found is not None
        waits.append(found.retry_after_s)
    assert waits == [2, 4, 8, 10]  # doubled, capped
    now[0] += 11
    assert limiter.blocked("k") is None
    now[0] += 200  # past the window: counting starts again
    limiter.failed("k")
    assert limiter.blocked("k") is None
    limiter.succeeded("k")
    small = AuthLimiter(free=0, base_s=1, max_keys=3, clock=lambda: now[0])
    for key in "abcd":
        small.failed(key)
    assert small.blocked("a") is None and small.blocked("d") is not None  # bounded memory


# ---------------------------------------------------------------------------------- hosts


def test_generated_urls_never_take_an_unchecked_host(tmp_path: Path) -> None:
    plain = make_service(_app(tmp_path / "a"))
    trusted = make_service(_app(tmp_path / "b", trusted_hosts=("ledger.example",)))
    public = make_service(_app(tmp_path / "c", public_url="https://carbon.example/"))
    try:
        evil = {"host": "evil.example"}
        found = plain.client.get("/.well-known/openid-configuration", headers=evil).json()
        assert "evil" not in str(found) and found["issuer"] == "http://testserver"
        refused = trusted.client.get("/.well-known/openid-configuration", headers=evil)
        assert refused.status_code == 400 and "evil" not in refused.text.replace(
            "Invalid host header", "")
        ok = trusted.client.get("/.well-known/openid-configuration",
                                headers={"host": "ledger.example"}).json()
        assert ok["token_endpoint"] == "http://ledger.example/auth/token"
        fixed = public.client.get("/.well-known/openid-configuration", headers=evil).json()
        assert fixed["issuer"] == "https://carbon.example"
    finally:
        for made in (plain, trusted, public):
            made.client.close()
            made.ctx.close()


# ---------------------------------------------------------------------------------- timeouts


class _Served:
    def __init__(self, app: Any, settings: Any) -> None:
        self.port = free_port()
        config = server_config(app, settings, host="127.0.0.1", port=self.port,
                               log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> _Served:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def _read_all(sock: socket.socket) -> bytes:
    sock.settimeout(10)
    data = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            return data
        data += chunk


def test_slow_headers_and_bodies_are_cut_off(tmp_path: Path) -> None:
    app = _app(tmp_path, header_timeout_s=0.5, body_timeout_s=0.5)
    ctx = app.state.ctx
    admin = ctx.create_org("Admin", "admin")
    try:
        with _Served(app, ctx.settings) as served:
            with socket.create_connection(("127.0.0.1", served.port)) as half:
                half.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # never ends
                answer = _read_all(half)  # the server closes it
            assert answer.startswith(b"HTTP/1.1 408")
            token = TestClient(app).post("/auth/token", data=FORM,
                                         auth=(admin.client_id, admin.client_secret))
            bearer = token.json()["access_token"]
            with socket.create_connection(("127.0.0.1", served.port)) as slow:
                slow.sendall(b"POST /v1/organisations HTTP/1.1\r\nHost: x\r\n"
                             b"authorization: Bearer " + bearer.encode() + b"\r\n"
                             b"content-type: application/json\r\ncontent-length: 100\r\n\r\n"
                             b'{"name":')  # then nothing
                answer = _read_all(slow)
            assert answer.startswith(b"HTTP/1.1 408") and b"body_timeout_s" in answer
            with socket.create_connection(("127.0.0.1", served.port)) as normal:
                normal.sendall(b"GET /v1/me HTTP/1.1\r\nHost: x\r\nconnection: close\r\n"
                               b"authorization: Bearer " + bearer.encode() + b"\r\n\r\n")
                assert _read_all(normal).startswith(b"HTTP/1.1 200")
    finally:
        ctx.close()


# ---------------------------------------------------------------------------------- revocation


def test_admins_revoke_clients_and_tokens(offline_service: Service) -> None:
    s = offline_service
    admin, exporter = s.org("Admin", "admin"), s.org("Ningbo", "exporter")
    second_id, second_secret = s.ctx.add_client(exporter.org.id)
    token = s.token(exporter)
    listed = s.client.get(f"/v1/organisations/{exporter.org.id}/clients",
                          headers=s.auth(admin)).json()["clients"]
    assert {c["client_id"] for c in listed} == {exporter.client_id, second_id}
    assert "secret" not in str(listed)
    assert s.client.get("/v1/me", headers={"authorization": f"Bearer {token}"}
                        ).status_code == 200
    by_exporter = s.client.delete(f"/v1/clients/{exporter.client_id}", headers=s.auth(exporter))
    assert by_exporter.status_code == 403
    gone = s.client.delete(f"/v1/clients/{exporter.client_id}", headers=s.auth(admin))
    assert gone.status_code == 200
    assert s.client.get("/v1/me", headers={"authorization": f"Bearer {token}"}
                        ).status_code == 400  # its token is refused at once
    assert s.client.post("/auth/token", data=FORM, auth=(
        exporter.client_id, exporter.client_secret)).status_code == 401
    assert s.client.delete(f"/v1/clients/{exporter.client_id}",
                           headers=s.auth(admin)).status_code == 404
    revoked = [c for c in s.client.get(f"/v1/organisations/{exporter.org.id}/clients",
                                       headers=s.auth(admin)).json()["clients"]
               if c["revoked_at"]]
    assert [c["client_id"] for c in revoked] == [exporter.client_id]

    other = s.client.post("/auth/token", data=FORM, auth=(second_id, second_secret))
    other_token = other.json()["access_token"]
    assert s.client.post("/v1/tokens/revoke", json={"token": other_token},
                         headers=s.auth(admin)).status_code == 200
    assert s.client.get("/v1/me", headers={"authorization": f"Bearer {other_token}"}
                        ).status_code == 400
    assert s.client.post("/v1/tokens/revoke", json={"token": other_token},
                         headers=s.auth(admin)).status_code == 404
    assert s.client.post("/auth/token", data=FORM,  # the client itself still works
                         auth=(second_id, second_secret)).status_code == 200
