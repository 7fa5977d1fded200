"""Issue, verify and attest against a real Anvil: engine footprints, records, a root on chain."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import secrets
from datetime import UTC, date, datetime
from typing import Any

import pytest
from devchain import deploy_rule_1_ledger

from ledger.chain.contract import CarbonLedgerContract
from ledger.dev.devkeys import (
    DEV_AUDITOR_INDEXES,
    DEV_EXPORTER_INDEXES,
    DEV_OUTSIDER_INDEXES,
    dev_key,
)
from ledger.errors import ConfigError
from ledger.factors.factorset import load_factor_set
from ledger.footprint.single import compute_shipment
from ledger.inputs.shipments import Shipment
from ledger.records import merkle
from ledger.records import record as records
from ledger.records.canonical import chain_shipment_key_bytes
from ledger.reports import vc
from ledger.reports.document import build_report
from ledger.reports.figures import engine_recompute
from ledger.reports.model import Anchor, ReportItem
from ledger.reports.parse import parse_report, report_chain
from ledger.verify.attest import attest_report, revoke_report_attestation
from ledger.verify.onchain import check_factor_sets
from ledger.verify.reader import open_report_chain
from ledger.verify.verdict import CheckFailed
from ledger.verify.verifier import verify_report

PERIOD = (date(2026, 1, 1), date(2026, 3, 31))
HOC_PRODUCT_ID = "urn:pathfinder:product:customcode:vendor-assigned:hoc:"
SHIPMENTS = [
    {"shipment_id": "HY-2026-0007", "exporter": "Haiyan Fasteners Co.",
     "product": {"description": "Threaded screws and bolts", "cn_code": "73181590",
                 "country_of_origin": "CN", "net_mass_kg": "10000", "cbam_year": 2026},
     "legs": [{"leg": 1, "mode": "road", "origin": "CNHYN", "destination": "CNNGB",
               "distance_km": "160", "mass_kg": "10000"},
              {"leg": 2, "mode": "sea", "origin": "CNNGB", "destination": "NLRTM",
               "mass_kg": "10000"}]},
    {"shipment_id": "NGB-2026-0001", "exporter": "Haiyan Fasteners Co.",
     "legs": [{"leg": 1, "mode": "road", "origin": "CNNGB", "destination": "CNNGB",
               "distance_km": "35", "mass_kg": "12000"},
              # a hub whose operator states its type and energy (fictitious test figures)
              {"leg": 2, "mode": "hub", "mass_kg": "12000", "hub_co2e_ttw_kg_per_t": "1.2",
               "hub_co2e_wtw_kg_per_t": "1.6", "hub_type": "Transshipment",
               "hub_energy_carriers": [{"energy_carrier": "Electric", "relative_share": "1",
                                        "emission_factor_ttw": "0",
                                        "emission_factor_wtw": "0.3",
                                        "energy_consumption_unit": "kWh"}]}]},
]


def _issue(chain: Any, key_index: int = DEV_EXPORTER_INDEXES[0], *,
           anchor_factor_set: bytes | None = None,
           anchor_changes: dict[str, Any] | None = None) -> tuple[dict[str, Any], Any]:
    """A report of SHIPMENTS computed with the shipped factor set, its root anchored on chain.

    ``anchor_factor_set``: anchor the root under this (registered) id instead, leaving the
    shipped factor set that the records name unregistered.
    """
    factor_set = load_factor_set()
    fsid = bytes.fromhex(factor_set.id[2:])
    if anchor_factor_set is None and not chain.admin.is_factor_set_registered(fsid):
        chain.admin.register_factor_set(fsid, factor_set.uri)
    key = dev_key(key_index)
    recs = []
    for data in SHIPMENTS:
        shipment = Shipment.from_dict(data)
        recs.append(records.build_record(shipment.to_dict(),
                                         compute_shipment(shipment, factor_set).to_dict(),
                                         exporter=key.address.lower(),
                                         factor_set_id=factor_set.id))
    leaves = [records.record_leaf(r) for r in recs]
    tree = merkle.build_tree(leaves)
    exporter = chain.ledger(DEV_EXPORTER_INDEXES[0])
    receipt = exporter.anchor_root(tree.root_bytes, anchor_factor_set or fsid, len(leaves))
    recompute = engine_recompute([factor_set])
    items = []
    for rec, leaf in zip(recs, leaves, strict=True):
        anchor = Anchor(
            chain_id=31337, contract=chain.deployment.address, path="root",
            batch_id=tree.root, transaction_hash="0x" + receipt.tx_hash.hex(),
            block_number=receipt.block_number, merkle_root=tree.root,
            chain_shipment_id="0x" + leaf.shipment_id.hex(),
            record_hash=records.record_hash(rec), co2e_wtw_g=leaf.co2e_wtw_g,
            co2e_ttw_g=leaf.co2e_ttw_g, proof=tuple(tree.proof(leaf.shipment_id)), record=rec,
            factor_set_id=factor_set.id, factor_set_uri=factor_set.uri)
        figures, _ = recompute(rec, PERIOD)
        if anchor_changes:
            anchor = dataclasses.replace(anchor, **anchor_changes)
        items.append(ReportItem(figures, anchor))
    document = build_report(items, issuer_key=key.private_key,
                            issued_at=datetime(2026, 3, 31, 12, tzinfo=UTC), period=PERIOD)
    return document, recompute


def _reader(chain: Any, key_index: int = DEV_OUTSIDER_INDEXES[0]) -> CarbonLedgerContract:
    return CarbonLedgerContract(chain.client(key_index), chain.deployment.address)


def test_issued_report_verifies_on_chain_then_is_attested(chain: Any) -> None:
    document, recompute = _issue(chain)
    reader = _reader(chain)
    verdict = verify_report(document, reader, recompute=recompute)
    assert verdict.ok, verdict.to_dict()
    assert verdict.check("uniqueness").status == "not_applicable"

    auditor = chain.ledger(DEV_AUDITOR_INDEXES[0])
    attest_report(auditor, vc.report_hash(document), b"\x01" * 32)
    attested = verify_report(document, reader, recompute=recompute, require_attestation=True)
    assert attested.ok
    assert dev_key(DEV_AUDITOR_INDEXES[0]).address in attested.check("attestations").detail
    revoke_report_attestation(auditor, vc.report_hash(document))
    after = verify_report(document, reader, recompute=recompute, require_attestation=True)
    assert after.failed == ["attestations"]
    assert "1 revoked" in after.check("attestations").detail


def test_a_key_without_the_exporter_role_fails(chain: Any) -> None:
    document, recompute = _issue(chain)
    exporter = dev_key(DEV_EXPORTER_INDEXES[0]).address
    chain.admin.revoke_role(chain.admin.exporter_role(), exporter)
    chain.node.rpc("evm_mine")
    verdict = verify_report(document, _reader(chain), recompute=recompute)
    # the role was held when the root was anchored, so the historical check still passes...
    assert verdict.check("issuer_role").status == "pass"
    # ...but a report signed by a key that never had the role does not verify
    outsider = dev_key(DEV_OUTSIDER_INDEXES[1])
    forged = {k: v for k, v in document.items() if k != "proof"}
    forged["issuer"] = vc.did_pkh(31337, outsider.address)
    forged = vc.sign_credential(forged, outsider.private_key, chain_id=31337,
                                verifying_contract=chain.deployment.address,
                                created=document["validFrom"])
    bad = verify_report(forged, _reader(chain), recompute=recompute)
    assert "issuer_role" in bad.failed and "anchor" in bad.failed


def test_a_revoked_record_fails(chain: Any) -> None:
    document, recompute = _issue(chain)
    anchor = document["credentialSubject"]["productFootprints"][0]["extensions"][1]["data"]
    record = anchor["record"]
    shipment_key = chain_shipment_key_bytes(record["exporter"], record["shipment_id"])
    chain.exporter.revoke_record(shipment_key,
                                 bytes.fromhex(anchor["leaf"]["recordHash"][2:]))
    verdict = verify_report(document, _reader(chain), recompute=recompute)
    assert verdict.failed == ["status"]


def test_a_reorganised_anchor_fails_until_re_anchored(chain: Any) -> None:
    snapshot = chain.node.rpc("evm_snapshot")
    document, recompute = _issue(chain)
    anchor = document["credentialSubject"]["productFootprints"][0]["extensions"][1]["data"]
    raw = chain.node.rpc("eth_getRawTransactionByHash", anchor["transactionHash"])
    assert verify_report(document, _reader(chain), recompute=recompute).ok
    assert chain.node.rpc("evm_revert", snapshot)  # the anchoring block is gone
    factor_set = load_factor_set()
    chain.admin.register_factor_set(bytes.fromhex(factor_set.id[2:]), factor_set.uri)
    gone = verify_report(document, _reader(chain), recompute=recompute)
    assert "anchor" in gone.failed
    assert "not on chain" in gone.check("anchor").detail
    chain.node.rpc("eth_sendRawTransaction", raw)  # re-anchored: same signed transaction
    back = verify_report(document, _reader(chain), recompute=recompute)
    if back.check("anchor").status == "fail":
        pytest.fail(f"re-anchored report still fails: {back.to_dict()}")
    assert back.ok


def test_a_report_naming_another_factor_set_than_its_anchor_fails(chain: Any) -> None:
    # Anchored under the test factor set, while the report names the shipped one, which was
    # never registered: both the anchor (its event names another factor set) and the
    # registration check fail.
    shipped = load_factor_set().id
    assert not chain.admin.is_factor_set_registered(bytes.fromhex(shipped[2:]))
    document, recompute = _issue(chain, anchor_factor_set=chain.factor_set_id)
    verdict = verify_report(document, _reader(chain), recompute=recompute)
    assert verdict.failed == ["anchor", "factor_set"], verdict.to_dict()
    assert "under factor set " + shipped in verdict.check("anchor").detail
    assert verdict.skipped == []
    assert verdict.check("factor_set").detail == (
        f"factor set {shipped} is not registered on chain")


def test_the_factor_set_check_reads_the_registration_from_the_chain(chain: Any) -> None:
    document, _ = _issue(chain)
    parsed = parse_report(document)
    reader = _reader(chain)
    shipped = load_factor_set().id
    assert check_factor_sets(parsed, reader) == (
        "pass", f"registered on chain: {shipped}; URIs match the chain")

    other = "0x" + secrets.token_hex(32)
    moved = dataclasses.replace(parsed, anchors=[
        (sid, dataclasses.replace(a, factor_set_id=other)) for sid, a in parsed.anchors])
    with pytest.raises(CheckFailed, match=f"factor set {other} is not registered on chain"):
        check_factor_sets(moved, reader)
    chain.admin.register_factor_set(bytes.fromhex(other[2:]), "test://another-factor-set")
    with pytest.raises(CheckFailed, match="registered on chain as 'test://another-factor-set'"):
        check_factor_sets(moved, reader)  # the anchors still state the shipped set's URI
    renamed = dataclasses.replace(moved, anchors=[
        (sid, dataclasses.replace(a, factor_set_uri="test://another-factor-set"))
        for sid, a in moved.anchors])
    assert check_factor_sets(renamed, reader) == (
        "pass", f"registered on chain: {other}; URIs match the chain")


def test_unknown_factor_set_is_named(chain: Any) -> None:
    document, _ = _issue(chain)
    verdict = verify_report(document, _reader(chain), recompute=engine_recompute([]))
    assert "recompute" in verdict.failed
    assert "not shipped" in verdict.check("recompute").detail


def test_verification_connects_read_only_and_such_a_client_signs_nothing(chain: Any) -> None:
    from ledger.chain.client import connect
    from ledger.errors import ChainError
    from ledger.verify.verifier import verify_on_chain

    document, recompute = _issue(chain)
    settings = chain.settings.model_copy(update={"private_key": None, "keystore_file": None})
    verdict = verify_on_chain(document, settings, recompute=recompute)
    assert verdict.ok, verdict.to_dict()
    with connect(settings, read_only=True) as client:
        assert client.read_only and client.block_number() > 0
        with pytest.raises(ChainError, match="read-only"):
            client.transact(chain.deployment.address, b"\x00" * 4)
        with pytest.raises(ChainError, match="read-only"):
            _ = client.address


@pytest.mark.parametrize(("changes", "check"), [
    ({"factor_set_uri": "https://example.org/another-factor-set.json"}, "factor_set"),
    ({"batch_id": "0x" + "ab" * 32}, "anchor"),
])
def test_anchor_evidence_changed_and_signed_by_the_issuer_fails(
        chain: Any, changes: dict[str, Any], check: str) -> None:
    """The factor set's URI and the root path's batch id are checked against the chain, not
    only signed: an issuer cannot state other ones."""
    document, recompute = _issue(chain, anchor_changes=changes)
    verdict = verify_report(document, _reader(chain), recompute=recompute)
    assert not verdict.ok
    assert verdict.check(check).status == "fail", verdict.to_dict()
    assert verdict.check("signature").status == "pass"


def _resigned(chain: Any, document: dict[str, Any], subject: dict[str, Any]) -> dict[str, Any]:
    """The report with another ``credentialSubject``, signed again by its own issuer."""
    changed = {k: v for k, v in document.items() if k != "proof"}
    changed["credentialSubject"] = subject
    return vc.sign_credential(changed, dev_key(DEV_EXPORTER_INDEXES[0]).private_key,
                              chain_id=31337, verifying_contract=chain.deployment.address,
                              created=document["validFrom"])


def test_a_report_of_an_earlier_format_says_so_and_what_still_matches(chain: Any) -> None:
    document, recompute = _issue(chain)
    assert document["credentialSubject"]["reportFormat"] == 2
    # format 1 had no reportFormat and gave PACT values per shipment, not per declared unit
    earlier = {k: v for k, v in document["credentialSubject"].items() if k != "reportFormat"}
    pcf = earlier["productFootprints"][0]["pcf"]
    pcf["pCfExcludingBiogenic"] = document["credentialSubject"]["totals"]["co2eWtwKg"]
    verdict = verify_report(_resigned(chain, document, earlier), _reader(chain),
                            recompute=recompute)
    assert verdict.failed == ["recompute"]
    detail = verdict.check("recompute").detail
    assert "format 1" in detail and "per declared unit" in detail
    assert "totals, production, cbam match" in detail
    # a changed total in such a report is still named
    earlier["totals"]["co2eWtwKg"] = "1"
    bad = verify_report(_resigned(chain, document, earlier), _reader(chain), recompute=recompute)
    assert "its totals differ" in bad.check("recompute").detail


def test_a_hub_operation_category_changed_and_signed_by_the_issuer_fails(chain: Any) -> None:
    """The HOC footprint of a hub leg is rebuilt from the anchored record: the operator's
    figures cannot be restated in the report, even when it is signed again."""
    document, recompute = _issue(chain)
    assert verify_report(document, _reader(chain), recompute=recompute).ok
    subject = copy.deepcopy(document["credentialSubject"])
    (hoc,) = [f for f in subject["productFootprints"]
              if f["productIds"][0].startswith(HOC_PRODUCT_ID)]
    data = hoc["extensions"][0]["data"]
    assert (data["hubType"], data["co2eIntensityWTW"]) == ("Transshipment", "1.6")
    data["energyCarriers"][0]["emissionFactorWTW"] = "0.03"
    verdict = verify_report(_resigned(chain, document, subject), _reader(chain),
                            recompute=recompute)
    assert verdict.failed == ["recompute"], verdict.to_dict()


def test_a_report_of_an_unknown_format_is_refused_by_name(chain: Any) -> None:
    document, recompute = _issue(chain)
    newer = dict(document["credentialSubject"], reportFormat=3)
    verdict = verify_report(_resigned(chain, document, newer), _reader(chain),
                            recompute=recompute)
    assert verdict.failed == ["format"]
    assert "reportFormat 3" in verdict.check("format").detail


def test_a_report_naming_a_contract_older_than_the_shipment_id_rule_is_refused_by_name(
        chain: Any) -> None:
    document, _ = _issue(chain)
    old = deploy_rule_1_ledger(chain.client(0)).contract_address
    assert old is not None
    moved = json.loads(re.sub(chain.deployment.address[2:], old[2:], json.dumps(document),
                              flags=re.IGNORECASE))
    assert report_chain(moved)[1].lower() == old.lower()
    with pytest.raises(ConfigError) as caught, open_report_chain(moved, chain.settings):
        pass
    assert old in str(caught.value) and "predates sender-derived shipment ids" in str(caught.value)
    with open_report_chain(document, chain.settings) as reader:  # the current contract opens
        assert reader.shipment_id_rule() == 2
