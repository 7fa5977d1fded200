"""The declaration index: records read once as CBAM consignments, back-filled by migration 0005,
caught up by the next declaration, and left aside when a CBAM record is not clean."""

from __future__ import annotations

import copy
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from ledger.declaration.consignments import consignment_row
from ledger.declaration.index import index_entry, read_indexed
from ledger.store import cbam, migrations
from ledger.store.rows import NewBatch, NewRecord, Scope
from ledger.store.store import LedgerStore, open_store

SCOPE = Scope(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3",
              "0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
DECLARANT = "NL009900001"

RECORD: dict[str, Any] = {
    "exporter": SCOPE.exporter, "shipment_id": "C-1",
    "footprint": {"cbam": {
        "in_scope": True, "cn_code": "7318 11 00", "country_of_origin": "CN",
        "sector": "iron_and_steel", "net_mass_kg": "1000.5", "embedded_g": 3_013_306,
        "method": "default", "data_type": "default", "markup_year": "2026",
        "factor_ref": "annex#CN.73181100", "specific_direct_t_per_t": "3.0118"}},
    "shipment": {"consignment": {"customs_release_date": "2026-05-04",
                                 "declarant": {"eori": DECLARANT}},
                 "product": {"installation": {"installation_id": "CN-S1",
                                              "operator": "Operator (fictitious)"}}},
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LedgerStore]:
    if request.param == "sqlite":
        with open_store(tmp_path / "ledger.sqlite") as opened:
            yield opened
        return
    base = os.environ.get("CARBON_LEDGER_TEST_POSTGRES_URL")
    if base is None:
        pytest.skip("CARBON_LEDGER_TEST_POSTGRES_URL is not set")
    name = f"ledger_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.engine.make_url(base).set(database=name).render_as_string(hide_password=False)
    try:
        with open_store(url) as opened:
            yield opened
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _record(shipment_id: str, position: int, body: dict[str, Any]) -> NewRecord:
    record = {**body, "shipment_id": shipment_id}
    return NewRecord(shipment_id, "0x" + f"{position + 1:064x}", "0x" + f"{position + 7:064x}",
                     10, 8, orjson.dumps(record), position)


def _add(store: LedgerStore, key: int, bodies: dict[str, dict[str, Any]]) -> None:
    records = [_record(sid, n, body) for n, (sid, body) in enumerate(bodies.items())]
    store.add_batches(SCOPE, [NewBatch("events", "0x" + f"{key:064x}", "0x" + "ab" * 32,
                                       records)])


def _config(store: LedgerStore) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    return config


def test_the_upgrade_indexes_the_records_stored_before_it(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    with open_store(path) as first:
        config = _config(first)
        with first.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0004_record_versions")
        other = copy.deepcopy(RECORD)
        other["footprint"] = {"cbam": {"in_scope": False}}
        _add(first, 1, {"C-1": RECORD, "X-1": other})
    with open_store(path) as store:  # upgraded: the two records are indexed
        rows, profiles = store.cbam_consignments(DECLARANT, 2026)
        assert [r.shipment_id for r in rows] == ["C-1"]
        assert (rows[0].net_mass_g, rows[0].embedded_g, rows[0].release_date) == (
            1_000_500, 3_013_306, "2026-05-04")
        assert len(profiles) == 1
        indexed = read_indexed(store, DECLARANT, 2026)
        assert indexed is not None
        assert indexed[0] == [consignment_row({**RECORD, "shipment_id": "C-1"})]
        assert store.index_cbam(index_entry) == 0  # nothing left to index


def test_a_declaration_indexes_later_records_and_reads_records_when_one_is_not_clean(
        store: LedgerStore) -> None:
    _add(store, 1, {"C-1": RECORD})
    assert read_indexed(store, DECLARANT, 2026) is not None
    second = copy.deepcopy(RECORD)
    second["shipment"]["consignment"]["customs_release_date"] = "2026-11-30"
    _add(store, 2, {"C-2": second})
    indexed = read_indexed(store, DECLARANT, 2026)
    assert indexed is not None
    assert sorted(r.shipment_id for r in indexed[0]) == ["C-1", "C-2"]
    assert read_indexed(store, DECLARANT, 2025) is None  # nothing that year
    # a CBAM record nobody can declare (no declarant or importer): the records are read
    # one by one, which names the problem
    nobody = copy.deepcopy(RECORD)
    nobody["shipment"]["consignment"].pop("declarant")
    _add(store, 3, {"C-3": nobody})
    assert read_indexed(store, DECLARANT, 2026) is None


def test_the_declarant_s_rows_fetched_by_the_driver_are_the_indexed_rows(
        store: LedgerStore) -> None:
    later = copy.deepcopy(RECORD)
    later["shipment"]["consignment"]["customs_release_date"] = "2026-11-30"
    _add(store, 1, {"C-1": RECORD, "C-2": later})
    store.index_cbam(index_entry)
    with store.read() as conn:
        tuples = cbam.declarant_tuples(conn, DECLARANT, 2026)
        assert sorted(tuples) == sorted(tuple(r) for r in cbam.declarant_rows(conn, DECLARANT,
                                                                             2026))
        assert sorted(t[0] for t in tuples) == ["C-1", "C-2"]
        assert cbam.declarant_tuples(conn, DECLARANT, 2025) == []


def test_what_the_index_keeps_of_a_record() -> None:
    body = orjson.dumps({**RECORD, "shipment_id": "C-1"})
    entry = index_entry("C-1", body)
    assert (entry.kind, entry.declarant, entry.release_date) == ("cbam", DECLARANT,
                                                                 "2026-05-04")
    assert entry.profile is not None and "CN-S1" in entry.profile
    assert index_entry("C-2", body).kind == "problem"  # stored under another shipment id
    assert index_entry("X", b'{"shipment_id":"X"}').kind == "none"
    bad = copy.deepcopy(RECORD)
    bad["footprint"]["cbam"]["net_mass_kg"] = "1.0001"
    found = index_entry("C-1", orjson.dumps({**bad, "shipment_id": "C-1"}))
    assert found.kind == "problem" and found.problem is not None
    assert "net_mass_kg" in found.problem
