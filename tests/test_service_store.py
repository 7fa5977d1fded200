"""The service's tables (alembic revision 0002) on SQLite, and on PostgreSQL when one is given.

The PostgreSQL tier uses ``CARBON_LEDGER_TEST_POSTGRES_URL`` (e.g.
``postgresql+psycopg://postgres@127.0.0.1:5432/test``): each test session works in a fresh schema
that is dropped at the end. Without the variable those tests are skipped, with that reason.
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
from alembic.config import Config
from alembic.script import ScriptDirectory
from hypothesis import given
from hypothesis import strategies as st

from api.ingest import paused_collector, shipment_json
from api.store import NewShipment, ServiceStore
from ledger.errors import StoreError
from ledger.store import store as store_module
from ledger.store.store import open_store

POSTGRES_ENV = "CARBON_LEDGER_TEST_POSTGRES_URL"
SERVICE_TABLES = {"service_organisations", "service_clients", "service_tokens",
                  "service_shipments", "service_jobs", "service_reports", "service_footprints",
                  "service_verifications", "service_attestations", "service_pact_events"}


@pytest.fixture(scope="session")
def postgres_schema_url() -> Iterator[str]:
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


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def service_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServiceStore]:
    if request.param == "sqlite":
        url = str(tmp_path / "store.sqlite")
    else:
        url = request.getfixturevalue("postgres_schema_url")
    ledger = open_store(url)
    store = ServiceStore(ledger)
    if request.param == "postgres":  # one schema per session: start each test empty
        with store._engine.begin() as conn:
            for table in ("service_tokens", "service_clients", "service_shipments",
                          "service_jobs", "service_reports", "service_footprints",
                          "service_organisations"):
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


def test_migration_creates_the_service_tables(service_store: ServiceStore) -> None:
    tables = set(sa.inspect(service_store._engine).get_table_names())
    assert tables >= SERVICE_TABLES
    with service_store._engine.connect() as conn:
        version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    config = Config()
    config.set_main_option("script_location", str(Path(store_module.__file__).parent
                                                  / "migrations"))
    scripts = ScriptDirectory.from_config(config)
    assert version == scripts.get_current_head()  # the service tables' migration and later ones
    assert "0002_service_tables" in {rev.revision for rev in scripts.walk_revisions()}


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
    with pytest.raises(StoreError, match="refused a write"):
        service_store.put_shipments(org.id, [*batch, batch[0]], [])
    assert service_store.count_shipments(org.id) == 0
    with pytest.raises(StoreError, match="exists already"):
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
