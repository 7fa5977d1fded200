"""Organisations' signing keys, held encrypted in the store (Web3 Secret Storage JSON, PBKDF2).

The password is the service's master secret; a decrypted key stays in this process's memory
only, is never returned by the API and never logged (``repr`` shows the address alone).
"""

from __future__ import annotations

import json
import threading

from eth_account import Account

from ledger.errors import ConfigError

__all__ = ["KeyRing", "SigningKey"]


class SigningKey:
    """A decrypted private key; ``repr`` and ``str`` show only its address."""

    __slots__ = ("_key", "address")

    def __init__(self, key: bytes) -> None:
        self._key = key
        self.address: str = str(Account.from_key(key).address)

    def secret(self) -> bytes:
        """The raw key, for signing in this process only."""
        return self._key

    def __repr__(self) -> str:
        return f"SigningKey({self.address})"

    __str__ = __repr__


class KeyRing:
    """Encrypts keys for storage and decrypts them (once per process) for signing."""

    def __init__(self, master_secret: str, *, kdf_iterations: int = 262144) -> None:
        if len(master_secret) < 16:
            raise ConfigError("the service secret must be at least 16 characters long")
        self._password = master_secret
        self._iterations = kdf_iterations
        self._cache: dict[str, SigningKey] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"KeyRing({len(self._cache)} unlocked)"

    def seal(self, key: bytes | str | None = None) -> tuple[str, str]:
        """(address, keystore JSON) of ``key``, or of a freshly generated key when None."""
        raw = bytes(Account.create().key) if key is None else (
            bytes.fromhex(key.removeprefix("0x")) if isinstance(key, str) else key)
        try:
            signing = SigningKey(raw)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"not a valid secp256k1 private key: {type(exc).__name__}"
                              ) from None
        sealed = Account.encrypt(raw, self._password, kdf="pbkdf2",
                                 iterations=self._iterations)
        with self._lock:
            self._cache[signing.address.lower()] = signing
        return signing.address, json.dumps(sealed)

    def open(self, keystore: str) -> SigningKey:
        """The key sealed in ``keystore`` (cached after the first decryption)."""
        try:
            address = "0x" + str(json.loads(keystore)["address"]).lower().removeprefix("0x")
        except (ValueError, KeyError, TypeError):
            raise ConfigError("an organisation's keystore is not readable JSON") from None
        with self._lock:
            cached = self._cache.get(address)
        if cached is not None:
            return cached
        try:
            signing = SigningKey(bytes(Account.decrypt(keystore, self._password)))
        except ValueError:
            raise ConfigError("cannot decrypt an organisation's key: the service secret is not "
                              "the one it was sealed with") from None
        with self._lock:
            self._cache[address] = signing
        return signing
