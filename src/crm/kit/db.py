"""Engine, sessions and the declarative base shared by every model."""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from crm.kit.dialects import PLANNER_RESTORE, restore_planner, sqlite_regexp_replace
from crm.kit.types import BigIntId, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class IdMixin:
    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin: savepoints
    # (begin_nested) only work this way.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    # exp() and ln() score the churn model in SQL; SQLite has them only when built with its
    # math functions, so provide them where the build does not.
    try:
        dbapi_connection.execute("SELECT exp(0), ln(1)")
    except sqlite3.OperationalError:
        dbapi_connection.create_function("exp", 1, math.exp, deterministic=True)
        dbapi_connection.create_function("ln", 1, math.log, deterministic=True)
    dbapi_connection.create_function("crm_regexp_replace", 3, sqlite_regexp_replace, deterministic=True)


def _sqlite_begin(conn: Any) -> None:
    # IMMEDIATE takes the write lock up front: two writers queue on busy_timeout instead of
    # one failing with "database is locked" when it upgrades a read transaction.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(
    url: str,
    *,
    echo: bool = False,
    pool_size: int = 10,
    max_overflow: int = 10,
    pool_timeout: float = 30.0,
    lock_timeout: float | None = None,
) -> Engine:
    """The engine for ``url``; ``lock_timeout`` (seconds) bounds how long a statement waits for a
    row lock on PostgreSQL (SQLite waits busy_timeout for its write lock), so that a request
    behind a stuck writer fails and is answered instead of hanging."""
    pool = {"pool_size": pool_size, "max_overflow": max_overflow, "pool_timeout": pool_timeout}
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False}, **pool)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    connect_args = {"options": f"-c lock_timeout={int(lock_timeout * 1000)}"} if lock_timeout else {}
    engine = create_engine(url, echo=echo, pool_recycle=1800, connect_args=connect_args, **pool)
    event.listen(engine.pool, "checkin", _note_checkin)
    event.listen(engine.pool, "checkout", partial(_ping_if_idle, engine.dialect))
    event.listen(engine, "before_cursor_execute", restore_planner)
    return engine


# A pooled connection idle this long is checked before use (the server may have restarted or
# dropped it); a busy one is not: a ping on every checkout is a round trip on every request.
IDLE_PING_SECONDS = 10.0


def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info["checked_in"] = time.monotonic()
    # A connection goes back with its transaction ended, which undid any SET LOCAL by itself.
    record.info.pop(PLANNER_RESTORE, None)


def _ping_if_idle(dialect: Any, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    checked_in = record.info.get("checked_in")
    if checked_in is None or time.monotonic() - checked_in < IDLE_PING_SECONDS:
        return
    try:
        dialect.do_ping(dbapi_connection)
    except Exception as error:
        # The pool discards this connection and checks out another (a new one if need be).
        raise DisconnectionError() from error


def is_embedded(engine: Engine) -> bool:
    """The engine is the embedded SQLite database, not a PostgreSQL server."""
    return engine.dialect.name == "sqlite"


def make_session_factory(bind: Any, **kwargs: Any) -> sessionmaker[Session]:
    # Objects stay readable after commit: responses are built from them once the unit of work ends.
    return sessionmaker(bind=bind, expire_on_commit=False, autoflush=False, **kwargs)


def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction per use case: commit when the caller finishes, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
