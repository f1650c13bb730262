"""The one migration chain builds the schema the models describe, on both databases."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, MetaData, create_engine, insert, select
from sqlalchemy.orm import Session

from crm.kit.crypto import phone_index
from crm.kit.db import make_engine
from crm.kit.migrate import alembic_config, head_revision, is_up_to_date, upgrade
from crm.kit.search import email_token, index_tokens, last4_token, phone_token
from crm.kit.types import JSONType, TokenList
from crm.models import Base, CustomerAddress, CustomerContact, CustomerSearch, Tenant
from crm.tenants.service import settings_of


def test_the_test_database_is_at_the_head_revision(engine: Engine) -> None:
    assert head_revision() is not None
    assert is_up_to_date(engine)


def test_the_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = [
            d
            for d in compare_metadata(context, Base.metadata)
            # The GIN indexes exist on PostgreSQL only, created by the migration by hand.
            if not (d[0] == "remove_index" and d[1].name in {"ix_customer_search_tokens", "ix_customers_tags"})
        ]
    assert differences == []


@pytest.fixture
def blank_url(engine: Engine, tmp_path: Path) -> Iterator[str]:
    """An empty database of the test's kind, for migrating from an earlier revision."""
    if engine.dialect.name == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    name = f"crm_migration_{secrets.token_hex(4)}"
    admin = create_engine(engine.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    yield engine.url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE {name} WITH (FORCE)")
    admin.dispose()


class TestEncryptionMigration:
    """0005 encrypts the personal data an earlier installation stored in clear."""

    def test_clear_values_of_an_earlier_version_become_encrypted_and_stay_findable(self, blank_url: str) -> None:
        command.upgrade(alembic_config(blank_url), "0004")
        old = make_engine(blank_url)
        now = datetime.now(UTC)
        stamps = {"created_at": now, "updated_at": now}
        tables = MetaData()
        tables.reflect(old)
        tables.tables["customers"].c.search_tokens.type = TokenList()  # text[] or a delimited string
        with old.begin() as conn:
            tenant = conn.execute(
                insert(tables.tables["tenants"]).values(
                    code="old", name="旧租户", timezone="Asia/Shanghai", is_active=True, **stamps
                )
            ).inserted_primary_key[0]
            user = conn.execute(
                insert(tables.tables["users"]).values(
                    tenant_id=tenant,
                    username="u",
                    display_name="用户",
                    password_hash="x",
                    role="admin",
                    is_active=True,
                    **stamps,
                )
            ).inserted_primary_key[0]
            customer = conn.execute(
                insert(tables.tables["customers"]).values(
                    tenant_id=tenant,
                    customer_code="C1",
                    customer_name="老客户有限公司",
                    customer_type="enterprise",
                    customer_level="C",
                    customer_status="active",
                    tags=[],
                    created_by=user,
                    version=1,
                    search_tokens=index_tokens(["老客户有限公司", "C1", "13911112222", "old@example.com"]),
                    search_text="老客户有限公司 | c1 | 13911112222 | old@example.com",
                    **stamps,
                )
            ).inserted_primary_key[0]
            conn.execute(
                insert(tables.tables["customer_contacts"]).values(
                    tenant_id=tenant,
                    customer_id=customer,
                    contact_name="赵六",
                    contact_phone="13911112222",
                    contact_email="old@example.com",
                    birthday=date(1980, 1, 2),
                    is_primary=True,
                    is_decision_maker=False,
                    contact_status="active",
                    version=1,
                    **stamps,
                )
            )
            conn.execute(
                insert(tables.tables["customer_addresses"]).values(
                    tenant_id=tenant,
                    customer_id=customer,
                    address_type="office",
                    province="北京市",
                    city="北京市",
                    detailed_address="朝阳区建国路88号",
                    is_default=True,
                    version=1,
                    **stamps,
                )
            )
        old.dispose()

        upgrade(blank_url)

        new = make_engine(blank_url)
        with new.connect() as conn:
            raw = "\\n".join(
                repr(tuple(row))
                for table in ("customers", "customer_search", "customer_contacts", "customer_addresses")
                for row in conn.exec_driver_sql(f"SELECT * FROM {table}")  # noqa: S608 - fixed names
            )
            for needle in ("13911112222", "old@example.com", "1980-01-02", "建国路"):
                assert needle not in raw, needle
            with Session(conn) as session:
                contact = session.scalars(select(CustomerContact)).one()
                assert (contact.contact_phone, contact.contact_email) == ("13911112222", "old@example.com")
                assert contact.birthday == date(1980, 1, 2)
                assert contact.phone_index == phone_index("13911112222")
                assert session.scalars(select(CustomerAddress.detailed_address)).one() == "朝阳区建国路88号"
                # 0024 then moved the tokens to their own table.
                tokens = set(session.scalars(select(CustomerSearch.search_tokens)).one())
                assert {phone_token("13911112222"), last4_token("2222"), email_token("old@example.com")} <= tokens
                assert "1391111" not in tokens
                assert "老客" in tokens
        new.dispose()


class TestCalendarDaysMigration:
    """0026 drops stored holidays and workdays outside the supported years, which the settings
    schema now refuses, so that the tenant's settings stay readable."""

    def test_days_outside_the_supported_years_are_dropped_and_the_others_kept(self, blank_url: str) -> None:
        command.upgrade(alembic_config(blank_url), "0024")
        old = make_engine(blank_url)
        now = datetime.now(UTC)
        tables = MetaData()
        tables.reflect(old, only=["tenants"])
        tenants = tables.tables["tenants"]
        tenants.c.settings.type = JSONType
        calendar = {"holidays": ["0001-01-01", "2026-10-01", "9999-12-31"], "workdays": ["2026-09-28"]}
        with old.begin() as conn:
            for code, settings in (("odd", {"service_calendar": calendar, "brand_name": "旧品牌"}), ("plain", {})):
                conn.execute(
                    insert(tenants).values(
                        code=code,
                        name=code,
                        timezone="Asia/Shanghai",
                        is_active=True,
                        settings=settings,
                        created_at=now,
                        updated_at=now,
                    )
                )
        old.dispose()

        upgrade(blank_url)

        new = make_engine(blank_url)
        with Session(new) as session:
            stored = dict(session.execute(select(Tenant.code, Tenant.settings)).all())
            readable = settings_of(session.scalars(select(Tenant).where(Tenant.code == "odd")).one())
        new.dispose()
        assert stored["odd"] == {
            "service_calendar": {"holidays": ["2026-10-01"], "workdays": ["2026-09-28"]},
            "brand_name": "旧品牌",
        }
        assert stored["plain"] == {}
        assert readable.service_calendar.holidays == [date(2026, 10, 1)]
