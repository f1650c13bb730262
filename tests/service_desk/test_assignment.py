"""Automatic assignment of new tickets (§5.3): team, VIP team, the customer's own agent, workload."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm.app import create_app
from crm.kit.regions import Region
from crm.models import AuditLog, ServiceRecord, Tenant, User
from crm.models.enums import Role
from crm.service_desk.assignment import assign_queue
from tests.factories import Api, make_tenant, make_user

# Default weights: urgent 4, high 3, medium 2, low 1.


def agent(session: Session, tenant: Tenant, team: str | None = None, capacity: int | None = None) -> User:
    user = make_user(session, tenant, Role.SERVICE_AGENT)
    user.team, user.service_capacity = team, capacity
    session.commit()
    return user


def rules(session: Session, tenant: Tenant, **assignment: Any) -> None:
    tenant.settings = {**(tenant.settings or {}), "assignment": assignment}
    session.commit()


def open_ticket(api: Api, customer: dict, priority: str = "medium", **fields: Any) -> dict:
    body = {
        "customer_id": customer["id"],
        "service_type": "after_sales",
        "priority": priority,
        "subject": "设备报修",
        "description": "设备异响",
        **fields,
    }
    response = api.post("/crm/service_records", body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def give_work(admin: Api, customer: dict, user: User, *priorities: str) -> None:
    """Open tickets assigned to ``user`` by hand (an admin assigns at once, so no rule applies)."""
    for priority in priorities:
        assert open_ticket(admin, customer, priority, assigned_staff_id=user.id)["assigned_staff_id"] == user.id


@pytest.fixture
def customer(admin: Api) -> dict:
    return admin.create_customer(customer_name="苏州精工机械", province="江苏")


class TestChoosingAnAgent:
    def test_the_least_loaded_agent_gets_the_ticket_and_is_told(
        self, admin: Api, sales_a: Api, session: Session, tenant: Tenant
    ) -> None:
        busy, light = agent(session, tenant), agent(session, tenant)
        mine = sales_a.create_customer(customer_name="无锡新材料")
        give_work(admin, mine, busy, "medium", "medium")  # load 4
        give_work(admin, mine, light, "high")  # load 3
        ticket = open_ticket(sales_a, mine)
        assert ticket["assigned_staff_id"] == light.id
        logged = session.scalars(
            select(AuditLog).where(AuditLog.action == "service_record.auto_assign", AuditLog.object_id == ticket["id"])
        ).one()
        assert logged.detail is not None
        assert (logged.detail["rule"], logged.detail["load_before"], logged.detail["capacity"]) == (
            "least_loaded",
            3,
            24,
        )
        told = Api(sales_a.client, light).get("/crm/notifications").json()["items"]
        assert next((n["kind"], n["object_id"]) for n in told) == ("ticket_assigned", ticket["id"])

    def test_equal_loads_go_to_the_agent_with_fewer_tickets_then_the_first(
        self, admin: Api, customer: dict, session: Session, tenant: Tenant
    ) -> None:
        first, second = agent(session, tenant), agent(session, tenant)
        give_work(admin, customer, first, "medium")  # load 2, one ticket
        give_work(admin, customer, second, "low", "low")  # load 2, two tickets
        assert open_ticket(admin, customer)["assigned_staff_id"] == first.id

    def test_capacity_is_shared_by_priority_weight(
        self, admin: Api, customer: dict, session: Session, tenant: Tenant
    ) -> None:
        small, large = agent(session, tenant, capacity=4), agent(session, tenant, capacity=40)
        give_work(admin, customer, large, "urgent", "urgent")  # 8 of 40 = 20 %
        assert open_ticket(admin, customer, "low")["assigned_staff_id"] == small.id  # 1 of 4 = 25 % after
        # small now 1/4 = 25 % > large's 20 %: the next goes to large
        assert open_ticket(admin, customer, "urgent")["assigned_staff_id"] == large.id

    def test_the_customers_own_agent_comes_first_while_they_have_room(
        self, admin: Api, session: Session, tenant: Tenant
    ) -> None:
        own, idle = agent(session, tenant, capacity=4), agent(session, tenant)
        customer = admin.create_customer(customer_name="常州电机", assigned_service_id=own.id)
        give_work(admin, customer, own, "medium")  # 2 of 4: busier than idle, but has room
        ticket = open_ticket(admin, customer)
        assert ticket["assigned_staff_id"] == own.id
        # now 4 of 4: full, so the next goes to someone else
        assert open_ticket(admin, customer, "low")["assigned_staff_id"] == idle.id

    def test_only_active_service_agents_of_the_customers_team_are_chosen(
        self, admin: Api, session: Session, tenant: Tenant
    ) -> None:
        north = agent(session, tenant, team="华北组")
        south_busy = agent(session, tenant, team="华南组")
        south_free = agent(session, tenant, team="华南组")
        gone = agent(session, tenant, team="华南组")
        gone.is_active = False
        session.commit()
        make_user(session, tenant, Role.SERVICE_MANAGER)  # managers are not given tickets automatically
        served = admin.create_customer(customer_name="佛山陶瓷", province="广东", assigned_service_id=south_busy.id)
        give_work(admin, served, south_busy, "urgent", "urgent", "urgent", "urgent", "urgent", "urgent")  # 24/24
        assert open_ticket(admin, served)["assigned_staff_id"] == south_free.id
        assert north.id != south_free.id

    def test_a_customer_without_an_agent_goes_to_the_team_of_their_region(
        self, admin: Api, session: Session, tenant: Tenant
    ) -> None:
        east = agent(session, tenant, team="华东组")
        agent(session, tenant, team="华南组")
        rules(session, tenant, region_teams={Region.EAST.value: "华东组"})
        shanghai = admin.create_customer(customer_name="上海浦江贸易", province="上海")
        assert open_ticket(admin, shanghai)["assigned_staff_id"] == east.id

    def test_level_a_customers_go_to_the_vip_team(self, admin: Api, session: Session, tenant: Tenant) -> None:
        regular = agent(session, tenant, team="华东组")
        vip = agent(session, tenant, team="VIP")
        give_work(admin, admin.create_customer(), vip, "urgent")  # busier, but the only VIP agent
        rules(session, tenant, vip_team="VIP")
        key_account = admin.create_customer(
            customer_name="杭州云端科技", customer_level="A", assigned_service_id=regular.id
        )
        assert open_ticket(admin, key_account)["assigned_staff_id"] == vip.id
        ordinary = admin.create_customer(customer_name="宁波小商品", customer_level="C")
        assert open_ticket(admin, ordinary)["assigned_staff_id"] == regular.id

    def test_without_active_vip_agents_a_level_a_customer_is_served_as_usual(
        self, admin: Api, session: Session, tenant: Tenant
    ) -> None:
        regular = agent(session, tenant)
        rules(session, tenant, vip_team="VIP")
        key_account = admin.create_customer(customer_name="南京金陵集团", customer_level="A")
        assert open_ticket(admin, key_account)["assigned_staff_id"] == regular.id


class TestTheQueue:
    def test_a_ticket_nobody_has_room_for_waits_and_the_job_assigns_it_when_room_frees_up(
        self, admin: Api, customer: dict, session: Session, tenant: Tenant
    ) -> None:
        only = agent(session, tenant, capacity=3)
        give_work(admin, customer, only, "high")  # 3 of 3
        waiting = open_ticket(admin, customer, "low")
        assert waiting["assigned_staff_id"] is None
        assert assign_queue(session) == 0  # still full
        busy = session.scalars(select(ServiceRecord).where(ServiceRecord.assigned_staff_id == only.id)).one()
        done = admin.put(f"/crm/service_records/{busy.id}/cancel", {"version": busy.version, "reason": "重复报修"})
        assert done.status_code == 200, done.text
        assert assign_queue(session) == 1
        assert admin.get(f"/crm/service_records/{waiting['id']}").json()["assigned_staff_id"] == only.id

    def test_the_queue_serves_the_most_urgent_first(
        self, admin: Api, customer: dict, session: Session, tenant: Tenant
    ) -> None:
        rules(session, tenant, enabled=False)
        low = open_ticket(admin, customer, "low")
        urgent = open_ticket(admin, customer, "urgent")
        only = agent(session, tenant, capacity=4)
        rules(session, tenant, enabled=True)
        assert assign_queue(session) == 1  # room for the urgent one (4), then none for the low one
        assert admin.get(f"/crm/service_records/{urgent['id']}").json()["assigned_staff_id"] == only.id
        assert admin.get(f"/crm/service_records/{low['id']}").json()["assigned_staff_id"] is None

    def test_with_assignment_switched_off_tickets_stay_unassigned(
        self, admin: Api, customer: dict, session: Session, tenant: Tenant
    ) -> None:
        agent(session, tenant)
        rules(session, tenant, enabled=False)
        assert open_ticket(admin, customer)["assigned_staff_id"] is None
        assert assign_queue(session) == 0


class TestRulesAndStaff:
    def test_rules_are_tenant_settings_merged_key_by_key(self, admin: Api) -> None:
        admin.put("/crm/settings", {"assignment": {"max_load": 10}})
        changed = admin.put("/crm/settings", {"assignment": {"vip_team": "VIP"}}).json()["assignment"]
        assert (changed["max_load"], changed["vip_team"], changed["weights"]["urgent"]) == (10, "VIP", 4)
        refused = admin.put("/crm/settings", {"assignment": {"weights": {"urgent": 0}}})
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == "assignment.weights.urgent"

    def test_the_assignee_picker_lists_service_staff_with_their_load(
        self, admin: Api, customer: dict, session: Session, tenant: Tenant, sales_a: Api
    ) -> None:
        worker = agent(session, tenant, team="华东组", capacity=10)
        give_work(admin, customer, worker, "urgent", "low")
        staff = {s["id"]: s for s in admin.get("/crm/users/service_staff").json()}
        assert (staff[worker.id]["open_tickets"], staff[worker.id]["load"], staff[worker.id]["capacity"]) == (2, 5, 10)
        assert staff[worker.id]["team"] == "华东组"
        assert sales_a.get("/crm/users/service_staff").status_code == 403

    def test_an_admin_sets_an_agents_capacity(self, admin: Api, session: Session, tenant: Tenant) -> None:
        worker = agent(session, tenant)
        changed = admin.put(f"/crm/users/{worker.id}", {"service_capacity": 6})
        assert (changed.status_code, changed.json()["service_capacity"]) == (200, 6)
        assert admin.put(f"/crm/users/{worker.id}", {"service_capacity": 0}).status_code == 422


@pytest.mark.postgresql_only
def test_two_tickets_at_once_do_not_both_go_to_an_agent_with_room_for_one(committed: sessionmaker[Session]) -> None:
    with committed() as session:
        tenant = make_tenant(session)
        admin_user = make_user(session, tenant, Role.ADMIN)
        only = agent(session, tenant, capacity=2)  # room for exactly one medium ticket
        tenant_id, only_id = tenant.id, only.id
        session.refresh(admin_user)  # loaded now, usable after the session closes
    app = create_app(committed, check_migrations=False)
    clients = [TestClient(app), TestClient(app)]
    api = Api(clients[0], admin_user)
    customer = api.create_customer(customer_name="并发分配测试")
    barrier = threading.Barrier(2)
    answers: list[int] = []

    def create(client: TestClient) -> None:
        barrier.wait()
        response = Api(client, admin_user).post(
            "/crm/service_records",
            {"customer_id": customer["id"], "service_type": "other", "subject": "同时提交", "description": "并发"},
        )
        answers.append(response.status_code)

    threads = [threading.Thread(target=create, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert answers == [201, 201]
    with committed() as session:
        assignees = list(
            session.scalars(select(ServiceRecord.assigned_staff_id).where(ServiceRecord.tenant_id == tenant_id))
        )
    assert sorted(assignees, key=lambda a: a or 0) == [None, only_id]
