"""Back-off on failed client authentication at ``/auth/token``, per client id and per address.

Each key (a client id, a remote address) may fail ``free`` times; every failure after that
blocks the key for ``base_s × 2^(n-1)`` seconds (n = failures past the free ones), up to
``max_s``. A blocked key is answered ``429 TooManyRequests`` with ``Retry-After`` *before* its
secret is checked, so a flood of wrong secrets costs one dictionary look-up per request instead
of a scrypt hash. Failures older than ``window_s`` are forgotten; a success clears the client
id's count (not the address's: one valid secret does not buy more guesses at others). At most
``max_keys`` keys are tracked (the oldest forgotten first), so memory stays bounded under a
flood of made-up ids. The state lives in this process's memory: a restart forgets it.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["AuthLimiter", "Blocked"]


@dataclass
class _Entry:
    failures: int
    last_failure: float
    blocked_until: float


@dataclass(frozen=True)
class Blocked:
    """A refused attempt: which key is blocked and for how many more seconds."""

    key: str
    retry_after_s: int


class AuthLimiter:
    """Counts failed authentications per key and blocks with exponential back-off."""

    def __init__(self, *, free: int = 5, base_s: float = 1.0, max_s: float = 300.0,
                 window_s: float = 900.0, max_keys: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.free, self.base_s, self.max_s, self.window_s = free, base_s, max_s, window_s
        self.max_keys = max_keys
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.base_s > 0

    def blocked(self, *keys: str) -> Blocked | None:
        """The first of ``keys`` that is blocked now, or None."""
        if not self.enabled:
            return None
        now = self._clock()
        with self._lock:
            for key in keys:
                entry = self._entries.get(key)
                if entry is not None and entry.blocked_until > now:
                    return Blocked(key, max(1, math.ceil(entry.blocked_until - now)))
        return None

    def failed(self, *keys: str) -> None:
        """Records a failed authentication for each of ``keys``."""
        if not self.enabled:
            return
        now = self._clock()
        with self._lock:
            for key in keys:
                entry = self._entries.pop(key, None)
                if entry is None or now - entry.last_failure > self.window_s:
                    entry = _Entry(0, now, 0.0)
                entry.failures += 1
                entry.last_failure = now
                past = entry.failures - self.free
                if past > 0:
                    entry.blocked_until = now + min(self.max_s, self.base_s * 2 ** min(past - 1,
                                                                                      60))
                self._entries[key] = entry  # the newest at the end
            while len(self._entries) > self.max_keys:
                self._entries.popitem(last=False)

    def succeeded(self, key: str) -> None:
        """Forgets the failures of ``key`` (a client id that authenticated)."""
        with self._lock:
            self._entries.pop(key, None)
