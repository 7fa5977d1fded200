"""Settings of the service, built once where the program starts and passed to the app factory.

Nothing is read at import time. ``ServiceSettings()`` reads ``CARBON_LEDGER_SERVICE_*`` variables
(keyword arguments win); tests build it with explicit values.

==============================================  ===============================================
``CARBON_LEDGER_SERVICE_STORE_URL``             SQLAlchemy URL or SQLite file (default
                                                ``var/service.sqlite``; PostgreSQL:
                                                ``postgresql+psycopg://user@host:5432/db``)
``CARBON_LEDGER_SERVICE_SECRET``                master secret: encrypts organisations' keys
                                                (or ``..._SECRET_FILE``)
``CARBON_LEDGER_SERVICE_PUBLIC_URL``            absolute base URL used in ``Link`` headers,
                                                discovery and PACT event sources (default: a
                                                trusted ``Host`` when ``TRUSTED_HOSTS`` is set,
                                                else the address the server listens on; never
                                                an unchecked ``Host`` header)
``CARBON_LEDGER_SERVICE_TRUSTED_HOSTS``         JSON list of host names the service answers to
                                                (others: 400); ``*.example.com`` wildcards
``CARBON_LEDGER_SERVICE_AUTH_FREE_FAILURES``    failed ``/auth/token`` attempts per client id and
                                                per address before back-off (default 5)
``CARBON_LEDGER_SERVICE_AUTH_BACKOFF_S``        first back-off (default 1 s), doubled on each
                                                further failure; 0 turns the limit off
``CARBON_LEDGER_SERVICE_AUTH_BACKOFF_MAX_S``    longest back-off (default 300 s)
``CARBON_LEDGER_SERVICE_AUTH_WINDOW_S``         failures older than this are forgotten (900 s)
``CARBON_LEDGER_SERVICE_HEADER_TIMEOUT_S``      ``serve``: a request's headers must arrive within
                                                this time (default 10 s), else the connection
                                                is closed with 408
``CARBON_LEDGER_SERVICE_BODY_TIMEOUT_S``        a request's body must arrive within this time
                                                (default 60 s), else 408
``CARBON_LEDGER_SERVICE_KEEP_ALIVE_S``          ``serve``: idle keep-alive connections closed
                                                after this time (default 5 s)
``CARBON_LEDGER_SERVICE_REQUIRE_HTTPS``         refuse plain-HTTP requests (deployments behind
                                                TLS; PACT conformance cases #9-11 and #17)
``CARBON_LEDGER_SERVICE_TOKEN_TTL_S``           access-token lifetime (default 3600)
``CARBON_LEDGER_SERVICE_MAX_UPLOAD_BYTES``      largest request body (default 16 MiB)
``CARBON_LEDGER_SERVICE_MAX_SHIPMENTS``         most shipments in one submission (default 20000)
``CARBON_LEDGER_SERVICE_MAX_JSON_DEPTH``        deepest nesting of a JSON body (default 64)
``CARBON_LEDGER_SERVICE_MAX_JSON_ITEMS``        most array elements and object members in a
                                                JSON body (default 2,000,000)
``CARBON_LEDGER_SERVICE_ADMIN_CLIENT_ID``       with ``..._ADMIN_CLIENT_SECRET``: the first admin
                                                client, created at start when none exists
``CARBON_LEDGER_SERVICE_ANCHOR_PATH``           ``root`` (Merkle root per batch, default) or
                                                ``events`` (an event per shipment)
``CARBON_LEDGER_SERVICE_EXPLORER_URL``          block explorer base URL for links in the pages
``CARBON_LEDGER_SERVICE_PUBLIC_RPC_URL``        an RPC URL safe to publish, written into the
                                                verify commands of report pages (default none:
                                                the commands read ``--rpc <RPC URL>``; the
                                                service's own RPC URL is never shown, as
                                                provider URLs often carry an API key)
==============================================  ===============================================

The chain side (RPC URL, chain id, deployment file) is :class:`ledger.config.ChainSettings`.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["SERVICE_ENV_PREFIX", "PactPartner", "ServiceSettings"]

SERVICE_ENV_PREFIX = "CARBON_LEDGER_SERVICE_"


class PactPartner(BaseSettings):
    """A PACT host this service answers events to: its base URL and the credentials it issued us.

    Events are only ever sent to partners listed here (never to an arbitrary ``source``).
    """

    model_config = SettingsConfigDict(extra="forbid", frozen=True)

    base_url: str
    client_id: str
    client_secret: SecretStr


class ServiceSettings(BaseSettings):
    """Everything the service needs besides the chain settings."""

    model_config = SettingsConfigDict(
        env_prefix=SERVICE_ENV_PREFIX, env_file=None, extra="forbid", frozen=True
    )

    store_url: str = "var/service.sqlite"
    secret: SecretStr | None = None
    secret_file: Path | None = None
    public_url: str | None = None
    trusted_hosts: tuple[str, ...] = ()
    require_https: bool = False
    auth_free_failures: int = Field(default=5, ge=0, le=1000)
    auth_backoff_s: float = Field(default=1.0, ge=0, le=3600)
    auth_backoff_max_s: float = Field(default=300.0, ge=0, le=86400)
    auth_window_s: float = Field(default=900.0, gt=0, le=86400)
    header_timeout_s: float = Field(default=10.0, gt=0, le=600)
    body_timeout_s: float = Field(default=60.0, gt=0, le=3600)
    keep_alive_s: float = Field(default=5.0, gt=0, le=600)
    token_ttl_s: int = Field(default=3600, gt=0, le=86400)
    max_upload_bytes: int = Field(default=16 * 1024 * 1024, gt=0)
    max_shipments: int = Field(default=20000, gt=0)
    max_json_depth: int = Field(default=64, ge=4, le=500)
    max_json_items: int = Field(default=2_000_000, gt=0)
    page_limit_max: int = Field(default=1000, gt=0)
    anchor_confirmations: int = Field(default=0, ge=0)
    anchor_path: str = "root"
    keystore_kdf_iterations: int = Field(default=262144, ge=1024)
    job_workers: int = Field(default=2, ge=1, le=16)
    pact_partners: tuple[PactPartner, ...] = ()
    pact_event_retries: int = Field(default=6, ge=0, le=30)
    pact_event_backoff_s: float = Field(default=1.0, ge=0)
    pact_event_timeout_s: float = Field(default=10.0, gt=0)
    verify_confirmations: int = Field(default=1, ge=1)
    admin_client_id: str | None = None
    admin_client_secret: SecretStr | None = None
    explorer_url: str | None = None
    public_rpc_url: str | None = None
    static_dir: Path = Path(__file__).with_name("static")

    def master_secret(self) -> str:
        """The secret that encrypts organisations' keys (from ``secret`` or ``secret_file``)."""
        from ledger.errors import ConfigError

        if self.secret is not None:
            return self.secret.get_secret_value()
        if self.secret_file is not None:
            try:
                return self.secret_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"cannot read the service secret file {self.secret_file}: "
                                  f"{exc.strerror}") from None
        raise ConfigError(
            f"no service secret: set {SERVICE_ENV_PREFIX}SECRET or {SERVICE_ENV_PREFIX}SECRET_FILE "
            "(it encrypts the organisations' signing keys)"
        )
