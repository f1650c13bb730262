"""Test fixtures: every database test runs on SQLite and on a real PostgreSQL server.

The schema is built once per database by running the Alembic migrations; each test then
runs inside a transaction that is rolled back at the end, so tests never see each other.

`make test` runs the suite in pytest-xdist worker processes (`-n`, `--dist loadgroup`). Every
session fixture then exists once per worker: each worker starts its own PostgreSQL cluster and
Redis server on free ports (or, given CRM_TEST_POSTGRES_URL / CRM_TEST_REDIS_URL, uses a database
and a Redis db of its own there), and its own temporary and var/ directories. Tests that share an
expensive server (the browser tests, the API processes under load) are kept on one worker by an
`xdist_group`.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, create_engine, delete, select
from sqlalchemy.orm import Session, sessionmaker

from crm.app import create_app
from crm.auth import actors, passwords, tokens
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
# Set by pytest-xdist in its worker processes ("gw0", "gw1", …); absent in a plain run.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
# Test modules whose expensive fixtures (a live server, a browser, an API process) are set up once
# and shared by all their tests: under xdist their tests stay together on one worker.
SHARED_SERVER_FIXTURES = {"server": "e2e", "small_server": "api-process"}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgresql_only: a PostgreSQL property (query plans, locking)")
    config.addinivalue_line("markers", "xdist_group(name): tests kept on one pytest-xdist worker")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run postgresql_only tests on PostgreSQL alone: deselected, not skipped, elsewhere."""
    keep, drop = [], []
    for item in items:
        for fixture, group in SHARED_SERVER_FIXTURES.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(pytest.mark.xdist_group(group))
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


@pytest.fixture(scope="session", autouse=True)
def var_directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The installation's var/ (signing key, key file, job lock) is the test process's own, never the
    working tree's: parallel workers would otherwise race to create the same files there."""
    previous = settings.var_dir
    settings.var_dir = tmp_path_factory.mktemp("var")
    yield settings.var_dir
    settings.var_dir = previous


@pytest.fixture(scope="session", autouse=True)
def quick_password_hashing() -> Iterator[PasswordHasher]:
    """Test users' passwords are hashed and checked with argon2's cheapest parameters: at the
    production cost each sign-in of the suite spends a fifth of a second in argon2. Yields the
    production hasher, whose parameters tests/auth/test_passwords.py checks."""
    production, dummy = passwords._hasher, passwords._DUMMY_HASH
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    passwords._DUMMY_HASH = passwords._hasher.hash("crm-dummy-password-for-timing")
    yield production
    passwords._hasher, passwords._DUMMY_HASH = production, dummy


@pytest.fixture(autouse=True)
def fresh_rate_limits() -> None:
    """Counters and cached actors start empty in each test: ids repeat across rolled-back tests."""
    limiter_for.cache_clear()
    actors.cache().clear()
    tokens._verified.cache_clear()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    given = os.environ.get("CRM_TEST_POSTGRES_URL")
    if given and WORKER:
        # One server for several workers: each worker gets a database of its own on it.
        with _own_database(given, f"crm_test_{WORKER}") as url:
            yield url
        return
    if given:
        yield given
        return
    with postgres_server() as url:
        yield url


@contextlib.contextmanager
def _own_database(server_url: str, name: str) -> Iterator[str]:
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
        yield admin.url.set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    given = os.environ.get("CRM_TEST_REDIS_URL")
    if given:
        # Tests flush their Redis db: on a shared server each worker uses its own db number.
        yield urlsplit(given)._replace(path=f"/{int(WORKER[2:])}").geturl() if WORKER else given
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
        # Roles belong to the server: workers sharing one may create it at the same moment.
        conn.exec_driver_sql(
            f"DO $$ BEGIN CREATE ROLE {APPLICATION_ROLE} LOGIN; "
            "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
        )
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
