"""A side process for independent checks of a large document, on the machine's second core.

:class:`SideJob` runs a function in a forked child while the caller goes on, and hands back its
(picklable, small) result; without ``fork`` (or when asked for one process) it runs the function
in the caller when the result is first asked for. Either way the result is the same: the child
sees the caller's memory as it was at the fork (copy-on-write), touches no connection of the
caller, and leaves with ``os._exit``, so it runs no exit handler of the caller's.

The function is given ``post``: it may hand one value to the caller before it ends (what the
caller needs early, such as records the child read for it), which the caller takes with
:meth:`SideJob.early` while the child goes on. A posted value goes through an unlinked temporary
file, so the child never waits for the caller to read it.

Used by :func:`ledger.verify.declaration.verify_declaration` for a declaration of many
consignments: the signature, the multiproofs, the stored records' hashes, the document's hash and
a share of the records are checked in the child while the caller reads the rest of the records
and rebuilds the dataset (``docs/declaration.md``, "Scale", has the figures).
"""

from __future__ import annotations

import os
import pickle
import signal
import tempfile
from collections.abc import Callable
from types import TracebackType
from typing import IO, Any, Generic, TypeVar

from ledger.errors import VerificationError

__all__ = ["SideJob", "can_fork"]

T = TypeVar("T")


def can_fork() -> bool:
    """Whether a side process can be forked here (POSIX, more than one CPU)."""
    return hasattr(os, "fork") and (os.cpu_count() or 1) > 1


#: A message of the child: one kind byte, the payload's length (8 bytes, big-endian).
_EARLY, _RESULT = b"E", b"R"


class SideJob(Generic[T]):
    """``fn(post)`` in a forked child (``fork=True``) or in the caller on first :meth:`result`
    or :meth:`early`.

    Use as a context manager: leaving it reaps the child, killing it first if its result was
    never asked for (an earlier failure in the caller)."""

    def __init__(self, fn: Callable[[Callable[[Any], None]], T], *, fork: bool) -> None:
        self._fn: Callable[[Callable[[Any], None]], T] | None = fn
        self._pid: int | None = None
        self._pipe: int | None = None
        self._spill: IO[bytes] | None = None
        self._value: T | None = None
        self._posted: list[Any] = []
        self._done = False
        self._early_done = False
        if fork:
            spill = tempfile.TemporaryFile()  # noqa: SIM115 (closed by __exit__)
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child: compute, write, leave without the caller's exit handlers
                status = 0
                try:
                    os.close(read)

                    def post(value: Any) -> None:
                        if self._early_done:
                            raise VerificationError("a side job posts one value")
                        self._early_done = True
                        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
                        spill.write(data)
                        spill.flush()
                        os.write(write, _EARLY + len(data).to_bytes(8, "big"))

                    try:
                        data = pickle.dumps((True, fn(post)), protocol=pickle.HIGHEST_PROTOCOL)
                    except BaseException as exc:  # reported to the caller
                        data = pickle.dumps((False, f"{type(exc).__name__}: {exc}"))
                    with os.fdopen(write, "wb") as out:
                        out.write(_RESULT + len(data).to_bytes(8, "big") + data)
                except BaseException:  # nothing else may run in the child
                    status = 1
                finally:
                    os._exit(status)
            os.close(write)
            self._pid, self._pipe, self._spill, self._fn = pid, read, spill, None

    def _run_here(self) -> None:
        assert self._fn is not None
        fn, self._fn = self._fn, None
        self._value = fn(self._posted.append)
        self._done = self._early_done = True

    def _message(self) -> tuple[bytes, bytes]:
        """The child's next message (kind, payload); an empty kind when it ended without one."""
        assert self._pipe is not None
        head = _read_exactly(self._pipe, 9)
        if len(head) < 9:
            return b"", b""
        kind, length = head[:1], int.from_bytes(head[1:], "big")
        if kind == _EARLY:
            assert self._spill is not None
            self._spill.seek(0)
            return kind, self._spill.read(length)
        return kind, _read_exactly(self._pipe, length)

    def early(self) -> Any:
        """The value the function posted (``None`` when it posted none, or when the result was
        taken first); waits for it.
        :class:`~ledger.errors.VerificationError` when the child failed before posting."""
        if not self._early_done:
            if self._pid is None:
                self._run_here()
            else:
                kind, data = self._message()
                self._early_done = True
                if kind == _EARLY:
                    self._posted.append(pickle.loads(data))
                else:  # ended first: its answer (or the lack of one) is the result
                    self._finish(kind, data)
        if self._posted:
            return self._posted[0]
        self.result()  # the child's failure, if it ended without posting
        return None

    def result(self) -> T:
        """The function's result; :class:`~ledger.errors.VerificationError` when it raised
        (named with the exception) or the child ended without an answer."""
        if not self._done:
            if self._pid is None:
                self._run_here()
            else:
                kind, data = self._message()
                if kind == _EARLY:  # posted but never taken: not needed any more
                    self._early_done = True
                    kind, data = self._message()
                self._finish(kind, data)
        if self._failure is not None:
            raise VerificationError(self._failure)
        return self._value  # type: ignore[return-value]

    _failure: str | None = None

    def _finish(self, kind: bytes, data: bytes) -> None:
        if self._pipe is not None:
            os.close(self._pipe)
            self._pipe = None
        self._reap()
        self._done = True
        if kind != _RESULT or not data:
            self._failure = "the side process of the verification ended without an answer"
            return
        ok, value = pickle.loads(data)
        if not ok:
            self._failure = f"the side process of the verification failed: {value}"
            return
        self._value = value

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
        if self._spill is not None:
            self._spill.close()
            self._spill = None


def _read_exactly(fd: int, count: int) -> bytes:
    """``count`` bytes from ``fd``, fewer only when it ends first."""
    parts = []
    while count > 0:
        part = os.read(fd, min(count, 1 << 20))
        if not part:
            break
        parts.append(part)
        count -= len(part)
    return b"".join(parts)
