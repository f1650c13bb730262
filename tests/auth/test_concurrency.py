"""Parallel sign-in attempts are counted one after another: no more passwords are checked than the limit allows."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session, sessionmaker

from crm.app import create_app
from crm.auth import passwords
from crm.config import settings
from crm.kit.db import make_session_factory
from crm.models import AuditLog, LoginFailure
from crm.models.enums import Role
from tests.factories import CountingHasher, make_tenant, make_user

ADDRESS = "10.66.0.1"
ATTEMPTS = 16


@pytest.fixture
def forget_attempts(owner_engine: Engine) -> Iterator[None]:
    """The attempts are committed: their failures and unattributed audit rows go afterwards (by the
    tables' owner: the application may not delete audit records)."""
    yield
    with make_session_factory(owner_engine)() as session:
        session.execute(delete(LoginFailure).where(LoginFailure.ip == ADDRESS))
        session.execute(delete(AuditLog).where(AuditLog.ip == ADDRESS, AuditLog.tenant_id.is_(None)))
        session.commit()


def test_parallel_wrong_passwords_have_no_more_checked_than_the_limit(
    committed: sessionmaker[Session], forget_attempts: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with committed() as session:
        user = make_user(session, make_tenant(session), Role.SALES)
        # A cheap hash of the same kind: what is counted here is how many are checked, not their cost.
        user.password_hash = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash("the-real-password")
        session.commit()
    checked = CountingHasher()
    monkeypatch.setattr(passwords, "_hasher", checked)
    barrier = threading.Barrier(ATTEMPTS)
    statuses: list[int] = []

    with TestClient(create_app(committed, check_migrations=False), client=(ADDRESS, 1)) as client:

        def guess(n: int) -> None:
            barrier.wait()
            form = {"username": user.username, "password": f"guess-number-{n}"}
            statuses.append(client.post("/api/v1/auth/login", data=form).status_code)

        threads = [threading.Thread(target=guess, args=(n,)) for n in range(ATTEMPTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    limit = settings.login_max_failures
    assert Counter(statuses) == {401: limit, 429: ATTEMPTS - limit}
    assert checked.calls == limit
