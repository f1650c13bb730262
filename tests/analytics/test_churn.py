"""Churn warning (§2.4, §5.2): rule boundaries, warnings and retention tasks, lifecycle, the model."""

from __future__ import annotations

import random
from dataclasses import fields
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from crm.analytics import churn
from crm.analytics.prediction import train
from crm.analytics.value import refresh
from crm.churn.service import raise_warnings
from crm.kit.clock import business_today
from crm.models import ChurnWarning, CustomerValueAnalysis, Notification, Tenant
from crm.models.enums import Role
from tests.factories import Api, make_user

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = business_today()


def noon(days_ago: int) -> str:
    return datetime.combine(TODAY - timedelta(days=days_ago), time(12), SHANGHAI).isoformat()


def orders(admin: Api, customer: dict, *days_ago: int, amount: str = "1000.00", prefix: str = "") -> None:
    body = [
        {"order_no": f"{prefix}C{customer['id']}-{n}", "customer_id": customer["id"], "status": "completed",
         "order_date": noon(days), "amount": amount}
        for n, days in enumerate(days_ago)
    ]  # fmt: skip
    answer = admin.post("/crm/orders", {"orders": body})
    assert answer.status_code == 200, answer.text


def contact(admin: Api, customer: dict, days_ago: int) -> None:
    logged = admin.post(
        f"/crm/customers/{customer['id']}/interactions",
        {"interaction_type": "call", "interaction_direction": "outbound", "subject": "回访",
         "interaction_date": noon(days_ago)},
    )  # fmt: skip
    assert logged.status_code == 201, logged.text


def assessed(session: Session, tenant: Tenant, customer: dict) -> CustomerValueAnalysis:
    refresh(session, tenant, customer_id=customer["id"])
    session.commit()
    row = session.scalars(
        select(CustomerValueAnalysis).where(
            CustomerValueAnalysis.customer_id == customer["id"], CustomerValueAnalysis.analysis_date == TODAY
        )
    ).one()
    session.refresh(row)
    return row


@pytest.fixture(autouse=True)
def _no_assignment(session: Session, tenant: Tenant) -> None:
    tenant.settings = {"assignment": {"enabled": False}}
    session.commit()


class TestRules:
    @pytest.mark.parametrize(("last_order", "risk"), [(90, "high"), (89, None)])
    def test_high_no_order_for_90_days_from_a_historically_active_customer(
        self, admin: Api, session: Session, tenant: Tenant, last_order: int, risk: str | None
    ) -> None:
        customer = admin.create_customer(customer_name=f"停购{last_order}")
        orders(admin, customer, last_order, last_order + 30, last_order + 60)
        contact(admin, customer, 1)  # in touch: only the order rule can speak
        row = assessed(session, tenant, customer)
        assert row.churn_risk == risk
        if risk:
            assert row.churn_rule == "no_order"
            assert row.churn_reason == (
                f"高风险：已{last_order}天未下单，此前365天内下单3次（规则：90天未下单且此前365天内至少3单）"
            )

    def test_two_orders_before_the_quiet_days_are_not_historically_active(
        self, admin: Api, session: Session, tenant: Tenant
    ) -> None:
        customer = admin.create_customer(customer_name="偶尔下单")
        orders(admin, customer, 100, 200)
        contact(admin, customer, 1)
        assert assessed(session, tenant, customer).churn_risk is None

    @pytest.mark.parametrize(("quiet", "risk", "rule"), [(60, "medium", "quiet_declining"), (59, "low", "quiet")])
    def test_medium_no_interaction_for_60_days_and_spend_falling(
        self, admin: Api, session: Session, tenant: Tenant, quiet: int, risk: str, rule: str
    ) -> None:
        customer = admin.create_customer(customer_name=f"沉默{quiet}")
        orders(admin, customer, 10, amount="1000.00", prefix="r")  # last 90 days: 1,000
        orders(admin, customer, 120, amount="5000.00", prefix="p")  # the 90 days before: 5,000
        contact(admin, customer, quiet)
        row = assessed(session, tenant, customer)
        assert (row.churn_risk, row.churn_rule) == (risk, rule)
        assert (row.days_since_interaction, str(row.spend_recent), str(row.spend_previous)) == (
            quiet, "1000.00", "5000.00",
        )  # fmt: skip

    def test_no_interaction_for_60_days_with_stable_spend_is_low(
        self, admin: Api, session: Session, tenant: Tenant
    ) -> None:
        customer = admin.create_customer(customer_name="稳定但沉默")
        orders(admin, customer, 10, 120)
        contact(admin, customer, 70)
        row = assessed(session, tenant, customer)
        assert (row.churn_risk, row.churn_reason) == ("low", "低风险：已70天未互动（规则：30天未互动）")

    @pytest.mark.parametrize(("quiet", "risk"), [(30, "low"), (29, None)])
    def test_low_no_interaction_for_30_days(
        self, admin: Api, session: Session, tenant: Tenant, quiet: int, risk: str | None
    ) -> None:
        customer = admin.create_customer(customer_name=f"低风险{quiet}")
        orders(admin, customer, 5)
        contact(admin, customer, quiet)
        assert assessed(session, tenant, customer).churn_risk == risk

    @pytest.mark.parametrize(("overdue", "risk"), [(29, None), (30, "medium"), (89, "medium"), (90, "high")])
    def test_overdue_receivables_raise_the_risk(
        self, admin: Api, session: Session, tenant: Tenant, overdue: int, risk: str | None
    ) -> None:
        customer = admin.create_customer(customer_name=f"逾期{overdue}")
        orders(admin, customer, 5)
        contact(admin, customer, 1)
        due = (TODAY - timedelta(days=overdue)).isoformat()
        sent = admin.post(
            f"/crm/customers/{customer['id']}/receivables",
            {"reference": f"AR-{overdue}", "amount_due": "8000.00", "due_date": due, "overdue_days": overdue},
        )
        assert sent.status_code in (200, 201), sent.text
        row = assessed(session, tenant, customer)
        assert (row.churn_risk, row.overdue_days, str(row.overdue_amount)) == (risk, overdue, "8000.00")

    def test_thresholds_are_tenant_settings(self, admin: Api, session: Session, tenant: Tenant) -> None:
        changed = admin.put(
            "/crm/settings", {"churn": {"low_no_interaction_days": 10, "playbook": {"A.low": "总监致电"}}}
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["churn"]["playbook"]["high"].startswith("客户经理三日内上门拜访")  # defaults kept
        session.refresh(tenant)
        customer = admin.create_customer(customer_name="十天未联系")
        orders(admin, customer, 5)
        contact(admin, customer, 10)
        assert assessed(session, tenant, customer).churn_risk == "low"
        refused = admin.put("/crm/settings", {"churn": {"low_no_interaction_days": 90}})  # above medium's 60
        assert refused.status_code == 422


class TestLifecycle:
    @pytest.mark.parametrize(
        ("order_days", "stage"),
        [
            ((), "prospect"),
            ((20,), "new"),
            ((20, 200, 300), "active"),
            ((200, 300), "churned"),
            ((20, 400), "won_back"),
        ],
    )
    def test_stage_from_the_order_history(
        self, admin: Api, session: Session, tenant: Tenant, order_days: tuple[int, ...], stage: str
    ) -> None:
        customer = admin.create_customer(customer_name=f"阶段{stage}")
        if order_days:
            orders(admin, customer, *order_days)
        contact(admin, customer, 1)
        assert assessed(session, tenant, customer).lifecycle_stage == stage
        profile = admin.get(f"/crm/customers/{customer['id']}").json()
        assert profile["lifecycle_stage"] == stage


class TestWarnings:
    def at_risk(self, admin: Api, session: Session, tenant: Tenant, owner: Any) -> dict:
        customer = admin.create_customer(customer_name="流失风险客户", assigned_sales_id=owner.id, region="华东")
        orders(admin, customer, 100, 130, 160)
        contact(admin, customer, 1)
        refresh(session, tenant)
        session.commit()
        return customer

    def warned_in(self, admin: Api, session: Session, tenant: Tenant, owner: Any, *provinces: str) -> list[dict]:
        """One high-risk customer of ``owner`` in each province, their warnings raised."""
        customers = [admin.create_customer(province=p, assigned_sales_id=owner.id) for p in provinces]
        for customer in customers:
            orders(admin, customer, 100, 130, 160)
            contact(admin, customer, 1)
        refresh(session, tenant)
        session.commit()
        assert raise_warnings(session, tenant) == len(provinces)
        session.commit()
        return customers

    def test_a_warning_opens_a_task_with_the_playbook_strategy_and_notifies_the_owner(
        self, admin: Api, session: Session, tenant: Tenant, sales_a: Api
    ) -> None:
        customer = self.at_risk(admin, session, tenant, sales_a.user)
        assert raise_warnings(session, tenant) == 1
        assert raise_warnings(session, tenant) == 0  # a rerun opens nothing new
        session.commit()
        listed = sales_a.get("/crm/churn_warnings", params={"risk_level": "high"}).json()
        assert listed["total"] == 1
        warning = listed["items"][0]
        assert (warning["customer_id"], warning["status"], warning["rule"]) == (customer["id"], "open", "no_order")
        assert warning["strategy"].startswith("客户经理三日内上门拜访")
        assert warning["due_date"] == (TODAY + timedelta(days=3)).isoformat()
        notes = session.scalars(select(Notification).where(Notification.user_id == sales_a.user.id)).all()
        assert [n.kind for n in notes if n.kind == "churn_warning"] == ["churn_warning"]
        assert sales_a.get("/crm/churn_warnings", params={"region": "华北"}).json()["total"] == 0
        summary = sales_a.get("/crm/churn_warnings/summary").json()
        assert {r["risk_level"]: r["count"] for r in summary["active"]} == {"high": 1, "medium": 0, "low": 0}

    def test_the_summary_counts_only_the_warnings_of_the_region_asked(
        self, admin: Api, session: Session, tenant: Tenant, sales_a: Api
    ) -> None:
        self.warned_in(admin, session, tenant, sales_a.user, "江苏", "广东")

        def high(**params: str) -> int:
            answer = admin.get("/crm/churn_warnings/summary", params=params)
            assert answer.status_code == 200, answer.text
            return next(r["count"] for r in answer.json()["active"] if r["risk_level"] == "high")

        assert (high(), high(region="华东"), high(region="华南"), high(region="西北")) == (2, 1, 1, 0)
        refused = admin.get("/crm/churn_warnings/summary", params={"region": "火星"})
        assert (refused.status_code, refused.json()["errors"][0]["field"]) == (422, "region")

    def test_a_deleted_customers_warning_leaves_the_list_and_the_summary(
        self, admin: Api, session: Session, tenant: Tenant, sales_a: Api
    ) -> None:
        kept, dropped = self.warned_in(admin, session, tenant, sales_a.user, "江苏", "广东")
        assert admin.delete(f"/crm/customers/{dropped['id']}").status_code == 204

        for who in (admin, sales_a):  # tenant-wide and own-customers scope
            listed = who.get("/crm/churn_warnings").json()
            assert [w["customer_id"] for w in listed["items"]] == [kept["id"]]
            summary = who.get("/crm/churn_warnings/summary").json()
            assert {r["risk_level"]: r["count"] for r in summary["active"]} == {"high": 1, "medium": 0, "low": 0}
            in_south = who.get("/crm/churn_warnings/summary", params={"region": "华南"}).json()
            assert sum(r["count"] for r in in_south["active"]) == 0

    def test_a_removed_level_entry_of_the_playbook_falls_back_to_the_risks_strategy(
        self, admin: Api, session: Session, tenant: Tenant, sales_a: Api
    ) -> None:
        own = {"A.high": "总经理亲自登门", "high": "大区经理三日内拜访"}
        assert admin.put("/crm/settings", {"churn": {"playbook": own}}).status_code == 200
        removed = admin.put("/crm/settings", {"churn": {"playbook": {"A.high": None}}})
        assert removed.status_code == 200, removed.text
        playbook = removed.json()["churn"]["playbook"]
        assert "A.high" not in playbook
        assert (playbook["high"], playbook["low"][:3]) == ("大区经理三日内拜访", "两周内")  # the others stay
        session.refresh(tenant)
        customer = self.at_risk(admin, session, tenant, sales_a.user)
        graded = admin.put(f"/crm/customers/{customer['id']}/level", {"level": "A", "reason": "重点客户"})
        assert graded.status_code == 200, graded.text
        refresh(session, tenant)
        assert raise_warnings(session, tenant) == 1
        session.commit()
        [warning] = sales_a.get("/crm/churn_warnings").json()["items"]
        assert (warning["customer_level"], warning["strategy"]) == ("A", "大区经理三日内拜访")

    def test_a_rep_sees_who_recorded_each_action_without_listing_users(
        self, admin: Api, session: Session, tenant: Tenant, sales_a: Api, manager_east: Api
    ) -> None:
        sales_a.user.display_name, manager_east.user.display_name = "张销售", "李经理"
        session.commit()
        self.at_risk(admin, session, tenant, sales_a.user)
        raise_warnings(session, tenant)
        session.commit()
        warning_id = session.scalars(select(ChurnWarning.id)).one()
        for api, text in ((sales_a, "电话沟通续约"), (manager_east, "经理上门拜访")):
            acted = api.post(f"/crm/churn_warnings/{warning_id}/actions", {"action_type": "call", "content": text})
            assert acted.status_code == 201, acted.text
        assert sales_a.get("/crm/users").status_code == 403
        detail = sales_a.get(f"/crm/churn_warnings/{warning_id}")
        assert detail.status_code == 200, detail.text
        assert [(a["content"], a["staff_id"], a["staff_name"]) for a in detail.json()["actions"]] == [
            ("电话沟通续约", sales_a.user.id, "张销售"),
            ("经理上门拜访", manager_east.user.id, "李经理"),
        ]

    def test_another_owner_does_not_see_the_warning(
        self, admin: Api, session: Session, tenant: Tenant, sales_a: Api, sales_b: Api
    ) -> None:
        self.at_risk(admin, session, tenant, sales_a.user)
        raise_warnings(session, tenant)
        session.commit()
        assert sales_b.get("/crm/churn_warnings").json()["total"] == 0
        warning_id = session.scalars(select(ChurnWarning.id)).one()
        assert sales_b.get(f"/crm/churn_warnings/{warning_id}").status_code == 404

    def test_actions_and_the_outcome_are_tracked_and_lost_means_churned(
        self, admin: Api, session: Session, tenant: Tenant, sales_a: Api
    ) -> None:
        customer = self.at_risk(admin, session, tenant, sales_a.user)
        raise_warnings(session, tenant)
        session.commit()
        warning_id = session.scalars(select(ChurnWarning.id)).one()
        acted = sales_a.post(
            f"/crm/churn_warnings/{warning_id}/actions", {"action_type": "visit", "content": "上门了解停购原因"}
        )
        assert acted.status_code == 201, acted.text
        assert acted.json()["status"] == "in_progress"
        assert [a["action_type"] for a in acted.json()["actions"]] == ["visit"]
        timeline = sales_a.get(f"/crm/customers/{customer['id']}/interactions").json()["items"]
        assert timeline[0]["subject"] == "流失挽回：上门拜访"
        stale = sales_a.put(f"/crm/churn_warnings/{warning_id}/outcome", {"outcome": "lost", "version": 99})
        assert stale.status_code == 409
        version = acted.json()["version"]
        closed = sales_a.put(
            f"/crm/churn_warnings/{warning_id}/outcome", {"outcome": "lost", "note": "转向竞品", "version": version}
        )
        assert closed.status_code == 200, closed.text
        assert (closed.json()["status"], closed.json()["outcome_note"]) == ("lost", "转向竞品")
        again = sales_a.put(
            f"/crm/churn_warnings/{warning_id}/outcome", {"outcome": "retained", "version": version + 1}
        )
        assert again.status_code == 409
        assert sales_a.get(f"/crm/customers/{customer['id']}").json()["lifecycle_stage"] == "churned"
        late = sales_a.post(f"/crm/churn_warnings/{warning_id}/actions", {"action_type": "call", "content": "再联系"})
        assert late.status_code == 409

    def test_an_untouched_warning_clears_when_the_risk_goes_away(
        self, admin: Api, session: Session, tenant: Tenant, sales_a: Api
    ) -> None:
        customer = self.at_risk(admin, session, tenant, sales_a.user)
        raise_warnings(session, tenant)
        orders(admin, customer, 1, prefix="again")
        refresh(session, tenant)
        raise_warnings(session, tenant)
        session.commit()
        assert session.scalars(select(ChurnWarning.status)).one() == "cleared"

    def test_without_a_snapshot_of_the_day_nothing_is_cleared(
        self, admin: Api, session: Session, tenant: Tenant, sales_a: Api
    ) -> None:
        self.at_risk(admin, session, tenant, sales_a.user)
        raise_warnings(session, tenant)
        raise_warnings(session, tenant, day=TODAY + timedelta(days=1))  # the refresh has not run for that day
        session.commit()
        assert session.scalars(select(ChurnWarning.status)).one() == "open"

    def test_bad_filters_are_422(self, admin: Api) -> None:
        assert admin.get("/crm/churn_warnings", params={"risk_level": "extreme"}).status_code == 422


def synthetic_history(admin: Api, session: Session, tenant: Tenant, customers: int = 260) -> None:
    """Two years of orders where the chance to stop buying rises with complaints and falling spend
    (the mechanism), not with silence (what the rules watch)."""
    rng = random.Random(7)  # noqa: S311 - data, not secrets
    agent = make_user(session, tenant, Role.SERVICE_AGENT)
    batch: list[dict[str, Any]] = []
    for n in range(customers):
        customer = admin.create_customer(customer_name=f"合成客户{n}")
        unhappy = rng.random() < 0.4
        if unhappy:
            for _ in range(2):
                admin.post(
                    "/crm/service_records",
                    {"customer_id": customer["id"], "service_type": "complaint", "subject": "投诉", "description": "x",
                     "assigned_staff_id": agent.id},
                )  # fmt: skip
        # Every customer buys every ~25 days; each month an unhappy one may stop for good.
        day = 720 - rng.randint(0, 30)
        while day > 0:
            batch.append({"order_no": f"S{n}-{day}", "customer_id": customer["id"], "status": "completed",
                          "order_date": noon(day), "amount": f"{rng.randint(500, 3000)}.00"})  # fmt: skip
            if unhappy and rng.random() < 0.12:
                break
            if not unhappy and rng.random() < 0.01:
                break
            day -= rng.randint(15, 35)
        if len(batch) > 800:
            assert admin.post("/crm/orders", {"orders": batch}).status_code == 200
            batch = []
    if batch:
        assert admin.post("/crm/orders", {"orders": batch}).status_code == 200


class TestModel:
    def test_the_feature_names_are_the_expressions_the_refresh_evaluates_in_order(self) -> None:
        inputs = churn.FeatureInputs(*(literal(index) for index in range(len(fields(churn.FeatureInputs)))))
        assert tuple(churn.feature_expressions(inputs)) == churn.FEATURES

    def test_without_enough_history_the_rules_alone_apply_and_the_api_says_so(
        self, admin: Api, session: Session, tenant: Tenant
    ) -> None:
        assert admin.get("/crm/churn_model").json()["basis"] == "rules"
        customer = admin.create_customer(customer_name="唯一客户")
        orders(admin, customer, 10)
        trained = admin.post("/crm/churn_model/train")
        assert trained.status_code == 200, trained.text
        assert trained.json()["basis"] == "rules"
        assert "历史数据不足" in trained.json()["message"]
        assert assessed(session, tenant, customer).churn_probability is None

    def test_the_model_beats_the_rules_on_a_known_mechanism_and_scores_nightly(
        self, admin: Api, session: Session, tenant: Tenant
    ) -> None:
        synthetic_history(admin, session, tenant)
        model = train(session, tenant.id)
        session.commit()
        metrics = model.metrics
        print(f"synthetic history: ROC AUC model {metrics['auc_model']}, rules {metrics['auc_rules']}")  # noqa: T201
        assert model.usable, metrics
        assert metrics["auc_model"] > 0.65, metrics
        assert metrics["auc_model"] > (metrics["auc_rules"] or 0.5), metrics
        assert metrics["potential_value"]["customers"] > 0
        refresh(session, tenant)
        session.commit()
        scored = session.scalars(
            select(CustomerValueAnalysis.churn_probability).where(
                CustomerValueAnalysis.analysis_date == TODAY, CustomerValueAnalysis.total_orders > 0
            )
        ).all()
        assert scored
        assert all(p is not None and 0 <= p <= 1 for p in scored)
        assert admin.get("/crm/churn_model").json()["basis"] == "model"
