"""Pooled connections: one idle long enough is checked before use (a restarted server dropped it);
a busy one is not checked on every checkout, and its loss surfaces as a transient error."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from crm.kit import db
from crm.kit.errors import is_transient

pytestmark = pytest.mark.postgresql_only


@pytest.fixture
def pool(engine: Engine) -> Iterator[Engine]:
    own = db.make_engine(engine.url.render_as_string(hide_password=False), pool_size=1, max_overflow=0)
    yield own
    own.dispose()


def _backend(pool: Engine) -> int:
    with pool.connect() as conn:
        return int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


def _terminate(owner_engine: Engine, pid: int) -> None:
    with owner_engine.connect() as conn:
        conn.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")


def test_an_idle_connection_the_server_dropped_is_replaced_before_use(
    pool: Engine, owner_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _backend(pool)
    _terminate(owner_engine, first)
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)
    assert _backend(pool) != first  # checked, found gone, replaced: the caller saw nothing


def test_a_busy_connection_is_not_checked_and_its_loss_is_a_transient_error(pool: Engine, owner_engine: Engine) -> None:
    first = _backend(pool)
    _terminate(owner_engine, first)
    with pytest.raises(OperationalError) as lost:
        _backend(pool)
    assert is_transient(lost.value)  # answered 503 with Retry-After by the API
    assert _backend(pool) != first  # and the next checkout has a new connection
