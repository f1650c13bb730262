"""SLA clocks in working time: nights, weekends, holidays; states; escalation of breached tickets."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import update
from sqlalchemy.orm import Session

from crm.kit.calendar import WorkingCalendar
from crm.kit.db import utcnow
from crm.kit.regions import Region
from crm.models import ServiceRecord, Tenant
from crm.models.enums import Role
from crm.service_desk.service import escalate_breached
from tests.factories import Api, make_user

ZONE = ZoneInfo("Asia/Shanghai")
CAL = WorkingCalendar(
    holidays=frozenset({date(2026, 10, 1), date(2026, 10, 2)}),  # 国庆 (Thursday, Friday)
    workdays=frozenset({date(2026, 10, 10)}),  # a Saturday worked in exchange (调休)
)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZONE)


class TestCalendar:
    @pytest.mark.parametrize(
        ("start", "hours", "due"),
        [
            (at(date(2026, 11, 25), 10), 1, at(date(2026, 11, 25), 11)),  # within a Wednesday
            (at(date(2026, 11, 25), 17), 4, at(date(2026, 11, 26), 12)),  # across the night
            (at(date(2026, 11, 27), 17), 4, at(date(2026, 11, 30), 12)),  # Friday → Monday
            (at(date(2026, 11, 28), 15), 1, at(date(2026, 11, 30), 10)),  # raised on a Saturday
            (at(date(2026, 11, 25), 20), 1, at(date(2026, 11, 26), 10)),  # raised after hours
            (at(date(2026, 11, 25), 7), 9, at(date(2026, 11, 25), 18)),  # a whole working day
            (at(date(2026, 9, 30), 17), 2, at(date(2026, 10, 5), 10)),  # over the holidays and weekend
            (at(date(2026, 10, 9), 17), 2, at(date(2026, 10, 10), 10)),  # onto the adjusted Saturday
        ],
    )
    def test_due_times_skip_nights_weekends_and_holidays(self, start: datetime, hours: int, due: datetime) -> None:
        assert CAL.add(start, timedelta(hours=hours)) == due.astimezone(UTC)

    @given(
        st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)),  # noqa: DTZ001 - naive bounds, as hypothesis needs
        st.integers(min_value=1, max_value=200 * 60),
    )
    def test_the_working_time_until_the_due_moment_is_the_duration(self, start: datetime, minutes: int) -> None:
        begin = start.replace(tzinfo=ZONE)
        due = CAL.add(begin, timedelta(minutes=minutes))
        assert CAL.between(begin, due) == timedelta(minutes=minutes)

    def test_a_calendar_needs_working_hours(self) -> None:
        with pytest.raises(ValueError, match="end after"):
            WorkingCalendar(start=time(18), end=time(9))


@pytest.fixture
def manager(client: Any, session: Session, tenant: Tenant) -> Api:
    return Api(client, make_user(session, tenant, Role.SERVICE_MANAGER, region=Region.EAST))


@pytest.fixture
def customer(sales_a: Api) -> dict:
    return sales_a.create_customer(customer_name="苏州精工", province="江苏")


def _open(api: Api, customer: dict, priority: str) -> dict:
    body = {"customer_id": customer["id"], "service_type": "complaint", "subject": "漏发配件", "description": "少两件"}
    response = api.post("/crm/service_records", {**body, "priority": priority})
    assert response.status_code == 201, response.text
    return dict(response.json())


def _age(session: Session, ticket: dict, **moments: datetime) -> None:
    session.execute(
        update(ServiceRecord)
        .where(ServiceRecord.id == ticket["id"])
        .values(**moments)
        .execution_options(synchronize_session=False)
    )


class TestTicketClocks:
    def test_a_ticket_carries_its_due_times_from_the_tenants_targets(self, manager: Api, customer: dict) -> None:
        urgent = _open(manager, customer, "urgent")
        created = datetime.fromisoformat(urgent["created_date"])
        calendar = WorkingCalendar()
        assert datetime.fromisoformat(urgent["first_response_due"]) == calendar.add(created, timedelta(hours=1))
        assert datetime.fromisoformat(urgent["resolution_due"]) == calendar.add(created, timedelta(hours=4))
        assert urgent["first_response_sla"] in ("ok", "at_risk")

    def test_tenant_targets_and_calendar_apply(self, admin: Api, manager: Api, customer: dict) -> None:
        admin.put(
            "/crm/settings",
            {
                "sla": {"high": {"first_response_hours": 2, "resolution_hours": 16}},
                "service_calendar": {"weekdays": [0, 1, 2, 3, 4, 5, 6], "start": "00:00", "end": "23:59"},
            },
        )
        high = _open(manager, customer, "high")
        created = datetime.fromisoformat(high["created_date"])
        due = datetime.fromisoformat(high["first_response_due"])
        # Working hours run 00:00–23:59 every day: a ticket opened within two hours of midnight
        # (Shanghai) loses the one minute 23:59–00:00 and is due exactly a minute later.
        assert timedelta(hours=2) <= due - created <= timedelta(hours=2, minutes=1)
        assert admin.get("/crm/settings").json()["sla"]["urgent"]["first_response_hours"] == 1  # others kept

    def test_states_move_from_ok_to_at_risk_to_breached_and_met(
        self, manager: Api, customer: dict, session: Session
    ) -> None:
        ticket = _open(manager, customer, "high")
        now = utcnow()
        _age(session, ticket, first_response_risk_at=now - timedelta(minutes=1))
        assert manager.get(f"/crm/service_records/{ticket['id']}").json()["first_response_sla"] == "at_risk"
        _age(session, ticket, first_response_due=now - timedelta(minutes=1))
        shown = manager.get(f"/crm/service_records/{ticket['id']}").json()
        assert shown["first_response_sla"] == "breached"
        listed = manager.get("/crm/service_records", params={"sla_state": "breached"}).json()["items"]
        assert [t["id"] for t in listed] == [ticket["id"]]
        _age(
            session,
            ticket,
            first_response_due=now + timedelta(hours=1),
            first_response_risk_at=now + timedelta(hours=1),
        )
        started = manager.put(f"/crm/service_records/{ticket['id']}/start", {"version": shown["version"]}).json()
        assert started["first_response_sla"] == "met"


class TestEscalation:
    def test_breached_urgent_and_high_tickets_are_escalated_once_and_managers_told(
        self, manager: Api, customer: dict, session: Session
    ) -> None:
        urgent, low = _open(manager, customer, "urgent"), _open(manager, customer, "low")
        past = utcnow() - timedelta(minutes=5)
        for ticket in (urgent, low):
            _age(session, ticket, first_response_due=past)
        assert escalate_breached(session) == 1
        assert escalate_breached(session) == 0
        shown = manager.get(f"/crm/service_records/{urgent['id']}").json()
        assert (shown["escalated"], shown["escalation_reason"]) == (True, "SLA 超时：首次响应")
        assert manager.get(f"/crm/service_records/{low['id']}").json()["escalated"] is False
        told = manager.get("/crm/notifications").json()["items"]
        assert [(n["kind"], n["object_id"]) for n in told] == [("ticket_escalated", urgent["id"])]
