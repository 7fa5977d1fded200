"""How ``serve`` runs the app: uvicorn with timeouts for slow clients.

uvicorn closes idle keep-alive connections, but waits for ever for the headers of a request a
client sends slowly or never finishes. :class:`HeaderTimeoutProtocol` (uvicorn's h11 protocol)
closes a connection whose request headers have not all arrived ``header_timeout_s`` seconds
after it opened, or after the previous response on it ended, with a ``408 Request Timeout``.
The body's own deadline is :class:`api.limits.BodyTimeout`, set by the app.
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from api.settings import ServiceSettings

__all__ = ["HeaderTimeoutProtocol", "server_config"]

_TIMEOUT_ANSWER = (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
                   b"connection: close\r\ncontent-length: 73\r\n\r\n"
                   b'{"code":"RequestTimeout","message":"the request headers came too slowly"}')
assert len(_TIMEOUT_ANSWER.split(b"\r\n\r\n", 1)[1]) == 73


class HeaderTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request's headers."""

    header_timeout_s = 10.0
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.cycle is not None and not self.cycle.response_complete:
            self._disarm()  # the headers are in: a request is being answered

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()  # the next request's headers get the same deadline

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._expired)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _expired(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a request is being answered
        self.transport.write(_TIMEOUT_ANSWER)
        self.transport.close()


def server_config(app: Any, settings: ServiceSettings, *, host: str, port: int,
                  **options: Any) -> uvicorn.Config:
    """The uvicorn configuration of the service, with the settings' timeouts."""
    protocol = type("ServiceProtocol", (HeaderTimeoutProtocol,),
                    {"header_timeout_s": settings.header_timeout_s})
    return uvicorn.Config(app, host=host, port=port, http=protocol,
                          timeout_keep_alive=max(1, round(settings.keep_alive_s)), **options)
