"""What a request must pass before its body is read: authentication, then size and shape limits.

Every write request (``POST``, ``PUT``, ``PATCH``, ``DELETE``) but ``/auth/token`` is
authenticated by :class:`AuthBeforeBody` before a byte of its body is read; its body is then
read up to ``max_upload_bytes`` (413 past it) and, when it is JSON, scanned for its nesting depth
and its number of items (array elements and object members) without being parsed: 413 past
``max_json_items``, 422 past ``max_json_depth``. Only then does the route parse it. JSON files
inside multipart forms are checked the same way by :func:`load_json` when the route reads them.

:func:`cap_recursion_limit` undoes what a dependency does at import (``py_ecc`` raises Python's
recursion limit to 100,000, deep enough for the JSON parser to overflow the C stack and kill
the process instead of raising an error).
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from typing import Any

from fastapi.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.context import ServiceContext
from api.errors import ApiError, error_body
from api.ids import string_problems

__all__ = ["RECURSION_LIMIT", "AuthBeforeBody", "BodyTimeout", "cap_recursion_limit",
           "check_json_shape", "load_json", "refuse_surrogates"]

#: Python's own default: deep enough for the service, shallow enough for the C stack.
RECURSION_LIMIT = 1000

#: Writes anyone may send (they authenticate with the body itself).
_PUBLIC_WRITES = frozenset({"/auth/token"})
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_EMPTY = re.compile(rb"\[\s*\]|\{\s*\}")


def cap_recursion_limit(limit: int = RECURSION_LIMIT) -> None:
    """Lowers Python's recursion limit to ``limit`` when an import raised it above."""
    if sys.getrecursionlimit() > limit:
        sys.setrecursionlimit(limit)


def check_json_shape(body: bytes, max_depth: int, max_items: int) -> None:
    """Refuses a JSON text nested deeper than ``max_depth`` (422) or with more than
    ``max_items`` array elements and object members (413), without parsing it."""
    bare = _STRING.sub(b'""', body)  # brackets and commas inside strings do not count
    containers = bare.count(b"[") + bare.count(b"{")
    items = bare.count(b",") + containers - len(_EMPTY.findall(bare))
    if items > max_items or containers > max_items:
        raise ApiError(413, "PayloadTooLarge",
                       f"the JSON body has more than {max_items} items (array elements and "
                       f"object members); the limit is max_json_items={max_items}: split it")
    depth = 0
    for match in _BRACKET.finditer(bare):
        if match.group() in (b"[", b"{"):
            depth += 1
            if depth > max_depth:
                raise ApiError(422, "InvalidInput",
                               f"the JSON body is nested more than {max_depth} levels deep; "
                               f"the limit is max_json_depth={max_depth}")
        else:
            depth -= 1


def load_json(body: bytes, ctx: ServiceContext, what: str = "the body", **options: Any) -> Any:
    """``body`` parsed as JSON after :func:`check_json_shape`; 400 when it is not JSON."""
    settings = ctx.settings
    check_json_shape(body, settings.max_json_depth, settings.max_json_items)
    try:
        document = json.loads(body.decode("utf-8-sig"), **options)
    except UnicodeDecodeError as exc:
        raise ApiError(400, "BadRequest", f"{what} is not UTF-8 text: {exc.reason} at byte "
                                          f"{exc.start}") from None
    except RecursionError:  # only when the recursion limit is below the depth limit
        raise ApiError(422, "InvalidInput", f"{what} is nested too deeply") from None
    except ValueError as exc:
        raise ApiError(400, "BadRequest", f"{what} is not valid JSON: {exc}") from None
    refuse_surrogates(document, body, what)
    return document


def refuse_surrogates(document: Any, raw: bytes, what: str = "the body") -> None:
    """422 naming the fields of a parsed JSON document whose text has an unpaired surrogate
    (a valid JSON escape such as ``\\ud800``, but not text: it cannot be stored); the
    document is searched only when its ``raw`` text has a surrogate escape."""
    if not _SURROGATE_ESCAPE.search(raw):
        return
    fields = string_problems(document)
    if fields:
        raise ApiError(422, "InvalidInput",
                       f"{what} has an unpaired surrogate (\\ud800-\\udfff) in "
                       f"{', '.join(fields)}: not text",
                       extra={"problems": [{"message": "unpaired surrogate", "shipment_id": None,
                                            "row": None, "field": f} for f in fields]})


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", maxsplit=1)[0].strip().lower()
    return media in ("application/json", "application/ld+json") or media.endswith("+json")


class AuthBeforeBody:
    """Authenticates every write request before its body is read, then reads the body within
    the size limit and checks a JSON body's shape; the route gets the body already read."""

    def __init__(self, app: ASGIApp, ctx: ServiceContext) -> None:
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["method"] not in _WRITE_METHODS
                or scope["path"] in _PUBLIC_WRITES):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        try:
            await run_in_threadpool(self.ctx.auth.from_request, request)
            body = await self._body(request, receive)
            if _is_json(request.headers.get("content-type", "")):
                settings = self.ctx.settings
                # off the event loop: a large body takes a fraction of a second
                await run_in_threadpool(check_json_shape, body, settings.max_json_depth,
                                        settings.max_json_items)
        except ApiError as exc:
            await _answer(send, exc)
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _body(self, request: Request, receive: Receive) -> bytes:
        limit = self.ctx.settings.max_upload_bytes
        declared = request.headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                raise ApiError(400, "BadRequest", "the Content-Length header is not a number")
            if int(declared) > limit:
                raise ApiError(413, "PayloadTooLarge",
                               f"the body has {declared} bytes; the limit is "
                               f"max_upload_bytes={limit}: split the upload")
        chunks: list[bytes] = []
        total = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ApiError(400, "BadRequest", "the client went away")
            chunk = message.get("body", b"")
            total += len(chunk)
            if total > limit:
                raise ApiError(413, "PayloadTooLarge",
                               f"the body is larger than the limit of max_upload_bytes={limit} "
                               "bytes: split the upload")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


class BodyTimeout:
    """A request's whole body must arrive within ``timeout_s`` seconds of the request's start:
    past it, reading the body raises ``408 RequestTimeout`` (answered by the error handlers or
    by :class:`AuthBeforeBody`), and the server closes the connection, as the body was not
    read to its end. A slow client cannot hold a worker by sending a byte now and then."""

    def __init__(self, app: ASGIApp, timeout_s: float) -> None:
        self.app = app
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = time.monotonic() + self.timeout_s
        limit = self.timeout_s
        body_done = False

        async def timed_receive() -> Message:
            nonlocal body_done
            if body_done:  # waiting for a disconnect after the body: not timed
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                raise ApiError(408, "RequestTimeout",
                               f"the request body did not arrive within {limit:g} s "
                               "(body_timeout_s)") from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        await self.app(scope, timed_receive, send)


async def _answer(send: Send, exc: ApiError) -> None:
    body = json.dumps(error_body(exc.code, exc.message, **exc.extra)).encode()
    headers = [(b"content-type", b"application/json"),
               (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in (exc.headers or {}).items()]
    await send({"type": "http.response.start", "status": exc.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
