"""The side process of a large verification: the same answer forked or not, failures named,
no child left behind."""

from __future__ import annotations

import os

import pytest

from ledger.errors import VerificationError
from ledger.verify.side import SideJob, can_fork

needs_fork = pytest.mark.skipif(not can_fork(), reason="no fork or one CPU here")


def _work() -> tuple[int, list[str]]:
    return os.getpid(), [str(n) for n in range(50_000)]  # larger than a pipe's buffer


@needs_fork
def test_a_forked_job_answers_what_the_caller_would() -> None:
    with SideJob(_work, fork=True) as forked, SideJob(_work, fork=False) as inline:
        child_pid, forked_items = forked.result()
        caller_pid, inline_items = inline.result()
    assert forked_items == inline_items
    assert child_pid != os.getpid() and caller_pid == os.getpid()


def _fails() -> None:
    raise KeyError("recordHash")


@needs_fork
@pytest.mark.parametrize("fork", [True, False])
def test_a_failing_job_is_named(fork: bool) -> None:
    with SideJob(_fails, fork=fork) as job:
        if fork:
            with pytest.raises(VerificationError, match="KeyError: 'recordHash'"):
                job.result()
        else:
            with pytest.raises(KeyError):
                job.result()


def _forever() -> None:
    while True:
        pass


@needs_fork
def test_a_job_whose_answer_is_never_asked_for_is_stopped_and_reaped() -> None:
    with SideJob(_forever, fork=True) as job:
        pid = job._pid
        assert pid is not None
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # already reaped: no such child
