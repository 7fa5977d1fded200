"""``carbon-ledger supersede``: a corrected record replaces the anchored one on chain, the old
one is refused by ``report``, the corrected report verifies, and ``lookup`` shows both."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
from cli_env import chain_cli_env
from devchain import DevChain
from report_chain_fixtures import PERIOD, SHIPMENTS

from ledger.cli.main import main

pytestmark = pytest.mark.chain


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def test_supersede_replaces_the_record_and_keeps_the_first_version(
        chain: DevChain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    chain_cli_env(chain, tmp_path, monkeypatch)
    shipments = tmp_path / "shipments.json"
    shipments.write_text(json.dumps({"shipments": SHIPMENTS}), encoding="utf-8")
    assert run(["anchor", str(shipments)], capsys)[0] == 0
    sid = SHIPMENTS[1]["shipment_id"]
    first = tmp_path / "first.proof.json"
    assert run(["proof", sid, "--out", str(first)], capsys)[0] == 0
    first_hash = json.loads(first.read_text())["record_hash"]

    corrected = copy.deepcopy(SHIPMENTS[1])
    for leg in corrected["legs"]:
        leg["mass_kg"] = "11000"  # the container weighed less than declared
    fixed = tmp_path / "corrected.json"
    fixed.write_text(json.dumps({"shipments": [corrected]}), encoding="utf-8")
    second = tmp_path / "second.proof.json"
    code, out, err = run(["supersede", sid, str(fixed), "--out", str(second)], capsys)
    assert code == 0, err
    new_hash = json.loads(second.read_text())["record_hash"]
    assert new_hash != first_hash
    assert f"record {first_hash} superseded by {new_hash}" in out

    # again: nothing new is sent, and it says so
    code, out, _ = run(["supersede", sid, str(fixed), "--out", str(second)], capsys)
    assert code == 0 and "already" in out

    # the chain holds both records and the supersession; one is live
    code, out, _ = run(["lookup", sid], capsys)
    assert code == 0
    assert out.count("ShipmentRecorded") == 2 and "RecordSuperseded" in out
    assert "live records on chain: 1" in out
    # the store keeps both versions: the latest by default, the first on request
    latest = tmp_path / "latest.proof.json"
    code, _, err = run(["proof", sid, "--out", str(latest)], capsys)
    assert code == 0 and f"{sid}: version 2 of 2" in err
    assert json.loads(latest.read_text()) == json.loads(second.read_text())
    again = tmp_path / "again.proof.json"
    assert run(["proof", sid, "--record-version", "1", "--out", str(again)], capsys)[0] == 0
    assert json.loads(again.read_text())["record_hash"] == first_hash
    code, _, err = run(["proof", sid, "--record-version", "3"], capsys)
    assert code == 2 and "2 version(s)" in err

    # a report on the first version is refused before signing; the corrected one verifies
    days = ["--first-day", PERIOD[0].isoformat(), "--last-day", PERIOD[1].isoformat()]
    code, _, err = run(["report", str(first), "--out", str(tmp_path / "old"), *days], capsys)
    assert code == 2
    assert re.search(rf"superseded by the corrected record {new_hash}", err), err
    assert not (tmp_path / "old").exists()
    code, _, err = run(["report", str(second), "--out", str(tmp_path / "new"), *days], capsys)
    assert code == 0, err
    chain.node.rpc("evm_mine")
    code, out, err = run(["verify", str(tmp_path / "new" / "report.json")], capsys)
    assert code == 0, out + err
    versions = next(line.strip() for line in out.splitlines() if "versions of" in line)
    assert re.fullmatch(rf"versions of {sid}: {first_hash[:14]}… \(superseded, block \d+\) -> "
                        rf"{new_hash[:14]}… \(live, block \d+\) \[this report\]", versions)

    # a second correction supersedes the second version, and the store keeps all three
    corrected["legs"][0]["mass_kg"] = "10500"
    fixed.write_text(json.dumps({"shipments": [corrected]}), encoding="utf-8")
    third = tmp_path / "third.proof.json"
    code, out, err = run(["supersede", sid, str(fixed), "--out", str(third)], capsys)
    assert code == 0, err
    third_hash = json.loads(third.read_text())["record_hash"]
    assert f"record {new_hash} superseded by {third_hash}" in out and "(version 3)" in out
    assert json.loads(third.read_text())["supersedes"] == new_hash
    code, _, err = run(["proof", sid, "--out", str(latest)], capsys)
    assert code == 0 and "version 3 of 3" in err
    assert json.loads(latest.read_text())["record_hash"] == third_hash
    code, out, _ = run(["lookup", sid], capsys)
    assert out.count("RecordSuperseded") == 2 and "live records on chain: 1" in out


def test_supersede_refuses_what_cannot_be_superseded(
        chain: DevChain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    chain_cli_env(chain, tmp_path, monkeypatch)
    shipments = tmp_path / "shipments.json"
    shipments.write_text(json.dumps({"shipments": SHIPMENTS}), encoding="utf-8")
    assert run(["anchor", str(shipments)], capsys)[0] == 0
    sid = SHIPMENTS[1]["shipment_id"]
    code, _, err = run(["supersede", sid, str(shipments)], capsys)  # the same record
    assert code == 2 and "nothing to correct" in err
    code, _, err = run(["supersede", "NO-SUCH", str(shipments)], capsys)
    assert code == 2 and "has no shipment 'NO-SUCH'" in err
    assert run(["revoke", sid], capsys)[0] == 0
    corrected = copy.deepcopy(SHIPMENTS[1])
    corrected["legs"][0]["mass_kg"] = "11000"
    fixed = tmp_path / "corrected.json"
    fixed.write_text(json.dumps({"shipments": [corrected]}), encoding="utf-8")
    code, _, err = run(["supersede", sid, str(fixed)], capsys)
    assert code == 1 and "is revoked" in err
