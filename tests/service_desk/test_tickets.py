"""Tickets: opening, seeing, assigning, and every allowed and forbidden status transition."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crm.kit.db import utcnow
from crm.kit.regions import Region
from crm.models import AuditLog, ServiceRecord, Tenant
from crm.models.enums import Role
from tests.factories import Api, make_user

STATUSES = ("open", "in_progress", "resolved", "closed", "cancelled")
# action → (the statuses it may leave, the status it arrives at)
ALLOWED = {
    "start": ({"open"}, "in_progress"),
    "resolve": ({"in_progress"}, "resolved"),
    "close": ({"resolved"}, "closed"),
    "reopen": ({"resolved"}, "in_progress"),
    "cancel": ({"open", "in_progress"}, "cancelled"),
}
BODIES: dict[str, dict[str, Any]] = {
    "start": {},
    "resolve": {"resolution": "已更换配件"},
    "close": {},
    "reopen": {"reason": "问题复现"},
    "cancel": {"reason": "客户撤回"},
}


@pytest.fixture(autouse=True)
def manual_assignment(session: Session, tenant: Tenant) -> None:
    """These tests assign by hand; automatic assignment has its own (test_assignment.py)."""
    tenant.settings = {"assignment": {"enabled": False}}
    session.commit()


@pytest.fixture
def desk(client: Any, session: Session, tenant: Tenant) -> dict[str, Api]:
    return {
        "manager": Api(client, make_user(session, tenant, Role.SERVICE_MANAGER, region=Region.EAST)),
        "agent": Api(client, make_user(session, tenant, Role.SERVICE_AGENT)),
        "other_agent": Api(client, make_user(session, tenant, Role.SERVICE_AGENT)),
    }


@pytest.fixture
def customer(sales_a: Api) -> dict:
    return sales_a.create_customer(customer_name="宁波港机械", province="浙江", contacts=[{"contact_name": "吴刚"}])


def _open(api: Api, customer: dict, **fields: Any) -> dict:
    body = {
        "customer_id": customer["id"],
        "service_type": "technical_support",
        "subject": "设备无法启动",
        "description": "上电后无反应",
        **fields,
    }
    response = api.post("/crm/service_records", body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _act(api: Api, ticket: dict, action: str, **body: Any) -> Any:
    return api.put(f"/crm/service_records/{ticket['id']}/{action}", {"version": ticket["version"], **body})


def _in_status(api: Api, customer: dict, status: str) -> dict:
    ticket = _open(api, customer)
    path = {
        "open": [],
        "in_progress": ["start"],
        "resolved": ["start", "resolve"],
        "closed": ["start", "resolve", "close"],
        "cancelled": ["cancel"],
    }[status]
    for action in path:
        response = _act(api, ticket, action, **BODIES[action])
        assert response.status_code == 200, response.text
        ticket = response.json()
    assert ticket["status"] == status
    return ticket


class TestOpening:
    def test_a_sales_rep_opens_a_ticket_for_their_customer_and_sees_it(
        self, sales_a: Api, customer: dict, session: Session
    ) -> None:
        ticket = _open(sales_a, customer, priority="high", contact_id=customer["contacts"][0]["id"], tags=["保修"])
        assert (ticket["status"], ticket["priority"], ticket["assigned_staff_id"]) == ("open", "high", None)
        assert ticket["first_response_date"] is None
        assert sales_a.get(f"/crm/service_records/{ticket['id']}").status_code == 200
        assert session.scalar(select(AuditLog.action).where(AuditLog.object_type == "service_record")) == (
            "service_record.create"
        )

    def test_a_customer_outside_ones_scope_or_a_foreign_contact_is_refused(
        self, sales_a: Api, sales_b: Api, customer: dict
    ) -> None:
        body = {"customer_id": customer["id"], "service_type": "other", "subject": "x", "description": "y"}
        refused = sales_b.post("/crm/service_records", body)
        assert (refused.status_code, refused.json()["errors"][0]["field"]) == (422, "customer_id")
        other = sales_a.create_customer(contacts=[{"contact_name": "别人"}])
        foreign = sales_a.post("/crm/service_records", {**body, "contact_id": other["contacts"][0]["id"]})
        assert (foreign.status_code, foreign.json()["errors"][0]["field"]) == (422, "contact_id")

    def test_others_do_not_see_it_but_the_assigned_agent_does(
        self, sales_a: Api, sales_b: Api, desk: dict[str, Api], customer: dict
    ) -> None:
        ticket = _open(sales_a, customer)
        assert sales_b.get(f"/crm/service_records/{ticket['id']}").status_code == 404
        assert desk["agent"].get(f"/crm/service_records/{ticket['id']}").status_code == 404
        _act(desk["manager"], ticket, "assign", assigned_staff_id=desk["agent"].user.id)
        seen = desk["agent"].get(f"/crm/service_records/{ticket['id']}")
        assert seen.status_code == 200
        # The agent works it without seeing the customer's profile, but knows whom they help.
        assert (seen.json()["customer_name"], seen.json()["assigned_staff_name"]) == ("宁波港机械", "测试service_agent")
        assert desk["agent"].get(f"/crm/customers/{customer['id']}").status_code == 404
        listed = desk["agent"].get("/crm/service_records").json()["items"]
        assert [t["id"] for t in listed] == [ticket["id"]]


class TestTransitions:
    @pytest.mark.parametrize("status", STATUSES)
    @pytest.mark.parametrize("action", list(ALLOWED))
    def test_each_action_from_each_status_is_allowed_or_answers_409_and_changes_nothing(
        self, desk: dict[str, Api], customer: dict, status: str, action: str
    ) -> None:
        manager = desk["manager"]
        ticket = _in_status(manager, customer, status)
        response = _act(manager, ticket, action, **BODIES[action])
        sources, target = ALLOWED[action]
        if status in sources:
            assert response.status_code == 200, response.text
            assert response.json()["status"] == target
        else:
            assert (response.status_code, response.json()["code"]) == (409, "invalid_transition")
            assert manager.get(f"/crm/service_records/{ticket['id']}").json() == ticket

    def test_the_lifecycle_stamps_its_dates(self, desk: dict[str, Api], customer: dict) -> None:
        agent = desk["agent"]
        ticket = _open(desk["manager"], customer, assigned_staff_id=agent.user.id)
        started = _act(agent, ticket, "start").json()
        assert started["first_response_date"] is not None
        resolved = _act(agent, started, "resolve", resolution="远程指导重启").json()
        assert (resolved["resolution"], resolved["resolved_date"] is not None) == ("远程指导重启", True)
        closed = _act(agent, resolved, "close").json()
        assert closed["closed_date"] is not None
        assert closed["first_response_date"] == started["first_response_date"]  # only the first action

    def test_reopening_needs_a_reason_and_the_window(
        self, desk: dict[str, Api], customer: dict, session: Session
    ) -> None:
        manager = desk["manager"]
        ticket = _in_status(manager, customer, "resolved")
        no_reason = _act(manager, ticket, "reopen")
        assert (no_reason.status_code, no_reason.json()["errors"][0]["field"]) == (422, "reason")
        session.execute(
            update(ServiceRecord)
            .where(ServiceRecord.id == ticket["id"])
            .values(resolved_date=utcnow() - timedelta(days=8))
            .execution_options(synchronize_session=False)
        )
        late = _act(manager, ticket, "reopen", reason="又坏了")
        assert (late.status_code, late.json()["code"]) == (409, "reopen_window_passed")

    def test_a_reopened_ticket_counts_and_can_be_resolved_again(self, desk: dict[str, Api], customer: dict) -> None:
        manager = desk["manager"]
        ticket = _in_status(manager, customer, "resolved")
        reopened = _act(manager, ticket, "reopen", reason="问题复现").json()
        assert (reopened["status"], reopened["reopened_count"], reopened["resolved_date"]) == ("in_progress", 1, None)
        assert _act(manager, reopened, "resolve", resolution="更换主板").json()["status"] == "resolved"

    def test_a_stale_version_is_a_conflict(self, desk: dict[str, Api], customer: dict) -> None:
        ticket = _open(desk["manager"], customer)
        _act(desk["manager"], ticket, "start")
        stale = _act(desk["manager"], ticket, "cancel", reason="x")
        assert (stale.status_code, stale.json()["code"]) == (409, "version_conflict")


class TestWhoWorksATicket:
    def test_only_desk_managers_assign_and_only_to_service_staff(
        self, desk: dict[str, Api], customer: dict, sales_a: Api
    ) -> None:
        ticket = _open(desk["manager"], customer)
        assert _act(desk["agent"], ticket, "assign", assigned_staff_id=desk["agent"].user.id).status_code == 403
        to_sales = _act(desk["manager"], ticket, "assign", assigned_staff_id=sales_a.user.id)
        assert (to_sales.status_code, to_sales.json()["errors"][0]["field"]) == (422, "assigned_staff_id")
        assigned = _act(desk["manager"], ticket, "assign", assigned_staff_id=desk["other_agent"].user.id).json()
        assert assigned["assigned_staff_id"] == desk["other_agent"].user.id

    def test_an_agent_cannot_work_a_colleagues_ticket_and_sales_cannot_work_any(
        self, desk: dict[str, Api], customer: dict, sales_a: Api
    ) -> None:
        ticket = _open(desk["manager"], customer, assigned_staff_id=desk["other_agent"].user.id)
        assert _act(desk["agent"], ticket, "start").status_code == 404  # not theirs to see
        assert _act(sales_a, ticket, "start").status_code == 403

    def test_escalation_is_recorded_once(self, desk: dict[str, Api], customer: dict, session: Session) -> None:
        ticket = _open(desk["manager"], customer)
        escalated = _act(desk["manager"], ticket, "escalate", reason="客户要求经理处理").json()
        assert (escalated["escalated"], escalated["escalation_reason"]) == (True, "客户要求经理处理")
        again = _act(desk["manager"], escalated, "escalate", reason="再次")
        assert (again.status_code, again.json()["code"]) == (409, "already_escalated")
        changes = session.scalar(select(AuditLog.changes).where(AuditLog.action == "service_record.escalate"))
        assert changes is not None
        assert changes["escalated"] == {"before": False, "after": True}


class TestLists:
    def test_filters_by_status_priority_assignee_and_unassigned(self, desk: dict[str, Api], customer: dict) -> None:
        manager = desk["manager"]
        urgent = _open(manager, customer, priority="urgent", assigned_staff_id=desk["agent"].user.id)
        low = _open(manager, customer, priority="low")
        started = _act(manager, _open(manager, customer), "start").json()

        def ids(**params: Any) -> list[int]:
            return [t["id"] for t in manager.get("/crm/service_records", params=params).json()["items"]]

        assert ids(priority=["urgent"]) == [urgent["id"]]
        assert ids(status=["in_progress"]) == [started["id"]]
        assert ids(assigned_staff_id=desk["agent"].user.id) == [urgent["id"]]
        assert set(ids(unassigned=True)) == {low["id"], started["id"]}
        assert ids(customer_id=customer["id"]) == [started["id"], low["id"], urgent["id"]]
