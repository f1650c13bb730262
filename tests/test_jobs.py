"""In-process jobs: with several API workers on one machine, one of them runs the jobs."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from crm.analytics.value import refresh
from crm.jobs import RunnerLock, _nightly_due
from crm.kit.clock import business_today
from crm.models import Tenant
from tests.factories import Api


def test_only_one_worker_holds_the_runner_lock_and_another_takes_over_when_it_stops(tmp_path: Path) -> None:
    first, second = RunnerLock(tmp_path / "jobs.lock"), RunnerLock(tmp_path / "jobs.lock")
    assert first.held() is True
    assert second.held() is False
    assert first.held() is True  # kept between rounds
    first.release()
    assert second.held() is True
    assert first.held() is False
    second.release()


def test_the_nightly_jobs_are_due_until_every_customer_has_todays_analysis(
    session_factory: sessionmaker[Session], session: Session, admin: Api, tenant: Tenant
) -> None:
    today = business_today()
    admin.create_customer(customer_name="夜间任务")
    assert _nightly_due(session_factory, today) is True
    refresh(session, tenant)
    session.commit()
    assert _nightly_due(session_factory, today) is False  # a restart later today recomputes nothing
