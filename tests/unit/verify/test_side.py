"""The side process of a large verification: the same answer forked or not, an early value
handed over while the child goes on, failures named, no child left behind."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

from ledger.errors import VerificationError
from ledger.verify.side import SideJob, can_fork

needs_fork = pytest.mark.skipif(not can_fork(), reason="no fork or one CPU here")


def _work(post: Callable[[Any], None]) -> tuple[int, list[str]]:
    return os.getpid(), [str(n) for n in range(50_000)]  # larger than a pipe's buffer


def _posts(post: Callable[[Any], None]) -> tuple[int, list[str]]:
    post([str(n) for n in range(200_000)])  # far larger than a pipe's buffer: never waits
    return _work(post)


@needs_fork
def test_a_forked_job_answers_what_the_caller_would() -> None:
    with SideJob(_work, fork=True) as forked, SideJob(_work, fork=False) as inline:
        child_pid, forked_items = forked.result()
        caller_pid, inline_items = inline.result()
    assert forked_items == inline_items
    assert child_pid != os.getpid() and caller_pid == os.getpid()


def _fails(post: Callable[[Any], None]) -> None:
    raise KeyError("recordHash")


@needs_fork
@pytest.mark.parametrize("fork", [True, False])
def test_an_early_value_is_handed_over_before_the_result(fork: bool) -> None:
    with SideJob(_posts, fork=fork) as job:
        assert job.early() == [str(n) for n in range(200_000)]
        assert job.early() == [str(n) for n in range(200_000)]  # asked again: the same
        pid, items = job.result()
    assert items == [str(n) for n in range(50_000)]
    assert (pid != os.getpid()) is fork


@needs_fork
def test_an_early_value_never_taken_does_not_hide_the_result() -> None:
    with SideJob(_posts, fork=True) as job:
        assert job.result()[1] == [str(n) for n in range(50_000)]
        assert job.early() is None  # taken after the result: no longer kept


@needs_fork
@pytest.mark.parametrize("fork", [True, False])
def test_a_job_that_posts_nothing_hands_over_none_early(fork: bool) -> None:
    with SideJob(_work, fork=fork) as job:
        assert job.early() is None
        assert job.result()[1] == [str(n) for n in range(50_000)]


def _posts_then_fails(post: Callable[[Any], None]) -> None:
    post("early")
    raise KeyError("recordHash")


@needs_fork
def test_a_job_failing_after_its_early_value_is_named_at_its_result() -> None:
    with SideJob(_posts_then_fails, fork=True) as job:
        assert job.early() == "early"
        with pytest.raises(VerificationError, match="KeyError: 'recordHash'"):
            job.result()


@needs_fork
def test_a_job_failing_before_its_early_value_is_named_when_it_is_asked_for() -> None:
    with SideJob(_fails, fork=True) as job:
        with pytest.raises(VerificationError, match="KeyError: 'recordHash'"):
            job.early()
        with pytest.raises(VerificationError, match="KeyError: 'recordHash'"):
            job.result()


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


def _forever(post: Callable[[Any], None]) -> None:
    while True:
        pass


@needs_fork
def test_a_job_whose_answer_is_never_asked_for_is_stopped_and_reaped() -> None:
    with SideJob(_forever, fork=True) as job:
        pid = job._pid
        assert pid is not None
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # already reaped: no such child
