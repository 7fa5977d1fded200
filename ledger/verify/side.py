"""A side process for independent checks of a large document, on the machine's second core.

:class:`SideJob` runs a function in a forked child while the caller goes on, and hands back its
(picklable, small) result; without ``fork`` (or when asked for one process) it runs the function
in the caller when the result is first asked for. Either way the result is the same: the child
sees the caller's memory as it was at the fork (copy-on-write), touches no connection of the
caller, and leaves with ``os._exit``, so it runs no exit handler of the caller's.

Used by :func:`ledger.verify.declaration.verify_declaration` for a declaration of many
consignments: the signature, the multiproofs and the stored records' hashes are checked in the
child while the caller parses the records and rebuilds the dataset (``docs/declaration.md``,
"Scale", has the figures).
"""

from __future__ import annotations

import os
import pickle
import signal
from collections.abc import Callable
from types import TracebackType
from typing import Generic, TypeVar

from ledger.errors import VerificationError

__all__ = ["SideJob", "can_fork"]

T = TypeVar("T")


def can_fork() -> bool:
    """Whether a side process can be forked here (POSIX, more than one CPU)."""
    return hasattr(os, "fork") and (os.cpu_count() or 1) > 1


class SideJob(Generic[T]):
    """``fn()`` in a forked child (``fork=True``) or in the caller on first :meth:`result`.

    Use as a context manager: leaving it reaps the child, killing it first if its result was
    never asked for (an earlier failure in the caller)."""

    def __init__(self, fn: Callable[[], T], *, fork: bool) -> None:
        self._fn: Callable[[], T] | None = fn
        self._pid: int | None = None
        self._pipe: int | None = None
        self._value: T | None = None
        self._done = False
        if fork:
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child: compute, write, leave without the caller's exit handlers
                status = 0
                try:
                    os.close(read)
                    try:
                        data = pickle.dumps((True, fn()), protocol=pickle.HIGHEST_PROTOCOL)
                    except BaseException as exc:  # reported to the caller
                        data = pickle.dumps((False, f"{type(exc).__name__}: {exc}"))
                    with os.fdopen(write, "wb") as out:
                        out.write(data)
                except BaseException:  # nothing else may run in the child
                    status = 1
                finally:
                    os._exit(status)
            os.close(write)
            self._pid, self._pipe, self._fn = pid, read, None

    def result(self) -> T:
        """The function's result; :class:`~ledger.errors.VerificationError` when it raised
        (named with the exception) or the child ended without an answer."""
        if not self._done:
            if self._pid is None:
                assert self._fn is not None
                self._value, self._fn = self._fn(), None
            else:
                assert self._pipe is not None
                with os.fdopen(self._pipe, "rb") as answer:
                    self._pipe = None
                    data = answer.read()
                self._reap()
                if not data:
                    raise VerificationError("the side process of the verification ended "
                                            "without an answer")
                ok, value = pickle.loads(data)
                if not ok:
                    raise VerificationError(f"the side process of the verification failed: "
                                            f"{value}")
                self._value = value
            self._done = True
        return self._value  # type: ignore[return-value]

    def _reap(self) -> None:
        if self._pid is not None:
            os.waitpid(self._pid, 0)
            self._pid = None

    def __enter__(self) -> SideJob[T]:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._pipe is not None:
            os.close(self._pipe)
            self._pipe = None
        if self._pid is not None:
            if not self._done:
                os.kill(self._pid, signal.SIGKILL)
            self._reap()
