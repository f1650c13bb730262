"""Scheduled jobs: which they are, the nightly chain, running one now, and running them in process.

Each job is a Celery task defined in its domain's `tasks.py` (crm.kit.tasks). Frequent jobs run
every `CRM_JOBS_INTERVAL_SECONDS` (300 s); the nightly chain once per business day, after
`NIGHTLY_AFTER` in the tenant time zone (Asia/Shanghai by default). With CRM_REDIS_URL, `crm beat`
sends them to `crm worker`; in the embedded mode (no Redis) the API process runs the same
functions. `crm jobs run NAME` runs one at once, and `crm jobs run nightly` the chain in order.
Each run is one transaction, claimed once per period in `job_runs`; jobs are idempotent, so a
repeated run does no harm.
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

from crm.analytics import tasks as analytics_tasks
from crm.churn import tasks as churn_tasks
from crm.config import settings
from crm.interactions import tasks as interactions_tasks
from crm.kit.tasks import (
    RETRY_POLICY,
    Job,
    celery_app,
    current_period,
    run_claimed,
    run_now,
    run_once,
    task_session_factory,
)
from crm.models import Customer, CustomerValueAnalysis
from crm.service_desk import tasks as service_desk_tasks

log = logging.getLogger(__name__)

FREQUENT: list[Job] = [
    interactions_tasks.reminders,
    service_desk_tasks.escalations,
    service_desk_tasks.assign_queue,
    interactions_tasks.purge_files,
]
# In this order: later ones read what earlier ones wrote.
NIGHTLY_CHAIN: list[Job] = [
    analytics_tasks.value_refresh,
    analytics_tasks.regrade,
    churn_tasks.churn_warnings,
    analytics_tasks.thin_snapshots,
]
JOBS: dict[str, Callable[[Session], int]] = {job.name: job.work for job in FREQUENT}
NIGHTLY: dict[str, Callable[[Session], int]] = {job.name: job.work for job in NIGHTLY_CHAIN}
NIGHTLY_AFTER = time(1, 0)


def run_job(factory: sessionmaker[Session], name: str) -> int:
    """Run one job now in its own transaction, recorded in the history; how many things it did."""
    if name not in JOBS and name not in NIGHTLY:
        raise KeyError(name)
    return run_now(factory, name)


def run_nightly(factory: sessionmaker[Session], period: str) -> int | None:
    """The nightly chain for ``period``, once: each job in order, each claimed for the period too, so
    a chain retried after a failure skips the jobs already done. None if the chain is taken."""

    def chain(_session: Session) -> int:
        return sum(run_once(factory, job.name, period) or 0 for job in NIGHTLY_CHAIN)

    return run_claimed(factory, "nightly", period, chain)


@celery_app.task(name="crm.jobs.nightly", **RETRY_POLICY)  # type: ignore[untyped-decorator]  # Celery is untyped
def nightly(period: str | None = None) -> int | None:
    return run_nightly(task_session_factory(), period or current_period("nightly"))


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
                for job in FREQUENT:
                    await _run_logged(job.name, run_once, factory, job.name, current_period(job.name))
                now = datetime.now(ZoneInfo(settings.default_timezone))
                if now.time() >= NIGHTLY_AFTER and now.date() != last_night:
                    if await asyncio.to_thread(_nightly_due, factory, now.date()):
                        await _run_logged("nightly", run_nightly, factory, now.date().isoformat())
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


async def _run_logged(name: str, run: Callable[..., int | None], *args: object) -> None:
    try:
        done = await asyncio.to_thread(run, *args)
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
