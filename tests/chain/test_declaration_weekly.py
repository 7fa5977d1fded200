"""``carbon-ledger declaration`` for imports of 2027 (weekly certificate prices) and ``verify``
on the result, end to end on the session's Anvil."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from declaration_fixtures import DEFAULT, STEEL_IMPORTER, anchor, consignment
from devchain import DevChain

from ledger.chain.deploy import write_deployment
from ledger.cli.main import main
from ledger.dev.devkeys import DEV_EXPORTER_INDEXES, dev_key
from ledger.store.store import open_store

#: 60 t of coach screws on the default value, released in ISO weeks 5 and 6 of 2027.
STEEL_2027 = [
    consignment("ST-2027-001", cn="7318 11 00", mass_kg="40000", importer=STEEL_IMPORTER,
                released="2027-02-03", production=DEFAULT, installation="CN-INST-S1"),
    consignment("ST-2027-002", cn="7318 11 00", mass_kg="20000", importer=STEEL_IMPORTER,
                released="2027-02-10", production=DEFAULT, installation="CN-INST-S1"),
]


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
        anchor(chain, opened, STEEL_2027)
    for name, value in {
        "RPC_URL": chain.settings.rpc_url, "CHAIN_ID": str(chain.settings.chain_id),
        "PRIVATE_KEY": dev_key(DEV_EXPORTER_INDEXES[1]).private_key,
        "DEPLOYMENT_FILE": str(write_deployment(chain.deployment, tmp_path / "deployment.json")),
        "STORE": str(store), "RPC_RETRIES": "1", "RPC_BACKOFF_S": "0.01",
    }.items():
        monkeypatch.setenv(f"CARBON_LEDGER_{name}", value)
    return tmp_path


def test_2027_declaration_needs_a_price_per_week_and_verifies_with_estimates(
        settings_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = settings_env / "declarations"
    base = ["declaration", "--declarant", STEEL_IMPORTER, "--year", "2027", "--out", str(out)]
    assert run(base) == 2
    err = capsys.readouterr().err
    assert "week 2027-W05 (2027-02-01 to 2027-02-07)" in err
    assert "week 2027-W06 (2027-02-08 to 2027-02-14)" in err
    assert not out.exists()
    assert run([*base, "--price-estimate", "2027-W53=80"]) == 2
    assert "2027-W53 is not an ISO week" in capsys.readouterr().err
    assert run([*base, "--price-estimate", "2027-W05=80.50",
                "--price-estimate", "2027-W06=82.00"]) == 0
    printed = capsys.readouterr().out
    assert "estimates given on the command line: 2027-W05, 2027-W06" in printed
    written = out / f"cbam-declaration-{STEEL_IMPORTER}-2027.json"
    document = json.loads(written.read_text(encoding="utf-8"))
    subject = document["credentialSubject"]
    assert [(p["period"], p["priceEur"], p["estimate"]) for p in subject["prices"]] == [
        ("2027-W05", "80.50", True), ("2027-W06", "82.00", True)]
    assert subject["containsEstimates"] is True
    (line,) = subject["lines"]
    assert [w["period"] for w in line["weeks"]] == ["2027-W05", "2027-W06"]
    assert run(["verify", str(written)]) == 0
    assert "VERIFIED" in capsys.readouterr().out
