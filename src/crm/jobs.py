"""Scheduled jobs: what they are, running one now, and running them in process.

Frequent jobs run every few minutes; nightly jobs once per business day, after
`NIGHTLY_AFTER` in the tenant time zone (Asia/Shanghai by default). In the embedded mode (no
Celery worker) the API process runs them (`CRM_JOBS_INTERVAL_SECONDS`, 300 s); `crm jobs run
NAME` runs one at once, and `crm jobs run nightly` every nightly job in order, exactly as the
scheduler would, for operators and tests. Each run is one transaction; jobs are idempotent,
so overlapping or repeated runs do no harm.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
from collections.abc import Callable
from contextlib import suppress
from datetime import date, datetime, time
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, sessionmaker

from crm.analytics.grading import regrade_all
from crm.analytics.retention import thin_all
from crm.analytics.value import refresh_all
from crm.churn.service import raise_all
from crm.config import settings
from crm.interactions.attachments import purge_deleted_files
from crm.interactions.notifications import send_follow_up_reminders
from crm.kit.db import unit_of_work
from crm.models import Customer, CustomerValueAnalysis
from crm.service_desk.assignment import assign_queue
from crm.service_desk.service import escalate_breached

log = logging.getLogger(__name__)

JOBS: dict[str, Callable[[Session], int]] = {
    "reminders": send_follow_up_reminders,  # notify owners of follow-ups fallen due
    "escalations": escalate_breached,  # escalate urgent and high tickets past their SLA
    "assign_queue": assign_queue,  # give waiting tickets to agents who now have room
    "purge_files": purge_deleted_files,  # delete attachment files let go by committed erasures
}
# In this order: later ones read what earlier ones wrote.
NIGHTLY: dict[str, Callable[[Session], int]] = {
    "value_refresh": refresh_all,  # today's figures, churn risk, model score and lifecycle stage, set-based
    "regrade": regrade_all,  # levels by the rules from today's analysis; manual levels kept
    "churn_warnings": raise_all,  # open, update and clear churn warnings from today's risks
    "thin_snapshots": thin_all,  # daily snapshots past the tenant's window thinned to one per customer and month
}
NIGHTLY_AFTER = time(1, 0)


def run_job(factory: sessionmaker[Session], name: str) -> int:
    """Run one job in its own transaction; returns how many things it did."""
    job = JOBS.get(name) or NIGHTLY[name]
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
    last_night: date | None = None
    try:
        while True:
            if lock.held():
                await _run_each(factory, JOBS)
                now = datetime.now(ZoneInfo(settings.default_timezone))
                if now.time() >= NIGHTLY_AFTER and now.date() != last_night:
                    if await asyncio.to_thread(_nightly_due, factory, now.date()):
                        await _run_each(factory, NIGHTLY)
                    last_night = now.date()
            await asyncio.sleep(interval)
    finally:
        lock.release()


def _nightly_due(factory: sessionmaker[Session], day: date) -> bool:
    """Whether tonight's jobs still have to run: some customer has no analysis of ``day`` yet.

    So a server restarted during the day does not recompute every customer again.
    """
    with factory() as session:
        missing = (
            select(Customer.id)
            .where(
                Customer.deleted_at.is_(None),
                ~exists().where(
                    CustomerValueAnalysis.customer_id == Customer.id, CustomerValueAnalysis.analysis_date == day
                ),
            )
            .limit(1)
        )
        return session.scalar(missing) is not None


async def _run_each(factory: sessionmaker[Session], jobs: dict[str, Callable[[Session], int]]) -> None:
    for name in jobs:
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
