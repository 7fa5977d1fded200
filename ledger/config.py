"""Settings of the chain layer and the toolchain, from explicit values or environment variables.

Nothing is read at import time and no ``.env`` file is consulted: build a settings object where
the program starts (``ChainSettings()`` reads the environment; keyword arguments win over it) and
pass it down.

Environment variables (prefix ``CARBON_LEDGER_``):

==================================  ==========================================================
``CARBON_LEDGER_RPC_URL``           JSON-RPC endpoint (default ``http://127.0.0.1:8545``)
``CARBON_LEDGER_CHAIN_ID``          chain id the node must report (default 31337, Anvil)
``CARBON_LEDGER_PRIVATE_KEY``       signer key, 0x-prefixed hex (or use a keystore)
``CARBON_LEDGER_KEYSTORE_FILE``     encrypted JSON keystore (Web3 Secret Storage)
``CARBON_LEDGER_KEYSTORE_PASSWORD`` its password (or ``..._KEYSTORE_PASSWORD_FILE``)
``CARBON_LEDGER_DEPLOYMENT_FILE``   deployment file to use (default ``<dir>/<chain id>.json``)
``CARBON_LEDGER_DEPLOYMENTS_DIR``   folder of deployment files (default ``var/deployments``)
``CARBON_LEDGER_CONFIRMATIONS``     blocks on top of a receipt before it counts (default 0)
``CARBON_LEDGER_POLL_INTERVAL_S``   receipt poll interval in seconds (default 0.02)
``CARBON_LEDGER_SOLC``              a ``solc`` executable (default: ``scripts/solc``, solcjs)
``CARBON_LEDGER_ANVIL``             an ``anvil`` executable (default: ``node_modules/.bin``)
==================================  ==========================================================
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ledger.errors import ConfigError

__all__ = [
    "ENV_PREFIX",
    "ChainSettings",
    "ToolchainSettings",
    "load_chain_settings",
    "load_toolchain_settings",
    "signer_private_key",
]

ENV_PREFIX = "CARBON_LEDGER_"

_HEX_KEY = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")


class ChainSettings(BaseSettings):
    """Where the chain is, who signs, and how patiently to wait for it."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=None, extra="forbid", frozen=True
    )

    rpc_url: str = "http://127.0.0.1:8545"
    chain_id: int = Field(default=31337, gt=0)
    private_key: SecretStr | None = None
    keystore_file: Path | None = None
    keystore_password: SecretStr | None = None
    keystore_password_file: Path | None = None
    deployment_file: Path | None = None
    deployments_dir: Path = Path("var/deployments")
    confirmations: int = Field(default=0, ge=0)
    poll_interval_s: float = Field(default=0.02, gt=0, le=60)
    receipt_timeout_s: float = Field(default=120.0, gt=0)
    rpc_timeout_s: float = Field(default=30.0, gt=0)
    rpc_retries: int = Field(default=4, ge=1, le=20)
    rpc_backoff_s: float = Field(default=0.25, ge=0)
    gas_margin: float = Field(default=1.2, ge=1.0, le=3.0)

    @field_validator("rpc_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"RPC URL must start with http:// or https://, got {value!r}")
        return value

    def deployment_path(self) -> Path:
        """The deployment file for the configured chain."""
        if self.deployment_file is not None:
            return self.deployment_file
        return self.deployments_dir / f"{self.chain_id}.json"


class ToolchainSettings(BaseSettings):
    """Where the compiler and the local node live (defaults: the project's npm tools)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=None, extra="forbid", frozen=True,
        validate_by_name=True,
    )

    solc_binary: Path | None = Field(default=None, validation_alias=f"{ENV_PREFIX}SOLC")
    anvil_binary: Path | None = Field(default=None, validation_alias=f"{ENV_PREFIX}ANVIL")


def _explain(exc: ValidationError, what: str) -> ConfigError:
    problems = "; ".join(
        f"{ENV_PREFIX}{'.'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
        for err in exc.errors()
    )
    return ConfigError(f"invalid {what} settings: {problems}")


def load_chain_settings(**overrides: object) -> ChainSettings:
    """``ChainSettings`` from the environment and ``overrides``; errors become ``ConfigError``."""
    try:
        return ChainSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise _explain(exc, "chain") from None


def load_toolchain_settings(**overrides: object) -> ToolchainSettings:
    """``ToolchainSettings`` from the environment and ``overrides``."""
    try:
        return ToolchainSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise _explain(exc, "toolchain") from None


def signer_private_key(settings: ChainSettings) -> bytes:
    """The 32-byte signing key: from ``private_key``, or decrypted from the keystore file."""
    has_key = settings.private_key is not None
    has_store = settings.keystore_file is not None
    if has_key and has_store:
        raise ConfigError(
            f"both {ENV_PREFIX}PRIVATE_KEY and {ENV_PREFIX}KEYSTORE_FILE are set; keep one"
        )
    if settings.private_key is not None:
        text = settings.private_key.get_secret_value().strip()
        if not _HEX_KEY.match(text):
            raise ConfigError(
                f"{ENV_PREFIX}PRIVATE_KEY is not a 32-byte hex key (64 hex digits, 0x optional)"
            )
        return bytes.fromhex(text.removeprefix("0x"))
    if settings.keystore_file is not None:
        return _decrypt_keystore(settings)
    raise ConfigError(
        f"no signing key: set {ENV_PREFIX}PRIVATE_KEY, or {ENV_PREFIX}KEYSTORE_FILE with "
        f"{ENV_PREFIX}KEYSTORE_PASSWORD (or {ENV_PREFIX}KEYSTORE_PASSWORD_FILE)"
    )


def _decrypt_keystore(settings: ChainSettings) -> bytes:
    from eth_account import Account

    path = settings.keystore_file
    assert path is not None
    if settings.keystore_password is not None:
        password = settings.keystore_password.get_secret_value()
    elif settings.keystore_password_file is not None:
        try:
            password = settings.keystore_password_file.read_text(encoding="utf-8").rstrip("\n")
        except OSError as exc:
            raise ConfigError(
                f"cannot read the keystore password file {settings.keystore_password_file}: "
                f"{exc.strerror}"
            ) from None
    else:
        raise ConfigError(
            f"{ENV_PREFIX}KEYSTORE_FILE is set but no password: set "
            f"{ENV_PREFIX}KEYSTORE_PASSWORD or {ENV_PREFIX}KEYSTORE_PASSWORD_FILE"
        )
    try:
        keystore = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the keystore file {path}: {exc.strerror}") from None
    try:
        return bytes(Account.decrypt(keystore, password))
    except ValueError as exc:
        raise ConfigError(f"cannot decrypt the keystore file {path}: {exc}") from None
