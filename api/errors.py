"""Every error the service answers with, and the one mapping from library errors to HTTP.

Bodies are ``{"code": ..., "message": ...}`` as PACT v2 specifies for its errors, used for the
whole API; input problems add ``"problems": [{"message", "shipment_id", "row", "field"}]``.

=============================  ======  ========================================================
error                          status  code
=============================  ======  ========================================================
InputError, FactorError,       422     ``InvalidInput`` (with ``problems``)
RoutingError, VerificationError
GasCapExceeded                 422     ``InvalidInput``
ContractRevert                 409     ``ChainRefused`` (with ``errorName``)
StoreUnavailable               503     ``StoreUnavailable``
other StoreError               409     ``Conflict`` (WriteRefused, StoreBusy, inconsistencies)
RpcUnavailable, ChainIdMismatch 503    ``ChainUnavailable``
ContractMissing                503     ``ContractMissing`` (no contract: reset or wrong chain)
NonceMoved                     409     ``KeyInUse`` (another writer sent with the signing key)
other ChainError               502     ``ChainError``
ConfigError                    503     ``NotConfigured``
other LedgerError              400     ``BadRequest``
request validation (FastAPI)   422     ``InvalidInput``
anything else                  500     ``InternalError`` (details only in the log)
=============================  ======  ========================================================
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledger.errors import (
    ChainError,
    ChainIdMismatch,
    ConfigError,
    ContractMissing,
    ContractRevert,
    FactorError,
    GasCapExceeded,
    InputError,
    InputProblem,
    LedgerError,
    NonceMoved,
    RoutingError,
    RpcUnavailable,
    StoreError,
    StoreUnavailable,
    VerificationError,
)

__all__ = ["ApiError", "error_body", "install_error_handlers", "status_of"]

log = logging.getLogger("api")

_HTTP_CODES = {400: "BadRequest", 401: "Unauthorized", 403: "AccessDenied", 404: "NotFound",
               405: "MethodNotAllowed", 408: "RequestTimeout", 409: "Conflict",
               413: "PayloadTooLarge", 415: "UnsupportedMediaType", 422: "InvalidInput",
               429: "TooManyRequests",
               500: "InternalError", 501: "NotImplemented", 503: "ServiceUnavailable"}


class ApiError(Exception):
    """An answer other than success: HTTP status, error code and a message that says what to do."""

    def __init__(self, status: int, code: str, message: str, *,
                 extra: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.extra = extra or {}
        self.headers = headers


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "message": message, **extra}


def _problems(problems: list[InputProblem]) -> list[dict[str, Any]]:
    return [p.as_dict() for p in problems]


def status_of(exc: LedgerError) -> tuple[int, str, dict[str, Any]]:
    """HTTP status, error code and extra body fields of a library error."""
    if isinstance(exc, InputError):
        return 422, "InvalidInput", {"problems": _problems(exc.problems)}
    if isinstance(exc, FactorError | RoutingError | VerificationError | GasCapExceeded):
        return 422, "InvalidInput", {"problems": [{"message": str(exc), "shipment_id": None,
                                                   "row": None, "field": None}]}
    if isinstance(exc, ContractRevert):
        return 409, "ChainRefused", {"errorName": exc.error_name}
    if isinstance(exc, RpcUnavailable | ChainIdMismatch):
        return 503, "ChainUnavailable", {}
    if isinstance(exc, ContractMissing):
        return 503, "ContractMissing", {}
    if isinstance(exc, NonceMoved):
        return 409, "KeyInUse", {}
    if isinstance(exc, ChainError):
        return 502, "ChainError", {}
    if isinstance(exc, StoreUnavailable):
        return 503, "StoreUnavailable", {}
    if isinstance(exc, StoreError):
        return 409, "Conflict", {}
    if isinstance(exc, ConfigError):
        return 503, "NotConfigured", {}
    return 400, "BadRequest", {}


def _input_message(exc: InputError) -> str:
    count = len(exc.problems)
    if not count:
        return "the input has a problem"
    more = f" (and {count - 1} more: see problems)" if count > 1 else ""
    return f"{count} problem{'s' if count != 1 else ''} in the input: {exc.problems[0]}{more}"


def install_error_handlers(app: FastAPI) -> None:
    """Registers the handlers that turn every error into a ``{code, message}`` body."""

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, **exc.extra),
                            status_code=exc.status, headers=exc.headers)

    @app.exception_handler(LedgerError)
    async def _ledger_error(_request: Request, exc: LedgerError) -> JSONResponse:
        status, code, extra = status_of(exc)
        message = _input_message(exc) if isinstance(exc, InputError) else str(exc)
        return JSONResponse(error_body(code, message, **extra), status_code=status)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
            problems.append({"message": str(err.get("msg", "invalid")), "shipment_id": None,
                             "row": None, "field": ".".join(loc) or None})
        count = len(problems)
        return JSONResponse(
            error_body("InvalidInput", f"{count} problem{'s' if count != 1 else ''} in the "
                                       "request", problems=problems),
            status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "Error")
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return JSONResponse(error_body("InternalError", "the service failed to answer; the "
                                                        "error is in its log"), status_code=500)
