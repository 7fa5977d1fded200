"""``carbon-ledger declaration`` and ``carbon-ledger verify`` on a declaration, end to end on
the session's Anvil, with settings from the environment; the auditor's attestation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from declaration_fixtures import ALUMINIUM, STEEL, STEEL_IMPORTER, anchor
from devchain import DevChain

from ledger.chain.deploy import write_deployment
from ledger.cli.main import main
from ledger.config import load_chain_settings
from ledger.dev.devkeys import DEV_AUDITOR_INDEXES, DEV_EXPORTER_INDEXES, dev_key
from ledger.store.store import open_store
from ledger.verify.declaration import attest_declaration_on_chain


def run(args: list[str]) -> int:
    try:
        main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.fixture
def settings_env(chain: DevChain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    store = tmp_path / "ledger.sqlite"
    with open_store(store) as opened:
        anchor(chain, opened, STEEL + ALUMINIUM)
    for name, value in {
        "RPC_URL": chain.settings.rpc_url, "CHAIN_ID": str(chain.settings.chain_id),
        "PRIVATE_KEY": dev_key(DEV_EXPORTER_INDEXES[1]).private_key,
        "DEPLOYMENT_FILE": str(write_deployment(chain.deployment, tmp_path / "deployment.json")),
        "STORE": str(store), "RPC_RETRIES": "1", "RPC_BACKOFF_S": "0.01",
    }.items():
        monkeypatch.setenv(f"CARBON_LEDGER_{name}", value)
    return tmp_path


def test_declaration_is_issued_verified_and_attested(settings_env: Path, chain: DevChain,
                                                     capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    out = settings_env / "declarations"
    assert run(["declaration", "--declarant", STEEL_IMPORTER, "--year", "2026",
                "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "liable" in printed and "certificates to surrender: 98" in printed
    written = out / f"cbam-declaration-{STEEL_IMPORTER}-2026.json"
    assert written.is_file()
    assert run(["verify", str(written)]) == 0
    assert "VERIFIED" in capsys.readouterr().out
    document = json.loads(written.read_text(encoding="utf-8"))
    auditor = dev_key(DEV_AUDITOR_INDEXES[0]).private_key
    verdict, tx = attest_declaration_on_chain(document, load_chain_settings(), auditor)
    assert verdict.ok and tx is not None and tx.startswith("0x")


def test_bad_input_writes_nothing(settings_env: Path, capsys: pytest.CaptureFixture[str]
                                  ) -> None:
    out = settings_env / "none"
    assert run(["declaration", "--declarant", "FR009900003", "--year", "2026",
                "--out", str(out)]) == 2
    assert "has no anchored CBAM consignment" in capsys.readouterr().err
    assert run(["declaration", "--declarant", STEEL_IMPORTER, "--year", "2026",
                "--price-estimate", "2026-Q5=80", "--out", str(out)]) == 2
    assert run(["declaration", "--declarant", STEEL_IMPORTER, "--year", "2026", "--dry-run",
                "--out", str(out)]) == 0
    assert not out.exists()


def test_a_declaration_without_its_records_is_verified_with_the_store(
        settings_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = settings_env / "declarations"
    assert run(["declaration", "--declarant", STEEL_IMPORTER, "--year", "2026",
                "--out", str(out), "--no-records"]) == 0
    written = out / f"cbam-declaration-{STEEL_IMPORTER}-2026.json"
    document = json.loads(written.read_text(encoding="utf-8"))
    assert all("record" not in c for line in document["credentialSubject"]["lines"]
               for c in line["consignments"])
    capsys.readouterr()
    # without the store the records cannot be checked: named, exit 1
    assert run(["verify", str(written)]) == 1
    assert "neither embedded nor in the given store" in capsys.readouterr().out
    assert run(["verify", str(written), "--store", str(settings_env / "ledger.sqlite")]) == 0
    assert "VERIFIED" in capsys.readouterr().out
    # a store that does not exist (a setting: exit 1), a store given for a report (exit 2)
    assert run(["verify", str(written), "--store", str(settings_env / "none.sqlite")]) == 1
    assert "no ledger store at" in capsys.readouterr().err
    assert not (settings_env / "none.sqlite").exists()
    report = settings_env / "report.json"
    report.write_text(json.dumps({"type": ["VerifiableCredential"]}), encoding="utf-8")
    assert run(["verify", str(report), "--store", str(settings_env / "ledger.sqlite")]) == 2
    assert "--store is for a CBAM declaration" in capsys.readouterr().err
