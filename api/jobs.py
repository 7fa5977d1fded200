"""Background jobs: a small thread pool, one job at a time per organisation, progress recorded.

A job is a row of the service store (``queued``, ``running``, ``done`` or ``failed``, with a phase
and ``done``/``total`` counts) and a piece of work run on the pool. The work is handed in by the
caller (:mod:`api.anchoring` for anchoring jobs); it reports its progress through the
:data:`Report` callable it is given and returns the job's JSON result. Jobs left queued or running
when the service stopped are started again by :meth:`JobRunner.resume`.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from api.store import JobRow, ServiceStore
from ledger.errors import LedgerError

__all__ = ["JobRunner", "JobWork", "Report"]

log = logging.getLogger("api.jobs")

#: ``report(phase, done, total)``: where a running job stands, recorded on its row.
Report = Callable[[str, int, int], None]
#: A job's work: runs with a :data:`Report` and returns the job's (JSON) result.
JobWork = Callable[[Report], dict[str, Any]]


class JobRunner:
    """Runs jobs on a small thread pool, one at a time per organisation, recording progress."""

    def __init__(self, store: ServiceStore, workers: int) -> None:
        self._store = store
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="job")
        self._org_locks: dict[int, threading.Lock] = {}
        self._guard = threading.Lock()
        self._futures: dict[str, Future[None]] = {}

    def start(self, org_id: int, kind: str, request: Mapping[str, Any], work: JobWork) -> str:
        """Records a new job and queues its work; returns the job id."""
        job_id = str(uuid.uuid4())
        self._store.add_job(job_id, org_id, kind, request)
        self._submit(job_id, org_id, work)
        return job_id

    def resume(self, work_of: Callable[[JobRow], JobWork | None]) -> int:
        """Starts again the jobs a previous run of the service left open (each with the work
        ``work_of`` gives it; ``None`` leaves a job as it is); returns how many."""
        count = 0
        for job in self._store.open_jobs():
            work = work_of(job)
            if work is not None:
                self._submit(job.id, job.org_id, work)
                count += 1
        return count

    def _submit(self, job_id: str, org_id: int, work: JobWork) -> None:
        self._futures[job_id] = self._pool.submit(self._run, job_id, org_id, work)

    def wait(self, job_id: str, timeout_s: float | None = None) -> None:
        future = self._futures.get(job_id)
        if future is not None:
            future.result(timeout=timeout_s)

    def _run(self, job_id: str, org_id: int, work: JobWork) -> None:
        store = self._store

        def report(phase: str, done: int, total: int) -> None:
            store.update_job(job_id, phase=phase, done=done, total=total)

        with self._guard:
            lock = self._org_locks.setdefault(org_id, threading.Lock())
        with lock:
            store.update_job(job_id, state="running", phase="starting")
            try:
                result = work(report)
            except LedgerError as exc:
                log.warning("job %s failed: %s", job_id, exc)
                store.update_job(job_id, state="failed", phase="failed", error=str(exc))
            except Exception as exc:
                log.exception("job %s failed", job_id)
                store.update_job(job_id, state="failed", phase="failed",
                                 error=f"internal error: {type(exc).__name__}")
            else:
                store.update_job(job_id, state="done", phase="done", result=result)

    def run_in_background(self, fn: Callable[[], object]) -> None:
        """Runs ``fn`` on the pool (PACT event answers); errors are logged."""
        def wrapped() -> None:
            try:
                fn()
            except Exception:
                log.exception("background task failed")
        self._pool.submit(wrapped)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)
