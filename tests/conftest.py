"""Test fixtures: every database test runs on SQLite and on a real PostgreSQL server.

The schema is built once per database by running the Alembic migrations; each test then
runs inside a transaction that is rolled back at the end, so tests never see each other.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker

from crm.app import create_app
from crm.auth import actors, tokens
from crm.config import settings
from crm.kit.crypto import Keyring, use_keyring
from crm.kit.db import make_engine, make_session_factory
from crm.kit.migrate import grant_application, upgrade
from crm.kit.ratelimit import limiter_for
from crm.kit.regions import Region
from crm.models import Base, Tenant
from crm.models.enums import Role
from tests.factories import Api, make_tenant, make_user
from tests.servers import postgres_server, redis_server

DATABASES = [d for d in os.environ.get("CRM_TEST_DATABASES", "sqlite,postgresql").split(",") if d]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgresql_only: a PostgreSQL property (query plans, locking)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run postgresql_only tests on PostgreSQL alone: deselected, not skipped, elsewhere."""
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on = callspec.params.get("owner_engine") if callspec else None
        (drop if item.get_closest_marker("postgresql_only") and on != "postgresql" else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session", autouse=True)
def test_keys() -> Iterator[Keyring]:
    """Throwaway encryption and blind-index keys, so tests never touch a key file."""
    ring = Keyring({"t1": secrets.token_bytes(32)}, "t1", secrets.token_bytes(32))
    use_keyring(ring)
    yield ring
    use_keyring(None)


@pytest.fixture(scope="session", autouse=True)
def attachment_storage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Uploaded files go to a throwaway directory, never into the working tree's var/."""
    previous = settings.attachment_dir
    settings.attachment_dir = tmp_path_factory.mktemp("attachments")
    yield settings.attachment_dir
    settings.attachment_dir = previous


@pytest.fixture(autouse=True)
def fresh_rate_limits() -> None:
    """Counters and cached actors start empty in each test: ids repeat across rolled-back tests."""
    limiter_for.cache_clear()
    actors.cache().clear()
    tokens._verified.cache_clear()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    given = os.environ.get("CRM_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    given = os.environ.get("CRM_TEST_REDIS_URL")
    if given:
        yield given
        return
    with redis_server() as url:
        yield url


APPLICATION_ROLE = "crm_app"


@pytest.fixture(scope="session", params=DATABASES)
def owner_engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The database as its owner, who migrates it (and may do what the application may not)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'crm.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def engine(owner_engine: Engine) -> Iterator[Engine]:
    """The database as the application uses it: on PostgreSQL a user of its own with the privileges
    `crm db upgrade` grants, as in production."""
    if owner_engine.dialect.name != "postgresql":
        yield owner_engine
        return
    with owner_engine.begin() as conn:
        exists_already = conn.exec_driver_sql(
            f"SELECT 1 FROM pg_roles WHERE rolname = '{APPLICATION_ROLE}'"  # noqa: S608 - a constant
        ).scalar()
        if not exists_already:
            conn.exec_driver_sql(f"CREATE ROLE {APPLICATION_ROLE} LOGIN")
    grant_application(owner_engine, APPLICATION_ROLE)
    engine = make_engine(owner_engine.url.set(username=APPLICATION_ROLE).render_as_string(hide_password=False))
    yield engine
    engine.dispose()


@pytest.fixture
def dialect(engine: Engine) -> str:
    return engine.dialect.name


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        outer.rollback()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    # Each request's commit becomes a savepoint release inside the test's transaction.
    return make_session_factory(connection, join_transaction_mode="create_savepoint")


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as s:
        yield s


@pytest.fixture
def client(session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    app = create_app(session_factory, check_migrations=False)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest.fixture
def committed(engine: Engine, owner_engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Sessions that really commit, for tests of concurrent writers; their tenants are purged after
    (by the owner: the application may not delete audit records)."""
    factory = make_session_factory(engine)
    with factory() as s:
        before = set(s.scalars(select(Tenant.id)))
    yield factory
    with make_session_factory(owner_engine)() as s:
        created = set(s.scalars(select(Tenant.id))) - before
        if created:
            for table in reversed(Base.metadata.sorted_tables):
                if "tenant_id" in table.c:
                    s.execute(delete(table).where(table.c.tenant_id.in_(created)))
            s.execute(delete(Tenant).where(Tenant.id.in_(created)))
            s.commit()


@pytest.fixture
def tenant(session: Session) -> Tenant:
    return make_tenant(session)


@pytest.fixture
def admin(client: TestClient, session: Session, tenant: Tenant) -> Api:
    return Api(client, make_user(session, tenant, Role.ADMIN))


@pytest.fixture
def manager_east(client: TestClient, session: Session, tenant: Tenant) -> Api:
    return Api(client, make_user(session, tenant, Role.SALES_MANAGER, region=Region.EAST))


@pytest.fixture
def sales_a(client: TestClient, session: Session, tenant: Tenant) -> Api:
    return Api(client, make_user(session, tenant, Role.SALES, region=Region.EAST))


@pytest.fixture
def sales_b(client: TestClient, session: Session, tenant: Tenant) -> Api:
    return Api(client, make_user(session, tenant, Role.SALES, region=Region.EAST))


@pytest.fixture
def outsider(client: TestClient, session: Session) -> Api:
    """The admin of another tenant."""
    return Api(client, make_user(session, make_tenant(session), Role.ADMIN))


@pytest.fixture
def finance(client: TestClient, session: Session, tenant: Tenant) -> Api:
    """Finance: sets credit ratings and annual revenue (finance.write)."""
    return Api(client, make_user(session, tenant, Role.FINANCE))
