"""Grading by rules (§5.1): every boundary, reasons in the history, manual levels kept until released."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crm.analytics.grading import regrade
from crm.analytics.value import refresh
from crm.kit.clock import business_today
from crm.models import CustomerLevelChange, CustomerValueAnalysis, Tenant
from tests.factories import Api

TODAY = business_today()


def graded(session: Session, tenant: Tenant, admin: Api, spend: str, potential: str | None = None) -> str:
    """A customer whose analysis of today shows ``spend`` and ``potential``; the level the rules give."""
    customer = admin.create_customer(customer_name=f"定级{spend}-{potential}")
    refresh(session, tenant, customer_id=customer["id"])
    session.execute(
        update(CustomerValueAnalysis)
        .where(CustomerValueAnalysis.customer_id == customer["id"])
        .values(annual_spend=Decimal(spend), potential_value=Decimal(potential) if potential else None)
    )
    regrade(session, tenant)
    session.commit()
    return str(admin.get(f"/crm/customers/{customer['id']}").json()["customer_level"])


@pytest.mark.parametrize(
    ("spend", "potential", "level"),
    [
        ("500000.00", None, "A"),
        ("499999.99", None, "B"),
        ("0.00", "1000000.00", "A"),
        ("0.00", "999999.99", "B"),
        ("200000.00", None, "B"),
        ("199999.99", None, "C"),
        ("0.00", "500000.00", "B"),
        ("0.00", "499999.99", "C"),
        ("50000.00", None, "C"),
        ("49999.99", "199999.99", "D"),
        ("0.00", "200000.00", "C"),
        ("0.00", None, "D"),
    ],
)
def test_each_threshold_is_inclusive_and_a_cent_below_is_the_next_level(
    admin: Api, session: Session, tenant: Tenant, spend: str, potential: str | None, level: str
) -> None:
    assert graded(session, tenant, admin, spend, potential) == level


def test_the_reason_names_the_rule_and_the_figures(admin: Api, session: Session, tenant: Tenant) -> None:
    assert graded(session, tenant, admin, "523000.00", "100.00") == "A"
    change = session.scalars(select(CustomerLevelChange).where(CustomerLevelChange.source == "rule")).one()
    assert (change.old_level, change.new_level, change.changed_by) == ("D", "A", None)
    assert change.reason == (
        "按规则定级：近12个月消费 523000.00 元，预测12个月价值 100.00 元；A级：年消费≥500,000或潜在价值≥1,000,000"
    )


def test_thresholds_are_tenant_settings(admin: Api, session: Session, tenant: Tenant) -> None:
    changed = admin.put("/crm/settings", {"grading": {"a_spend": "300000", "b_spend": "100000"}})
    assert changed.status_code == 200, changed.text
    session.refresh(tenant)
    assert graded(session, tenant, admin, "300000.00") == "A"
    refused = admin.put("/crm/settings", {"grading": {"c_spend": "400000"}})  # C above B
    assert refused.status_code == 422


def test_a_manual_level_is_kept_until_a_person_releases_it(admin: Api, session: Session, tenant: Tenant) -> None:
    customer = admin.create_customer(customer_name="战略客户")
    admin.put(f"/crm/customers/{customer['id']}/level", {"level": "A", "reason": "集团战略合作"})
    refresh(session, tenant, customer_id=customer["id"])  # no orders: the rules say D
    assert regrade(session, tenant) == 0
    session.commit()
    assert admin.get(f"/crm/customers/{customer['id']}").json()["customer_level"] == "A"
    released = admin.post(f"/crm/customers/{customer['id']}/level/release", {"reason": "合作结束，按规则定级"})
    assert released.status_code == 200, released.text
    assert regrade(session, tenant) == 1
    session.commit()
    assert admin.get(f"/crm/customers/{customer['id']}").json()["customer_level"] == "D"
    sources = [h["source"] for h in admin.get(f"/crm/customers/{customer['id']}/level_history").json()["items"]]
    assert sources == ["rule", "release", "manual", "create"]


def test_the_regrade_changes_nothing_when_rerun_and_reads_only_todays_analysis(
    admin: Api, session: Session, tenant: Tenant
) -> None:
    assert graded(session, tenant, admin, "250000.00") == "B"
    assert regrade(session, tenant) == 0
    stale = admin.create_customer(customer_name="昨日数据")
    refresh(session, tenant, day=TODAY - timedelta(days=1), customer_id=stale["id"])
    session.execute(update(CustomerValueAnalysis).where(CustomerValueAnalysis.customer_id == stale["id"]).values(
        annual_spend=Decimal("900000")))  # fmt: skip
    assert regrade(session, tenant) == 0  # yesterday's figures do not grade today


def test_the_figures_in_a_rules_reason_are_shown_only_to_finance_readers(
    admin: Api, sales_a: Api, manager_east: Api, session: Session, tenant: Tenant
) -> None:
    customer = admin.create_customer(customer_name="定级金额", province="江苏", assigned_sales_id=sales_a.user.id)
    refresh(session, tenant, customer_id=customer["id"])
    session.execute(
        update(CustomerValueAnalysis)
        .where(CustomerValueAnalysis.customer_id == customer["id"])
        .values(annual_spend=Decimal("523000.00"), potential_value=Decimal("100.00"))
    )
    regrade(session, tenant)
    session.commit()

    def reasons(api: Api) -> tuple[str, str]:
        history = api.get(f"/crm/customers/{customer['id']}/level_history").json()["items"][0]
        timeline = api.get(f"/crm/customers/{customer['id']}/timeline", params={"kinds": "level_change"}).json()
        return history["reason"], timeline[0]["detail"]["reason"]

    rule = "A级：年消费≥500,000或潜在价值≥1,000,000"
    hidden = f"按规则定级：近12个月消费 *** 元，预测12个月价值 *** 元；{rule}"
    shown = f"按规则定级：近12个月消费 523000.00 元，预测12个月价值 100.00 元；{rule}"
    assert reasons(sales_a) == (hidden, hidden)
    assert reasons(manager_east) == (shown, shown)
