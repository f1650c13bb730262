"""The one migration chain builds the schema the models describe, on both databases."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, MetaData, create_engine, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm.audit import service as audit
from crm.kit.crypto import phone_index
from crm.kit.db import make_engine, make_session_factory
from crm.kit.migrate import alembic_config, head_revision, is_up_to_date, upgrade
from crm.kit.search import email_token, index_tokens, last4_token, phone_token, search_text
from crm.kit.types import JSONType, TokenList
from crm.models import AuditLog, Base, Customer, CustomerAddress, CustomerContact, CustomerSearch, Tenant, User
from crm.models.enums import CustomerType, Role
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
def blank_url(owner_engine: Engine, tmp_path: Path) -> Iterator[str]:
    if owner_engine.dialect.name == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    name = f"crm_migration_{secrets.token_hex(4)}"
    admin = create_engine(owner_engine.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    yield owner_engine.url.set(database=name).render_as_string(hide_password=False)
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


class TestSealingMigration:
    """0030 seals the audit records written before the trail was sealed, in the order they were written."""

    BEFORE = "0030-1"

    def test_existing_records_are_numbered_and_sealed_and_verify(self, blank_url: str) -> None:
        command.upgrade(alembic_config(blank_url), self.BEFORE)
        old = make_engine(blank_url)
        now = datetime.now(UTC)
        tables = MetaData()
        tables.reflect(old)
        audit_logs = tables.tables["audit_logs"]
        with old.begin() as conn:
            tenant = conn.execute(
                insert(tables.tables["tenants"]).values(
                    code="old", name="旧租户", timezone="Asia/Shanghai", is_active=True, created_at=now, updated_at=now
                )
            ).inserted_primary_key[0]
            for n, amount in enumerate((1e16, 2.5, 3)):
                conn.execute(
                    insert(audit_logs).values(
                        tenant_id=tenant, action="customer.update", object_type="customer", object_id=n,
                        changes={"remarks": {"before": None, "after": f"第{n}条"}}, detail={"amount": amount},
                        created_at=now + timedelta(seconds=n),
                    )
                )  # fmt: skip
            failed = {"action": "auth.login_failed", "detail": {"username": "x"}, "created_at": now}
            conn.execute(insert(audit_logs).values(**failed))
        old.dispose()

        upgrade(blank_url)

        new = make_engine(blank_url)
        with make_session_factory(new)() as session:
            rows = session.scalars(select(AuditLog).where(AuditLog.tenant_id == tenant).order_by(AuditLog.id)).all()
            assert [r.seq for r in rows] == [1, 2, 3]
            assert audit.verify(session, tenant).problems == []
            assert audit.verify(session, None).problems == []
            audit.record(session, "customer.export", actor=None, tenant_id=tenant, detail={"rows": 1})
            session.commit()
            assert audit.verify(session, tenant).records == 4
            assert audit.verify(session, tenant).problems == []
        new.dispose()


class TestSearchBeyondTheBmpMigration:
    """0027 gives rows whose text holds an ideograph beyond the BMP the tokens search now asks for."""

    @staticmethod
    def _tokens(name: str, code: str) -> list[str]:
        return index_tokens([name, code], exact=[code], name=name)

    @staticmethod
    def _earlier(tokens: list[str]) -> list[str]:
        """What the tokeniser gave before: nothing from the text around those characters."""
        beyond = re.compile("[\U00020000-\U0003ffff]")
        return [t for t in tokens if t[0] in "^=#" or not beyond.search(t)]

    def test_rows_with_such_characters_gain_their_tokens_and_other_rows_stay_as_they_are(self, blank_url: str) -> None:
        command.upgrade(alembic_config(blank_url), "0027-1")
        old = make_engine(blank_url)
        rows = {"C1": "𠀀𪚥贸易有限公司", "C2": "普通贸易公司"}
        with Session(old) as session:
            tenant = Tenant(code="old", name="旧租户", timezone="Asia/Shanghai")
            session.add(tenant)
            session.flush()
            user = User(tenant_id=tenant.id, username="u", display_name="用户", password_hash="x", role=Role.ADMIN)
            session.add(user)
            session.flush()
            for code, name in rows.items():
                customer = Customer(
                    tenant_id=tenant.id,
                    customer_code=code,
                    customer_name=name,
                    customer_type=CustomerType.ENTERPRISE,
                    created_by=user.id,
                )
                session.add(customer)
                session.flush()
                tokens = self._earlier(self._tokens(name, code))
                session.add(
                    CustomerSearch(customer_id=customer.id, search_tokens=tokens, search_text=search_text([name, code]))
                )
            session.commit()
            assert "𪚥" not in session.scalars(select(CustomerSearch.search_tokens)).first()  # the state before
        old.dispose()

        upgrade(blank_url)

        new = make_engine(blank_url)
        with Session(new) as session:
            joined = select(Customer.customer_code, CustomerSearch.search_tokens).join(
                CustomerSearch, CustomerSearch.customer_id == Customer.id
            )
            stored: dict[str, list[str]] = dict(session.execute(joined).all())
        new.dispose()
        assert sorted(stored["C1"]) == self._tokens(rows["C1"], "C1")
        assert {"𪚥", "𠀀𪚥", "𪚥贸"} <= set(stored["C1"])
        assert sorted(stored["C2"]) == self._tokens(rows["C2"], "C2")


class TestUserNamesPerTenantMigration:
    """0025 makes user names unique per tenant in a database whose users other rows refer to."""

    def test_users_keep_their_rows_and_another_tenant_may_then_use_the_same_name(self, blank_url: str) -> None:
        command.upgrade(alembic_config(blank_url), "0024")
        old = make_engine(blank_url)
        now = datetime.now(UTC)
        stamps = {"created_at": now, "updated_at": now}
        tables = MetaData()
        tables.reflect(old)
        tenants, users = tables.tables["tenants"], tables.tables["users"]
        user_row = {"username": "zhang.wei", "display_name": "张伟", "password_hash": "x", "role": "admin"}
        with old.begin() as conn:
            first, second = (
                conn.execute(
                    insert(tenants).values(code=code, name=code, timezone="Asia/Shanghai", is_active=True, **stamps)
                ).inserted_primary_key[0]
                for code in ("first", "second")
            )
            user = conn.execute(
                insert(users).values(tenant_id=first, is_active=True, **user_row, **stamps)
            ).inserted_primary_key[0]
            conn.execute(
                insert(tables.tables["audit_logs"]).values(
                    tenant_id=first, actor_id=user, action="user.create", created_at=now
                )
            )
        old.dispose()

        upgrade(blank_url)

        new = make_engine(blank_url)
        tables = MetaData()
        tables.reflect(new)
        users = tables.tables["users"]
        with new.begin() as conn:
            assert conn.execute(select(users.c.id, users.c.token_generation)).all() == [(user, 0)]
            assert conn.execute(select(tables.tables["audit_logs"].c.actor_id)).scalar_one() == user
            conn.execute(insert(users).values(tenant_id=second, is_active=True, **user_row, **stamps))
        with new.begin() as conn, pytest.raises(IntegrityError):
            conn.execute(insert(users).values(tenant_id=first, is_active=True, **user_row, **stamps))
        new.dispose()


class TestCalendarDaysMigration:
    """0026 drops stored holidays and workdays outside the supported years, which the settings
    schema now refuses, so that the tenant's settings stay readable."""

    def test_days_outside_the_supported_years_are_dropped_and_the_others_kept(self, blank_url: str) -> None:
        command.upgrade(alembic_config(blank_url), "0026-1")
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
