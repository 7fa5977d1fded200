"""A JSON-RPC proxy in front of a real node that answers some requests with a fault instead.

Faults: ``"500"``, ``"502"``, ``"429"``, ``"404"`` (that HTTP status with an HTML page),
``"html"`` (HTTP 200 with an HTML page), ``"truncated"`` (HTTP 200 with the node's answer cut
in half) and ``"not-rpc"`` (HTTP 200 with a JSON object that is neither a result nor an error).
``plan`` holds the faults of the next requests in order (``None`` forwards one); once it is
empty, ``every`` (when set) answers every n-th request with ``every_fault``; anything else
is forwarded. Binds 127.0.0.1 on a free port; ``close()`` stops it.
"""

from __future__ import annotations

import threading
import urllib.request
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["RpcFaultProxy"]

_PAGE = b"<html><body><h1>502 Bad Gateway</h1>upstream went away</body></html>"


class RpcFaultProxy:
    def __init__(self, upstream: str, plan: list[str | None] | None = None, *,
                 every: int = 0, every_fault: str = "500") -> None:
        self.upstream = upstream
        self.plan: deque[str | None] = deque(plan or [])
        self.every = every
        self.every_fault = every_fault
        self.requests = 0
        self.faults_sent = 0
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                fault = proxy._next_fault()
                if fault in {"500", "502", "429", "404"}:
                    self._answer(int(fault), _PAGE, "text/html")
                    return
                if fault == "html":
                    self._answer(200, _PAGE, "text/html")
                    return
                if fault == "not-rpc":
                    self._answer(200, b'{"jsonrpc": "2.0", "id": 1}', "application/json")
                    return
                request = urllib.request.Request(
                    proxy.upstream, data=body, headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=30) as response:
                    answer = response.read()
                if fault == "truncated":
                    answer = answer[: len(answer) // 2]
                self._answer(200, answer, "application/json")

            def _answer(self, status: int, body: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def _next_fault(self) -> str | None:
        with self._lock:
            self.requests += 1
            if self.plan:
                fault = self.plan.popleft()
            elif self.every and self.requests % self.every == 0:
                fault = self.every_fault
            else:
                fault = None
            if fault is not None:
                self.faults_sent += 1
            return fault

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
