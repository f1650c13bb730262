"""Daily value snapshots thin to month-ends past the tenant's window; no month is lost."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm import jobs
from crm.analytics.retention import thin
from crm.analytics.value import refresh
from crm.models import CustomerValueAnalysis, Tenant
from tests.factories import Api

TODAY = date(2026, 6, 15)


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def kept(session: Session, customer_id: int) -> list[date]:
    return list(
        session.scalars(
            select(CustomerValueAnalysis.analysis_date)
            .where(CustomerValueAnalysis.customer_id == customer_id)
            .order_by(CustomerValueAnalysis.analysis_date)
        )
    )


def test_snapshots_past_the_window_thin_to_the_last_of_each_month(admin: Api, session: Session, tenant: Tenant) -> None:
    steady = admin.create_customer(customer_name="天天快照")
    late = admin.create_customer(customer_name="中途停更")
    for day in days(date(2026, 1, 20), TODAY):  # every night since 20 January
        refresh(session, tenant, day=day, customer_id=steady["id"])
    for day in days(date(2026, 1, 20), date(2026, 2, 10)):  # then its snapshots stopped
        refresh(session, tenant, day=day, customer_id=late["id"])
    session.commit()
    assert admin.put("/crm/settings", {"value": {"snapshot_days": 30}}).status_code == 200
    session.refresh(tenant)

    # the window is 16 May – 15 June, kept daily; before it, each customer's last of each month
    # (1–15 May go: 31 May is still to come, as a later snapshot of that month)
    deleted = thin(session, tenant, day=TODAY)
    session.commit()
    recent = days(date(2026, 5, 16), TODAY)
    month_ends = [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]
    assert kept(session, steady["id"]) == [*month_ends, *recent]
    assert kept(session, late["id"]) == [date(2026, 1, 31), date(2026, 2, 10)]  # its own last of February
    assert deleted == (147 - 4 - 31) + (22 - 2)

    # a second night changes nothing more than the day that left the window
    assert thin(session, tenant, day=TODAY) == 0
    assert thin(session, tenant, day=TODAY + timedelta(days=1)) == 1  # 16 May: 31 May is later in the month
    history = admin.get(f"/crm/customers/{steady['id']}/value_analysis").json()
    shown = [row["analysis_date"] for row in [history["latest"], *history["history"]]]
    assert shown[-4:] == ["2026-04-30", "2026-03-31", "2026-02-28", "2026-01-31"]


def test_the_window_is_a_tenant_setting_with_bounds(admin: Api) -> None:
    assert admin.get("/crm/settings").json()["value"]["snapshot_days"] == 90
    refused = admin.put("/crm/settings", {"value": {"snapshot_days": 3}})
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "snapshot_days" in refused.text


def test_the_nightly_jobs_thin_the_snapshots(admin: Api, session: Session, tenant: Tenant) -> None:
    assert list(jobs.NIGHTLY)[-1] == "thin_snapshots"  # after the jobs that read today's snapshots
    customer = admin.create_customer(customer_name="旧快照")
    for day in days(date(2020, 3, 1), date(2020, 3, 3)):
        refresh(session, tenant, day=day, customer_id=customer["id"])
    session.commit()
    assert jobs.NIGHTLY["thin_snapshots"](session) == 2
    assert kept(session, customer["id"]) == [date(2020, 3, 3)]
