"""Security headers on every answer: the pages, the API and the OpenAPI reference.

=============================  ===============================================================
``Content-Security-Policy``    :data:`PAGE_POLICY` (scripts, styles and requests only from this
                               service; no frames, plugins or inline code), :data:`DOCS_POLICY`
                               on ``/docs`` and ``/redoc`` (their viewers load from a CDN and
                               start with an inline script); a route may set its own
                               (:data:`REPORT_POLICY` on the printable report)
``X-Frame-Options``            ``DENY``
``X-Content-Type-Options``     ``nosniff``
``Referrer-Policy``            ``no-referrer``
=============================  ===============================================================
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["DOCS_POLICY", "PAGE_POLICY", "REPORT_POLICY", "SecurityHeaders"]

PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
               "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
               "frame-ancestors 'none'")
_CDN = "https://cdn.jsdelivr.net"
DOCS_POLICY = (f"default-src 'self'; script-src 'self' 'unsafe-inline' {_CDN}; "
               f"style-src 'self' 'unsafe-inline' {_CDN}; img-src 'self' data: "
               "https://fastapi.tiangolo.com https://cdn.redoc.ly; worker-src 'self' blob:; "
               "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
               "frame-ancestors 'none'")
#: A self-contained page (the printable report): no script, nothing loaded, its own inline
#: styles only (its markup has style attributes, so they are allowed as such).
REPORT_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
                 "form-action 'none'; frame-ancestors 'none'")
_DOCS_PATHS = frozenset({"/docs", "/redoc", "/docs/oauth2-redirect"})
_FIXED = ((b"x-frame-options", b"DENY"), (b"x-content-type-options", b"nosniff"),
          (b"referrer-policy", b"no-referrer"))


class SecurityHeaders:
    """Adds the security headers to every HTTP answer that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = DOCS_POLICY if scope["path"] in _DOCS_PATHS else PAGE_POLICY

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                extra = [(b"content-security-policy", policy.encode()), *_FIXED]
                headers += [(name, value) for name, value in extra if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
