"""Service statistics with hand-computed figures: times (average, p90), SLA attainment, satisfaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from crm.kit.db import utcnow
from crm.models import ServiceRecord, Tenant, User
from crm.models.enums import Role
from crm.service_desk.statistics import complaint_counts
from tests.factories import Api, make_user

# Three tickets created in November 2026 (Asia/Shanghai) and one in October:
#   t1  agent A, team 一组, complaint: answered in 10 min and resolved in 60 min, both in time, rated 5
#   t2  agent A, team 一组: answered in 30 min (late) and resolved in 120 min (in time), rated 3
#   t3  agent B, team 二组: no answer yet and past its first-response due; resolution not due yet
#   t4  agent B, October: answered in 20 min in time, resolution 240 min late, rated 4
NOV = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)
# 2026-10-31 17:00 UTC is 2026-11-01 01:00 in Shanghai: a November ticket by the business calendar.
EARLY_NOV = datetime(2026, 10, 31, 17, 0, tzinfo=UTC)
OCT = datetime(2026, 10, 15, 2, 0, tzinfo=UTC)


@pytest.fixture
def agents(session: Session, tenant: Tenant) -> tuple[User, User]:
    a, b = make_user(session, tenant, Role.SERVICE_AGENT), make_user(session, tenant, Role.SERVICE_AGENT)
    a.team, a.display_name, b.team, b.display_name = "一组", "李娜", "二组", "王强"
    session.commit()
    return a, b


def _ticket(admin: Api, customer: dict, staff: User, service_type: str = "after_sales") -> int:
    made = admin.post(
        "/crm/service_records",
        {
            "customer_id": customer["id"],
            "service_type": service_type,
            "subject": "统计",
            "description": "x",
            "assigned_staff_id": staff.id,
        },
    )
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def _set(session: Session, ticket_id: int, created: datetime, **values: Any) -> None:
    minutes = {k: v for k, v in values.items() if k.endswith("_min")}
    fields = {k: v for k, v in values.items() if not k.endswith("_min")}
    moments = {
        "created_date": created,
        "first_response_due": created + timedelta(minutes=minutes.get("fr_due_min", 60)),
        "resolution_due": created + timedelta(minutes=minutes.get("rs_due_min", 180)),
        "first_response_risk_at": None,
        "resolution_risk_at": None,
    }
    if "fr_min" in minutes:
        moments["first_response_date"] = created + timedelta(minutes=minutes["fr_min"])
        fields["first_response_seconds"] = minutes["fr_min"] * 60
    if "rs_min" in minutes:
        moments["resolved_date"] = created + timedelta(minutes=minutes["rs_min"])
        fields["resolution_seconds"] = minutes["rs_min"] * 60
        fields["status"] = "resolved"
    session.execute(update(ServiceRecord).where(ServiceRecord.id == ticket_id).values(**moments, **fields))
    session.commit()


@pytest.fixture
def tickets(admin: Api, session: Session, agents: tuple[User, User]) -> list[int]:
    a, b = agents
    customer = admin.create_customer(customer_name="统计样本客户")
    t1 = _ticket(admin, customer, a, "complaint")
    t2 = _ticket(admin, customer, a)
    t3 = _ticket(admin, customer, b)
    t4 = _ticket(admin, customer, b)
    cancelled = _ticket(admin, customer, b)
    _set(session, t1, NOV, fr_min=10, rs_min=60, satisfaction_rating=5)
    _set(session, t2, EARLY_NOV, fr_min=30, fr_due_min=20, rs_min=120, satisfaction_rating=3)
    far = utcnow() + timedelta(days=30)
    _set(session, t3, NOV, fr_due_min=5, rs_due_min=int((far - NOV).total_seconds() // 60))
    _set(session, t4, OCT, fr_min=20, rs_min=240, satisfaction_rating=4)
    _set(session, cancelled, NOV, fr_min=1, status="cancelled")
    return [t1, t2, t3, t4]


def stats(api: Api, **params: Any) -> dict[str, Any]:
    answer = api.get("/crm/service_records/statistics", params=params)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


NOVEMBER = {"created_from": "2026-11-01T00:00:00", "created_to": "2026-12-01T00:00:00"}  # Shanghai time


class TestFigures:
    def test_november_overall(self, admin: Api, tickets: list[int]) -> None:
        overall = stats(admin, **NOVEMBER)["overall"]
        assert (overall["tickets"], overall["active"], overall["resolved"], overall["complaints"]) == (3, 1, 2, 1)
        # first responses 10 and 30 min: average 20, p90 = 10 + 0.9 × (30 − 10) = 28
        assert overall["first_response"] == {"count": 2, "average_minutes": 20.0, "p90_minutes": 28.0}
        # resolutions 60 and 120 min: average 90, p90 = 60 + 0.9 × 60 = 114
        assert overall["resolution"] == {"count": 2, "average_minutes": 90.0, "p90_minutes": 114.0}
        # first response: t1 in time, t2 late, t3 unanswered past due → 1 of 3; resolution: t1, t2 in time,
        # t3 still within its target and not counted → 2 of 2
        assert overall["sla"] == {
            "first_response_met": 1,
            "first_response_measured": 3,
            "first_response_rate": 0.3333,
            "resolution_met": 2,
            "resolution_measured": 2,
            "resolution_rate": 1.0,
        }
        assert overall["satisfaction"] == {
            "count": 2,
            "average": 4.0,
            "distribution": {"1": 0, "2": 0, "3": 1, "4": 0, "5": 1},
        }

    def test_by_agent_with_names(self, admin: Api, tickets: list[int], agents: tuple[User, User]) -> None:
        a, b = agents
        groups = {g["key"]: g for g in stats(admin, group_by="agent")["groups"]}
        assert (groups[str(a.id)]["label"], groups[str(a.id)]["tickets"]) == ("李娜", 2)
        assert (groups[str(b.id)]["label"], groups[str(b.id)]["tickets"]) == ("王强", 2)
        assert groups[str(b.id)]["first_response"]["average_minutes"] == 20.0  # t4 only: t3 has no answer
        assert groups[str(b.id)]["sla"]["resolution_rate"] == 0.0  # t4 resolved late

    def test_by_team_and_by_type(self, admin: Api, tickets: list[int]) -> None:
        teams = {g["key"]: g["tickets"] for g in stats(admin, group_by="team")["groups"]}
        assert teams == {"一组": 2, "二组": 2}
        types = {g["key"]: g["tickets"] for g in stats(admin, group_by="service_type")["groups"]}
        assert types == {"after_sales": 3, "complaint": 1}
        assert stats(admin, team="一组")["overall"]["tickets"] == 2

    def test_by_business_month_in_shanghai_time(self, admin: Api, tickets: list[int]) -> None:
        months = [(g["key"], g["tickets"]) for g in stats(admin, group_by="month")["groups"]]
        assert months == [("2026-10", 1), ("2026-11", 3)]

    def test_only_the_tickets_one_sees_count(
        self, admin: Api, tickets: list[int], client: TestClient, session: Session, tenant: Tenant, outsider: Api
    ) -> None:
        agent = Api(client, make_user(session, tenant, Role.SERVICE_AGENT))  # sees only tickets of their own
        assert stats(agent)["overall"]["tickets"] == 0
        assert stats(outsider)["overall"]["tickets"] == 0
        assert stats(admin)["overall"]["tickets"] == 4

    def test_no_tickets_give_empty_figures_not_errors(self, admin: Api) -> None:
        empty = stats(admin, group_by="priority")
        assert empty["overall"]["tickets"] == 0
        assert empty["overall"]["first_response"] == {"count": 0, "average_minutes": None, "p90_minutes": None}
        assert empty["groups"] == []

    def test_a_region_counts_only_the_tickets_of_its_customers(self, admin: Api, agents: tuple[User, User]) -> None:
        a, _ = agents
        east, south = admin.create_customer(province="江苏"), admin.create_customer(province="广东")
        _ticket(admin, east, a)
        _ticket(admin, south, a, "complaint")
        assert stats(admin)["overall"]["tickets"] == 2
        east_only = stats(admin, region="华东", group_by="month")
        assert (east_only["overall"]["tickets"], east_only["overall"]["complaints"]) == (1, 0)
        assert sum(g["tickets"] for g in east_only["groups"]) == 1
        assert stats(admin, region="华南")["overall"]["complaints"] == 1
        assert stats(admin, region="西北")["overall"]["tickets"] == 0
        refused = admin.get("/crm/service_records/statistics", params={"region": "火星"})
        assert refused.status_code == 422
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["errors"][0]["field"] == "region"

    def test_a_deleted_customers_tickets_leave_the_figures_and_the_queue(
        self, admin: Api, agents: tuple[User, User], client: TestClient
    ) -> None:
        a, _ = agents
        kept, dropped = admin.create_customer(province="江苏"), admin.create_customer(province="广东")
        kept_ticket = _ticket(admin, kept, a)
        _ticket(admin, dropped, a, "complaint")
        assert stats(admin)["overall"]["tickets"] == 2
        assert admin.delete(f"/crm/customers/{dropped['id']}").status_code == 204

        agent = Api(client, a)  # sees the tickets assigned to them
        for who in (admin, agent):
            overall = stats(who)["overall"]
            assert (overall["tickets"], overall["complaints"]) == (1, 0)
            queue = who.get("/crm/service_records").json()
            assert [t["id"] for t in queue["items"]] == [kept_ticket]
        assert stats(admin, region="华南")["overall"]["tickets"] == 0

    def test_a_bad_grouping_names_the_parameter(self, admin: Api) -> None:
        refused = admin.get("/crm/service_records/statistics", params={"group_by": "colour"})
        assert (refused.status_code, refused.json()["errors"][0]["field"]) == (422, "group_by")


def test_complaints_are_counted_per_customer(admin: Api, session: Session, agents: tuple[User, User]) -> None:
    a, _ = agents
    noisy, quiet = admin.create_customer(customer_name="投诉多"), admin.create_customer(customer_name="投诉少")
    for customer, kinds in ((noisy, ["complaint", "complaint", "consultation"]), (quiet, ["consultation"])):
        for kind in kinds:
            _ticket(admin, customer, a, kind)
    cancelled = _ticket(admin, quiet, a, "complaint")
    session.execute(update(ServiceRecord).where(ServiceRecord.id == cancelled).values(status="cancelled"))
    counted = {row[0]: row[1] for row in session.execute(complaint_counts(admin.user.tenant_id))}
    assert counted == {noisy["id"]: 2}
