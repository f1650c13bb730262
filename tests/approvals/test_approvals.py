"""Sensitive operations asked by sales, service and marketing roles wait for a manager."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.kit.regions import Region
from crm.models import AuditLog, Tenant
from crm.models.enums import Role
from tests.factories import Api, make_user


class TestDeleteRequests:
    def test_a_delete_waits_then_runs_exactly_once_on_approval(
        self, sales_a: Api, manager_east: Api, session: Session
    ) -> None:
        customer = sales_a.create_customer(province="江苏")
        asked = sales_a.delete(f"/crm/customers/{customer['id']}")
        assert asked.status_code == 202
        approval = asked.json()
        assert sales_a.get(f"/crm/customers/{customer['id']}").status_code == 200  # nothing happened yet
        listed = manager_east.get("/crm/approvals", params={"status": "pending"}).json()
        assert [a["id"] for a in listed["items"]] == [approval["id"]]
        decided = manager_east.post(f"/crm/approvals/{approval['id']}/approve", {"note": "同意删除"})
        assert decided.status_code == 200
        assert (decided.json()["status"], decided.json()["outcome"]) == ("approved", "done")
        assert sales_a.get(f"/crm/customers/{customer['id']}").status_code == 404
        again = manager_east.post(f"/crm/approvals/{approval['id']}/approve", {})
        assert again.status_code == 409
        assert again.json()["code"] == "already_decided"
        deletes = session.scalars(select(AuditLog).where(AuditLog.action == "customer.delete")).all()
        assert [d.actor_id for d in deletes] == [manager_east.user.id]
        mine = sales_a.get(f"/crm/approvals/{approval['id']}").json()
        assert (mine["status"], mine["decided_by"], mine["decision_note"]) == (
            "approved",
            manager_east.user.id,
            "同意删除",
        )

    def test_a_rejected_request_changes_nothing(self, sales_a: Api, manager_east: Api) -> None:
        customer = sales_a.create_customer(province="江苏")
        approval = sales_a.delete(f"/crm/customers/{customer['id']}").json()
        rejected = manager_east.post(f"/crm/approvals/{approval['id']}/reject", {"note": "客户仍在合作"})
        assert rejected.json()["status"] == "rejected"
        assert sales_a.get(f"/crm/customers/{customer['id']}").status_code == 200

    def test_managers_and_admins_delete_directly(self, manager_east: Api) -> None:
        customer = manager_east.create_customer(province="江苏")
        assert manager_east.delete(f"/crm/customers/{customer['id']}").status_code == 204


class TestWhoDecides:
    def test_only_a_manager_of_the_customers_region_or_an_admin_decides(
        self, client: TestClient, session: Session, tenant: Tenant, sales_a: Api, admin: Api
    ) -> None:
        customer = sales_a.create_customer(province="江苏")
        approval = sales_a.delete(f"/crm/customers/{customer['id']}").json()
        south = Api(client, make_user(session, tenant, Role.SALES_MANAGER, region=Region.SOUTH))
        assert south.get(f"/crm/approvals/{approval['id']}").status_code == 404
        assert south.post(f"/crm/approvals/{approval['id']}/approve", {}).status_code == 404
        assert sales_a.post(f"/crm/approvals/{approval['id']}/approve", {}).status_code == 403
        assert admin.post(f"/crm/approvals/{approval['id']}/approve", {}).status_code == 200

    def test_requesters_see_only_their_own_requests(self, sales_a: Api, sales_b: Api) -> None:
        mine = sales_a.create_customer(province="江苏")
        sales_a.delete(f"/crm/customers/{mine['id']}")
        assert sales_b.get("/crm/approvals").json()["total"] == 0
        assert sales_a.get("/crm/approvals").json()["total"] == 1


class TestOtherSensitiveChanges:
    def test_blacklisting_waits_for_approval(self, sales_a: Api, manager_east: Api) -> None:
        customer = sales_a.create_customer(province="江苏")
        asked = sales_a.put(f"/crm/customers/{customer['id']}", {"version": 1, "customer_status": "blacklist"})
        assert asked.status_code == 202
        assert sales_a.get(f"/crm/customers/{customer['id']}").json()["customer_status"] == "active"
        manager_east.post(f"/crm/approvals/{asked.json()['id']}/approve", {})
        assert sales_a.get(f"/crm/customers/{customer['id']}").json()["customer_status"] == "blacklist"

    def test_downgrading_an_a_customer_waits_but_other_level_changes_do_not(
        self, sales_a: Api, manager_east: Api, admin: Api
    ) -> None:
        customer = admin.create_customer(province="江苏", customer_level="A", assigned_sales_id=sales_a.user.id)
        asked = sales_a.put(f"/crm/customers/{customer['id']}/level", {"level": "C", "reason": "采购量下降"})
        assert asked.status_code == 202
        manager_east.post(f"/crm/approvals/{asked.json()['id']}/approve", {})
        history = sales_a.get(f"/crm/customers/{customer['id']}/level_history").json()["items"]
        assert (history[0]["new_level"], history[0]["reason"], history[0]["changed_by"]) == (
            "C",
            "采购量下降",
            manager_east.user.id,
        )
        assert (
            sales_a.put(f"/crm/customers/{customer['id']}/level", {"level": "B", "reason": "回升"}).status_code == 200
        )

    def test_an_approval_that_can_no_longer_apply_is_recorded_as_failed(self, sales_a: Api, manager_east: Api) -> None:
        customer = sales_a.create_customer(province="江苏")
        asked = sales_a.put(f"/crm/customers/{customer['id']}", {"version": 1, "customer_status": "blacklist"}).json()
        sales_a.put(f"/crm/customers/{customer['id']}", {"version": 1, "industry": "零售"})  # the record moved on
        decided = manager_east.post(f"/crm/approvals/{asked['id']}/approve", {}).json()
        assert (decided["status"], decided["outcome"]) == ("failed", "version_conflict")
        assert sales_a.get(f"/crm/customers/{customer['id']}").json()["customer_status"] == "active"
