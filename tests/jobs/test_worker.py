"""Background jobs through a real Redis, a real `crm worker` and real `crm beat` processes, on the
suite's PostgreSQL with committed data."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker

from crm.config import settings
from crm.kit.crypto import Keyring
from crm.kit.db import utcnow
from crm.kit.tasks import JobRun, configure, dispatch_after_commit
from crm.models import Tenant
from tests.factories import make_tenant
from tests.jobs.worker_tasks import append_to_name
from tests.live import CLI, _b64

pytestmark = pytest.mark.postgresql_only

REPO = Path(__file__).resolve().parents[2]
NIGHTLY_SECONDS = 4


def _environment(engine: Engine, redis_url: str, keys: Keyring, root: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "CRM_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "CRM_REDIS_URL": redis_url,
        "CRM_VAR_DIR": str(root),
        "CRM_SECRET_KEY": settings.signing_key,
        "CRM_ENCRYPTION_KEYS": ",".join(f"{key_id}={_b64(key)}" for key_id, key in keys.keys.items()),
        "CRM_ENCRYPTION_ACTIVE_KEY": keys.active,
        "CRM_BLIND_INDEX_KEY": _b64(keys.blind_key),
        "CRM_EXTRA_TASK_MODULES": "tests.jobs.worker_tasks",
        "CRM_NIGHTLY_PERIOD_SECONDS": str(NIGHTLY_SECONDS),
        "CRM_JOBS_INTERVAL_SECONDS": "3600",
    }


@contextlib.contextmanager
def crm_process(args: list[str], env: dict[str, str], log: Path, ready: str | None = None) -> Iterator[Path]:
    with log.open("wb") as out:
        process = subprocess.Popen([CLI, *args], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)  # noqa: S603 - our own CLI
    try:
        deadline = time.monotonic() + 60
        while ready and ready not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"crm {args[0]} did not start: {log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield log
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def worker(engine: Engine, redis_url: str, test_keys: Keyring, tmp_path: Path) -> Iterator[tuple[dict[str, str], Path]]:
    env = _environment(engine, redis_url, test_keys, tmp_path / "worker")
    # This process sends to the same broker.
    previous = settings.redis_url
    settings.redis_url = redis_url
    configure()
    try:
        with crm_process(["worker", "--concurrency", "1"], env, tmp_path / "worker.log", ready="ready.") as log:
            yield env, log
    finally:
        settings.redis_url = previous
        configure()


def _wait_for(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.2)


def _name(factory: sessionmaker[Session], tenant_id: int) -> str:
    with factory() as session:
        return session.get_one(Tenant, tenant_id).name


class TestDispatchAfterCommit:
    def test_a_task_dispatched_in_a_transaction_rolled_back_never_runs(
        self, committed: sessionmaker[Session], worker: tuple[dict[str, str], Path]
    ) -> None:
        with committed() as session:
            tenant = make_tenant(session)
            tenant_id, name = tenant.id, tenant.name
        with committed() as session:
            dispatch_after_commit(session, append_to_name, tenant_id, "·回滚")
            session.get_one(Tenant, tenant_id).is_active = False
            session.flush()
            session.rollback()
        # A task dispatched after it, in a transaction that commits, runs: the queue is FIFO on
        # one worker process, so once it has run the rolled-back one would have too.
        with committed() as session:
            dispatch_after_commit(session, append_to_name, tenant_id, "·提交")
            session.commit()
        _wait_for(lambda: _name(committed, tenant_id) != name)
        time.sleep(1)
        assert _name(committed, tenant_id) == name + "·提交"

    def test_a_task_that_fails_twice_with_a_database_error_is_retried_and_has_its_effect_once(
        self, committed: sessionmaker[Session], worker: tuple[dict[str, str], Path]
    ) -> None:
        with committed() as session:
            tenant = make_tenant(session)
            tenant.settings = {"failures_left": 2}
            tenant_id, name = tenant.id, tenant.name
            dispatch_after_commit(session, append_to_name, tenant_id, "·一次")
            session.commit()
        _wait_for(lambda: _name(committed, tenant_id) != name)
        time.sleep(1)
        assert _name(committed, tenant_id) == name + "·一次"
        with committed() as session:
            assert session.get_one(Tenant, tenant_id).settings == {"failures_left": 0}
        log = worker[1].read_text(errors="replace")
        assert log.count("Retry in") == 2, log[-3000:]


class TestSchedule:
    def test_the_nightly_chain_runs_once_per_period_with_two_beat_processes(
        self,
        committed: sessionmaker[Session],
        worker: tuple[dict[str, str], Path],
        tmp_path: Path,
    ) -> None:
        env, log = worker
        started = utcnow()
        with (
            crm_process(["beat"], {**env, "CRM_VAR_DIR": str(tmp_path / "beat1")}, tmp_path / "beat1.log"),
            crm_process(["beat"], {**env, "CRM_VAR_DIR": str(tmp_path / "beat2")}, tmp_path / "beat2.log"),
        ):

            def chains_done() -> int:
                with committed() as session:
                    return len(
                        session.scalars(
                            select(JobRun).where(
                                JobRun.job == "thin_snapshots",
                                JobRun.status == "succeeded",
                                JobRun.started_at >= started,
                            )
                        ).all()
                    )

            _wait_for(lambda: chains_done() >= 2, seconds=40)
        try:
            sent = sum(
                (tmp_path / f"beat{n}.log").read_text().count("Scheduler: Sending due task nightly") for n in (1, 2)
            )
            with committed() as session:
                runs = session.scalars(select(JobRun).where(JobRun.started_at >= started)).all()
            chains = [r for r in runs if r.job == "nightly"]
            periods = {r.period for r in chains}
            # Both beats sent the chain for the same periods; each period ran once, in order.
            assert sent > len(chains)
            assert "already done or under way" in log.read_text()
            for period in periods:
                steps = sorted(
                    (r for r in runs if r.period == period and r.job != "nightly"), key=lambda r: r.started_at
                )
                assert [r.job for r in steps] in (
                    ["value_refresh", "regrade", "churn_warnings", "thin_snapshots"],
                    ["value_refresh", "regrade", "churn_warnings"],  # stopped mid-chain by the test's end
                    ["value_refresh", "regrade"],
                    ["value_refresh"],
                )
                assert all(r.attempts == 1 for r in steps)
        finally:
            with committed() as session:
                session.execute(delete(JobRun).where(JobRun.started_at >= started))
                session.commit()
