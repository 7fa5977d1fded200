"""A public testnet set up and used with the documented commands only.

Anvil stands in for Sepolia: chain id 11155111, a block every 2 seconds, and its dev accounts
used for nothing but one faucet transfer to each fresh key. From there on, everything goes
through ``carbon-ledger`` (its ``main()``, with settings from the environment, as a user sets
them): ``deploy`` signs with a keystore, ``grant-role`` / ``register-factor-set`` /
``revoke-role`` with the admin's, ``anchor`` / ``proof`` / ``report`` with the exporter's key,
``verify`` with nothing, ``attest`` with the auditor's key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account
from report_chain_fixtures import PERIOD, SHIPMENTS

from ledger.chain.client import connect
from ledger.cli.main import main
from ledger.config import ChainSettings
from ledger.dev.anvil import AnvilNode, start_anvil
from ledger.dev.devkeys import dev_key

SEPOLIA = 11155111
ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.chain


@pytest.fixture(scope="module")
def sepolia_like() -> Iterator[AnvilNode]:
    with start_anvil(chain_id=SEPOLIA, block_time=2) as node:
        yield node


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def _faucet(node: AnvilNode, *addresses: str) -> None:
    """One transfer of test ether to each fresh key: the only use of a dev account."""
    settings = ChainSettings(rpc_url=node.rpc_url, chain_id=SEPOLIA, poll_interval_s=0.1)
    with connect(settings, private_key=dev_key(0).private_key) as faucet:
        for address in addresses:
            faucet.transact(address, b"", value=10**18, what="faucet transfer")


def test_deploy_roles_factor_sets_anchor_report_verify_attest(
        sepolia_like: AnvilNode, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    admin, exporter, auditor, stranger = (Account.create() for _ in range(4))
    _faucet(sepolia_like, admin.address, exporter.address, auditor.address, stranger.address)
    keystore = tmp_path / "admin.keystore.json"
    keystore.write_text(json.dumps(Account.encrypt(admin.key, "correct horse",
                                                   kdf="pbkdf2", iterations=1000)))
    for name, value in {"RPC_URL": sepolia_like.rpc_url, "CHAIN_ID": str(SEPOLIA),
                        "DEPLOYMENTS_DIR": str(tmp_path / "deployments"),
                        "STORE": str(tmp_path / "ledger.sqlite"),
                        "POLL_INTERVAL_S": "0.1"}.items():
        monkeypatch.setenv(f"CARBON_LEDGER_{name}", value)

    def as_admin() -> None:
        monkeypatch.delenv("CARBON_LEDGER_PRIVATE_KEY", raising=False)
        monkeypatch.setenv("CARBON_LEDGER_KEYSTORE_FILE", str(keystore))
        monkeypatch.setenv("CARBON_LEDGER_KEYSTORE_PASSWORD", "correct horse")

    def as_key(account: object) -> None:
        monkeypatch.delenv("CARBON_LEDGER_KEYSTORE_FILE", raising=False)
        monkeypatch.delenv("CARBON_LEDGER_KEYSTORE_PASSWORD", raising=False)
        monkeypatch.setenv("CARBON_LEDGER_PRIVATE_KEY", "0x" + bytes(account.key).hex())  # type: ignore[attr-defined]

    # the admin deploys from its keystore; the shipped factor set is registered with it
    as_admin()
    code, out, err = run(["deploy"], capsys)
    assert code == 0, err
    deployment_file = tmp_path / "deployments" / f"{SEPOLIA}.json"
    deployment = json.loads(deployment_file.read_text())
    assert deployment["chainId"] == SEPOLIA
    assert deployment["admin"] == deployment["deployer"] == admin.address
    assert f"deployment file {deployment_file}" in out
    assert "waiting for it to be mined" in err  # a wait on 2-second blocks says so
    (shipped_id,) = deployment["factorSets"]

    # deploying again would orphan the file's contract: refused unless --force
    code, _, err = run(["deploy"], capsys)
    assert code == 1
    assert "--force" in err
    assert json.loads(deployment_file.read_text()) == deployment

    # roles: a stranger cannot grant (the contract's error, by name, with its arguments)
    as_key(stranger)
    code, _, err = run(["grant-role", "exporter", stranger.address], capsys)
    assert code == 1
    assert re.search(rf"AccessControlUnauthorizedAccount\(account={stranger.address}, "
                     r"neededRole=DEFAULT_ADMIN_ROLE", err), err
    as_admin()
    assert run(["grant-role", "exporter", exporter.address], capsys)[0] == 0
    code, out, _ = run(["grant-role", "auditor", auditor.address.lower()], capsys)
    assert code == 0
    assert f"granted AUDITOR_ROLE to {auditor.address}" in out
    code, out, _ = run(["grant-role", "auditor", auditor.address], capsys)
    assert "already holds AUDITOR_ROLE" in out and "nothing sent" in out

    # factor sets: the shipped one is there; another manifest is registered
    code, out, _ = run(["register-factor-set"], capsys)
    assert code == 0 and "already registered" in out and shipped_id in out
    other = ROOT / "emission_factors" / "factor-set-2025.json"
    code, out, err = run(["register-factor-set", str(other)], capsys)
    assert code == 0, err
    assert "registered factor set 0x" in out

    # the exporter anchors and issues a report; anyone verifies; the auditor attests
    as_key(exporter)
    shipments = tmp_path / "shipments.json"
    shipments.write_text(json.dumps({"shipments": SHIPMENTS}), encoding="utf-8")
    code, out, err = run(["anchor", str(shipments)], capsys)
    assert code == 0, err
    assert f"sending {len(SHIPMENTS)} shipment(s)" in err  # progress while the chain works
    bundles = []
    for shipment in SHIPMENTS:
        bundle = tmp_path / f"{shipment['shipment_id']}.proof.json"
        assert run(["proof", shipment["shipment_id"], "--out", str(bundle)], capsys)[0] == 0
        bundles.append(str(bundle))
    code, _, err = run(["report", *bundles, "--out", str(tmp_path / "out"), "--first-day",
                        PERIOD[0].isoformat(), "--last-day", PERIOD[1].isoformat()], capsys)
    assert code == 0, err
    report = tmp_path / "out" / "report.json"
    monkeypatch.delenv("CARBON_LEDGER_PRIVATE_KEY")
    code, out, err = run(["verify", str(report), "--rpc", sepolia_like.rpc_url], capsys)
    assert code == 0, out + err
    as_key(auditor)
    code, out, err = run(["attest", str(report)], capsys)
    assert code == 0, out + err
    assert f"as {auditor.address}" in out
    code, _, err = run(["attest", str(report)], capsys)  # twice: the contract's own refusal
    assert code == 1
    assert "AlreadyAttested(" in err
    code, out, _ = run(["verify", str(report)], capsys)
    assert code == 0
    assert re.search(rf"attestation by {auditor.address}: 20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ",
                     out), out

    # a revoked record is refused before a report is signed on it
    as_key(exporter)
    revoked = SHIPMENTS[0]["shipment_id"]
    code, out, err = run(["revoke", revoked], capsys)
    assert code == 0, err
    code, out, err = run(["revoke", revoked], capsys)  # the contract refuses, by name
    assert code == 1
    assert re.search(rf"RecordNotLive\(exporter={exporter.address}, recordHash=0x[0-9a-f]{{64}}, "
                     r"status=Revoked", err), err
    code, _, err = run(["report", bundles[0], "--out", str(tmp_path / "again"), "--first-day",
                        PERIOD[0].isoformat(), "--last-day", PERIOD[1].isoformat()], capsys)
    assert code == 2
    assert f"shipment '{revoked}'" in err and "revoked by its exporter" in err
    assert not (tmp_path / "again").exists()

    # the admin takes the auditor role back; the auditor can no longer attest
    as_admin()
    code, out, _ = run(["revoke-role", "auditor", auditor.address], capsys)
    assert code == 0 and f"revoked AUDITOR_ROLE of {auditor.address}" in out
    code, out, _ = run(["revoke-role", "auditor", auditor.address], capsys)
    assert "does not hold AUDITOR_ROLE" in out


def test_a_damaged_deployment_file_is_named_field_by_field(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "deployment.json"
    path.write_text(json.dumps({"format": "carbon-ledger-deployment/1", "chainId": SEPOLIA,
                                "address": "0x12", "artifactHash": "abc"}))
    monkeypatch.setenv("CARBON_LEDGER_DEPLOYMENT_FILE", str(path))
    monkeypatch.setenv("CARBON_LEDGER_CHAIN_ID", str(SEPOLIA))
    monkeypatch.setenv("CARBON_LEDGER_PRIVATE_KEY", "0x" + "11" * 32)
    code, _, err = run(["register-factor-set"], capsys)
    assert code == 1
    assert "'blockNumber' is missing" in err
    assert "'address' must be a 0x-prefixed 20-byte hex address" in err
    assert "'artifactHash' must be" in err
    assert "KeyError" not in err
