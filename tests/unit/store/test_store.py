"""The local ledger store: schema from migrations, atomic writes, idempotency key, outbox rows."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from ledger.anchoring.submit import stored_entries
from ledger.chain.gas import pack_shipments
from ledger.errors import RecordConflict, StoreBusy, StoreError, StoreUnavailable, WriteRefused
from ledger.records.blocks import pack_block
from ledger.records.canonical import (
    chain_shipment_id_bytes,
    chain_shipment_key_function,
    shipment_id_of,
)
from ledger.store import migrations, schema
from ledger.store.cbam import BodyShare
from ledger.store.rows import (
    BlockRecords,
    LostAnchor,
    NewAttempt,
    NewBatch,
    NewReceipt,
    NewRecord,
    Scope,
)
from ledger.store.store import LedgerStore, open_store
from ledger.types import Bytes32

SCOPE = Scope(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3",
              "0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
OTHER_EXPORTER = Scope(SCOPE.chain_id, SCOPE.contract, "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC")
FACTOR_SET = "0x" + "ab" * 32


def _hex(n: int) -> str:
    return "0x" + n.to_bytes(32, "big").hex()


def _record(shipment_id: str, position: int, record_hash: int | None = None) -> NewRecord:
    return NewRecord(
        shipment_id=shipment_id,
        shipment_key=_hex(hash(shipment_id) & (2**256 - 1) or 1),
        record_hash=_hex(record_hash if record_hash is not None else position + 1),
        co2e_wtw_g=1000 + position,
        co2e_ttw_g=800 + position,
        record_json=f'{{"shipment":"{shipment_id}"}}'.encode(),
        position=position,
    )


def _batch(key: int, shipment_ids: list[str], path: str = "events") -> NewBatch:
    return NewBatch(path, _hex(key), FACTOR_SET,
                    [_record(s, i) for i, s in enumerate(shipment_ids)])


def _attempt(n: int, fee: int = 2_000_000_000) -> NewAttempt:
    return NewAttempt(_hex(0xA000 + n), b"\x02raw-" + bytes([n]), fee, fee // 2)


def _postgres_url() -> str | None:
    return os.environ.get("CARBON_LEDGER_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LedgerStore]:
    if request.param == "sqlite":
        with open_store(tmp_path / "ledger.sqlite") as opened:
            yield opened
        return
    base = _postgres_url()
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


def test_migrations_build_exactly_the_schema_the_store_uses(store: LedgerStore) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.config import Config
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    ours = set(schema.metadata.tables)

    def only_ours(name: str | None, type_: str, parent_names: object) -> bool:
        return type_ != "table" or name in ours

    engine = sa.create_engine(store.url)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": only_ours})
        diff = compare_metadata(context, schema.metadata)
        version = context.get_current_revision()
    engine.dispose()
    assert diff == []
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    scripts = ScriptDirectory.from_config(config)
    assert version == scripts.get_current_head()  # opening the store upgraded it to the head
    assert "0001_anchoring_store" in {rev.revision for rev in scripts.walk_revisions()}


def test_a_store_that_cannot_be_reached_is_unavailable(tmp_path: Path) -> None:
    # the kind is the class (the service answers 503 for it), whatever the driver's message
    with pytest.raises(StoreUnavailable, match="cannot open the ledger store"):
        open_store("postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=2")
    path = tmp_path / "ledger.sqlite"
    with open_store(path) as opened:
        path.unlink()
        path.mkdir()  # the file is gone: a new connection cannot open it
        opened.close()
        with pytest.raises(StoreUnavailable, match="is unavailable"):
            opened.find_records(SCOPE, ["A"])


def test_reopening_keeps_data_and_schema(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    with open_store(path) as first:
        first.add_batches(SCOPE, [_batch(1, ["A", "B"])])
    with open_store(path) as second:
        assert set(second.find_records(SCOPE, ["A", "B", "C"])) == {"A", "B"}
        assert second.scopes() == [SCOPE]


def test_records_are_found_by_idempotency_key(store: LedgerStore) -> None:
    [batch_id] = store.add_batches(SCOPE, [_batch(1, ["SHP-1", "SHP-2"])])
    found = store.find_records(SCOPE, ["SHP-2", "SHP-9"])
    assert list(found) == ["SHP-2"]
    assert found["SHP-2"].batch_id == batch_id
    assert found["SHP-2"].record_hash == _hex(2)
    assert store.find_records(OTHER_EXPORTER, ["SHP-1"]) == {}
    rows = store.batch_records(batch_id)
    assert [r.shipment_id for r in rows] == ["SHP-1", "SHP-2"]
    assert rows[0].record_json == b'{"shipment":"SHP-1"}'


def test_a_shipment_is_stored_once_per_exporter(store: LedgerStore) -> None:
    store.add_batches(SCOPE, [_batch(1, ["SHP-1"])])
    with pytest.raises(WriteRefused, match="refused a write"):
        store.add_batches(SCOPE, [_batch(2, ["SHP-1"])])
    store.add_batches(OTHER_EXPORTER, [_batch(3, ["SHP-1"])])
    assert len(store.records_of_shipment("SHP-1")) == 2


def test_a_failed_write_stores_nothing_of_it(store: LedgerStore) -> None:
    store.add_batches(SCOPE, [_batch(1, ["SHP-1"])])
    with pytest.raises(StoreError):
        store.add_batches(SCOPE, [_batch(2, ["SHP-2", "SHP-3"]), _batch(3, ["SHP-1"])])
    assert set(store.find_records(SCOPE, ["SHP-1", "SHP-2", "SHP-3"])) == {"SHP-1"}
    assert [s.batch.batch_key for s in store.batch_statuses(SCOPE)] == [_hex(1)]


def _block_of(ids: list[str], first_hash: int = 1) -> tuple[bytes, BlockRecords, list[bytes]]:
    bodies = [f'{{"shipment_id":"{i}","n":{n}}}'.encode() for n, i in enumerate(ids)]
    return pack_block(b"".join(bodies)), BlockRecords(
        ids, b"".join(bytes.fromhex(_hex(hash(i) & (2**256 - 1) or 1)[2:]) for i in ids),
        b"".join(bytes.fromhex(_hex(first_hash + n)[2:]) for n in range(len(ids))),
        b"".join(bytes.fromhex(_hex(0xF000 + first_hash + n)[2:]) for n in range(len(ids))),
        [g for n in range(len(ids)) for g in (1000 + n, 800 + n)], [len(b) for b in bodies],
    ), bodies


def test_bulk_batches_store_record_blocks_that_read_back_exactly(store: LedgerStore) -> None:
    ids = [f"BLK-{n}" for n in range(7)]
    data, block, bodies = _block_of(ids)
    with store.bulk_batches(SCOPE) as bulk:
        first = bulk.open_batch("root", FACTOR_SET, 3)
        second = bulk.open_batch("root", FACTOR_SET, 4)
        # one block straddling two batches: records 0-2 go to the first, 3-6 to the second
        bulk.add_block(data, block, [(first, 0, 3, 0), (second, 3, 7, 0)])
        bulk.seal(first, _hex(0xAA), b"\x01" * 32)
        bulk.seal(second, Bytes32.parse(_hex(0xBB)), b"\x02" * 32)  # stored as the same text
    statuses = store.batch_statuses(SCOPE)
    assert [(s.batch.batch_key, s.batch.shipment_count) for s in statuses] == [
        (_hex(0xAA), 3), (_hex(0xBB), 4)]
    assert store.batch_tree(statuses[1].batch.id) == b"\x02" * 32
    rows = store.scope_records(SCOPE)
    assert [r.shipment_id for r in rows] == ids
    assert [r.record_json for r in rows] == bodies
    assert [r.position for r in rows] == [0, 1, 2, 0, 1, 2, 3]
    assert rows[4].record_hash == _hex(5) and rows[4].leaf_hash == _hex(0xF005)
    assert (rows[4].co2e_wtw_g, rows[4].co2e_ttw_g) == (1004, 804)
    assert rows[4].tree_index is None
    single = store.record(SCOPE, "BLK-5")
    assert single is not None and single.record_json == bodies[5]
    assert [r.record_json for r in store.batch_records(statuses[0].batch.id)] == bodies[:3]
    [(scope, found)] = store.records_of_shipment("BLK-6")
    assert scope == SCOPE and found.record_json == bodies[6]
    leaf = store.batch_leaves(statuses[0].batch.id)[2]
    assert leaf[1] == bytes.fromhex(_hex(3)[2:]) and leaf[1].hex0x == _hex(3)


def test_two_shares_of_the_stored_records_read_each_wanted_record_once(
        store: LedgerStore) -> None:
    blocked = [f"BLK-{n}" for n in range(9)]
    with store.bulk_batches(SCOPE) as bulk:
        for n in range(0, 9, 3):  # three blocks of three records
            data, block, _ = _block_of(blocked[n:n + 3])
            batch = bulk.open_batch("root", FACTOR_SET, 3)
            bulk.add_block(data, block, [(batch, 0, 3, 0)])
            bulk.seal(batch, _hex(0xC0 + n), b"\x01" * 32)
    inline = [f"ROW-{n}" for n in range(40)]
    with store.write() as conn:  # ids near the top of a 32-bit integer column
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SELECT setval('records_id_seq', 2147483000)")
        else:
            conn.exec_driver_sql("UPDATE records SET id = 2147483000 WHERE id = "
                                 "(SELECT MAX(id) FROM records)")
    store.add_batches(SCOPE, [_batch(0xD0, inline)])
    exporter = SCOPE.exporter.lower()
    stored = {(exporter, s): s for s in blocked + inline}
    wanted = {**stored, (exporter, "ABSENT"): "ABSENT"}
    everything = {key: body for key, body in store.record_bodies(dict(wanted))}
    halves = [dict(store.record_bodies(dict(wanted), BodyShare(40, first)))
              for first in (True, False)]
    assert not halves[0].keys() & halves[1].keys()
    assert {**halves[0], **halves[1]} == everything and set(everything) == set(stored.values())
    assert all(halves) and 10 <= len([s for s in halves[0] if s.startswith("ROW")]) <= 22
    for n in range(0, 9, 3):  # a block is read whole, by one share
        assert [sum(s in half for s in blocked[n:n + 3]) for half in halves] in ([3, 0], [0, 3])
    assert store.bodies_shareable()
    # the same exporter on another contract: a shipment could be stored twice
    store.add_batches(Scope(SCOPE.chain_id, "0x" + "12" * 20, SCOPE.exporter),
                      [_batch(0xE0, ["ROW-1"])])
    assert not store.bodies_shareable()


def test_a_stored_batch_is_sent_with_its_keys_and_one_of_the_earlier_rule_is_refused(
        store: LedgerStore) -> None:
    ids = ["KEY-1", "KEY-2"]
    shipment_key = chain_shipment_key_function(SCOPE.exporter)
    records = [_record(s, i)._replace(shipment_key="0x" + chain_shipment_id_bytes(
        SCOPE.exporter, s).hex()) for i, s in enumerate(ids)]
    earlier = [_record(s, i) for i, s in enumerate(["OLD-1", "OLD-2"])]  # ids not derived
    store.add_batches(SCOPE, [NewBatch("events", _hex(11), FACTOR_SET, records),
                              NewBatch("events", _hex(12), FACTOR_SET, earlier)])
    current, stale = (status.batch for status in store.batch_statuses(SCOPE))
    assert store.batch_shipment_ids(current.id) == ids
    entries = stored_entries(store, current)
    # the calldata carries each shipment's key; the id is the one the contract derives from it
    assert [e.shipment_key for e in entries] == [shipment_key(s) for s in ids]
    assert [e.shipment_id for e in entries] == [
        shipment_id_of(SCOPE.exporter, shipment_key(s)) for s in ids]
    assert pack_shipments(entries)[:32] == shipment_key("KEY-1")
    with pytest.raises(StoreError, match="earlier shipment-id rule") as caught:
        stored_entries(store, stale)
    assert "'OLD-1'" in str(caught.value) and f"batch {stale.id}" in str(caught.value)


def test_a_bulk_write_that_goes_wrong_stores_nothing(store: LedgerStore) -> None:
    store.add_batches(SCOPE, [_batch(1, ["OLD-1"], path="root")])
    data, block, _ = _block_of(["NEW-1", "NEW-2"])
    with pytest.raises(StoreError, match="never sealed"), store.bulk_batches(SCOPE) as bulk:
        bulk.add_block(data, block, [(bulk.open_batch("root", FACTOR_SET, 2), 0, 2, 0)])
    with pytest.raises(StoreError, match="opened for 3 records but holds 2"), \
            store.bulk_batches(SCOPE) as bulk:
        batch = bulk.open_batch("root", FACTOR_SET, 3)
        bulk.add_block(data, block, [(batch, 0, 2, 0)])
        bulk.seal(batch, _hex(0xCC))
    with pytest.raises(StoreError, match="cover it in order"), store.bulk_batches(SCOPE) as bulk:
        bulk.add_block(data, block, [(bulk.open_batch("root", FACTOR_SET, 1), 1, 2, 0)])
    clash, clash_block, _ = _block_of(["NEW-3", "OLD-1"])
    with pytest.raises(RecordConflict), store.bulk_batches(SCOPE) as bulk:
        batch = bulk.open_batch("root", FACTOR_SET, 2)
        bulk.add_block(clash, clash_block, [(batch, 0, 2, 0)])
    assert [r.shipment_id for r in store.scope_records(SCOPE)] == ["OLD-1"]
    assert len(store.batch_statuses(SCOPE)) == 1
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM record_blocks")).scalar_one() == 0


def test_a_downgrade_writes_block_records_back_into_their_rows(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    path = tmp_path / "ledger.sqlite"
    ids = ["DG-1", "DG-2", "DG-3"]
    data, block, bodies = _block_of(ids)
    with open_store(path) as first:
        first.add_batches(SCOPE, [_batch(1, ["ROW-1"])])
        with first.bulk_batches(SCOPE) as bulk:
            batch = bulk.open_batch("root", FACTOR_SET, 3)
            bulk.add_block(data, block, [(batch, 0, 3, 0)])
            bulk.seal(batch, _hex(0xDD))
        config = Config()
        config.set_main_option("script_location", str(Path(migrations.__file__).parent))
        with first.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0002_service_tables")
        with first.engine.connect() as conn:
            rows = dict(conn.execute(sa.text("SELECT shipment_id, record_json FROM records")).all())
        assert {key: bytes(value) for key, value in rows.items()} == {
            "ROW-1": b'{"shipment":"ROW-1"}', **dict(zip(ids, bodies, strict=True))}
    with open_store(path) as again:  # upgraded once more, the records as they were
        assert [r.record_json for r in again.scope_records(SCOPE)][1:] == bodies


def test_outbox_transaction_walks_its_states(store: LedgerStore) -> None:
    [batch_id] = store.add_batches(SCOPE, [_batch(1, ["SHP-1"])])
    assert [b.id for b in store.unstarted_batches(SCOPE)] == [batch_id]
    tx = store.add_signed_tx(
        chain_id=SCOPE.chain_id, sender=SCOPE.exporter, nonce=7, to_address=SCOPE.contract,
        data=b"calldata", gas_limit=100_000, batch_id=batch_id, confirmations=2,
        finalized_tag=False, attempt=_attempt(1),
    )
    assert tx.state == "signed" and tx.nonce == 7 and tx.attempts[0].raw == b"\x02raw-\x01"
    assert store.unstarted_batches(SCOPE) == []
    assert store.next_nonce(SCOPE.chain_id, SCOPE.exporter) == 8

    store.note_broadcast(tx.id, tx.attempts[0].id, error="connection reset")
    bumped = store.add_attempt(tx.id, _attempt(2, fee=2_250_000_000))
    assert [a.max_fee_per_gas for a in bumped.attempts] == [2_000_000_000, 2_250_000_000]
    assert bumped.state == "broadcast"
    assert bumped.attempts[0].last_error == "connection reset"

    mined = store.store_receipt(tx.id, NewReceipt(bumped.attempts[1].tx_hash, 12, _hex(12), 1,
                                                  90_000, 1_000_000_007, 3))
    assert mined.state == "mined"
    assert mined.receipt is not None and mined.receipt.attempt_id == bumped.attempts[1].id
    [status] = store.batch_statuses(SCOPE)
    assert status.state == "mined" and status.tx is not None

    store.mark_reorged(tx.id, "block 12 was replaced")
    again = store.tx(tx.id)
    assert again.state == "broadcast" and again.receipt is None and again.reorg_count == 1
    store.store_receipt(tx.id, NewReceipt(bumped.attempts[1].tx_hash, 13, _hex(13), 1,
                                          90_000, 1_000_000_007, 0))
    store.mark_final(tx.id)
    final = store.tx(tx.id)
    assert final.state == "final" and final.receipt is not None
    assert final.receipt.block_number == 13
    assert store.open_txs(SCOPE.chain_id, SCOPE.exporter) == []


def test_a_dropped_transaction_frees_its_batch(store: LedgerStore) -> None:
    [batch_id] = store.add_batches(SCOPE, [_batch(1, ["SHP-1"])])
    common = {"chain_id": SCOPE.chain_id, "sender": SCOPE.exporter, "to_address": SCOPE.contract,
              "data": b"", "gas_limit": 1, "batch_id": batch_id, "confirmations": 0,
              "finalized_tag": False}
    tx = store.add_signed_tx(nonce=0, attempt=_attempt(1), **common)  # type: ignore[arg-type]
    with pytest.raises(WriteRefused, match="already has live transaction"):
        store.add_signed_tx(nonce=1, attempt=_attempt(2), **common)  # type: ignore[arg-type]
    store.mark_dropped(tx.id, "nonce 0 was used by another transaction")
    assert [b.id for b in store.unstarted_batches(SCOPE)] == [batch_id]
    again = store.add_signed_tx(nonce=1, attempt=_attempt(3), **common)  # type: ignore[arg-type]
    assert [t.id for t in store.batch_txs(batch_id)] == [tx.id, again.id]
    with pytest.raises(WriteRefused, match="refused a write"):  # one nonce, one transaction
        store.add_signed_tx(nonce=1, attempt=_attempt(4), **{**common, "batch_id": None})  # type: ignore[arg-type]


def test_a_lost_transaction_is_kept_and_frees_its_batch_and_its_nonce(store: LedgerStore
                                                                      ) -> None:
    [batch_id] = store.add_batches(SCOPE, [_batch(1, ["SHP-1"])])
    common = {"chain_id": SCOPE.chain_id, "sender": SCOPE.exporter, "to_address": SCOPE.contract,
              "data": b"", "gas_limit": 1, "batch_id": batch_id, "confirmations": 0,
              "finalized_tag": False}
    tx = store.add_signed_tx(nonce=0, attempt=_attempt(1), **common)  # type: ignore[arg-type]
    store.store_receipt(tx.id, NewReceipt(tx.attempts[0].tx_hash, 5, _hex(5), 1, 1, 1, 0))
    store.mark_final(tx.id)
    lost = LostAnchor(tx_id=tx.id, batch_id=batch_id, chain_id=SCOPE.chain_id,
                      contract=SCOPE.contract, sender=SCOPE.exporter, nonce=0,
                      tx_hash=tx.attempts[0].tx_hash, block_number=5, block_hash=_hex(5),
                      chain_height=2, reason="block 5 is gone")
    assert store.mark_lost([lost]) == 1
    assert store.mark_lost([lost]) == 0  # marked once: nothing doubled
    gone = store.tx(tx.id)
    assert gone.state == "lost" and gone.receipt is None and gone.last_error == "block 5 is gone"
    [kept] = store.lost_anchors(SCOPE)
    assert (kept.tx_hash, kept.block_number, kept.nonce) == (tx.attempts[0].tx_hash, 5, 0)
    assert kept.found_at is not None and kept.contract == SCOPE.contract
    assert [b.id for b in store.unstarted_batches(SCOPE)] == [batch_id]
    assert store.next_nonce(SCOPE.chain_id, SCOPE.exporter) is None  # the chain forgot it
    again = store.add_signed_tx(nonce=0, attempt=_attempt(2), **common)  # type: ignore[arg-type]
    assert [t.state for t in store.batch_txs(batch_id)] == ["lost", "signed"]
    assert store.has_attempt(tx.attempts[0].tx_hash) and store.has_attempt(
        again.attempts[0].tx_hash)
    with pytest.raises(WriteRefused, match="refused a write"):  # among live ones, one per nonce
        store.add_signed_tx(nonce=0, attempt=_attempt(3), **{**common, "batch_id": None})  # type: ignore[arg-type]


_HOLD_LOCK = textwrap.dedent("""
    import sys, time
    from ledger.store.store import open_store
    store = open_store(sys.argv[1])
    with store.writer_lock(31337, "0xabc"):
        print("locked", flush=True)
        time.sleep(60)
""")


def test_writer_lock_excludes_a_second_process_and_dies_with_its_holder(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    open_store(path).close()
    with subprocess.Popen([sys.executable, "-c", _HOLD_LOCK, str(path)],
                          stdout=subprocess.PIPE, text=True) as holder:
        _check_lock(holder, path)


def _check_lock(holder: subprocess.Popen[str], path: Path) -> None:
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with open_store(path) as store:
            with pytest.raises(StoreBusy, match="another run"), store.writer_lock(31337, "0xABC"):
                pass
            with store.writer_lock(31337, "0xdef"):  # another key is free
                pass
            holder.send_signal(signal.SIGKILL)
            holder.wait(timeout=10)
            with store.writer_lock(31337, "0xabc"):
                pass
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


_WRITE_FOREVER = textwrap.dedent("""
    import sys
    from ledger.store.rows import NewBatch, NewRecord, Scope
    from ledger.store.store import open_store
    store = open_store(sys.argv[1])
    scope = Scope(1, "0x" + "11" * 20, "0x" + "22" * 20)
    print("ready", flush=True)
    n = 0
    while True:
        records = [NewRecord(f"S{n}-{i}", "0x" + "33" * 32, "0x" + "44" * 32, i, i,
                             b"x" * 2000, i) for i in range(300)]
        store.add_batches(scope, [NewBatch("root", "0x%064x" % (n + 1), "0x" + "55" * 32,
                                           records, b"t" * 20000)])
        n += 1
""")


def test_a_killed_writer_leaves_only_whole_batches(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    open_store(path).close()
    for delay_s in (0.3, 0.55, 0.8):
        with subprocess.Popen([sys.executable, "-c", _WRITE_FOREVER, str(path)],
                              stdout=subprocess.PIPE, text=True) as writer:
            assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
            time.sleep(delay_s)
            writer.send_signal(signal.SIGKILL)
            writer.wait(timeout=10)
    with open_store(path) as store:
        scope = Scope(1, "0x" + "11" * 20, "0x" + "22" * 20)
        statuses = store.batch_statuses(scope)
        assert statuses, "the writer never committed a batch"
        for status in statuses:
            assert len(store.batch_records(status.batch.id)) == status.batch.shipment_count == 300
            assert store.batch_tree(status.batch.id) == b"t" * 20000
