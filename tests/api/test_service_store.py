"""The service's tables (their own alembic branch, ``api/migrations``) on SQLite, and on
PostgreSQL when one is given; stores made before the tables left the ledger's migrations.

The PostgreSQL tier uses ``CARBON_LEDGER_TEST_POSTGRES_URL`` (e.g.
``postgresql+psycopg://postgres@127.0.0.1:5432/test``): each test session works in a fresh schema
that is dropped at the end, and the migration tests each in a fresh database. Without the
variable those tests are skipped, with that reason.
"""

from __future__ import annotations

import gc
import json
import os
import secrets
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from api_fixtures import (
    OFFLINE_DEPLOYMENT,
    POSTGRES_ENV,
    make_service,
    postgres_schema,
    service_settings,
)
from hypothesis import given
from hypothesis import strategies as st

from api.app import create_app
from api.ingest import paused_collector, shipment_json
from api.migrations import SCRIPT_LOCATION, VERSION_TABLE
from api.store import NewShipment, ServiceStore, open_service_store
from ledger.config import ChainSettings
from ledger.errors import StoreError, WriteRefused
from ledger.store import store as store_module
from ledger.store.store import open_store

SERVICE_TABLES = {"service_organisations", "service_clients", "service_tokens",
                  "service_shipments", "service_jobs", "service_reports", "service_footprints",
                  "service_verifications", "service_attestations", "service_pact_events",
                  "service_key_owners", "service_footprint_grants", "service_access_requests"}


@pytest.fixture(scope="session")
def postgres_schema_url() -> Iterator[str]:
    with postgres_schema() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def service_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServiceStore]:
    if request.param == "sqlite":
        url = str(tmp_path / "store.sqlite")
    else:
        url = request.getfixturevalue("postgres_schema_url")
    ledger = open_store(url)
    store = open_service_store(ledger)
    if request.param == "postgres":  # one schema per session: start each test empty
        with store._engine.begin() as conn:
            for table in ("service_tokens", "service_clients", "service_shipments",
                          "service_jobs", "service_reports", "service_footprints",
                          "service_key_owners", "service_footprint_grants",
                          "service_access_requests", "service_organisations"):
                conn.execute(sa.text(f"DELETE FROM {table}"))
    try:
        yield store
    finally:
        ledger.close()


def _shipment(sid: str, wtw: int = 1000, **modes: int) -> NewShipment:
    return NewShipment(shipment_id=sid, content_hash=sid.encode().hex()[:64].ljust(64, "0"),
                       shipment_json=f'{{"shipment_id": "{sid}"}}', factor_set_id="0x" + "ab" * 32,
                       activity_tkm="12.5", co2e_ttw_g=wtw - 100, co2e_wtw_g=wtw,
                       total_co2e_g=wtw, wtw_by_mode_g=modes or {"road": wtw})


def _config(location: Path) -> Config:
    config = Config()
    config.set_main_option("script_location", str(location))
    config.set_main_option("path_separator", "os")
    return config


LEDGER_MIGRATIONS = _config(Path(store_module.__file__).parent / "migrations")
SERVICE_MIGRATIONS = _config(SCRIPT_LOCATION)


def _head(config: Config) -> str | None:
    return ScriptDirectory.from_config(config).get_current_head()


def _versions(engine: sa.Engine) -> dict[str, str | None]:
    """The revision each branch's version table holds (None: no such table)."""
    tables = set(sa.inspect(engine).get_table_names())
    out: dict[str, str | None] = {}
    with engine.connect() as conn:
        for table in ("alembic_version", VERSION_TABLE):
            out[table] = conn.execute(sa.text(f"SELECT version_num FROM {table}")).scalar() \
                if table in tables else None
    return out


def test_migration_creates_the_service_tables(service_store: ServiceStore) -> None:
    tables = set(sa.inspect(service_store._engine).get_table_names())
    assert tables >= SERVICE_TABLES
    # each branch versioned apart: the ledger's head in alembic_version, the service's in its own
    assert _versions(service_store._engine) == {"alembic_version": _head(LEDGER_MIGRATIONS),
                                                VERSION_TABLE: _head(SERVICE_MIGRATIONS)}
    ledger_revisions = {rev.revision for rev in
                        ScriptDirectory.from_config(LEDGER_MIGRATIONS).walk_revisions()}
    assert "0002_service_tables" in ledger_revisions  # kept, empty, for stores stamped at it


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database (a fresh PostgreSQL database, dropped afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite'}"
        return
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"PostgreSQL tier: set {POSTGRES_ENV} to a server URL to run it")
    name = f"cl_migrate_{secrets.token_hex(6)}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.engine.make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _make_old_store(url: str, revision: str) -> None:
    """A store as the library left it when the service's tables were the ledger's revision
    ``0002_service_tables``: the ledger's chain up to ``revision`` and the service's tables
    (the very statements of the former 0002, which the service's first revision now runs) with
    no service version table; one organisation and its client in them."""
    engine = sa.create_engine(url)
    try:
        for config, target in ((LEDGER_MIGRATIONS, revision),
                               (SERVICE_MIGRATIONS, "service_0001_tables")):
            with engine.begin() as conn:
                config.attributes["connection"] = conn
                command.upgrade(config, target)
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP TABLE {VERSION_TABLE}"))
            conn.execute(sa.text("INSERT INTO service_organisations (name, role, created_at) "
                                 "VALUES ('Old exporter', 'exporter', :now)"),
                         {"now": datetime.now(UTC)})
        assert _versions(engine) == {"alembic_version": revision, VERSION_TABLE: None}
    finally:
        engine.dispose()


def test_a_store_opened_by_the_library_has_no_service_tables(empty_database: str) -> None:
    with open_store(empty_database) as ledger:
        tables = set(sa.inspect(ledger.engine).get_table_names())
        assert {t for t in tables if t.startswith("service_")} == set()
        assert _versions(ledger.engine) == {"alembic_version": _head(LEDGER_MIGRATIONS),
                                            VERSION_TABLE: None}
        open_service_store(ledger)  # the service adds its own, on the same database
        tables = set(sa.inspect(ledger.engine).get_table_names())
        assert tables >= SERVICE_TABLES | {VERSION_TABLE}


@pytest.mark.parametrize("revision", ["0002_service_tables", "0003_record_blocks"])
def test_a_store_made_with_the_service_tables_in_the_ledger_chain_upgrades(
        empty_database: str, revision: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from api.store import metadata

    _make_old_store(empty_database, revision)
    with open_store(empty_database) as ledger:
        assert _versions(ledger.engine)["alembic_version"] == _head(LEDGER_MIGRATIONS)
        store = open_service_store(ledger)  # takes the tables over as they are
        assert _versions(ledger.engine) == {"alembic_version": _head(LEDGER_MIGRATIONS),
                                            VERSION_TABLE: _head(SERVICE_MIGRATIONS)}
        old = store.org_by_name("Old exporter")
        assert old is not None and old.role == "exporter"
        store.add_client("cl_old", old.id, "scrypt$00$00")
        assert store.client("cl_old") == (old.id, "scrypt$00$00")
        with ledger.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={
                "compare_type": True,
                "include_name": lambda name, type_, _p: type_ != "table" or name in SERVICE_TABLES})
            assert compare_metadata(context, metadata) == []
    with open_store(empty_database) as again:  # and once more: nothing left to do
        assert open_service_store(again).org_by_name("Old exporter") is not None


@pytest.mark.api
@pytest.mark.parametrize("old", [False, True], ids=["fresh", "old"])
def test_the_service_starts_on_fresh_and_old_stores(empty_database: str, tmp_path: Path,
                                                    old: bool) -> None:
    if old:
        _make_old_store(empty_database, "0003_record_blocks")
    chain = ChainSettings(rpc_url="http://127.0.0.1:9", chain_id=31337, rpc_retries=1,
                          rpc_timeout_s=1, deployments_dir=tmp_path)
    app = create_app(service_settings(tmp_path, store_url=empty_database), chain,
                     deployment=OFFLINE_DEPLOYMENT)
    service = make_service(app)
    try:
        admin = service.ctx.create_org("Admin", "admin")
        listed = service.client.get("/v1/organisations", headers=service.auth(admin))
        assert listed.status_code == 200, listed.text
        names = [o["name"] for o in listed.json()["organisations"]]
        assert names == (["Old exporter", "Admin"] if old else ["Admin"])
    finally:
        service.client.close()
        service.ctx.close()


def test_shipments_round_trip_and_totals(service_store: ServiceStore) -> None:
    org = service_store.add_org("Ningbo", "exporter", "0x" + "11" * 20, "{}")
    service_store.put_shipments(org.id, [_shipment("A", 1000, road=400, sea=600),
                                         _shipment("B", 500, rail=500)], [])
    assert service_store.content_hashes(org.id, ["A", "B", "C"]).keys() == {"A", "B"}
    row = service_store.shipment(org.id, "A")
    assert row is not None and row.wtw_by_mode_g == {"road": 400, "sea": 600}
    service_store.put_shipments(org.id, [], [_shipment("B", 700, rail=700)])
    months = service_store.monthly_totals(org.id)
    assert len(months) == 1
    assert months[0]["co2e_wtw_g"] == 1700 and months[0]["shipments"] == 2
    assert months[0]["wtw_by_mode_g"] == {"road": 400, "rail": 700, "sea": 600}
    other = service_store.add_org("Yiwu", "exporter", "0x" + "22" * 20, "{}")
    assert service_store.shipment(other.id, "A") is None
    assert service_store.count_shipments(other.id) == 0


def test_a_refused_write_stores_nothing(service_store: ServiceStore) -> None:
    org = service_store.add_org("Ningbo", "exporter", None, None)
    batch = [_shipment(f"S-{i}") for i in range(50)]
    with pytest.raises(WriteRefused, match="refused a write"):
        service_store.put_shipments(org.id, [*batch, batch[0]], [])
    assert service_store.count_shipments(org.id) == 0
    with pytest.raises(WriteRefused, match="exists already"):
        service_store.add_org("Ningbo", "auditor", None, None)


def test_report_and_its_footprints_are_published_together(service_store: ServiceStore) -> None:
    org = service_store.add_org("Ningbo", "exporter", None, None)
    document = {"id": "urn:uuid:r1", "credentialSubject": {"shipmentIds": ["A"]}}
    footprints = [{"id": f"00000000-0000-4000-8000-00000000000{i}", "created": "2026-01-01",
                   "productIds": [f"urn:x:{i}"]} for i in range(3)]
    service_store.add_report(org.id, "urn:uuid:r1", "0x01", document=document, cbam_xml=None,
                             pact_footprints=footprints)
    page, total = service_store.footprints_page(None, 2, 0)
    assert total == 3 and [f["id"] for f in page] == [f["id"] for f in footprints[:2]]
    newer = dict(footprints[0], created="2026-02-01")
    with pytest.raises(StoreError):  # the same report id twice: nothing of it is kept
        service_store.add_report(org.id, "urn:uuid:r1", "0x02", document=document,
                                 cbam_xml=None, pact_footprints=[newer])
    assert service_store.footprint(footprints[0]["id"])[1]["created"] == "2026-01-01"  # type: ignore[index]
    service_store.add_report(org.id, "urn:uuid:r2", "0x02", document=document, cbam_xml=b"<x/>",
                             pact_footprints=[newer])
    page, total = service_store.footprints_page(org.id, 10, 0)
    assert total == 3 and page[-1] == newer  # the latest version, listed once
    assert service_store.footprints_for_products(["urn:x:2"]) == [footprints[2]]
    assert service_store.report("urn:uuid:r2") == (org.id, document, b"<x/>")


def test_tokens_and_jobs(service_store: ServiceStore) -> None:
    org = service_store.add_org("Ningbo", "exporter", None, None)
    service_store.add_client("cl_1", org.id, "scrypt$00$00")
    later = datetime.now(UTC) + timedelta(hours=1)
    service_store.add_token("a" * 64, "cl_1", org.id, "exporter", later)
    token = service_store.token("a" * 64)
    assert token is not None and token.role == "exporter"
    assert abs((token.expires_at - later).total_seconds()) < 1
    service_store.add_token("b" * 64, "cl_1", org.id, "exporter",
                            datetime.now(UTC) - timedelta(seconds=1))
    service_store.add_token("c" * 64, "cl_1", org.id, "exporter", later)  # purges expired ones
    assert service_store.token("b" * 64) is None
    job = service_store.add_job("job-1", org.id, "anchor", {"shipment_ids": None})
    assert job.state == "queued" and [j.id for j in service_store.open_jobs()] == ["job-1"]
    service_store.update_job("job-1", state="done", phase="done", result={"anchored": 2})
    done = service_store.job("job-1")
    assert done is not None and done.result == {"anchored": 2}
    assert service_store.open_jobs() == []


def test_concurrent_submissions_lose_no_write(service_store: ServiceStore) -> None:
    org = service_store.add_org("Ningbo", "exporter", None, None)
    errors: list[BaseException] = []

    def writer(prefix: str) -> None:
        try:
            for chunk in range(5):
                service_store.put_shipments(
                    org.id, [_shipment(f"{prefix}-{chunk}-{i}") for i in range(100)], [])
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(f"T{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert service_store.count_shipments(org.id) == 4 * 5 * 100


def test_the_tables_match_the_migration(service_store: ServiceStore) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from api.store import metadata

    def only_service(name: str | None, type_: str, _parents: object) -> bool:
        return type_ != "table" or name in SERVICE_TABLES

    with service_store._engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": only_service})
        assert compare_metadata(context, metadata) == []


def test_a_bulk_insert_stores_every_field_as_given(service_store: ServiceStore) -> None:
    org = service_store.add_org("Ningbo", "exporter", None, None)
    before = datetime.now(UTC)
    made = [NewShipment(shipment_id=f"長-{i}", content_hash=f"{i:064x}",
                        shipment_json=json.dumps({"shipment_id": f"長-{i}", "note": "港口"},
                                                 ensure_ascii=False),
                        factor_set_id="0x" + "cd" * 32, activity_tkm=f"{i}.123456789",
                        co2e_ttw_g=2**40 + i, co2e_wtw_g=2**41 + i, total_co2e_g=2**42 + i,
                        wtw_by_mode_g={"sea": 2**41 + i} if i % 2 else {"road": 7, "air": i + 1})
            for i in range(1200)]  # over one chunk of the reads
    service_store.put_shipments(org.id, made, [])
    after = datetime.now(UTC)
    assert service_store.count_shipments(org.id) == 1200
    for one in (made[0], made[777], made[-1]):
        row = service_store.shipment(org.id, one.shipment_id)
        assert row is not None
        assert (row.content_hash, row.shipment_json, row.factor_set_id, row.activity_tkm,
                row.co2e_ttw_g, row.co2e_wtw_g, row.total_co2e_g, row.wtw_by_mode_g) == (
            one.content_hash, one.shipment_json, one.factor_set_id, one.activity_tkm,
            one.co2e_ttw_g, one.co2e_wtw_g, one.total_co2e_g, one.wtw_by_mode_g)
        assert before - timedelta(seconds=1) <= row.submitted_at <= after
        assert row.submitted_at == row.updated_at and row.month == before.strftime("%Y-%m")
    hashes = service_store.content_hashes(org.id, [s.shipment_id for s in made])
    assert hashes == {s.shipment_id: s.content_hash for s in made}


@given(st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70)
    | st.text(alphabet=st.characters(exclude_categories=["Cs"])),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(alphabet=st.characters(exclude_categories=["Cs"])), inner,
                      max_size=4),
    max_leaves=12))
def test_a_shipments_stored_json_is_the_canonical_json_text(data: Any) -> None:
    # the content hash of every stored shipment is of this text: it must never change
    assert shipment_json(data) == json.dumps(data, sort_keys=True, separators=(",", ":"),
                                             ensure_ascii=False).encode()


def test_submissions_pause_the_cycle_collector_and_turn_it_back_on() -> None:
    assert gc.isenabled()
    inside: list[bool] = []
    started, release = threading.Barrier(4), threading.Event()

    def submission() -> None:
        with paused_collector():
            started.wait()
            inside.append(gc.isenabled())
            release.wait(10)

    threads = [threading.Thread(target=submission) for _ in range(3)]
    for thread in threads:
        thread.start()
    started.wait()
    release.set()
    for thread in threads:
        thread.join()
    assert inside == [False, False, False]
    assert gc.isenabled()
    gc.disable()  # a collector someone turned off stays off
    try:
        with paused_collector():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
