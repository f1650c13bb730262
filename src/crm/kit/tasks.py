"""Background work on Celery: the app, dispatch after commit, scheduled jobs and their ledger.

With `CRM_REDIS_URL` set, tasks go through Redis to `crm worker` processes and `crm beat` sends the
schedule. Without it (the embedded mode) the same task functions run in the calling process: the
API process's job loop, `crm jobs run`, and `dispatch_after_commit` once the commit is done.

Every scheduled run claims its (job, period) row in `job_runs` before it works, so two beat
processes, a redelivered message or an API loop beside a worker still do each period's work once;
the rows are also the history admins read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from celery import Celery, Task
from celery.schedules import crontab, schedule
from sqlalchemy import String, Text, UniqueConstraint, event, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from crm.kit.db import Base, IdMixin, make_engine, make_session_factory, unit_of_work, utcnow
from crm.kit.types import UTCDateTime

log = logging.getLogger(__name__)

# Errors that a later attempt may not meet: the database or the broker briefly away or refusing.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OperationalError, PoolTimeout, ConnectionError, TimeoutError)
# Each task is retried on them with exponential backoff (1 s, 2 s, 4 s, … at most 5 min) and
# jitter so that workers do not retry in step; acks_late returns a message taken by a worker that
# died to the queue (the tasks are idempotent, so running one twice does no harm).
RETRY_POLICY: dict[str, Any] = {
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 1,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 5,
    "acks_late": True,
    "reject_on_worker_lost": True,
}
# A claim older than this is taken to be from a worker that died mid-run, and may be claimed again.
STALE_CLAIM = timedelta(hours=2)
# The nightly chain runs after this hour in the tenant time zone.
NIGHTLY_HOUR = 1


def _configure(app: Celery) -> None:
    from crm.config import settings  # noqa: PLC0415 - kit modules read settings lazily

    extra = [m.strip() for m in settings.extra_task_modules.split(",") if m.strip()]
    app.conf.update(
        broker_url=settings.redis_url or "memory://",
        task_always_eager=settings.redis_url is None,
        task_eager_propagates=True,
        task_ignore_result=True,
        task_acks_late=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        timezone=settings.default_timezone,
        include=["crm.jobs", *extra],
        beat_schedule=beat_schedule(),
    )


celery_app = Celery("crm")


def configure() -> Celery:
    """The app configured from the settings (read when first used, so tests can change them)."""
    _configure(celery_app)
    return celery_app


def is_embedded() -> bool:
    from crm.config import settings  # noqa: PLC0415

    return settings.redis_url is None


# -- dispatch after commit -------------------------------------------------------------------

_PENDING = "crm.pending_tasks"


def dispatch_after_commit(session: Session, task: Task, *args: Any) -> None:
    """Send ``task(*args)`` once ``session`` commits; nothing is sent if it rolls back."""
    session.info.setdefault(_PENDING, []).append((task, args))


@event.listens_for(Session, "after_commit")
def _send_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING, [])
    for task, args in pending:
        try:
            task.delay(*args)
        except Exception:
            # The commit stands; a lost message is logged, the scheduled jobs catch up on the rest.
            log.exception("task %s could not be sent", task.name)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


# -- scheduled jobs and their ledger ---------------------------------------------------------


class JobRun(IdMixin, Base):
    """One run of a scheduled job for one period: the claim that makes it once per period."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "period"),)

    job: Mapped[str] = mapped_column(String(64))
    # The period's key: the tenant-local date for nightly jobs, the slot's start for frequent ones,
    # "manual …" for runs asked for by hand.
    period: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # running, succeeded, failed
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    duration_ms: Mapped[int | None] = mapped_column(nullable=True)
    done: Mapped[int | None] = mapped_column(nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(default=1)


@dataclass(frozen=True)
class Job:
    name: str
    label: str  # zh-CN
    label_en: str
    work: Callable[[Session], int]
    nightly: bool
    task: Task


# In registration order: the nightly chain runs in this order (later jobs read what earlier wrote).
REGISTRY: dict[str, Job] = {}


@cache
def task_session_factory() -> sessionmaker[Session]:
    """Sessions for tasks run by a worker or the job loop, on the configured database."""
    from crm.config import settings  # noqa: PLC0415

    return make_session_factory(make_engine(settings.database_url, pool_size=2))


def scheduled_job(
    name: str, label: str, label_en: str, *, nightly: bool = False
) -> Callable[[Callable[[Session], int]], Job]:
    """Register ``work`` as a scheduled job and a Celery task that runs it once for the current period."""

    def register(work: Callable[[Session], int]) -> Job:
        @celery_app.task(name=f"crm.jobs.{name}", **RETRY_POLICY)  # type: ignore[untyped-decorator]  # Celery is untyped
        def run(period: str | None = None) -> int | None:
            return run_once(task_session_factory(), name, period or current_period(name))

        job = Job(name, label, label_en, work, nightly, run)
        REGISTRY[name] = job
        return job

    return register


def nightly_jobs() -> list[Job]:
    return [job for job in REGISTRY.values() if job.nightly]


def frequent_jobs() -> list[Job]:
    return [job for job in REGISTRY.values() if not job.nightly]


def current_period(name: str, now: datetime | None = None) -> str:
    """The key of the period ``now`` falls in for job ``name`` (or the nightly chain)."""
    from crm.config import settings  # noqa: PLC0415

    now = now or utcnow()
    nightly = name == "nightly" or (name in REGISTRY and REGISTRY[name].nightly)
    seconds = (settings.nightly_period_seconds if nightly else None) or (
        None if nightly else settings.jobs_interval_seconds
    )
    if seconds:
        start = int(now.timestamp()) // seconds * seconds
        return datetime.fromtimestamp(start, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    local: date = now.astimezone(ZoneInfo(settings.default_timezone)).date()
    return local.isoformat()


def beat_schedule() -> dict[str, dict[str, Any]]:
    from crm.config import settings  # noqa: PLC0415

    entries: dict[str, dict[str, Any]] = {
        job.name: {"task": job.task.name, "schedule": schedule(timedelta(seconds=settings.jobs_interval_seconds))}
        for job in frequent_jobs()
    }
    nightly = (
        schedule(timedelta(seconds=settings.nightly_period_seconds))
        if settings.nightly_period_seconds
        else crontab(hour=NIGHTLY_HOUR, minute=0)
    )
    entries["nightly"] = {"task": "crm.jobs.nightly", "schedule": nightly}
    return entries


def claim(factory: sessionmaker[Session], job: str, period: str) -> int | None:
    """Take (job, period) for this process: the run's id, or None when it is done or under way."""
    now = utcnow()
    try:
        for session in unit_of_work(factory):
            run = JobRun(job=job, period=period, status="running", started_at=now, attempts=1)
            session.add(run)
            session.flush()  # the unique (job, period) refuses a second claim here
        return run.id
    except IntegrityError:
        pass
    # Taken already: again only if that attempt failed or its worker died.
    taken: int | None = None
    for session in unit_of_work(factory):
        taken = session.execute(
            update(JobRun)
            .where(
                JobRun.job == job,
                JobRun.period == period,
                (JobRun.status == "failed") | ((JobRun.status == "running") & (JobRun.started_at < now - STALE_CLAIM)),
            )
            .values(status="running", started_at=now, finished_at=None, error=None, attempts=JobRun.attempts + 1)
            .returning(JobRun.id)
        ).scalar()
    return taken


def _finish(
    factory: sessionmaker[Session], run_id: int, started: datetime, done: int | None, error: str | None
) -> None:
    finished = utcnow()
    for session in unit_of_work(factory):
        session.execute(
            update(JobRun)
            .where(JobRun.id == run_id)
            .values(
                status="failed" if error is not None else "succeeded",
                finished_at=finished,
                duration_ms=int((finished - started).total_seconds() * 1000),
                done=done,
                error=error[:4000] if error else None,
            )
        )


def run_claimed(factory: sessionmaker[Session], name: str, period: str, work: Callable[[Session], int]) -> int | None:
    """Run ``work`` in one transaction if (name, period) can be claimed; how many things it did."""
    run_id = claim(factory, name, period)
    if run_id is None:
        log.info("job %s %s: already done or under way", name, period)
        return None
    started = utcnow()
    try:
        done = 0
        for session in unit_of_work(factory):
            done = work(session)
    except BaseException as error:
        _finish(factory, run_id, started, None, _describe(error))
        raise
    _finish(factory, run_id, started, done, None)
    return done


def _describe(error: BaseException) -> str:
    # The driver's own message, first line only: SQLAlchemy's adds the statement's parameters, and
    # PostgreSQL's DETAIL lines quote row values, which may be personal data.
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[0] if lines else ''}"[:500]


def run_once(factory: sessionmaker[Session], name: str, period: str) -> int | None:
    return run_claimed(factory, name, period, REGISTRY[name].work)


def run_now(factory: sessionmaker[Session], name: str) -> int:
    """Run job ``name`` now, whatever ran before (by hand: `crm jobs run`, the admin page)."""
    done = run_claimed(factory, name, f"manual {utcnow().isoformat()}", REGISTRY[name].work)
    return done or 0


def latest_run(session: Session, name: str) -> JobRun | None:
    return session.scalars(select(JobRun).where(JobRun.job == name).order_by(JobRun.started_at.desc()).limit(1)).first()


# Configured at import so that dispatching works in every process; `configure()` again once the
# tasks are registered adds their schedule (`crm worker`, `crm beat`).
configure()
