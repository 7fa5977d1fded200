"""Chain settings: environment variables, signer keys, keystores (no chain needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_account import Account

from ledger.config import (
    load_chain_settings,
    load_toolchain_settings,
    signer_private_key,
)
from ledger.dev.devkeys import DEV_KEYS, DEV_MNEMONIC, dev_key
from ledger.errors import ConfigError

KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe512961708279f2e3e8a5d4b8e3e8a5")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("CARBON_LEDGER_") and name != "CARBON_LEDGER_REQUIRE_TIERS":
            monkeypatch.delenv(name)


def test_settings_come_from_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARBON_LEDGER_RPC_URL", "https://rpc.example.org/v3/secret")
    monkeypatch.setenv("CARBON_LEDGER_CHAIN_ID", "11155111")
    monkeypatch.setenv("CARBON_LEDGER_CONFIRMATIONS", "3")
    monkeypatch.setenv("CARBON_LEDGER_DEPLOYMENTS_DIR", "/srv/deployments")
    settings = load_chain_settings()
    assert settings.rpc_url == "https://rpc.example.org/v3/secret"
    assert settings.chain_id == 11155111
    assert settings.confirmations == 3
    assert settings.deployment_path() == Path("/srv/deployments/11155111.json")


def test_explicit_values_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARBON_LEDGER_CHAIN_ID", "5")
    assert load_chain_settings(chain_id=31337).chain_id == 31337


def test_deployment_file_setting_overrides_the_folder(tmp_path: Path) -> None:
    settings = load_chain_settings(deployment_file=tmp_path / "mine.json")
    assert settings.deployment_path() == tmp_path / "mine.json"


def test_bad_settings_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARBON_LEDGER_CHAIN_ID", "sepolia")
    with pytest.raises(ConfigError, match="CARBON_LEDGER_CHAIN_ID"):
        load_chain_settings()
    with pytest.raises(ConfigError, match="http"):
        load_chain_settings(chain_id=1, rpc_url="ws://127.0.0.1:8545")


def test_toolchain_paths_from_their_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARBON_LEDGER_SOLC", "/opt/solc-0.8.30")
    monkeypatch.setenv("CARBON_LEDGER_ANVIL", "/opt/anvil")
    settings = load_toolchain_settings()
    assert settings.solc_binary == Path("/opt/solc-0.8.30")
    assert settings.anvil_binary == Path("/opt/anvil")


def test_private_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARBON_LEDGER_PRIVATE_KEY", "0x" + KEY.hex())
    assert signer_private_key(load_chain_settings()) == KEY
    assert "4c0883" not in repr(load_chain_settings())  # the key never shows in a repr


def test_encrypted_keystore_with_password_or_password_file(tmp_path: Path) -> None:
    keystore = tmp_path / "key.json"
    keystore.write_text(json.dumps(Account.encrypt(KEY, "correct horse", iterations=2)))
    settings = load_chain_settings(keystore_file=keystore, keystore_password="correct horse")
    assert signer_private_key(settings) == KEY
    password_file = tmp_path / "password"
    password_file.write_text("correct horse\n")
    settings = load_chain_settings(keystore_file=keystore, keystore_password_file=password_file)
    assert signer_private_key(settings) == KEY
    wrong = load_chain_settings(keystore_file=keystore, keystore_password="battery staple")
    with pytest.raises(ConfigError, match="cannot decrypt"):
        signer_private_key(wrong)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({}, "no signing key"),
        ({"private_key": "0x1234"}, "not a 32-byte hex key"),
        ({"private_key": "0x" + "11" * 32, "keystore_file": "k.json"}, "keep one"),
        ({"keystore_file": "k.json"}, "no password"),
        ({"keystore_file": "missing.json", "keystore_password": "x"}, "cannot read"),
    ],
)
def test_signer_key_problems_say_what_to_set(values: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        signer_private_key(load_chain_settings(**values))


def test_dev_keys_are_anvils_published_accounts() -> None:
    Account.enable_unaudited_hdwallet_features()
    for key in DEV_KEYS:
        derived = Account.from_mnemonic(DEV_MNEMONIC, account_path=key.derivation_path)
        assert derived.key.hex().removeprefix("0x") == key.private_key.removeprefix("0x")
        assert derived.address == key.address
    with pytest.raises(ConfigError, match="0-9"):
        dev_key(10)
