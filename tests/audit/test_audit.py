"""The audit trail: every write and login leaves an append-only record, personal data masked."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from crm.models import AuditLog, Tenant
from crm.models.enums import Role
from tests.factories import PASSWORD, Api, make_tenant, make_user


def _trail(api: Api, **params: object) -> list[dict]:
    response = api.get("/crm/audit_logs", params={"page_size": 100, **params})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


class TestWritesAreAudited:
    def test_creating_a_customer_records_its_fields_and_its_contacts_masked(self, admin: Api) -> None:
        customer = admin.create_customer(
            customer_name="审计测试公司",
            annual_revenue="100.50",
            contacts=[{"contact_name": "张三", "contact_phone": "13812341234", "contact_email": "zhang@example.com"}],
        )
        created = _trail(admin, action="customer.create", object_id=customer["id"])
        assert len(created) == 1
        changes = created[0]["changes"]
        assert changes["customer_name"] == {"before": None, "after": "审计测试公司"}
        assert changes["annual_revenue"] == {"before": None, "after": "100.50"}
        assert created[0]["actor_id"] == admin.user.id
        contact = _trail(admin, action="contact.create")[0]
        assert contact["changes"]["contact_phone"] == {"before": None, "after": "138****1234"}
        assert contact["changes"]["contact_email"] == {"before": None, "after": "z***@example.com"}

    def test_an_update_records_only_the_changed_fields_with_before_and_after(self, admin: Api) -> None:
        customer = admin.create_customer(industry="制造业", remarks="保留")
        admin.put(f"/crm/customers/{customer['id']}", {"version": 1, "industry": "金融", "remarks": "保留"})
        [entry] = _trail(admin, action="customer.update")
        assert entry["changes"] == {"industry": {"before": "制造业", "after": "金融"}}
        assert (entry["object_type"], entry["object_id"]) == ("customer", customer["id"])

    def test_level_changes_assignments_and_deletes_are_recorded(
        self, admin: Api, session: Session, tenant: Tenant
    ) -> None:
        rep = make_user(session, tenant, Role.SALES)
        customer = admin.create_customer()
        admin.put(f"/crm/customers/{customer['id']}/level", {"level": "A", "reason": "战略客户"})
        admin.put(f"/crm/customers/{customer['id']}/assign_sales", {"assigned_sales_id": rep.id})
        admin.delete(f"/crm/customers/{customer['id']}")
        [level] = _trail(admin, action="customer.level")
        assert level["changes"] == {"customer_level": {"before": "D", "after": "A"}}
        assert level["detail"] == {"reason": "战略客户"}
        [assign] = _trail(admin, action="customer.assign")
        assert assign["changes"] == {"assigned_sales_id": {"before": None, "after": rep.id}}
        assert len(_trail(admin, action="customer.delete", object_id=customer["id"])) == 1

    def test_contact_and_address_changes_are_recorded_masked(self, admin: Api) -> None:
        customer = admin.create_customer(contacts=[{"contact_name": "李四", "contact_phone": "13900001111"}])
        contact = customer["contacts"][0]
        admin.put(f"/crm/contacts/{contact['id']}", {"version": 1, "contact_phone": "13900002222"})
        [entry] = _trail(admin, action="contact.update")
        assert entry["changes"] == {"contact_phone": {"before": "139****1111", "after": "139****2222"}}
        address = admin.post(
            f"/crm/customers/{customer['id']}/addresses",
            {"address_type": "office", "province": "浙江", "city": "杭州市", "detailed_address": "文三路100号5楼"},
        ).json()
        admin.delete(f"/crm/addresses/{address['id']}")
        [deleted] = _trail(admin, action="address.delete")
        assert deleted["changes"]["detailed_address"]["before"] != "文三路100号5楼"
        assert deleted["changes"]["city"] == {"before": "杭州市", "after": None}

    def test_a_failed_write_leaves_no_audit_record(self, admin: Api) -> None:
        admin.create_customer(customer_code="DUP")
        before = len(_trail(admin))
        admin.post("/crm/customers", {"customer_name": "x", "customer_type": "individual", "customer_code": "DUP"})
        assert len(_trail(admin)) == before

    def test_no_personal_data_is_stored_in_clear(self, admin: Api, session: Session) -> None:
        customer = admin.create_customer(
            contacts=[
                {
                    "contact_name": "王五",
                    "contact_phone": "13712345678",
                    "contact_email": "wang@corp.example",
                    "contact_wechat": "wangwu_88",
                    "birthday": "1990-05-06",
                }
            ]
        )
        admin.put(f"/crm/contacts/{customer['contacts'][0]['id']}", {"version": 1, "contact_phone": "13787654321"})
        raw = " ".join(str(row) for row in session.execute(select(AuditLog.changes, AuditLog.detail)).all())
        for secret in ("13712345678", "13787654321", "wang@corp.example", "wangwu_88", "1990-05-06"):
            assert secret not in raw


class TestLogins:
    def test_successful_and_failed_logins_are_recorded_with_request_id_and_ip(
        self, client: TestClient, admin: Api
    ) -> None:
        client.post("/api/v1/auth/login", data={"username": admin.user.username, "password": "wrong-password!"})
        ok = client.post(
            "/api/v1/auth/login",
            data={"username": admin.user.username, "password": PASSWORD},
            headers={"X-Request-ID": "req-42"},
        )
        assert ok.headers["X-Request-ID"] == "req-42"
        [failed] = _trail(admin, action="auth.login_failed")
        assert failed["detail"] == {"username": admin.user.username, "reason": "invalid_credentials"}
        [success] = _trail(admin, action="auth.login")
        assert (success["actor_id"], success["request_id"]) == (admin.user.id, "req-42")
        assert success["ip"]

    def test_a_failed_login_for_an_unknown_user_is_kept_outside_every_tenant(
        self, client: TestClient, admin: Api, session: Session
    ) -> None:
        client.post("/api/v1/auth/login", data={"username": "ghost", "password": "whatever-password"})
        assert _trail(admin, action="auth.login_failed") == []
        rows = session.scalars(select(AuditLog).where(AuditLog.action == "auth.login_failed")).all()
        assert [(r.tenant_id, r.detail) for r in rows] == [
            (None, {"username": "ghost", "reason": "invalid_credentials"})
        ]


class TestReadingTheTrail:
    def test_only_admins_and_analysts_read_it(self, client: TestClient, session: Session, tenant: Tenant) -> None:
        for role, status in [(Role.ADMIN, 200), (Role.ANALYST, 200), (Role.SALES, 403), (Role.SALES_MANAGER, 403)]:
            assert Api(client, make_user(session, tenant, role)).get("/crm/audit_logs").status_code == status

    def test_each_tenant_sees_only_its_own_trail(self, client: TestClient, session: Session, admin: Api) -> None:
        admin.create_customer()
        other = Api(client, make_user(session, make_tenant(session), Role.ADMIN))
        assert _trail(other) == []

    def test_records_cannot_be_changed_or_deleted_through_the_api(self, admin: Api) -> None:
        admin.create_customer()
        entry = _trail(admin)[0]
        assert admin.put(f"/crm/audit_logs/{entry['id']}", {"action": "x"}).status_code in (404, 405)
        assert admin.delete(f"/crm/audit_logs/{entry['id']}").status_code in (404, 405)
        assert admin.delete("/crm/audit_logs").status_code == 405

    def test_the_database_refuses_to_rewrite_a_record(self, admin: Api, session: Session) -> None:
        admin.create_customer()
        # SQLite by its trigger; PostgreSQL by the application's privileges (tests/audit/test_seal.py).
        with pytest.raises(DBAPIError, match=r"cannot be changed|permission denied"), session.begin_nested():
            session.execute(update(AuditLog).values(action="forged"))
        assert session.execute(text("SELECT count(*) FROM audit_logs WHERE action = 'forged'")).scalar() == 0

    def test_a_time_window_narrows_the_trail(self, admin: Api) -> None:
        admin.create_customer()
        assert _trail(admin, since="2999-01-01T00:00:00+08:00") == []
        assert len(_trail(admin, until="2999-01-01T00:00:00+08:00")) == 1
        assert admin.get("/crm/audit_logs", params={"since": "2025-01-01T00:00:00"}).status_code == 422
