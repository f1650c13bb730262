"""Administering users: admin only, audited, and what roles, regions and teams let people see."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.kit.regions import Region
from crm.models import AuditLog, Tenant
from crm.models.enums import Role
from tests.factories import PASSWORD, Api, make_user


class TestUsers:
    def test_an_admin_creates_a_user_who_can_then_sign_in(self, admin: Api, session: Session) -> None:
        body = {
            "username": "zhou.min",
            "display_name": "周敏",
            "password": "a-long-password-2026",
            "role": "sales_manager",
            "region": "华南",
            "extra_regions": ["西南"],
        }
        response = admin.post("/crm/users", body)
        assert response.status_code == 201, response.text
        created = response.json()
        assert (created["display_name"], created["extra_regions"], created["is_active"]) == ("周敏", ["西南"], True)
        login = admin.client.post(
            "/api/v1/auth/login", data={"username": "zhou.min", "password": "a-long-password-2026"}
        )
        me = admin.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"})
        assert me.json()["extra_regions"] == ["西南"]
        [entry] = session.scalars(select(AuditLog).where(AuditLog.action == "user.create")).all()
        assert entry.changes is not None
        assert "password" not in entry.changes
        assert entry.changes["role"]["after"] == "sales_manager"

    def test_an_admin_creates_a_finance_user_and_can_give_an_existing_user_that_role(
        self, admin: Api, sales_a: Api, session: Session
    ) -> None:
        body = {"username": "cai.wu", "display_name": "财务小王", "password": "a-long-password-2026", "role": "finance"}
        response = admin.post("/crm/users", body)
        assert response.status_code == 201, response.text
        login = admin.client.post("/api/v1/auth/login", data={"username": "cai.wu", "password": body["password"]})
        me = admin.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"})
        assert (me.json()["role"], me.json()["data_scope"]) == ("finance", "tenant")
        assert {"finance.read", "finance.write", "customer.read"} <= set(me.json()["permissions"])
        changed = admin.put(f"/crm/users/{sales_a.user.id}", {"role": "finance"})
        assert (changed.status_code, changed.json()["role"]) == (200, "finance")

    @pytest.mark.parametrize(
        ("change", "field"),
        [({"password": "short"}, "password"), ({"role": "overlord"}, "role"), ({"region": "火星"}, "region")],
    )
    def test_bad_input_names_the_field(self, admin: Api, change: dict, field: str) -> None:
        body = {"username": "u1", "password": "a-long-password-2026", "role": "sales", **change}
        response = admin.post("/crm/users", body)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == field

    def test_a_duplicate_user_name_is_a_conflict(self, admin: Api, sales_a: Api) -> None:
        body = {"username": sales_a.user.username, "password": "a-long-password-2026", "role": "sales"}
        assert admin.post("/crm/users", body).status_code == 409

    def test_a_user_name_another_tenant_uses_is_free_in_this_one(self, admin: Api, outsider: Api) -> None:
        body = {"username": admin.user.username, "password": "a-long-password-2026", "role": "sales"}
        response = outsider.post("/crm/users", body)
        assert response.status_code == 201, response.text
        assert response.json()["username"] == admin.user.username

    def test_a_manager_needs_a_region(self, admin: Api) -> None:
        body = {"username": "m1", "password": "a-long-password-2026", "role": "service_manager"}
        response = admin.post("/crm/users", body)
        assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "region")

    def test_disabling_a_user_ends_their_session_and_is_audited(
        self, admin: Api, sales_a: Api, session: Session
    ) -> None:
        headers = sales_a.headers
        response = admin.put(f"/crm/users/{sales_a.user.id}", {"is_active": False, "password": "a-new-password-2026"})
        assert response.json()["is_active"] is False
        refused = sales_a.client.get("/api/v1/auth/me", headers=headers)
        assert (refused.status_code, refused.json()["code"]) == (401, "user_inactive")
        [entry] = session.scalars(select(AuditLog).where(AuditLog.action == "user.update")).all()
        assert entry.changes == {
            "is_active": {"before": True, "after": False},
            "password": {"before": "****", "after": "****"},
        }

    def test_an_admin_cannot_lock_themselves_out(self, admin: Api) -> None:
        for change in ({"is_active": False}, {"role": "sales"}):
            response = admin.put(f"/crm/users/{admin.user.id}", change)
            assert (response.status_code, response.json()["code"]) == (409, "own_account")

    def test_users_of_another_tenant_are_not_found(self, admin: Api, outsider: Api) -> None:
        assert admin.put(f"/crm/users/{outsider.user.id}", {"display_name": "x"}).status_code == 404
        names = {u["username"] for u in admin.get("/crm/users", params={"page_size": 100}).json()["items"]}
        assert outsider.user.username not in names

    def test_only_admins_manage_users(self, manager_east: Api, sales_a: Api) -> None:
        assert manager_east.get("/crm/users").status_code == 403
        assert manager_east.post("/crm/users", {}).status_code == 403
        assert manager_east.put(f"/crm/users/{sales_a.user.id}", {"display_name": "x"}).status_code == 403

    def test_managers_list_the_people_customers_can_be_assigned_to(
        self, manager_east: Api, sales_a: Api, admin: Api
    ) -> None:
        owners = manager_east.get("/crm/users/sales_owners").json()
        assert {o["id"] for o in owners} >= {sales_a.user.id, manager_east.user.id}
        assert admin.user.id not in {o["id"] for o in owners}
        assert sales_a.get("/crm/users/sales_owners").status_code == 403


class TestScopes:
    def test_extra_regions_widen_a_managers_view(
        self, admin: Api, manager_east: Api, session: Session, tenant: Tenant
    ) -> None:
        south = admin.create_customer(customer_name="广州客户", province="广东")
        assert manager_east.get(f"/crm/customers/{south['id']}").status_code == 404
        admin.put(f"/crm/users/{manager_east.user.id}", {"extra_regions": ["华南"]})
        assert manager_east.get(f"/crm/customers/{south['id']}").status_code == 200

    def test_a_service_manager_with_a_team_sees_what_the_team_serves(
        self, admin: Api, session: Session, tenant: Tenant
    ) -> None:
        lead = make_user(session, tenant, Role.SERVICE_MANAGER, region=Region.EAST)
        member = make_user(session, tenant, Role.SERVICE_AGENT)
        outsider = make_user(session, tenant, Role.SERVICE_AGENT)
        for user in (lead, member):
            user.team = "客服一组"
        session.commit()
        served = admin.create_customer(customer_name="一组服务的客户", province="广东", assigned_service_id=member.id)
        other = admin.create_customer(customer_name="别组的华东客户", province="江苏", assigned_service_id=outsider.id)
        manager = Api(admin.client, lead)
        assert manager.get("/auth/me").json()["data_scope"] == "team"
        assert manager.get(f"/crm/customers/{served['id']}").status_code == 200
        assert manager.get(f"/crm/customers/{other['id']}").status_code == 404
        listed = [c["id"] for c in manager.get("/crm/customers").json()["items"]]
        assert listed == [served["id"]]


def _sign_in(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post("/api/v1/auth/login", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _me(client: TestClient, headers: dict[str, str]) -> tuple[int, str | None]:
    response = client.get("/api/v1/auth/me", headers=headers)
    return response.status_code, response.json().get("code")


class TestChangesThatEndSessions:
    def test_a_password_reset_by_an_admin_ends_the_users_sessions_at_once(
        self, admin: Api, session: Session, tenant: Tenant
    ) -> None:
        user = make_user(session, tenant, Role.SALES, username="reset.me")
        old = _sign_in(admin.client, "reset.me")
        assert admin.put(f"/crm/users/{user.id}", {"password": "a-new-password-2026"}).status_code == 200
        assert _me(admin.client, old) == (401, "token_revoked")
        # Signed in again within the same second as the change: the new token works.
        fresh = _sign_in(admin.client, "reset.me", "a-new-password-2026")
        assert _me(admin.client, fresh) == (200, None)

    def test_an_admin_changing_their_own_password_ends_their_own_sessions(self, admin: Api) -> None:
        old = _sign_in(admin.client, admin.user.username)
        assert admin.put(f"/crm/users/{admin.user.id}", {"password": "a-new-password-2026"}).status_code == 200
        assert _me(admin.client, old) == (401, "token_revoked")

    def test_a_role_change_ends_the_users_sessions(self, admin: Api, session: Session, tenant: Tenant) -> None:
        user = make_user(session, tenant, Role.SALES_MANAGER, username="demoted")
        old = _sign_in(admin.client, "demoted")
        assert admin.put(f"/crm/users/{user.id}", {"role": "sales"}).status_code == 200
        assert _me(admin.client, old) == (401, "token_revoked")
        assert _me(admin.client, _sign_in(admin.client, "demoted")) == (200, None)

    def test_enabling_a_disabled_user_again_does_not_revive_their_old_tokens(
        self, admin: Api, session: Session, tenant: Tenant
    ) -> None:
        user = make_user(session, tenant, Role.SALES, username="on.off")
        old = _sign_in(admin.client, "on.off")
        admin.put(f"/crm/users/{user.id}", {"is_active": False})
        admin.put(f"/crm/users/{user.id}", {"is_active": True})
        assert _me(admin.client, old) == (401, "token_revoked")

    def test_other_edits_leave_the_users_sessions_alone(self, admin: Api, session: Session, tenant: Tenant) -> None:
        user = make_user(session, tenant, Role.SALES_MANAGER, username="renamed")
        old = _sign_in(admin.client, "renamed")
        change = {"display_name": "新名字", "extra_regions": ["华南"], "team": "一组", "region": "华北"}
        assert admin.put(f"/crm/users/{user.id}", change).status_code == 200
        assert _me(admin.client, old) == (200, None)

    def test_the_revocation_is_audited_with_its_reasons(self, admin: Api, session: Session, tenant: Tenant) -> None:
        user = make_user(session, tenant, Role.SALES_MANAGER)
        admin.put(f"/crm/users/{user.id}", {"password": "a-new-password-2026", "role": "sales"})
        [entry] = session.scalars(select(AuditLog).where(AuditLog.action == "user.tokens_revoked")).all()
        assert (entry.actor_id, entry.object_id) == (admin.user.id, user.id)
        assert entry.detail == {"reasons": ["password_changed", "role_changed"]}
