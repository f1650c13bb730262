"""Behaviour analysis: RFM quintiles within the tenant, monthly spend, favourites, channel and hour, trends."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from crm.analytics.behavior import segment
from crm.analytics.value import refresh
from crm.kit.clock import business_today
from crm.models import Tenant
from tests.factories import Api

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = business_today()


def at(days_ago: int, hour: int = 12) -> str:
    return datetime.combine(TODAY - timedelta(days=days_ago), time(hour), SHANGHAI).isoformat()


def order(customer: dict, number: str, days_ago: int, amount: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"order_no": number, "customer_id": customer["id"], "status": "completed",
            "order_date": at(days_ago), "amount": amount, "items": items}  # fmt: skip


def item(code: str, category: str, quantity: int, amount: str) -> dict[str, Any]:
    return {"product_code": code, "category": category, "quantity": quantity, "amount": amount}


@pytest.fixture
def buyers(admin: Api, session: Session, tenant: Tenant) -> list[dict]:
    """Five customers: buyer n ordered n times (the latest 200 − 30n days ago); and one who never did."""
    made = [admin.create_customer(customer_name=f"买家{n}") for n in range(1, 6)]
    orders = []
    for n, customer in enumerate(made, start=1):
        for k in range(n):
            orders.append(order(customer, f"B{n}-{k}", 200 - 30 * n + k, f"{1000 * n}.00", []))
    assert admin.post("/crm/orders", {"orders": orders}).status_code == 200
    admin.create_customer(customer_name="从未下单")
    refresh(session, tenant)
    session.commit()
    return made


class TestRfm:
    def test_scores_are_quintiles_among_the_tenants_customers_with_orders(self, admin: Api, buyers: list[dict]) -> None:
        scores = []
        for customer in buyers:
            rfm = admin.get(f"/crm/customers/{customer['id']}/behavior_analysis").json()["rfm"]
            scores.append((rfm["r_score"], rfm["f_score"], rfm["m_score"]))
        # Buyer n ordered n times, n × ¥1000 each, the latest 200 − 30n days ago: each figure ranks them 1..5.
        assert scores == [(1, 1, 1), (2, 2, 2), (3, 3, 3), (4, 4, 4), (5, 5, 5)]
        best = admin.get(f"/crm/customers/{buyers[4]['id']}/behavior_analysis").json()["rfm"]
        assert (best["frequency"], best["monetary"], best["segment"]) == (5, "25000.00", "重要价值客户")
        assert best["recency_days"] == 50  # its latest order: noon 50 days ago, 50.5 days to the end of today

    def test_the_segment_follows_the_high_and_low_scores(self) -> None:
        assert segment(5, 1, 4) == "重要发展客户"
        assert segment(2, 4, 2) == "一般保持客户"
        assert segment(None, 3, 3) is None


class TestHabits:
    def test_spend_by_month_favourites_channel_hour_and_trend(
        self, admin: Api, session: Session, tenant: Tenant
    ) -> None:
        customer = admin.create_customer(customer_name="习惯分析客户")
        orders = [
            order(
                customer,
                "H-1",
                10,
                "3000.00",
                [item("P-1", "暖通设备", 1, "2500.00"), item("P-9", "配件", 5, "500.00")],
            ),
            order(customer, "H-2", 120, "1200.00", [item("P-9", "配件", 12, "1200.00")]),
        ]
        assert admin.post("/crm/orders", {"orders": orders}).status_code == 200
        for kind, days_ago, hour in (("wechat", 5, 10), ("wechat", 40, 10), ("call", 100, 15)):
            logged = admin.post(
                f"/crm/customers/{customer['id']}/interactions",
                {"interaction_type": kind, "interaction_direction": "outbound", "subject": "沟通",
                 "interaction_date": at(days_ago, hour)},
            )  # fmt: skip
            assert logged.status_code == 201, logged.text
        shown = admin.get(f"/crm/customers/{customer['id']}/behavior_analysis").json()
        months = {m["month"]: (m["orders"], m["amount"]) for m in shown["monthly_spend"]}
        assert months[(TODAY - timedelta(days=10)).strftime("%Y-%m")] == (1, "3000.00")
        assert [(c["name"], c["amount"]) for c in shown["favourite_categories"]] == [
            ("暖通设备", "2500.00"), ("配件", "1700.00"),
        ]  # fmt: skip
        assert shown["favourite_products"][0] == {"name": "P-1", "quantity": 1, "amount": "2500.00"}
        assert (shown["preferred_channel"], shown["preferred_hour"]) == ("wechat", 10)
        assert shown["last_90_days"] == {"orders": 1, "spend": "3000.00", "interactions": 2, "complaints": 0}
        assert shown["previous_90_days"] == {"orders": 1, "spend": "1200.00", "interactions": 1, "complaints": 0}
        assert shown["rfm"] is None  # no value analysis yet

    def test_amounts_need_the_finance_permission(self, admin: Api, sales_a: Api) -> None:
        customer = sales_a.create_customer(customer_name="销售自己的客户")
        body = order(customer, "F-1", 3, "800.00", [item("P-2", "服务", 1, "800.00")])
        assert admin.post("/crm/orders", body).status_code == 200
        shown = sales_a.get(f"/crm/customers/{customer['id']}/behavior_analysis").json()
        assert shown["favourite_categories"] == [{"name": "服务", "quantity": 1, "amount": None}]
        assert shown["last_90_days"]["spend"] is None
        assert shown["last_90_days"]["orders"] == 1
