"""Scheduled jobs: what they are, running one now, and running them in process.

In the embedded mode (no Celery worker) the API process runs every job on its interval
(`CRM_JOBS_INTERVAL_SECONDS`, 300 s); `crm jobs run NAME` runs one at once, exactly as the
scheduler would, for operators and tests. Each run is one transaction; jobs are idempotent,
so overlapping or repeated runs do no harm.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import IO

from sqlalchemy.orm import Session, sessionmaker

from crm.config import settings
from crm.interactions.attachments import purge_deleted_files
from crm.interactions.service import send_follow_up_reminders
from crm.kit.db import unit_of_work
from crm.service_desk.assignment import assign_queue
from crm.service_desk.service import escalate_breached

log = logging.getLogger(__name__)

JOBS: dict[str, Callable[[Session], int]] = {
    "reminders": send_follow_up_reminders,  # notify owners of follow-ups fallen due
    "escalations": escalate_breached,  # escalate urgent and high tickets past their SLA
    "assign_queue": assign_queue,  # give waiting tickets to agents who now have room
    "purge_files": purge_deleted_files,  # delete attachment files let go by committed erasures
}


def run_job(factory: sessionmaker[Session], name: str) -> int:
    """Run one job in its own transaction; returns how many things it did."""
    job = JOBS[name]
    done = 0
    for session in unit_of_work(factory):
        done = job(session)
    return done


class RunnerLock:
    """One runner of in-process jobs per machine: `crm serve --workers N` starts N processes, and
    the first to take this file lock runs the jobs (the others try again each round, so another
    takes over when it exits). Jobs are idempotent, so this saves work rather than guarding data.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[bytes] | None = None

    def held(self) -> bool:
        if self._handle is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._handle = handle
        return True

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()  # closing the file releases the lock
            self._handle = None


async def run_periodically(factory: sessionmaker[Session], interval: float) -> None:
    """Every job, every ``interval`` seconds, until cancelled; a failing job is logged, not fatal."""
    lock = RunnerLock(settings.var_dir / "jobs.lock")
    try:
        while True:
            if lock.held():
                await _run_all(factory)
            await asyncio.sleep(interval)
    finally:
        lock.release()


async def _run_all(factory: sessionmaker[Session]) -> None:
    for name in JOBS:
        try:
            done = await asyncio.to_thread(run_job, factory, name)
            if done:
                log.info("job %s: %d", name, done)
        except Exception:
            log.exception("job %s failed", name)


def start_in_process(factory: sessionmaker[Session], interval: float) -> asyncio.Task[None]:
    return asyncio.get_running_loop().create_task(run_periodically(factory, interval))


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task
