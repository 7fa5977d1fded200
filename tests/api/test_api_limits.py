"""Hostile bodies: every write is authenticated before its body is read, and a JSON body is
refused past its size, depth and item limits before it is parsed. A body of 70,000 nested
arrays once killed ``serve`` (a dependency raises the recursion limit to 100,000 at import)."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_fixtures import (
    Service,
    demo_token,
    free_port,
    make_service,
    offline_service,
    service_settings,
    start_serve,
    stop_serve,
    wait_up,
)

from api.app import create_app
from api.errors import ApiError
from api.limits import RECURSION_LIMIT, check_json_shape
from ledger.config import ChainSettings

__all__ = ["offline_service"]
pytestmark = [pytest.mark.api]

NESTED = b"[" * 70000 + b"]" * 70000
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ROLES = ("exporter", "auditor", "buyer", "admin")


def _write_routes(app: Any) -> list[tuple[str, str]]:
    """Every write route of the app (from its OpenAPI document), path parameters filled."""
    paths = app.openapi()["paths"]
    return sorted((method.upper(), re.sub(r"\{[^}]+\}", "1", path))
                  for path, operations in paths.items() for method in operations
                  if method.upper() in WRITES)


@pytest.mark.chain
def test_nested_json_to_every_write_endpoint_of_a_running_service(
        tmp_path: Path, offline_service: Service) -> None:
    writes = _write_routes(offline_service.app)
    assert {("POST", "/v1/reports"), ("POST", "/v1/anchoring"), ("POST", "/v1/organisations"),
            ("POST", "/v1/shipments"), ("POST", "/v1/verifications"),
            ("POST", "/2/events")} <= set(writes)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = start_serve(tmp_path / "var", port, free_port())
    try:
        wait_up(process, url)
        tokens = {role: demo_token(url, f"demo-{role}") for role in ROLES}
        json_type = {"content-type": "application/json"}
        for method, path in writes:
            public = path == "/auth/token"
            answer = httpx.request(method, url + path, content=NESTED, headers=json_type,
                                   timeout=30)
            assert answer.status_code == 400, (path, answer.text)
            if not public:  # a missing token answers as PACT says, before the body is read
                assert answer.json()["code"] == "BadRequest", (path, answer.text)
                assert "token" in answer.json()["message"]
            for role in ROLES:
                answer = httpx.request(method, url + path, content=NESTED,
                                       headers={**tokens[role], **json_type}, timeout=30)
                if public:
                    assert answer.status_code == 400, (path, role, answer.text)
                    continue
                assert answer.status_code == 422, (path, role, answer.text)
                assert "max_json_depth=64" in answer.json()["message"]
                as_file = httpx.request(method, url + path, headers=tokens[role], timeout=30,
                                        files={"file": ("deep.json", NESTED,
                                                        "application/json")})
                assert as_file.status_code < 500, (path, role, as_file.text)
            assert process.poll() is None, f"{method} {path} killed the service"
            assert httpx.get(url + "/health", timeout=10).status_code == 200
    finally:
        output = stop_serve(process)
    assert "Traceback" not in output


def test_a_limited_service_names_its_limits(tmp_path: Path) -> None:
    chain = ChainSettings(rpc_url="http://127.0.0.1:9", chain_id=31337, rpc_retries=1,
                          rpc_timeout_s=1, deployments_dir=tmp_path)
    from api_fixtures import OFFLINE_DEPLOYMENT

    settings = service_settings(tmp_path, max_json_depth=6, max_json_items=50,
                                max_upload_bytes=4096)
    made = make_service(create_app(settings, chain, deployment=OFFLINE_DEPLOYMENT))
    try:
        exporter = made.ctx.create_org("Exporter", "exporter")
        headers = made.auth(exporter, **{"content-type": "application/json"})
        deep = {"shipments": [[[[[[1]]]]]]}
        answer = made.client.post("/v1/shipments", headers=headers, json=deep)
        assert answer.status_code == 422
        assert "max_json_depth=6" in answer.json()["message"]
        many = {"shipments": list(range(60))}
        answer = made.client.post("/v1/shipments", headers=headers, json=many)
        assert answer.status_code == 413
        assert "max_json_items=50" in answer.json()["message"]
        as_file = made.client.post("/v1/shipments", headers=made.auth(exporter),
                                   files={"file": ("s.json", b"[" * 7 + b"]" * 7,
                                                   "application/json")})
        assert as_file.status_code == 422 and "max_json_depth=6" in as_file.text
        big = b"[" + b"1," * 3000 + b"1]"
        answer = made.client.post("/v1/shipments", headers=headers, content=big)
        assert answer.status_code == 413
        assert "max_upload_bytes=4096" in answer.json()["message"]
        # no token: refused before the body is read, whatever its size
        answer = made.client.post("/v1/shipments", content=big,
                                  headers={"content-type": "application/json"})
        assert answer.status_code == 400 and answer.json()["code"] == "BadRequest"
        assert "token" in answer.json()["message"]
    finally:
        made.client.close()
        made.ctx.close()


@pytest.mark.parametrize(("text", "refused"), [
    (b'{"a": [1, 2, {"b": "[[[[[[[[[[[["}]}', None),  # brackets in strings do not count
    (b'"\\"[[[[[[[[[["', None),
    (b"[" * 9 + b"]" * 9, None),
    (b"[" * 11 + b"]" * 11, 422),
    (b"[" + b"1," * 20 + b"1]", None),
    (b"[" + b"1," * 25 + b"1]", 413),
    (b'{"a": 1, "b": [], "c": {}}', None),
])
def test_json_shape(text: bytes, refused: int | None) -> None:
    if refused is None:
        check_json_shape(text, 10, 25)
        return
    with pytest.raises(ApiError) as caught:
        check_json_shape(text, 10, 25)
    assert caught.value.status == refused


def test_the_service_caps_the_recursion_limit(offline_service: Service) -> None:
    import py_ecc  # noqa: F401 - the import that raises the limit

    assert sys.getrecursionlimit() <= RECURSION_LIMIT


def test_the_command_line_refuses_a_deeply_nested_file(tmp_path: Path) -> None:
    import subprocess

    deep = tmp_path / "deep.json"
    deep.write_bytes(NESTED)
    done = subprocess.run([str(Path(sys.executable).with_name("carbon-ledger")), "footprint",
                           str(deep)], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])  # not -11 (SIGSEGV)
    assert "nested too deeply" in done.stderr
