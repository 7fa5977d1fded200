"""Verifying a declaration whose records are in a store with the side process reading a share of
them: a stored record changed, a consignment's figures changed and signed again, or a record
whose embedded emissions do not follow from its inputs, is named the same way whichever process
read it, check for check, as in one process, and with the dataset rebuilt row by row."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from declaration_fixtures import DEFAULT, STEEL_IMPORTER, actual, anchor, consignment, register
from devchain import DevChain

from ledger.anchoring.anchor import anchor_footprints
from ledger.anchoring.options import AnchorOptions
from ledger.declaration import (
    Declaration,
    DeclarationOptions,
    compute_declaration,
    issue_declaration,
)
from ledger.dev.devkeys import DEV_EXPORTER_INDEXES, dev_key
from ledger.footprint.single import compute_shipment
from ledger.inputs.shipments import Shipment
from ledger.reports import vc
from ledger.store.cbam import BodyShare
from ledger.store.store import LedgerStore, open_store
from ledger.verify.declaration import verify_declaration
from ledger.verify.declaration_records import SIDE_SHARE_PERCENT
from ledger.verify.verdict import Verdict

DECLARANT_KEY = dev_key(DEV_EXPORTER_INDEXES[1]).private_key
OPTIONS = DeclarationOptions(embed_records=False, price_estimates={
    "2026-Q2": Decimal("70.00"), "2026-Q3": Decimal("71.00"), "2026-Q4": Decimal("72.00")})


def _shipments() -> list[dict[str, Any]]:
    return [consignment(f"SH-{n:03d}", cn="7318 11 00", mass_kg=f"{1000 + 250 * n}",
                        importer=STEEL_IMPORTER, released=f"2026-{1 + n % 12:02d}-10",
                        production=DEFAULT if n % 3 else actual("1.9", "0.3"),
                        installation=f"CN-SH-{n % 2}") for n in range(60)]


def _both(document: dict[str, Any], chain: DevChain, store: LedgerStore) -> Verdict:
    """The verdict, the same in one process and with the side process, column by column and
    row by row."""
    one = verify_declaration(document, chain.exporter2, records=store, processes=1)
    for processes, fast in ((2, True), (1, False), (2, False)):
        other = verify_declaration(document, chain.exporter2, records=store,
                                   processes=processes, fast=fast)
        assert other.to_dict() == one.to_dict(), (processes, fast)
    return one


def _numbers(document: dict[str, Any], store: LedgerStore
             ) -> tuple[list[dict[str, Any]], int, int]:
    """The consignments in file order, the first the side process reads and the first it does
    not (the store's share of each, which the two shares split between them)."""
    consignments = [c for line in document["credentialSubject"]["lines"]
                    for c in line["consignments"]]
    keys = {(c["exporter"].lower(), c["shipmentId"]): n for n, c in enumerate(consignments)}
    shares = [{n for n, _ in store.record_bodies(dict(keys), BodyShare(SIDE_SHARE_PERCENT, first))}
              for first in (True, False)]
    assert not shares[0] & shares[1] and shares[0] | shares[1] == set(range(len(consignments)))
    return consignments, min(shares[0]), min(shares[1])


def test_a_changed_stored_record_is_named_whichever_process_reads_it(
        chain: DevChain, tmp_path: Path) -> None:
    with open_store(tmp_path / "share.sqlite") as store:
        _, document = _issued(chain, store)  # records in their rows
        assert _both(document, chain, store).ok
        consignments, side, main = _numbers(document, store)
        for number in sorted((side, main), reverse=True):  # the earlier is named at the end
            shipment_id = consignments[number]["shipmentId"]
            with store.write() as conn:
                conn.exec_driver_sql(
                    "UPDATE records SET record_json = CAST(REPLACE(CAST(record_json AS TEXT), "
                    "'\"embedded_g\":', '\"embedded_g\":1') AS BLOB) WHERE shipment_id = ?",
                    (shipment_id,))
            verdict = _both(document, chain, store)
            assert verdict.failed == ["record_hash"]
            detail = next(c.detail for c in verdict.checks if c.name == "record_hash")
            assert shipment_id in detail


def test_a_consignment_changed_and_signed_again_is_named_whichever_process_reads_it(
        chain: DevChain, tmp_path: Path) -> None:
    with open_store(tmp_path / "share.sqlite") as store:
        declaration, document = _issued(chain, store)
        consignments, side, main = _numbers(document, store)
        for number in (side, main):
            for field, value in (("netMassG", 1), ("exporter", "0x" + "ab" * 20),
                                 ("importDate", "2026-12-31"), ("shipmentId", "SH-999")):
                resigned = _resigned(document, declaration, number, _setting(field, value))
                verdict = _both(resigned, chain, store)
                assert not verdict.ok and "signature" not in verdict.failed, (number, field)
            # an entry that names no exporter: its record cannot be looked up
            verdict = _both(_resigned(document, declaration, number, lambda entry: {
                k: v for k, v in entry.items() if k != "exporter"}), chain, store)
            detail = next(c.detail for c in verdict.checks if c.name == "record_hash")
            assert detail == "KeyError: 'exporter'", (number, detail)
        assert len(consignments) == 60


def _issued(chain: DevChain, store: LedgerStore) -> tuple[Declaration, dict[str, Any]]:
    """The consignments anchored on the events path (records in their rows), declared and
    signed."""
    anchor(chain, store, _shipments(), path="events")
    declaration = compute_declaration(store, STEEL_IMPORTER, 2026, options=OPTIONS)
    return declaration, issue_declaration(declaration, issuer_key=DECLARANT_KEY,
                                          issued_at=datetime(2027, 5, 3, tzinfo=UTC))


def _setting(field: str, value: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda entry: {**entry, field: value}


def _resigned(document: dict[str, Any], declaration: Declaration, number: int,
              change: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    """The document with consignment ``number``'s entry changed, signed again by the
    declarant."""
    unsigned = {k: v for k, v in document.items() if k != "proof"}
    subject = unsigned["credentialSubject"]
    lines = [dict(line, consignments=list(line["consignments"])) for line in subject["lines"]]
    unsigned["credentialSubject"] = dict(subject, lines=lines)
    place = number
    for line in lines:
        if place < len(line["consignments"]):
            line["consignments"][place] = change(line["consignments"][place])
            break
        place -= len(line["consignments"])
    return vc.sign_credential(unsigned, DECLARANT_KEY, chain_id=declaration.chain_id,
                              verifying_contract=declaration.contract,
                              created="2027-05-03T09:00:00Z")


def _anchor_with_wrong_emissions(chain: DevChain, store: LedgerStore,
                                 shipments: list[dict[str, Any]], wrong: set[str]) -> None:
    """Anchors the consignments, those in ``wrong`` with one gram more embedded emissions than
    their inputs give (as a faulty footprint engine would have written them)."""
    factor_set = register(chain)
    pairs = []
    for given in shipments:
        shipment = Shipment.from_dict(given)
        footprint = compute_shipment(shipment, factor_set).to_dict()
        if shipment.shipment_id in wrong:
            footprint["cbam"]["embedded_g"] += 1
        pairs.append((shipment.to_dict(), footprint))
    anchor_footprints(pairs, store=store, ledger=chain.ledger(DEV_EXPORTER_INDEXES[0]),
                      factor_set_id=factor_set.id, options=AnchorOptions(path="root"))


def test_embedded_emissions_that_do_not_follow_from_their_inputs_are_named(
        chain: DevChain, tmp_path: Path) -> None:
    wrong = {"SH-007", "SH-030"}  # one on actual values (7 % 3 == 1), one on the default value
    with open_store(tmp_path / "wrong.sqlite") as store:
        _anchor_with_wrong_emissions(chain, store, _shipments(), wrong)
        declaration = compute_declaration(store, STEEL_IMPORTER, 2026, options=OPTIONS)
        document = issue_declaration(declaration, issuer_key=DECLARANT_KEY,
                                     issued_at=datetime(2027, 5, 3, tzinfo=UTC))
        consignments = [c for line in document["credentialSubject"]["lines"]
                        for c in line["consignments"]]
        first = next(c for c in consignments if c["shipmentId"] in wrong)
        verdict = _both(document, chain, store)
        assert verdict.failed == ["recompute"]
        detail = next(c.detail for c in verdict.checks if c.name == "recompute")
        assert detail.startswith(f"consignment {first['shipmentId']}: embedded emissions "
                                 f"{first['embeddedEmissionsG']} g do not follow from its inputs")
        # the record as anchored is what the file states: its hash and proof still hold
        assert {c.name for c in verdict.checks if c.status == "pass"} >= {
            "signature", "record_hash", "merkle_proof", "anchor"}
