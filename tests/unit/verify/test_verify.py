"""The verdict's named checks against an in-memory ledger (chain tests use a real Anvil)."""

from __future__ import annotations

import copy

from eth_account import Account
from report_fixtures import (
    EXPORTER,
    FACTOR_SET_ID,
    MemoryLedger,
    anchored,
    recompute,
    shipment,
    signed_report,
)

from ledger.chain.abi import RecordStatus
from ledger.chain.types import AttestationInfo
from ledger.records import record as records
from ledger.reports import vc
from ledger.verify.verdict import CHECK_NAMES
from ledger.verify.verifier import verify_proofs, verify_report


def _verify(doc, ledger=None, **kw):  # type: ignore[no-untyped-def]
    ledger = ledger or MemoryLedger(root=anchored().tree.root)
    return verify_report(doc, ledger, recompute=recompute, **kw)


def test_a_valid_report_passes_every_check_by_name() -> None:
    verdict = _verify(signed_report())
    assert verdict.ok, verdict.to_dict()
    assert [c.name for c in verdict.checks] == list(CHECK_NAMES)
    assert verdict.check("uniqueness").status == "not_applicable"
    assert "not provable on chain" in verdict.check("uniqueness").detail
    assert verdict.check("attestations").status == "not_applicable"


def test_a_key_without_the_exporter_role_fails_issuer_role() -> None:
    ledger = MemoryLedger(root=anchored().tree.root, exporters=set())
    verdict = _verify(signed_report(), ledger)
    assert not verdict.ok
    assert verdict.failed == ["issuer_role"]


def test_a_report_signed_by_another_key_fails_signature_and_record_checks() -> None:
    intruder = Account.create()
    doc = signed_report()
    forged = copy.deepcopy(doc)
    forged["issuer"] = vc.did_pkh(31337, intruder.address)
    del forged["proof"]
    resigned = vc.sign_credential(forged, intruder.key, chain_id=31337,
                                  verifying_contract=vc.eip712_proof(doc)["eip712"]["domain"][
                                      "verifyingContract"], created=doc["validFrom"])
    verdict = _verify(resigned)
    assert {"issuer_role", "record_hash", "anchor"} <= set(verdict.failed)
    assert "signature" not in verdict.failed  # the forger's own signature is fine


def test_verify_says_which_proof_passed() -> None:
    verdict = _verify(signed_report())
    assert verdict.check("signature").status == "pass"
    assert "EIP-712 signature by" in verdict.check("signature").detail
    assert verdict.check("data_integrity").status == "pass"
    assert verdict.check("data_integrity").detail.startswith(
        "ecdsa-jcs-2019 signature by did:key:zDn")


def test_a_broken_data_integrity_proof_fails_its_own_check() -> None:
    doc = signed_report()
    proof = doc["proof"][0]
    proof["proofValue"] = proof["proofValue"][:-3] + ("222" if proof["proofValue"][-3:] != "222"
                                                      else "333")
    verdict = _verify(doc)
    assert "data_integrity" in verdict.failed
    assert "does not verify" in verdict.check("data_integrity").detail
    assert "signature" in verdict.failed  # the EIP-712 proof covers the Data Integrity proof


def test_a_current_report_without_its_data_integrity_proof_fails() -> None:
    doc = signed_report()
    doc["proof"] = [doc["proof"][1]]
    verdict = _verify(doc)
    assert "data_integrity" in verdict.failed
    assert "needs a Data Integrity proof" in verdict.check("data_integrity").detail


def _sign_as_the_earlier_release(credential, key):  # type: ignore[no-untyped-def]
    """One proof object of type EthereumEip712Signature2021, as reports were issued before."""
    from eth_account.messages import encode_typed_data

    document = copy.deepcopy(credential)
    document["proof"] = {
        "type": vc.LEGACY_PROOF_TYPE, "created": document["validFrom"],
        "proofPurpose": "assertionMethod",
        "verificationMethod": f"{document['issuer']}#blockchainAccountId",
        "eip712": {"domain": vc.eip712_domain(31337, anchored().items[0].anchor.contract),
                   "types": copy.deepcopy(vc.REPORT_TYPES), "primaryType": "Report"},
    }
    signed = Account.from_key(key).sign_message(
        encode_typed_data(full_message=vc.typed_data(document)))
    document["proof"]["proofValue"] = "0x" + bytes(signed.signature).hex()
    return document


def test_a_report_of_the_earlier_proof_type_still_verifies() -> None:
    from report_fixtures import EXPORTER_KEY

    credential = {k: v for k, v in signed_report().items() if k != "proof"}
    legacy = _sign_as_the_earlier_release(credential, EXPORTER_KEY)
    verdict = _verify(legacy)
    assert verdict.ok, verdict.to_dict()
    assert "earlier proof type EthereumEip712Signature2021" in verdict.check("signature").detail
    assert verdict.check("data_integrity").status == "not_applicable"
    legacy["credentialSubject"]["totals"]["co2eWtwKg"] = "1.000"
    assert "signature" in _verify(legacy).failed


def test_a_revoked_record_fails_status() -> None:
    item = anchored().items[0]
    ledger = MemoryLedger(root=anchored().tree.root,
                          ended={bytes.fromhex(item.anchor.record_hash[2:]): RecordStatus.REVOKED})
    verdict = _verify(signed_report(), ledger)
    assert verdict.failed == ["status"]
    assert "revoked" in verdict.check("status").detail


def test_a_reorganised_anchor_fails_until_it_is_back() -> None:
    ledger = MemoryLedger(root=anchored().tree.root, tx_present=False)
    verdict = _verify(signed_report(), ledger)
    assert "anchor" in verdict.failed
    assert "not on chain" in verdict.check("anchor").detail
    ledger.tx_present = True
    assert _verify(signed_report(), ledger).ok


def test_too_few_confirmations_fail() -> None:
    verdict = _verify(signed_report(), min_confirmations=10)
    assert verdict.failed == ["confirmations"]


def test_an_unknown_factor_set_is_named() -> None:
    ledger = MemoryLedger(root=anchored().tree.root)
    ledger.is_factor_set_registered = lambda _id: False  # type: ignore[method-assign]
    verdict = _verify(signed_report(), ledger)
    assert verdict.failed == ["factor_set"]
    assert FACTOR_SET_ID in verdict.check("factor_set").detail


def test_attestations_are_listed_with_the_auditor() -> None:
    doc = signed_report()
    auditor = Account.create().address
    ledger = MemoryLedger(root=anchored().tree.root, auditors={auditor})
    ledger.attested["0x" + vc.report_hash(doc).hex()] = AttestationInfo(
        auditor, 1_775_000_000, 0, bytes(32), True)
    verdict = _verify(doc, ledger, require_attestation=True)
    assert verdict.ok
    assert auditor in verdict.check("attestations").detail
    assert verdict.attestations[0]["auditor"] == auditor
    assert not _verify(doc, require_attestation=True).ok


def test_a_record_with_changed_inputs_but_consistent_hashes_fails_recompute() -> None:
    # An exporter anchors a record whose footprint does not follow from its inputs.
    ship = shipment("NGB-2026-0001", [("sea", "Ningbo", "Rotterdam", 19500)], 12000)
    honest = anchored([ship])
    record = copy.deepcopy(honest.records[0])
    record["footprint"]["legs"][0]["co2e_ttw_g"] -= 1000
    record["footprint"]["co2e_ttw_g"] -= 1000
    items = anchored([ship]).items
    from ledger.records import merkle
    from ledger.reports.model import Anchor, ReportItem
    leaf = records.record_leaf(record)
    tree = merkle.build_tree([leaf])
    anchor = Anchor(**{**items[0].anchor.__dict__, "record": record,
                       "record_hash": records.record_hash(record), "merkle_root": tree.root,
                       "batch_id": tree.root, "proof": (), "co2e_ttw_g": leaf.co2e_ttw_g})
    from report_fixtures import figures
    doc = signed_report(items=[ReportItem(figures(record), anchor)])
    verdict = _verify(doc, MemoryLedger(root=tree.root))
    assert verdict.failed == ["recompute"]
    assert "co2e_ttw_g" in verdict.check("recompute").detail


def test_ten_thousand_proofs_against_one_root_fetch_it_once() -> None:
    from ledger.records import merkle
    leaves = [merkle.make_leaf("0x" + f"{i:064x}", "0x" + f"{i + 1:064x}", i, i // 2)
              for i in range(1, 10_001)]
    tree = merkle.build_tree(leaves)
    calls = []
    ledger = MemoryLedger(root=tree.root)
    original = ledger.root_info
    ledger.root_info = lambda root: calls.append(root) or original(root)  # type: ignore[method-assign]
    entries = [(leaf, tree.proof(leaf.shipment_id)) for leaf in leaves]
    entries[42] = (entries[42][0]._replace(co2e_wtw_g=1), entries[42][1])
    checked, bad = verify_proofs(entries, tree.root, EXPORTER, ledger)
    assert (checked, bad, len(calls)) == (10_000, [42], 1)


def test_a_malformed_report_fails_format_alone_and_skips_the_rest() -> None:
    doc = signed_report()
    del doc["credentialSubject"]
    verdict = _verify(doc)
    assert not verdict.ok
    assert verdict.failed == ["format"]
    assert verdict.skipped == list(CHECK_NAMES[1:])
    not_run = len(CHECK_NAMES) - 1
    assert verdict.summary() == f"NOT VERIFIED: failed: format ({not_run} checks not run)"
    as_dict = verdict.to_dict()
    assert as_dict["failed"] == ["format"] and as_dict["skipped"] == list(CHECK_NAMES[1:])


def test_a_verdict_with_failures_but_nothing_skipped_names_only_the_failures() -> None:
    ledger = MemoryLedger(root=anchored().tree.root, exporters=set())
    verdict = _verify(signed_report(), ledger)
    assert verdict.skipped == []
    assert verdict.summary() == "NOT VERIFIED: failed: issuer_role"
    assert _verify(signed_report()).summary() == "VERIFIED"
