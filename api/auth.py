"""OAuth2 client credentials (RFC 6749 §4.4) at ``/auth/token`` and bearer-token checks.

A client belongs to one organisation; its tokens carry that organisation and its role
(exporter, auditor, buyer or admin). Secrets are kept as scrypt hashes, tokens as SHA-256 hashes
(a token is 256 random bits); a token lives ``token_ttl_s`` seconds.

Token errors follow PACT v2: a missing or unknown token is ``400 BadRequest``, an expired one
``401 TokenExpired``, a valid token of the wrong role ``403 AccessDenied``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

from fastapi import Request

from api.errors import ApiError
from api.store import ServiceStore

__all__ = [
    "RECHECK_S",
    "Auth",
    "Principal",
    "hash_secret",
    "new_client_credentials",
    "oauth_error",
    "parse_basic",
    "verify_secret",
]

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
#: Seconds a checked token is trusted from memory before the store is asked again.
RECHECK_S = 5.0


def hash_secret(secret: str) -> str:
    """``scrypt$<salt hex>$<hash hex>`` of a client secret."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_secret(secret: str, stored: str) -> bool:
    try:
        kind, salt_hex, digest_hex = stored.split("$")
        salt, digest = bytes.fromhex(salt_hex), bytes.fromhex(digest_hex)
    except ValueError:
        return False
    if kind != "scrypt":
        return False
    got = hashlib.scrypt(secret.encode(), salt=salt, dklen=32, **_SCRYPT)
    return hmac.compare_digest(got, digest)


def new_client_credentials() -> tuple[str, str]:
    """A fresh (client id, client secret)."""
    return f"cl_{secrets.token_hex(12)}", secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Principal:
    """Who is calling: a client of one organisation, acting in that organisation's role."""

    client_id: str
    org_id: int
    role: str


def _oauth_error(status: int, error: str, description: str) -> ApiError:
    headers = {"WWW-Authenticate": 'Basic realm="carbon-ledger"'} if status == 401 else None
    return ApiError(status, error, description,
                    extra={"error": error, "error_description": description}, headers=headers)


def _bad_token(message: str = "Invalid token provided") -> ApiError:
    return ApiError(400, "BadRequest", message,
                    headers={"WWW-Authenticate": 'Bearer realm="carbon-ledger"'})


class Auth:
    """Issues and checks tokens against the service store (known tokens cached in memory)."""

    def __init__(self, store: ServiceStore, token_ttl_s: int) -> None:
        self._store = store
        self._ttl = timedelta(seconds=token_ttl_s)
        self._cache: dict[str, tuple[Principal, datetime, float]] = {}
        self._lock = threading.Lock()
        # checked in place of an unknown client's hash: the answer takes as long either way
        self._dummy_hash = hash_secret(secrets.token_urlsafe(32))

    def issue(self, client_id: str, client_secret: str) -> tuple[str, int]:
        """(access token, lifetime in seconds) for valid credentials. An unknown or revoked
        client costs the same scrypt check as a known one (no way to tell them apart by time)."""
        found = self._store.client(client_id)
        valid = verify_secret(client_secret, self._dummy_hash if found is None else found[1])
        if found is None or not valid:
            raise _oauth_error(401, "invalid_client", "Client authentication failed")
        org = self._store.org(found[0])
        if org is None:
            raise _oauth_error(401, "invalid_client", "Client authentication failed")
        token = secrets.token_urlsafe(32)
        expires = datetime.now(UTC) + self._ttl
        self._store.add_token(_token_hash(token), client_id, org.id, org.role, expires)
        return token, int(self._ttl.total_seconds())

    def principal(self, token: str) -> Principal:
        """The caller a bearer token stands for; ApiError when it is unknown, revoked or
        expired. A token is looked up again after :data:`RECHECK_S` seconds in the cache, so
        a revocation made by another process takes effect within that time (at once in
        this one)."""
        key = _token_hash(token)
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(key)
        if cached is None or now - cached[2] > RECHECK_S:
            row = self._store.token(key)
            if row is None:
                with self._lock:
                    self._cache.pop(key, None)
                raise _bad_token()
            cached = (Principal(row.client_id, row.org_id, row.role), row.expires_at, now)
            with self._lock:
                if len(self._cache) > 10000:
                    self._cache.clear()
                self._cache[key] = cached
        principal, expires, _ = cached
        if datetime.now(UTC) >= expires:
            raise ApiError(401, "TokenExpired", "The specified access token has expired",
                           headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        return principal

    def revoke_client(self, client_id: str) -> bool:
        """Revokes a client and every token it was issued; False when no live client has
        that id."""
        done = self._store.revoke_client(client_id)
        with self._lock:
            for key in [k for k, v in self._cache.items() if v[0].client_id == client_id]:
                del self._cache[key]
        return done

    def revoke_token(self, token: str) -> bool:
        """Revokes one access token; False when no live token matches."""
        key = _token_hash(token)
        done = self._store.revoke_token(key)
        with self._lock:
            self._cache.pop(key, None)
        return done

    def from_request(self, request: Request) -> Principal:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _bad_token("Invalid token provided: send 'Authorization: Bearer <token>' "
                             "(get one at /auth/token)")
        return self.principal(token.strip())


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def parse_basic(header: str) -> tuple[str, str] | None:
    """(client id, secret) of an ``Authorization: Basic`` header (RFC 6749 §2.3.1 encoding)."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        text = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = text.partition(":")
    if not sep:
        return None
    return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))


def oauth_error(status: int, error: str, description: str) -> ApiError:
    return _oauth_error(status, error, description)
