"""Service tests without a chain: tokens, roles, submissions, bad input, isolation, secrecy."""

from __future__ import annotations

import ast
import json
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from api_fixtures import EXAMPLES, Service, offline_service

from api.errors import status_of
from ledger.errors import (
    ChainError,
    ConfigError,
    ContractRevert,
    FactorError,
    InputError,
    LedgerError,
    RpcUnavailable,
    StoreBusy,
    StoreError,
    StoreUnavailable,
    WriteRefused,
)
from ledger.factors.factorset import load_factor_set
from ledger.footprint.single import compute_shipment
from ledger.inputs.read import read_shipments

__all__ = ["offline_service"]  # the fixture, shared by import
pytestmark = pytest.mark.api

DEMO_JSON = (EXAMPLES / "demo-shipments.json").read_bytes()
DEMO_CSV = (EXAMPLES / "demo-shipments.csv").read_bytes()
JSON = {"content-type": "application/json"}
CSV = {"content-type": "text/csv"}


def _count(service: Service, made: object) -> int:
    return service.ctx.store.count_shipments(made.org.id)  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------- tokens


def test_token_with_valid_credentials_basic_and_form(offline_service: Service) -> None:
    exporter = offline_service.org("Ningbo", "exporter")
    client = offline_service.client
    basic = client.post("/auth/token", data={"grant_type": "client_credentials"},
                        auth=(exporter.client_id, exporter.client_secret))
    assert basic.status_code == 200
    assert basic.json()["token_type"] == "bearer" and basic.json()["expires_in"] == 3600
    form = client.post("/auth/token", data={"grant_type": "client_credentials",
                                            "client_id": exporter.client_id,
                                            "client_secret": exporter.client_secret})
    assert form.status_code == 200
    me = client.get("/v1/me", headers={"authorization": f"Bearer {form.json()['access_token']}"})
    assert me.json()["organisation"] == "Ningbo" and me.json()["role"] == "exporter"


def test_token_refusals(offline_service: Service) -> None:
    exporter = offline_service.org("Ningbo", "exporter")
    client = offline_service.client
    wrong = client.post("/auth/token", data={"grant_type": "client_credentials"},
                        auth=(exporter.client_id, "not-the-secret"))
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    unknown = client.post("/auth/token", data={"grant_type": "client_credentials"},
                          auth=("nobody", "x"))
    assert unknown.status_code == 401
    grant = client.post("/auth/token", data={"grant_type": "password"},
                        auth=(exporter.client_id, exporter.client_secret))
    assert grant.status_code == 400 and grant.json()["error"] == "unsupported_grant_type"
    as_json = client.post("/auth/token", json={"grant_type": "client_credentials"},
                          auth=(exporter.client_id, exporter.client_secret))
    assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"
    assert "access_token" not in wrong.text + unknown.text + grant.text + as_json.text


def test_missing_invalid_and_expired_tokens(offline_service: Service) -> None:
    exporter = offline_service.org("Ningbo", "exporter")
    client = offline_service.client
    assert client.get("/v1/shipments").status_code == 400
    bad = client.get("/v1/shipments", headers={"authorization": "Bearer invalid-access-token"})
    assert bad.status_code == 400 and bad.json()["code"] == "BadRequest"
    from api.auth import _token_hash

    offline_service.ctx.store.add_token(_token_hash("old-token"), exporter.client_id,
                                        exporter.org.id, "exporter",
                                        datetime.now(UTC) - timedelta(seconds=1))
    expired = client.get("/v1/shipments", headers={"authorization": "Bearer old-token"})
    assert expired.status_code == 401 and expired.json()["code"] == "TokenExpired"


# ---------------------------------------------------------------------------------- roles


def test_each_role_is_refused_what_it_may_not_do(offline_service: Service) -> None:
    s = offline_service
    exporter, auditor = s.org("Ningbo", "exporter"), s.org("Audit", "auditor")
    buyer, admin = s.org("Buyer", "buyer"), s.org("Admin", "admin")
    for who in (auditor, buyer, admin):
        refused = s.client.post("/v1/shipments", content=DEMO_JSON, headers=s.auth(who, **JSON))
        assert refused.status_code == 403 and refused.json()["code"] == "AccessDenied"
        assert s.client.post("/v1/anchoring", headers=s.auth(who)).status_code == 403
    assert _count(s, exporter) == 0
    for who in (exporter, buyer):
        assert s.client.post("/v1/verifications", content=b"{}",
                             headers=s.auth(who, **JSON)).status_code == 403
        assert s.client.post("/v1/attestations", content=b"{}",
                             headers=s.auth(who, **JSON)).status_code == 403
    for who in (exporter, auditor, buyer):
        created = s.client.post("/v1/organisations", json={"name": "X", "role": "exporter"},
                                headers=s.auth(who))
        assert created.status_code == 403
    assert s.ctx.store.org_by_name("X") is None


def test_an_exporter_never_sees_another_organisations_shipments(offline_service: Service
                                                                 ) -> None:
    s = offline_service
    ningbo, yiwu = s.org("Ningbo", "exporter"), s.org("Yiwu", "exporter")
    assert s.client.post("/v1/shipments", content=DEMO_JSON,
                         headers=s.auth(ningbo, **JSON)).status_code == 201
    sid = "NB-APPL-2026-0001"
    assert s.client.get(f"/v1/shipments/{sid}", headers=s.auth(ningbo)).status_code == 200
    for path in (f"/v1/shipments/{sid}", f"/v1/shipments/{sid}/proof"):
        response = s.client.get(path, headers=s.auth(yiwu))
        assert response.status_code == 404, path
        assert "Ningbo" not in response.text
    listed = s.client.get("/v1/shipments", headers=s.auth(yiwu)).json()
    assert listed["total"] == 0 and listed["shipments"] == []
    anchor = s.client.post("/v1/anchoring", json={"shipment_ids": [sid]}, headers=s.auth(yiwu))
    assert anchor.status_code == 404
    report = s.client.post("/v1/reports", json={"shipment_ids": [sid], "first_day": "2026-01-01",
                                                "last_day": "2026-03-31"}, headers=s.auth(yiwu))
    assert report.status_code == 404
    assert s.client.get("/v1/summary", headers=s.auth(yiwu)).json()["shipments"] == 0


# ---------------------------------------------------------------------------------- submissions


def test_json_submission_stores_the_engines_footprints(offline_service: Service) -> None:
    s = offline_service
    exporter = s.org("Ningbo", "exporter")
    response = s.client.post("/v1/shipments", content=DEMO_JSON, headers=s.auth(exporter, **JSON))
    assert response.status_code == 201
    body = response.json()
    expected = {sh.shipment_id: compute_shipment(sh, load_factor_set())
                for sh in read_shipments(EXAMPLES / "demo-shipments.json")}
    assert body["created"] == len(expected)
    for item in body["shipments"]:
        footprint = expected[item["shipment_id"]]
        assert item["co2e_wtw_g"] == footprint.co2e_wtw_g
        assert item["co2e_ttw_g"] == footprint.co2e_ttw_g
        assert item["total_co2e_g"] == footprint.total_co2e_g
    one = s.client.get("/v1/shipments/NB-APPL-2026-0001", headers=s.auth(exporter)).json()
    assert one["footprint"] == expected["NB-APPL-2026-0001"].to_dict()
    assert one["anchoring"]["state"] == "pending"
    summary = s.client.get("/v1/summary", headers=s.auth(exporter)).json()
    assert summary["co2e_wtw_g"] == sum(f.co2e_wtw_g for f in expected.values())
    assert sum(summary["wtw_by_mode_g"].values()) == summary["co2e_wtw_g"]
    legs_by_mode: dict[str, int] = {}
    for footprint in expected.values():
        for leg in footprint.legs:
            legs_by_mode[leg.mode] = legs_by_mode.get(leg.mode, 0) + leg.co2e_wtw_g
    assert summary["wtw_by_mode_g"] == legs_by_mode


def test_submission_is_idempotent_by_shipment_id(offline_service: Service) -> None:
    s = offline_service
    exporter = s.org("Ningbo", "exporter")
    first = s.client.post("/v1/shipments", content=DEMO_CSV, headers=s.auth(exporter, **CSV))
    assert first.status_code == 201
    again = s.client.post("/v1/shipments", content=DEMO_JSON, headers=s.auth(exporter, **JSON))
    assert again.status_code == 200
    assert again.json()["unchanged"] == first.json()["created"] and again.json()["created"] == 0
    changed = json.loads(DEMO_JSON)
    changed["shipments"][0]["legs"][0]["mass_kg"] = "13000"
    replaced = s.client.post("/v1/shipments", json=changed, headers=s.auth(exporter))
    assert replaced.json()["replaced"] == 1
    assert _count(s, exporter) == first.json()["created"]
    stored = s.client.get("/v1/shipments/NB-APPL-2026-0001", headers=s.auth(exporter)).json()
    assert stored["shipment"]["legs"][0]["mass_kg"] == "13000"


def test_multipart_upload_of_a_csv_file(offline_service: Service) -> None:
    s = offline_service
    exporter = s.org("Ningbo", "exporter")
    response = s.client.post("/v1/shipments", headers=s.auth(exporter),
                             files={"file": ("shipments.csv", DEMO_CSV, "text/csv")})
    assert response.status_code == 201 and response.json()["created"] == 4


@pytest.mark.parametrize(("body", "headers", "status", "words"), [
    (b'{"shipments": [', JSON, 400, "not valid JSON"),
    (b"shipment_id;leg\n", {"content-type": "text/plain"}, 415, "unsupported content type"),
    ("shipment_id,leg,mode,mass_kg\nNB-1,1,road,12000,Ningbo\u00e9\n".encode("latin-1"), CSV,
     422, "not UTF-8"),
    (b"shipment_id,leg,mass_kg\nNB-1,1,12000\n", CSV, 422, "required column 'mode' is missing"),
    (b"", JSON, 400, "empty"),
    (b'{"shipments": "no"}', JSON, 422, "'shipments' list"),
])
def test_bad_input_is_refused_with_a_clear_message_and_nothing_stored(
        offline_service: Service, body: bytes, headers: dict[str, str], status: int,
        words: str) -> None:
    s = offline_service
    exporter = s.org("Ningbo", "exporter")
    response = s.client.post("/v1/shipments", content=body, headers=s.auth(exporter, **headers))
    assert response.status_code == status, response.text
    assert words in response.text
    assert set(response.json()) >= {"code", "message"}
    assert _count(s, exporter) == 0


def test_row_level_problems_name_row_and_field(offline_service: Service) -> None:
    s = offline_service
    exporter = s.org("Ningbo", "exporter")
    bad = (EXAMPLES / "bad-shipments.csv").read_bytes()
    good_then_bad = DEMO_CSV + bad.split(b"\n", 1)[1]
    response = s.client.post("/v1/shipments", content=good_then_bad,
                             headers=s.auth(exporter, **CSV))
    assert response.status_code == 422
    problems = response.json()["problems"]
    assert problems and all(p["row"] and p["field"] for p in problems)
    assert any(p["field"] == "mode" and "see" in p["message"] for p in problems)
    assert _count(s, exporter) == 0  # the valid shipments of the file are not stored either


def test_oversized_uploads_are_refused(tmp_path: Path, offline_service: Service) -> None:
    s = offline_service
    exporter = s.org("Ningbo", "exporter")
    limit = s.ctx.settings.max_upload_bytes
    huge = b"[" + b" " * limit + b"]"
    response = s.client.post("/v1/shipments", content=huge, headers=s.auth(exporter, **JSON))
    assert response.status_code == 413 and response.json()["code"] == "PayloadTooLarge"
    many = {"shipments": [dict(json.loads(DEMO_JSON)["shipments"][1], shipment_id=f"S-{i}")
                          for i in range(s.ctx.settings.max_shipments + 1)]}
    response = s.client.post("/v1/shipments", json=many, headers=s.auth(exporter))
    assert response.status_code == 413 and "split it" in response.json()["message"]
    assert _count(s, exporter) == 0


def test_a_failed_write_leaves_no_shipment_half_recorded(offline_service: Service,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    s = offline_service
    exporter = s.org("Ningbo", "exporter")
    from api import store as store_module

    real = store_module.ServiceStore.put_shipments

    def failing(self, org_id, new, replaced):  # type: ignore[no-untyped-def]
        # the first half is written, then the database refuses (a duplicate key)
        return real(self, org_id, [*new, new[0]], replaced)

    monkeypatch.setattr(store_module.ServiceStore, "put_shipments", failing)
    response = s.client.post("/v1/shipments", content=DEMO_JSON, headers=s.auth(exporter, **JSON))
    assert response.status_code == 409
    assert _count(s, exporter) == 0


# ---------------------------------------------------------------------------------- secrecy


def test_organisation_keys_are_never_returned_or_logged(offline_service: Service,
                                                         caplog: pytest.LogCaptureFixture
                                                         ) -> None:
    s = offline_service
    admin = s.org("Admin", "admin")
    key = "0x" + "4f" * 32
    with caplog.at_level(logging.DEBUG):
        created = s.client.post("/v1/organisations",
                                json={"name": "Haiyan", "role": "exporter", "private_key": key},
                                headers=s.auth(admin))
        listed = s.client.get("/v1/organisations", headers=s.auth(admin))
    assert created.status_code == 201
    from eth_account import Account

    assert created.json()["address"] == Account.from_key(key).address
    texts = created.text + listed.text + caplog.text + repr(s.ctx.keyring)
    assert "4f4f4f4f" not in texts and "keystore" not in listed.text
    stored = s.ctx.store.org_by_name("Haiyan")
    assert stored is not None and stored.keystore is not None and "4f4f4f4f" not in stored.keystore
    assert s.ctx.keyring.open(stored.keystore).secret() == bytes.fromhex("4f" * 32)
    # the secret is shown once, and it works
    assert s.client.post("/auth/token", data={"grant_type": "client_credentials"},
                         auth=(created.json()["client_id"],
                               created.json()["client_secret"])).status_code == 200


def test_openid_configuration_names_the_token_endpoint(offline_service: Service) -> None:
    found = offline_service.client.get("/.well-known/openid-configuration").json()
    assert found["token_endpoint"] == "http://testserver/auth/token"


def test_a_job_records_the_progress_its_work_reports(offline_service: Service) -> None:
    s = offline_service
    org = s.ctx.create_org("Jobs", "buyer").org
    reported, release = threading.Event(), threading.Event()

    def work(report: Callable[[str, int, int], None]) -> dict[str, object]:
        report("halfway", 5, 10)
        reported.set()
        release.wait(10)
        return {"ok": True}

    job_id = s.ctx.jobs.start(org.id, "test", {}, work)
    assert reported.wait(10)
    job = s.ctx.store.job(job_id)
    assert job is not None
    assert (job.state, job.phase, job.done, job.total) == ("running", "halfway", 5, 10)
    release.set()
    s.ctx.jobs.wait(job_id, 10)
    job = s.ctx.store.job(job_id)
    assert job is not None and (job.state, job.result) == ("done", {"ok": True})


# ---------------------------------------------------------------------------------- mapping


@pytest.mark.parametrize(("error", "status", "code"), [
    (InputError("bad"), 422, "InvalidInput"),
    (FactorError("no factor"), 422, "InvalidInput"),
    (ContractRevert("reverted", "NotExporter"), 409, "ChainRefused"),
    (RpcUnavailable("down"), 503, "ChainUnavailable"),
    (ChainError("odd"), 502, "ChainError"),
    (StoreUnavailable("the ledger store is unavailable: locked"), 503, "StoreUnavailable"),
    (WriteRefused("the ledger store refused a write"), 409, "Conflict"),
    (StoreBusy("another run is sending transactions"), 409, "Conflict"),
    # the kind is the class, never the text: a plain StoreError is a conflict whatever it says
    (StoreError("batch 7 is unavailable in this transaction"), 409, "Conflict"),
    (ConfigError("no deployment"), 503, "NotConfigured"),
    (LedgerError("other"), 400, "BadRequest"),
])
def test_library_errors_map_to_http_statuses(error: LedgerError, status: int, code: str) -> None:
    assert status_of(error)[:2] == (status, code)


# ---------------------------------------------------------------------------------- layering

API = Path(__file__).resolve().parents[2] / "api"


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at module level or inside functions."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _api_modules() -> dict[str, Path]:
    return {".".join(("api", *path.relative_to(API).with_suffix("").parts)).removesuffix(
        ".__init__"): path for path in API.rglob("*.py")}


def test_the_service_imports_nothing_from_the_command_line() -> None:
    # the CLI's serve imports the service; the service calls the library, never the CLI
    offending = {name: sorted(i for i in _imports(path)
                              if i == "ledger.cli" or i.startswith("ledger.cli."))
                 for name, path in _api_modules().items()}
    assert {name: found for name, found in offending.items() if found} == {}


def test_the_service_modules_import_no_circle() -> None:
    modules = _api_modules()
    graph = {name: {i for i in _imports(path) if i in modules and i != name}
             for name, path in modules.items()}

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), list(graph[start])
        while todo:
            current = todo.pop()
            if current == goal:
                return True
            if current not in seen:
                seen.add(current)
                todo.extend(graph[current])
        return False

    circles = sorted(name for name in graph if reaches(name, name))
    assert circles == []
    assert "api.anchoring" in graph["api.app"]  # the check sees the imports it looks for


def test_a_carrier_leg_is_stored_and_its_intensity_used(offline_service: Service) -> None:
    s = offline_service
    exporter = s.org("Ningbo", "exporter")
    # iLEAP 1.0 end-to-end example: TTW 0.153, WTW 0.17 kg CO2e/t.km over 321 km, 87 kg
    carrier = {"carrier_co2e_ttw_kg_per_tkm": "0.153", "carrier_co2e_wtt_kg_per_tkm": "0.017",
               "carrier_source": "operator-z-truck-89sdff", "carrier_period": "2024",
               "carrier_verified": True}
    body = {"shipments": [{"shipment_id": "NB-CARRIER-1", "legs": [
        {"leg": 1, "mode": "road", "mass_kg": "87", "distance_km": "321", **carrier},
        {"leg": 2, "mode": "road", "mass_kg": "87", "distance_km": "423"}]}]}
    response = s.client.post("/v1/shipments", json=body, headers=s.auth(exporter))
    assert response.status_code == 201, response.text
    from ledger.inputs.shipments import shipments_from_json

    (shipment,) = shipments_from_json(body)
    expected = compute_shipment(shipment, load_factor_set())
    assert expected.legs[0].data_type == "primary"
    (item,) = response.json()["shipments"]
    assert (item["co2e_ttw_g"], item["co2e_wtw_g"]) == (expected.co2e_ttw_g, expected.co2e_wtw_g)
    stored = s.client.get("/v1/shipments/NB-CARRIER-1", headers=s.auth(exporter)).json()
    first = stored["shipment"]["legs"][0]
    assert {key: first.get(key) for key in carrier} == carrier
    assert stored["footprint"] == expected.to_dict()
    assert stored["footprint"]["legs"][0]["factor_ttw"] == \
        "record#carrier_co2e_ttw_kg_per_tkm=0.153"
