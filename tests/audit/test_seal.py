"""The sealed audit trail: each tenant's records numbered and chained by HMAC seals, the application's
database user unable to alter them, and `crm audit verify` finding what was changed around it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from crm.audit import service as audit
from crm.auth.accounts import actor_for
from crm.cli import app as cli
from crm.config import settings
from crm.kit.db import unit_of_work
from crm.kit.migrate import owns_audit_trail
from crm.models import AuditLog
from crm.models.enums import Role
from tests.factories import Api, make_tenant, make_user


def _trail(session: Session, tenant_id: int) -> list[AuditLog]:
    return list(session.scalars(select(AuditLog).where(AuditLog.tenant_id == tenant_id).order_by(AuditLog.id)))


def _problems(session: Session, tenant_id: int) -> list[str]:
    return audit.verify(session, tenant_id).problems


class TestSealing:
    def test_each_tenant_numbers_its_records_in_order_and_the_chain_verifies(
        self, admin: Api, outsider: Api, session: Session
    ) -> None:
        for n in range(3):
            admin.create_customer(customer_name=f"封存测试{n}")
        outsider.create_customer()
        mine = _trail(session, admin.user.tenant_id)
        assert [e.seq for e in mine] == list(range(1, len(mine) + 1))
        assert len(mine) >= 3
        assert all(e.seal and e.body_hash for e in mine)
        assert [e.seq for e in _trail(session, outsider.user.tenant_id)] == [1]
        assert _problems(session, admin.user.tenant_id) == []

    def test_concurrent_writers_extend_one_chain_without_gaps_or_forks(self, committed: sessionmaker[Session]) -> None:
        with committed() as session:
            tenant = make_tenant(session)
            actor = actor_for(make_user(session, tenant, Role.ADMIN))
        barrier = threading.Barrier(8)

        def write(n: int) -> None:
            barrier.wait()
            for s in unit_of_work(committed):
                audit.record(s, "customer.export", actor=actor, detail={"rows": n})
                audit.record(s, "customer.export", actor=actor, detail={"rows": n + 100})

        threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        with committed() as session:
            assert [e.seq for e in _trail(session, tenant.id)] == list(range(1, 17))
            assert _problems(session, tenant.id) == []

    def test_an_erasure_redacts_records_and_the_chain_still_verifies(self, admin: Api, session: Session) -> None:
        customer = admin.create_customer(customer_name="欧阳封存", remarks="欧阳封存喜欢电话")
        admin.put(f"/crm/customers/{customer['id']}", {"version": 1, "remarks": "欧阳封存改了备注"})
        assert admin.post(f"/crm/privacy/customers/{customer['id']}/erase", {}).status_code == 200
        session.expire_all()
        trail = _trail(session, admin.user.tenant_id)
        assert any(e.redacted_at is not None for e in trail)
        assert _problems(session, admin.user.tenant_id) == []


@pytest.fixture
def sealed_tenant(committed: sessionmaker[Session]) -> tuple[int, str]:
    """A tenant with five committed audit records; yields its id and code."""
    with committed() as session:
        tenant = make_tenant(session)
        actor = actor_for(make_user(session, tenant, Role.ADMIN))
    for n in range(5):
        for s in unit_of_work(committed):
            audit.record(s, "customer.update", actor=actor, object_type="customer", object_id=n + 1,
                         changes={"remarks": {"before": None, "after": f"备注{n}"}})  # fmt: skip
    return tenant.id, tenant.code


@contextmanager
def _trigger_off(conn: Connection) -> Iterator[None]:
    """What the owner (or whoever holds the SQLite file) can do: switch the UPDATE trigger off."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_no_update")
        yield
        conn.exec_driver_sql("ALTER TABLE audit_logs ENABLE TRIGGER audit_logs_no_update")
        return
    ddl = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'audit_logs_no_update'").scalar_one()
    conn.exec_driver_sql("DROP TRIGGER audit_logs_no_update")
    yield
    conn.exec_driver_sql(ddl)


@pytest.fixture
def as_owner(owner_engine: Engine) -> Iterator[Connection]:
    """A transaction of the tables' owner with the UPDATE trigger off (rolled back afterwards)."""
    with owner_engine.connect() as conn:
        outer = conn.begin()
        with _trigger_off(conn):
            yield conn
        outer.rollback()


class TestVerifyingFindsChangesMadeAroundTheApplication:
    def test_an_altered_record_is_reported(self, sealed_tenant: tuple[int, str], as_owner: Connection) -> None:
        tenant_id, _ = sealed_tenant
        as_owner.execute(
            text("UPDATE audit_logs SET actor_name = 'someone' WHERE tenant_id = :t AND seq = 3"), {"t": tenant_id}
        )
        with Session(bind=as_owner) as session:
            problems = _problems(session, tenant_id)
        assert len(problems) == 1
        assert "seq 3" in problems[0]
        assert "altered" in problems[0]

    def test_an_altered_body_is_reported(self, sealed_tenant: tuple[int, str], as_owner: Connection) -> None:
        tenant_id, _ = sealed_tenant
        forged = '{"remarks": {"before": null, "after": "伪造"}}'
        as_owner.execute(
            text("UPDATE audit_logs SET changes = :c WHERE tenant_id = :t AND seq = 2"), {"t": tenant_id, "c": forged}
        )
        with Session(bind=as_owner) as session:
            problems = _problems(session, tenant_id)
        assert problems == [problems[0]]
        assert "seq 2" in problems[0]

    def test_a_deleted_record_is_reported_as_a_gap(self, sealed_tenant: tuple[int, str], as_owner: Connection) -> None:
        tenant_id, _ = sealed_tenant
        as_owner.execute(text("DELETE FROM audit_logs WHERE tenant_id = :t AND seq = 4"), {"t": tenant_id})
        with Session(bind=as_owner) as session:
            problems = _problems(session, tenant_id)
        assert len(problems) == 1
        assert "4 missing" in problems[0]

    def test_the_command_reports_an_intact_trail_and_fails_on_a_change(
        self, sealed_tenant: tuple[int, str], owner_engine: Engine, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        tenant_id, code = sealed_tenant
        monkeypatch.setattr(settings, "database_url", owner_engine.url.render_as_string(hide_password=False))
        intact = CliRunner().invoke(cli, ["audit", "verify", "--tenant", code])
        assert intact.exit_code == 0, intact.output
        assert "5 records" in intact.output
        assert "intact" in intact.output
        with owner_engine.begin() as conn, _trigger_off(conn):
            conn.execute(text("UPDATE audit_logs SET action = 'auth.login' WHERE tenant_id = :t AND seq = 1"),
                         {"t": tenant_id})  # fmt: skip
        tampered = CliRunner().invoke(cli, ["audit", "verify", "--tenant", code])
        assert tampered.exit_code == 1
        assert "seq 1" in tampered.output

    def test_an_unknown_tenant_is_an_error(self) -> None:
        result = CliRunner().invoke(cli, ["audit", "verify", "--tenant", "no-such-tenant"])
        assert result.exit_code == 1


@pytest.mark.postgresql_only
class TestTheApplicationsDatabaseUser:
    """What `crm db upgrade` grants the application: of the audit trail, reading and appending."""

    @pytest.mark.parametrize(
        "statement",
        [
            "DELETE FROM audit_logs",
            "TRUNCATE audit_logs",
            "UPDATE audit_logs SET action = 'forged'",
            "ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_no_update",
            "ALTER TABLE audit_logs DROP COLUMN seal",
            "DROP TRIGGER audit_logs_no_update ON audit_logs",
        ],
    )
    def test_cannot_delete_truncate_update_or_alter_the_trail(
        self, admin: Api, connection: Connection, statement: str
    ) -> None:
        admin.create_customer()
        nested = connection.begin_nested()
        with pytest.raises(DBAPIError, match=r"permission denied|must be owner"):
            connection.exec_driver_sql(statement)
        nested.rollback()
        assert connection.execute(text("SELECT count(*) FROM audit_logs")).scalar_one() > 0

    def test_can_redact_only_by_blanking_values_in_place(self, admin: Api, connection: Connection) -> None:
        admin.create_customer(remarks="张三丰喜欢电话")
        entry = connection.execute(
            text("SELECT id, changes FROM audit_logs WHERE action = 'customer.create' ORDER BY id DESC LIMIT 1")
        ).one()
        forged = {**entry.changes, "remarks": {"before": None, "after": "客户同意删除全部记录"}}
        added = {**entry.changes, "note": "新增内容"}
        for changes in (forged, added):
            nested = connection.begin_nested()
            with pytest.raises(DBAPIError, match="cannot be changed"):
                connection.execute(
                    text("SELECT crm_redact_audit_log(:id, CAST(:c AS jsonb), NULL)"),
                    {"id": entry.id, "c": json.dumps(changes, ensure_ascii=False)},
                )
            nested.rollback()
        blanked = {**entry.changes, "remarks": {"before": None, "after": "［已删除］"}}
        connection.execute(
            text("SELECT crm_redact_audit_log(:id, CAST(:c AS jsonb), 'null')"),
            {"id": entry.id, "c": json.dumps(blanked, ensure_ascii=False)},
        )
        assert (
            connection.execute(
                text("SELECT changes -> 'remarks' ->> 'after' FROM audit_logs WHERE id = :id"), {"id": entry.id}
            ).scalar_one()
            == "［已删除］"
        )

    def test_the_owner_cannot_forge_a_redaction_either(
        self, sealed_tenant: tuple[int, str], owner_engine: Engine
    ) -> None:
        tenant_id, _ = sealed_tenant
        with owner_engine.connect() as conn, pytest.raises(DBAPIError, match="cannot be changed"):
            conn.execute(
                text("UPDATE audit_logs SET action = 'x', redacted_at = now() WHERE tenant_id = :t AND seq = 1"),
                {"t": tenant_id},
            )

    def test_the_application_does_not_own_the_trail(self, engine: Engine, owner_engine: Engine) -> None:
        assert not owns_audit_trail(engine)
        assert owns_audit_trail(owner_engine)
