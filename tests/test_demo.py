"""The demo data that `make run` loads: every feature can be tried in it and shows something."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.demo import DEMO_TENANT, load_demo
from crm.models import Tenant, User
from tests.factories import Api


@pytest.fixture
def demo(session: Session) -> Tenant:
    load_demo(session)  # the size `make run` loads: the agents' workload depends on it
    session.commit()
    return session.scalars(select(Tenant).where(Tenant.code == DEMO_TENANT)).one()


def _as(client: TestClient, session: Session, tenant: Tenant, username: str) -> Api:
    user = session.scalars(select(User).where(User.tenant_id == tenant.id, User.username == username)).one()
    return Api(client, user)


def _items(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


class TestTheDemoShowsEveryFeatureWorking:
    def test_a_new_ticket_is_assigned_to_an_agent_and_the_other_roles_find_work_waiting(
        self, demo: Tenant, client: TestClient, session: Session
    ) -> None:
        rep = _as(client, session, demo, "sales.east1")
        customer = _items(rep.get("/crm/customers", params={"page_size": 1}))[0]
        ticket = rep.post(
            "/crm/service_records",
            {"customer_id": customer["id"], "service_type": "technical_support", "priority": "high",
             "subject": "设备无法开机", "description": "客户来电：设备通电后无反应"},
        )  # fmt: skip
        assert ticket.status_code == 201, ticket.text
        assignee = ticket.json()["assigned_staff_id"]
        assert assignee is not None
        agent = session.get(User, assignee)
        assert agent is not None
        assert agent.username.startswith("service.agent")
        notices = _items(Api(client, agent).get("/crm/notifications", params={"unread": True}))
        assert ticket.json()["id"] in [n["object_id"] for n in notices if n["object_type"] == "service_record"]

        follow_ups = rep.get("/crm/interactions/pending_follow_up").json()
        assert follow_ups["overdue"]
        assert follow_ups["today"]
        assert follow_ups["upcoming"]

        manager = _as(client, session, demo, "manager.east")
        assert _items(manager.get("/crm/approvals", params={"status": "pending"}))
        assert _items(manager.get("/crm/churn_warnings"))

        admin = _as(client, session, demo, "admin")
        assert _items(admin.get("/crm/service_records", params={"status": "open"}))
