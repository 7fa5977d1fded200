"""CarbonLedger through the typed wrapper on a real Anvil: every function, event and error."""

from __future__ import annotations

import os

import pytest

from ledger.chain.abi import RecordStatus, SubjectKind
from ledger.chain.client import connect
from ledger.chain.contract import (
    AUDITOR_ROLE,
    DEFAULT_ADMIN_ROLE,
    EXPORTER_ROLE,
    CarbonLedgerContract,
)
from ledger.chain.events import (
    AttestationRevoked,
    Attested,
    FactorSetRegistered,
    RecordRevoked,
    RecordSuperseded,
    RootAnchored,
    ShipmentBatchRecorded,
    ShipmentRecorded,
)
from ledger.chain.gas import ShipmentEntry, batch_id_for, pack_shipments
from ledger.dev.devkeys import DEV_AUDITOR_INDEXES, DEV_EXPORTER_INDEXES, dev_key
from ledger.errors import ChainError, ContractRevert, InputError
from ledger.records.canonical import shipment_id_of
from ledger.records.merkle import build_tree, make_leaf

#: The writer of ``chain.exporter``.
EXPORTER = dev_key(DEV_EXPORTER_INDEXES[0]).address


def entry(key: bytes, record_hash: bytes, wtw: int, ttw: int, writer: str = EXPORTER
          ) -> ShipmentEntry:
    """An entry whose id is the one the contract derives for ``writer`` from ``key``."""
    return ShipmentEntry(shipment_id_of(writer, key), record_hash, wtw, ttw, key)


def entries(count: int, writer: str = EXPORTER) -> list[ShipmentEntry]:
    return [entry(os.urandom(32), os.urandom(32), 1_000 * (i + 1), 400 * (i + 1), writer)
            for i in range(count)]


def revert_of(call, *args):
    with pytest.raises(ContractRevert) as caught:
        call(*args)
    return caught.value


def test_deployment_roles_are_on_chain(chain) -> None:
    ledger = chain.admin
    assert ledger.exporter_role() == EXPORTER_ROLE
    assert ledger.auditor_role() == AUDITOR_ROLE
    assert ledger.has_role(DEFAULT_ADMIN_ROLE, dev_key(0).address)
    for index in DEV_EXPORTER_INDEXES:
        assert ledger.has_role(EXPORTER_ROLE, dev_key(index).address)
        assert not ledger.has_role(AUDITOR_ROLE, dev_key(index).address)
    for index in DEV_AUDITOR_INDEXES:
        assert ledger.has_role(AUDITOR_ROLE, dev_key(index).address)
    assert not ledger.has_role(EXPORTER_ROLE, dev_key(9).address)
    assert chain.deployment.roles["exporter"] == [dev_key(i).address for i in DEV_EXPORTER_INDEXES]


def test_admin_grants_and_revokes_roles_others_cannot(chain) -> None:
    newcomer = dev_key(8).address
    chain.admin.grant_role(EXPORTER_ROLE, newcomer)
    assert chain.admin.has_role(EXPORTER_ROLE, newcomer)
    chain.admin.revoke_role(EXPORTER_ROLE, newcomer)
    assert not chain.admin.has_role(EXPORTER_ROLE, newcomer)
    revert = revert_of(chain.exporter.grant_role, EXPORTER_ROLE, newcomer)
    assert revert.error_name == "AccessControlUnauthorizedAccount"
    assert revert.error_args["neededRole"] == "0x" + DEFAULT_ADMIN_ROLE.hex()


def test_factor_sets_register_once_by_the_admin(chain) -> None:
    factor_set = os.urandom(32)
    receipt = chain.admin.register_factor_set(factor_set, "emission_factors/factor-set.json@abc")
    assert chain.admin.is_factor_set_registered(factor_set)
    assert chain.admin.factor_set_uri(factor_set) == "emission_factors/factor-set.json@abc"
    (event,) = chain.admin.events_in(receipt)
    assert isinstance(event, FactorSetRegistered)
    assert event.factor_set_id == factor_set
    assert revert_of(chain.admin.register_factor_set, factor_set, "x").error_name == \
        "FactorSetAlreadyRegistered"
    assert revert_of(chain.admin.register_factor_set, bytes(32), "x").error_name == \
        "InvalidFactorSet"
    assert revert_of(chain.exporter.register_factor_set, os.urandom(32), "x").error_name == \
        "AccessControlUnauthorizedAccount"


def test_a_batch_is_recorded_and_read_back(chain) -> None:
    exporter = chain.exporter
    batch = entries(5)
    recorded = exporter.record_shipments(chain.factor_set_id, batch)
    assert recorded.batch_id == batch_id_for(chain.factor_set_id, pack_shipments(batch))
    head, *shipments = exporter.events_in(recorded.receipt)
    assert isinstance(head, ShipmentBatchRecorded)
    assert (head.batch_id, head.exporter, head.count) == (
        recorded.batch_id, exporter.client.address, 5)
    assert all(isinstance(s, ShipmentRecorded) for s in shipments)
    got = [(s.shipment_id, s.record_hash, s.co2e_wtw_g, s.co2e_ttw_g, s.exporter, s.factor_set_id)
           for s in shipments]
    assert got == [(e.shipment_id, e.record_hash, e.co2e_wtw_g, e.co2e_ttw_g,
                    exporter.client.address, chain.factor_set_id) for e in batch]
    info = exporter.batch_info(recorded.batch_id)
    assert (info.exporter, info.block_number, info.count) == (
        exporter.client.address, recorded.receipt.block_number, 5)
    assert exporter.batch_info(os.urandom(32)).exporter is None
    # the same events, read back from the chain by name and by shipment id
    assert exporter.events("ShipmentRecorded")[-5:] == shipments
    assert exporter.shipment_events(batch[2].shipment_id) == [shipments[2]]
    # each id is the contract's own derivation from the sender and the packed key
    assert [exporter.shipment_id_of(exporter.client.address, e.shipment_key) for e in batch] == \
        [s.shipment_id for s in shipments]


def test_the_contract_makes_ids_by_the_rule_this_package_computes(chain) -> None:
    assert chain.outsider.shipment_id_rule() == 2
    chain.outsider.require_shipment_id_rule()


def test_entries_made_for_another_exporter_are_refused_before_sending(chain) -> None:
    theirs = entries(2, writer=chain.exporter2.client.address)
    before = len(chain.exporter.events("ShipmentRecorded"))
    with pytest.raises(InputError) as caught:
        chain.exporter.record_shipments(chain.factor_set_id, theirs)
    assert [p.field for p in caught.value.problems] == ["shipment_key", "shipment_key"]
    assert "another exporter than the signer" in caught.value.problems[0].message
    assert len(chain.exporter.events("ShipmentRecorded")) == before


def test_batch_errors(chain) -> None:
    exporter = chain.exporter
    batch = entries(2)
    unknown = os.urandom(32)
    revert = revert_of(exporter.record_shipments, unknown, batch)
    assert revert.error_name == "UnknownFactorSet"
    assert revert.error_args == {"factorSetId": "0x" + unknown.hex()}
    recorded = exporter.record_shipments(chain.factor_set_id, batch)
    again = revert_of(lambda: exporter.record_shipments(chain.factor_set_id, batch,
                                                        refuse_recorded=False))
    assert again.error_name == "BatchAlreadyRecorded"
    assert again.error_args == {"batchId": "0x" + recorded.batch_id.hex()}
    with pytest.raises(InputError, match="more than once"):
        exporter.record_shipments(chain.factor_set_id, [batch[0], batch[0]])
    with pytest.raises(InputError, match="at least one"):
        exporter.record_shipments(chain.factor_set_id, [])
    client = exporter.client
    calldata = exporter.codec.encode_call("recordShipments", os.urandom(32), chain.factor_set_id,
                                          b"\x01" * 75)
    assert revert_of(client.build_transaction, exporter.address, calldata).error_name == \
        "MalformedBatch"
    calldata = exporter.codec.encode_call("recordShipments", os.urandom(32), chain.factor_set_id,
                                          bytes(76))
    assert revert_of(client.build_transaction, exporter.address, calldata).error_name == \
        "InvalidRecord"


def test_a_duplicate_shipment_is_refused_or_detected(chain) -> None:
    exporter = chain.exporter
    first = entries(1)[0]
    exporter.record_shipments(chain.factor_set_id, [first])
    duplicate = entry(first.shipment_key, os.urandom(32), 5, 2)
    with pytest.raises(InputError) as caught:
        exporter.record_shipments(chain.factor_set_id, [duplicate, *entries(2)])
    (problem,) = caught.value.problems
    assert problem.shipment_id == "0x" + first.shipment_id.hex()
    assert "already has a live record" in problem.message
    # written anyway (another client, or the check switched off): chain data shows the conflict
    exporter.record_shipments(chain.factor_set_id, [duplicate], refuse_recorded=False)
    live = exporter.live_records(first.shipment_id)
    assert [r.record_hash for r in live] == [first.record_hash, duplicate.record_hash]


def test_supersede_and_revoke_only_touch_the_writers_records(chain) -> None:
    exporter, other = chain.exporter, chain.exporter2
    old = entries(1)[0]
    exporter.record_shipments(chain.factor_set_id, [old])
    me = exporter.client.address
    # another exporter cannot end this exporter's record
    receipt = other.revoke_record(old.shipment_key, old.record_hash)
    (foreign,) = other.events_in(receipt)
    assert isinstance(foreign, RecordRevoked)
    assert foreign.shipment_id == shipment_id_of(other.client.address, old.shipment_key)
    assert exporter.record_status(me, old.record_hash) == (RecordStatus.LIVE, bytes(32))
    assert [r.record_hash for r in exporter.live_records(old.shipment_id)] == [old.record_hash]
    # supersede, then record the successor: one live record again
    new = entry(old.shipment_key, os.urandom(32), 900, 300)
    receipt = exporter.supersede_record(old.shipment_key, old.record_hash, new.record_hash)
    (event,) = exporter.events_in(receipt)
    assert isinstance(event, RecordSuperseded)
    assert event.shipment_id == old.shipment_id
    assert exporter.record_status(me, old.record_hash) == (RecordStatus.SUPERSEDED, new.record_hash)
    exporter.record_shipments(chain.factor_set_id, [new])
    assert [r.record_hash for r in exporter.live_records(old.shipment_id)] == [new.record_hash]
    receipt = exporter.revoke_record(new.shipment_key, new.record_hash)
    assert isinstance(exporter.events_in(receipt)[0], RecordRevoked)
    assert exporter.live_records(old.shipment_id) == []
    revoked = revert_of(exporter.revoke_record, new.shipment_key, new.record_hash)
    assert revoked.error_name == "RecordNotLive"
    assert revoked.error_args["status"] == "Revoked"
    assert revert_of(exporter.supersede_record, old.shipment_key, new.record_hash,
                     new.record_hash).error_name == "SelfSupersede"
    assert revert_of(exporter.revoke_record, bytes(32), new.record_hash).error_name == \
        "InvalidRecord"
    assert revert_of(chain.auditor.revoke_record, old.shipment_key, old.record_hash).error_name \
        == "AccessControlUnauthorizedAccount"


def test_a_root_is_anchored_and_proofs_verify_on_chain(chain) -> None:
    exporter = chain.exporter
    batch = entries(7)
    tree = build_tree(make_leaf(e.shipment_id, e.record_hash, e.co2e_wtw_g, e.co2e_ttw_g)
                      for e in batch)
    root = tree.root_bytes
    receipt = exporter.anchor_root(root, chain.factor_set_id, len(batch))
    (event,) = exporter.events_in(receipt)
    assert isinstance(event, RootAnchored)
    assert (event.root, event.exporter, event.count) == (root, exporter.client.address, 7)
    info = exporter.root_info(root)
    assert (info.exporter, info.count) == (exporter.client.address, 7)
    for e in batch:
        assert exporter.verify_shipment(root, tree.proof_bytes(e.shipment_id), e)
    tampered = ShipmentEntry(batch[0].shipment_id, batch[0].record_hash, batch[0].co2e_wtw_g + 1,
                             batch[0].co2e_ttw_g, batch[0].shipment_key)
    assert not exporter.verify_shipment(root, tree.proof_bytes(0), tampered)
    assert not exporter.verify_shipment(os.urandom(32), tree.proof_bytes(0), batch[0])
    assert revert_of(exporter.anchor_root, root, chain.factor_set_id, 7).error_name == \
        "RootAlreadyAnchored"
    assert revert_of(exporter.anchor_root, bytes(32), chain.factor_set_id, 7).error_name == \
        "InvalidRoot"
    assert revert_of(exporter.anchor_root, os.urandom(32), os.urandom(32), 7).error_name == \
        "UnknownFactorSet"
    assert revert_of(exporter.anchor_root, os.urandom(32), chain.factor_set_id, 0).error_name == \
        "EmptyBatch"


def test_auditors_attest_and_withdraw(chain) -> None:
    auditor = chain.auditor
    report_hash = os.urandom(32)
    evidence = os.urandom(32)
    receipt = auditor.attest(SubjectKind.REPORT, report_hash, evidence)
    (event,) = auditor.events_in(receipt)
    assert isinstance(event, Attested)
    assert (event.subject, event.kind, event.evidence) == (
        report_hash, SubjectKind.REPORT, evidence)
    info = auditor.attestation(auditor.client.address, SubjectKind.REPORT, report_hash)
    assert info.live
    assert info.evidence == evidence
    assert (info.auditor, info.holds_auditor_role) == (auditor.client.address, True)
    assert chain.outsider.attestations(SubjectKind.REPORT, report_hash) == [info]
    assert chain.outsider.attestations(SubjectKind.BATCH, report_hash) == []
    again = revert_of(auditor.attest, SubjectKind.REPORT, report_hash, evidence)
    assert again.error_name == "AlreadyAttested"
    assert again.error_args["kind"] == "Report"
    receipt = auditor.revoke_attestation(SubjectKind.REPORT, report_hash)
    assert isinstance(auditor.events_in(receipt)[0], AttestationRevoked)
    assert not auditor.attestation(auditor.client.address, SubjectKind.REPORT, report_hash).live
    assert revert_of(auditor.revoke_attestation, SubjectKind.REPORT, report_hash).error_name == \
        "NoSuchAttestation"
    assert revert_of(chain.exporter.attest, SubjectKind.BATCH, report_hash, evidence).error_name \
        == "AccessControlUnauthorizedAccount"


def test_roles_are_read_at_a_past_block(chain) -> None:
    newcomer = dev_key(8).address
    receipt = chain.admin.grant_role(EXPORTER_ROLE, newcomer)
    assert chain.outsider.has_role(EXPORTER_ROLE, newcomer, block=receipt.block_number)
    assert not chain.outsider.has_role(EXPORTER_ROLE, newcomer, block=receipt.block_number - 1)


def test_ended_records_name_how_each_ended(chain) -> None:
    exporter = chain.exporter
    first, second = entries(2)
    exporter.record_shipments(chain.factor_set_id, [first, second])
    replacement = os.urandom(32)
    exporter.revoke_record(first.shipment_key, first.record_hash)
    exporter.supersede_record(second.shipment_key, second.record_hash, replacement)
    assert chain.outsider.ended_records(exporter.client.address) == {
        first.record_hash: RecordStatus.REVOKED, second.record_hash: RecordStatus.SUPERSEDED}
    assert chain.outsider.ended_records(chain.exporter2.client.address) == {}


def test_a_read_only_handle_reads_and_refuses_every_write(chain) -> None:
    with connect(chain.settings, read_only=True) as client:
        ledger = CarbonLedgerContract(client, chain.deployment.address)
        assert ledger.read_only and not chain.auditor.read_only
        assert ledger.is_factor_set_registered(chain.factor_set_id)
        head = ledger.block_number()
        with pytest.raises(ChainError, match="contract handle is read-only") as refused:
            ledger.attest(SubjectKind.REPORT, os.urandom(32), os.urandom(32))
        assert not isinstance(refused.value, ContractRevert)
        with pytest.raises(ChainError, match="read-only"):
            ledger.register_factor_set(os.urandom(32), "test://never")
        assert ledger.block_number() == head  # nothing was sent


def test_the_contract_reports_its_interfaces(chain) -> None:
    assert chain.admin.supports_interface(bytes.fromhex("7965db0b"))  # IAccessControl
    assert not chain.admin.supports_interface(bytes.fromhex("ffffffff"))
