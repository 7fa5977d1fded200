"""A consignment on an installation's actual emissions names the communication file they came
from; anchored on the session's Anvil, the annual declaration shows the file on its line and
verifies, and a declaration whose file reference was changed does not."""

from __future__ import annotations

import copy
import hashlib
from datetime import UTC, datetime
from pathlib import Path

from declaration_fixtures import actual, anchor, consignment
from devchain import DevChain

from ledger.declaration import compute_declaration, issue_declaration
from ledger.dev.devkeys import DEV_EXPORTER_INDEXES, dev_key
from ledger.store.store import open_store
from ledger.verify.declaration import verify_declaration

IMPORTER = "NL009900007"
DECLARANT_KEY = dev_key(DEV_EXPORTER_INDEXES[1]).private_key


def test_the_declaration_line_names_the_supplier_document_and_verifies(
        chain: DevChain, tmp_path: Path) -> None:
    digest = hashlib.sha256(b"a communication template (fictitious)").hexdigest()
    document = {"file_name": "cn-inst-s7-2025.xlsx", "sha256": digest,
                "installation_id": "CN-INST-S7",
                "reporting_period": {"start": "2025-01-01", "end": "2025-12-31"},
                "template_version": "2.1.1"}
    screws = consignment("SD-2026-001", cn="7318 11 00", mass_kg="12000", importer=IMPORTER,
                         released="2026-02-11",
                         production={**actual("1.9", "0.3"), "supplier_document": document},
                         installation="CN-INST-S7", route="BF-BOF")
    with open_store(tmp_path / "ledger.sqlite") as store:
        anchor(chain, store, [screws])
        declaration = compute_declaration(store, IMPORTER, 2026)
    (line,) = declaration.subject["lines"]
    shown = {"fileName": "cn-inst-s7-2025.xlsx", "sha256": digest,
             "installationId": "CN-INST-S7",
             "reportingPeriod": {"start": "2025-01-01", "end": "2025-12-31"},
             "templateVersion": "2.1.1"}
    assert line["supplierDocuments"] == [shown]
    assert line["consignments"][0]["supplierDocument"] == shown
    assert line["consignments"][0]["record"]["shipment"]["product"]["production"][
        "supplier_document"] == document
    signed = issue_declaration(declaration, issuer_key=DECLARANT_KEY,
                               issued_at=datetime(2027, 5, 3, 9, tzinfo=UTC))
    verdict = verify_declaration(signed, chain.exporter2)
    assert verdict.ok, verdict.to_dict()
    # another file named on the line, re-signed: the line no longer follows from the record
    forged = copy.deepcopy(declaration)
    forged.subject["lines"][0]["supplierDocuments"][0]["sha256"] = "0" * 64
    resigned = issue_declaration(forged, issuer_key=DECLARANT_KEY,
                                 issued_at=datetime(2027, 5, 3, 9, tzinfo=UTC))
    assert not verify_declaration(resigned, chain.exporter2).ok
