"""Value analysis with figures computed by hand on a small fixture, on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from crm.analytics import value
from crm.analytics.grading import regrade_all
from crm.analytics.value import refresh, refresh_all
from crm.auth.accounts import actor_for
from crm.churn.service import raise_all
from crm.cli import app
from crm.config import settings
from crm.customers.schemas import CustomerCreate
from crm.customers.service import create_customer
from crm.kit.clock import business_today
from crm.kit.db import make_engine, make_session_factory
from crm.kit.migrate import upgrade
from crm.kit.types import MONEY_MAX
from crm.models import (
    AuditLog,
    ChurnModel,
    CustomerOrder,
    CustomerReceivable,
    CustomerValueAnalysis,
    ServiceRecord,
    Tenant,
)
from crm.models.enums import Role
from crm.orders.schemas import OrderIn
from crm.orders.service import upsert_orders
from tests.factories import Api, make_tenant, make_user

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = business_today()


def noon(days_ago: int) -> str:
    """Noon, Shanghai time, ``days_ago`` business days before today."""
    return datetime.combine(TODAY - timedelta(days=days_ago), time(12), SHANGHAI).isoformat()


def _order(customer: dict, number: str, status: str, days_ago: int, amount: str, cost: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "order_no": number, "customer_id": customer["id"], "status": status,
        "order_date": noon(days_ago), "amount": amount,
    }  # fmt: skip
    if cost is not None:
        body["cost"] = cost
    return body


@pytest.fixture
def customer(admin: Api, session: Session, tenant: Tenant) -> dict:
    """Orders, tickets, interactions and referrals with known figures (see the test below)."""
    tenant.settings = {"assignment": {"enabled": False}}
    session.commit()
    made = admin.create_customer(customer_name="宁波海天精工", province="浙江")
    orders = [
        _order(made, "SO-1", "completed", 400, "10000.00", "6000.00"),  # outside the last 365 days
        _order(made, "SO-2", "paid", 100, "20000.00", "12000.00"),
        _order(made, "SO-3", "cancelled", 50, "5000.00", "1000.00"),  # not spend
        _order(made, "SO-4", "refunded", 40, "3000.00", None),  # not spend
        _order(made, "SO-5", "created", 10, "2000.00", None),  # no cost known
    ]
    assert admin.post("/crm/orders", {"orders": orders}).status_code == 200
    agent = make_user(session, tenant, Role.SERVICE_AGENT)
    ratings = {}
    for service_type, rating in (("complaint", 4), ("consultation", 2), ("other", None)):
        ticket = admin.post(
            "/crm/service_records",
            {"customer_id": made["id"], "service_type": service_type, "subject": "咨询", "description": "x",
             "assigned_staff_id": agent.id},
        ).json()  # fmt: skip
        ratings[ticket["id"]] = rating
    cancelled = list(ratings)[2]
    admin.put(f"/crm/service_records/{cancelled}/cancel", {"version": 1, "reason": "重复"})
    for ticket_id, rating in ratings.items():
        if rating is not None:
            session.execute(
                update(ServiceRecord).where(ServiceRecord.id == ticket_id).values(satisfaction_rating=rating)
            )
    session.commit()
    for minutes in (30, 15):
        logged = admin.post(
            f"/crm/customers/{made['id']}/interactions",
            {"interaction_type": "call", "interaction_direction": "outbound", "subject": "回访",
             "duration_minutes": minutes},
        )  # fmt: skip
        assert logged.status_code == 201, logged.text
    for name in ("转介绍一", "转介绍二"):
        admin.create_customer(customer_name=name, referred_by=made["id"])
    gone = admin.create_customer(customer_name="已删除的转介绍", referred_by=made["id"])
    admin.delete(f"/crm/customers/{gone['id']}")
    return made


class TestFigures:
    def test_every_figure_matches_its_definition(self, admin: Api, customer: dict) -> None:
        answer = admin.post(f"/crm/customers/{customer['id']}/value_analysis/refresh")
        assert answer.status_code == 200, answer.text
        latest = answer.json()["latest"]
        # Spend: SO-1, SO-2, SO-5 (cancelled and refunded are not spend).
        assert (latest["total_orders"], latest["total_amount"], latest["avg_order_amount"]) == (
            3, "32000.00", "10666.67",
        )  # fmt: skip
        assert latest["last_order_date"] == (TODAY - timedelta(days=10)).isoformat()
        # Months active: 400.5 days (noon 400 days ago → end of today) / 30.4375 = 13.158; 3 / 13.158 = 0.23.
        assert latest["order_frequency"] == "0.23"
        assert latest["annual_spend"] == "22000.00"  # SO-2 + SO-5
        assert latest["potential_value"] == "44000.00"  # 2 × the last 182 days (SO-2 + SO-5)
        assert (latest["satisfaction_score"], latest["complaint_count"], latest["referral_count"]) == ("3.00", 1, 2)
        # 2 tickets (the cancelled one does not count) × ¥50 + 45 minutes × ¥2.
        assert latest["service_cost"] == "190.00"
        # Orders with a cost: (30000 − 18000) / 30000 = 0.4, less 190 / 32000 = 0.0059375 → 0.3940625.
        assert latest["profit_margin"] == "0.3941"
        # 13.16 months < 60: CLV = 32000 × 0.3940625 / 13.16 × 13.16 = 12610.00.
        assert latest["customer_lifetime_value"] == "12610.00"
        assert latest["churn_probability"] is None

    def test_a_one_customer_refresh_follows_the_settings_and_gives_each_customer_its_own_figures(
        self, admin: Api, customer: dict
    ) -> None:
        def refreshed(who: dict) -> dict[str, Any]:
            answer = admin.post(f"/crm/customers/{who['id']}/value_analysis/refresh")
            assert answer.status_code == 200, answer.text
            return dict(answer.json()["latest"])

        assert refreshed(customer)["service_cost"] == "190.00"
        quiet = admin.create_customer(customer_name="另一家客户")
        assert (refreshed(quiet)["total_orders"], refreshed(quiet)["service_cost"]) == (0, "0.00")
        changed = admin.put("/crm/settings", {"value": {"cost_per_ticket": "80.00"}})
        assert changed.status_code == 200, changed.text
        again = refreshed(customer)  # the same day: the snapshot is replaced with the new cost
        assert (again["total_orders"], again["service_cost"]) == (3, "250.00")  # 2 × ¥80 + 45 min × ¥2

    def test_money_needs_the_finance_permission(
        self, admin: Api, customer: dict, sales_a: Api, session: Session
    ) -> None:
        admin.post(f"/crm/customers/{customer['id']}/value_analysis/refresh")
        analyst = Api(admin.client, make_user(session, session.get(Tenant, admin.user.tenant_id), Role.MARKETER))
        shown = analyst.get(f"/crm/customers/{customer['id']}/value_analysis").json()["latest"]
        assert shown["total_orders"] == 3
        assert (shown["total_amount"], shown["customer_lifetime_value"], shown["profit_margin"]) == (None, None, None)
        assert sales_a.get(f"/crm/customers/{customer['id']}/value_analysis").status_code == 404  # not theirs

    def test_read_only_roles_cannot_recompute_a_customers_figures(
        self, admin: Api, customer: dict, session: Session, tenant: Tenant
    ) -> None:
        path = f"/crm/customers/{customer['id']}/value_analysis/refresh"
        for role in (Role.MARKETER, Role.ANALYST, Role.FINANCE):
            reader = Api(admin.client, make_user(session, tenant, role))
            assert reader.get(f"/crm/customers/{customer['id']}/value_analysis").status_code == 200
            assert reader.post(path).status_code == 403, role
        snapshots = select(CustomerValueAnalysis.id).where(CustomerValueAnalysis.customer_id == customer["id"])
        assert session.scalar(snapshots) is None

    def test_the_customers_sales_rep_recomputes_them(self, admin: Api, sales_a: Api, customer: dict) -> None:
        admin.put(f"/crm/customers/{customer['id']}/assign_sales", {"assigned_sales_id": sales_a.user.id})
        answer = sales_a.post(f"/crm/customers/{customer['id']}/value_analysis/refresh")
        assert answer.status_code == 200, answer.text
        assert answer.json()["latest"]["total_orders"] == 3

    def test_a_customer_without_orders_has_zeros_and_no_lifetime_value(self, admin: Api) -> None:
        quiet = admin.create_customer(customer_name="新客户")
        latest = admin.post(f"/crm/customers/{quiet['id']}/value_analysis/refresh").json()["latest"]
        assert (latest["total_orders"], latest["total_amount"], latest["avg_order_amount"]) == (0, "0.00", "0.00")
        assert (latest["customer_lifetime_value"], latest["order_frequency"], latest["profit_margin"]) == (
            None, None, None,
        )  # fmt: skip

    def test_a_margin_beyond_what_the_column_holds_is_capped_and_the_night_goes_on(
        self, admin: Api, session: Session
    ) -> None:
        # A ¥1 order (cost ¥0.50) and 600 minutes of calls × ¥2: margin 0.5 − 1200 / 1 = −1199.5,
        # more than NUMERIC(7, 4) holds; stored as −999.9999 rather than failing the tenant's night.
        tiny = admin.create_customer(customer_name="小额客户")
        order = _order(tiny, "SO-T", "paid", 5, "1.00", "0.50")
        assert admin.post("/crm/orders", {"orders": [order]}).status_code == 200
        call = {"interaction_type": "call", "interaction_direction": "outbound", "subject": "长时间沟通",
                "duration_minutes": 600}  # fmt: skip
        assert admin.post(f"/crm/customers/{tiny['id']}/interactions", call).status_code == 201
        tenant = session.get(Tenant, admin.user.tenant_id)
        assert tenant is not None
        assert refresh(session, tenant) >= 1
        session.commit()
        latest = admin.get(f"/crm/customers/{tiny['id']}/value_analysis").json()["latest"]
        assert (latest["service_cost"], latest["profit_margin"]) == ("1200.00", "-999.9999")
        again = admin.post(f"/crm/customers/{tiny['id']}/value_analysis/refresh")
        assert again.status_code == 200, again.text
        assert again.json()["latest"]["profit_margin"] == "-999.9999"


def stored_orders(session: Session, tenant: Tenant, customer: dict, orders: list[tuple[str, str, str | None]]) -> None:
    """Orders written straight to the table (number, amount, cost), paid 10 days ago: as an earlier
    version stored them, before the feed bounded amounts (up to what NUMERIC(15, 2) holds)."""
    when = datetime.fromisoformat(noon(10))
    session.execute(
        insert(CustomerOrder),
        [
            {"tenant_id": tenant.id, "customer_id": customer["id"], "order_no": number, "status": "paid",
             "order_date": when, "amount": Decimal(amount), "cost": None if cost is None else Decimal(cost),
             "currency": "CNY", "status_changed_at": when, "version": 1}
            for number, amount, cost in orders
        ],
    )  # fmt: skip
    session.commit()


def snapshots_of(session: Session, tenant: Tenant) -> dict[int, CustomerValueAnalysis]:
    rows = session.scalars(
        select(CustomerValueAnalysis).where(
            CustomerValueAnalysis.tenant_id == tenant.id, CustomerValueAnalysis.analysis_date == TODAY
        )
    )
    return {row.customer_id: row for row in rows}


class TestFiguresBeyondWhatTheColumnsHold:
    """Each figure is capped at what its column holds (money at ±¥9,999,999,999,999.99), so that
    no customer's orders, however large, fail the tenant's night or the one-customer refresh."""

    def test_orders_of_trillions_do_not_stop_the_night_and_their_sums_are_capped(
        self, admin: Api, session: Session, tenant: Tenant
    ) -> None:
        huge = admin.create_customer(customer_name="万亿订单客户")
        stored_orders(session, tenant, huge, [("H-1", "5000000000000.00", None), ("H-2", "5000000000000.00", None)])
        session.add_all(
            CustomerReceivable(
                tenant_id=tenant.id,
                customer_id=huge["id"],
                reference=f"INV-H{n}",
                amount_due=Decimal("6e12"),
                due_date=TODAY - timedelta(days=40),
                overdue_days=40,
            )
            for n in (1, 2)
        )
        session.commit()
        # Costs far above the amounts: a margin of −179 on ¥100 billion, a lifetime value of −¥18 trillion.
        losing = admin.create_customer(customer_name="巨额亏损客户")
        stored_orders(session, tenant, losing, [(f"L-{n}", "50000000000.00", "9000000000000.00") for n in (1, 2)])
        plain = admin.create_customer(customer_name="普通客户")
        assert admin.post("/crm/orders", _order(plain, "P-1", "paid", 10, "800.00", "500.00")).status_code == 200

        assert refresh(session, tenant) == 3
        session.commit()
        rows = snapshots_of(session, tenant)
        big = rows[huge["id"]]
        assert (big.total_orders, big.avg_order_amount) == (2, Decimal("5000000000000.00"))
        capped = (big.total_amount, big.annual_spend, big.spend_recent, big.potential_value, big.overdue_amount)
        assert capped == (MONEY_MAX,) * 5
        loss = rows[losing["id"]]
        assert (loss.profit_margin, loss.customer_lifetime_value) == (Decimal("-179.0000"), -MONEY_MAX)
        assert (rows[plain["id"]].total_amount, rows[plain["id"]].profit_margin) == (
            Decimal("800.00"),
            Decimal("0.3750"),
        )

    def test_the_one_customer_refresh_of_such_a_customer_answers_with_the_capped_figures(
        self, admin: Api, session: Session, tenant: Tenant
    ) -> None:
        huge = admin.create_customer(customer_name="万亿订单客户")
        stored_orders(session, tenant, huge, [("H-1", "5000000000000.00", None), ("H-2", "5000000000000.00", None)])
        answer = admin.post(f"/crm/customers/{huge['id']}/value_analysis/refresh")
        assert answer.status_code == 200, answer.text
        latest = answer.json()["latest"]
        assert (latest["total_amount"], latest["potential_value"]) == ("9999999999999.99", "9999999999999.99")

    def test_orders_per_month_beyond_what_the_column_holds_are_capped(
        self, admin: Api, session: Session, tenant: Tenant
    ) -> None:
        # 100,000 orders in the customer's first month: 100,000 a month, more than NUMERIC(7, 2).
        busy = admin.create_customer(customer_name="高频下单客户")
        stored_orders(session, tenant, busy, [(f"F-{n}", "1.00", None) for n in range(100_000)])
        assert refresh(session, tenant) == 1
        session.commit()
        row = snapshots_of(session, tenant)[busy["id"]]
        assert (row.total_orders, row.order_frequency) == (100_000, Decimal("99999.99"))


class TestACustomerWhoseSnapshotCannotBeWritten:
    """The whole-tenant write falls back to batches; a customer that still fails is logged and
    recorded in the audit trail, and every other customer gets its snapshot."""

    @staticmethod
    def leave_a_stray_snapshot(session: Session, customer: dict) -> None:
        # A snapshot of the customer and day under another tenant's id (say, from a data fix by
        # hand): the night's INSERT breaks the (customer, day) key for this customer alone.
        elsewhere = make_tenant(session)
        session.add(CustomerValueAnalysis(tenant_id=elsewhere.id, customer_id=customer["id"], analysis_date=TODAY))
        session.commit()

    def test_is_recorded_and_every_other_customer_gets_its_snapshot(
        self, admin: Api, session: Session, tenant: Tenant, caplog: pytest.LogCaptureFixture
    ) -> None:
        made = [admin.create_customer(customer_name=f"批量客户{n}") for n in range(5)]
        assert admin.post("/crm/orders", _order(made[4], "S-1", "paid", 3, "880.00", None)).status_code == 200
        stuck = made[2]
        self.leave_a_stray_snapshot(session, stuck)
        with caplog.at_level(logging.INFO, logger="crm.analytics.value"):
            assert refresh(session, tenant) == 4
        session.commit()
        rows = snapshots_of(session, tenant)
        assert set(rows) == {c["id"] for c in made} - {stuck["id"]}
        assert rows[made[4]["id"]].total_amount == Decimal("880.00")
        entry = session.scalars(select(AuditLog).where(AuditLog.action == "value.refresh_failed")).one()
        assert (entry.tenant_id, entry.object_type, entry.object_id) == (tenant.id, "customer", stuck["id"])
        assert entry.detail is not None
        assert entry.detail["analysis_date"] == TODAY.isoformat()
        assert "unique" in entry.detail["error"].lower()
        errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
        assert errors == [
            f"value refresh of tenant {tenant.id} for {TODAY}: the snapshot of customer {stuck['id']} could not "
            f"be written: {entry.detail['error']}"
        ]
        summary = [r for r in caplog.records if r.levelno == logging.INFO][-1]
        assert "4 snapshots, 1 failed (audit: value.refresh_failed)" in summary.getMessage()
        shown = admin.get("/crm/audit_logs", params={"action": "value.refresh_failed"}).json()["items"]
        assert [(e["object_type"], e["object_id"]) for e in shown] == [("customer", stuck["id"])]

    def test_the_nightly_jobs_complete_around_it(self, admin: Api, session: Session, tenant: Tenant) -> None:
        made = [admin.create_customer(customer_name=f"夜间客户{n}") for n in range(3)]
        self.leave_a_stray_snapshot(session, made[0])
        assert refresh_all(session) == 2
        regrade_all(session)  # the later nightly jobs read the snapshots of the night
        raise_all(session)
        session.commit()
        assert set(snapshots_of(session, tenant)) == {made[1]["id"], made[2]["id"]}

    def test_beyond_the_most_failing_customers_the_tenants_refresh_fails_as_a_whole(
        self, admin: Api, session: Session, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # So many failing customers are no longer a few bad rows: the night fails and is retried.
        monkeypatch.setattr(value, "MOST_FAILED_CUSTOMERS", 1)
        made = [admin.create_customer(customer_name=f"故障客户{n}") for n in range(3)]
        for customer in made[:2]:
            self.leave_a_stray_snapshot(session, customer)
        with pytest.raises(IntegrityError):
            refresh(session, tenant)


class TestSnapshots:
    def test_one_snapshot_per_day_replaced_on_rerun_and_history_newest_first(
        self, admin: Api, customer: dict, session: Session
    ) -> None:
        tenant = session.get(Tenant, admin.user.tenant_id)
        assert tenant is not None
        yesterday = TODAY - timedelta(days=1)
        refresh(session, tenant, day=yesterday)
        refresh(session, tenant)
        refresh(session, tenant)  # the same day again: replaced, not added
        session.commit()
        rows = list(
            session.scalars(
                select(CustomerValueAnalysis.analysis_date).where(CustomerValueAnalysis.customer_id == customer["id"])
            )
        )
        assert sorted(rows) == [yesterday, TODAY]
        shown = admin.get(f"/crm/customers/{customer['id']}/value_analysis").json()
        assert shown["latest"]["analysis_date"] == TODAY.isoformat()
        assert [h["analysis_date"] for h in shown["history"]] == [yesterday.isoformat()]

    def test_the_nightly_refresh_covers_every_customer_of_the_tenant(
        self, admin: Api, customer: dict, session: Session
    ) -> None:
        tenant = session.get(Tenant, admin.user.tenant_id)
        assert tenant is not None
        written = refresh(session, tenant)
        session.commit()
        assert written == 3  # the customer and its two live referrals (the deleted one is left out)
        amounts = {
            row[0]: row[1]
            for row in session.execute(
                select(CustomerValueAnalysis.customer_id, CustomerValueAnalysis.total_amount).where(
                    CustomerValueAnalysis.tenant_id == tenant.id
                )
            )
        }
        assert amounts[customer["id"]] == Decimal("32000.00")

    def test_the_nightly_refresh_logs_how_many_it_wrote_and_where_its_time_went(
        self, admin: Api, customer: dict, session: Session, caplog: pytest.LogCaptureFixture
    ) -> None:
        tenant = session.get(Tenant, admin.user.tenant_id)
        assert tenant is not None
        with caplog.at_level(logging.INFO, logger="crm.analytics.value"):
            refresh(session, tenant)
        (record,) = [r for r in caplog.records if r.name == "crm.analytics.value"]
        assert f"tenant {tenant.id} for {TODAY.isoformat()}: 3 snapshots" in record.getMessage()
        steps = getattr(record, "refresh_steps", {})
        on_postgresql = session.get_bind().dialect.name == "postgresql"
        expected = {"order_figures", "snapshots"} | ({"statistics"} if on_postgresql else set())
        assert set(steps) == expected
        assert all(seconds >= 0 for seconds in steps.values())

    def test_the_nightly_refresh_after_a_one_customer_refresh_that_day_replaces_its_row(
        self, admin: Api, customer: dict, session: Session
    ) -> None:
        # The night's plain INSERT is only for a day with no snapshot yet; a customer refreshed
        # by hand earlier that day must neither fail the night nor keep two rows.
        assert admin.post(f"/crm/customers/{customer['id']}/value_analysis/refresh").status_code == 200
        tenant = session.get(Tenant, admin.user.tenant_id)
        assert tenant is not None
        assert refresh(session, tenant) == 3
        session.commit()
        days = list(
            session.scalars(
                select(CustomerValueAnalysis.analysis_date).where(CustomerValueAnalysis.tenant_id == tenant.id)
            )
        )
        assert sorted(days) == [TODAY] * 3

    def test_every_tenant_is_refreshed_in_one_transaction_each_from_its_own_orders(
        self, admin: Api, customer: dict, session: Session
    ) -> None:
        other = make_tenant(session)
        seller = make_user(session, other, Role.ADMIN)
        theirs = create_customer(
            session, actor_for(seller), CustomerCreate(customer_name="别家客户", customer_type="individual")
        )
        upsert_orders(
            session,
            actor_for(seller),
            [OrderIn.model_validate(_order({"id": theirs.id}, "X-1", "completed", 10, "700.00", None))],
        )
        session.commit()
        refresh_all(session)  # both tenants, one after the other, before one commit
        session.commit()
        by_customer = dict(
            session.execute(
                select(CustomerValueAnalysis.customer_id, CustomerValueAnalysis.total_amount).where(
                    CustomerValueAnalysis.analysis_date == TODAY
                )
            ).all()
        )
        assert by_customer[customer["id"]] == Decimal("32000.00")
        assert by_customer[theirs.id] == Decimal("700.00")
        tenant_of = dict(
            session.execute(select(CustomerValueAnalysis.customer_id, CustomerValueAnalysis.tenant_id)).all()
        )
        assert tenant_of[theirs.id] == other.id != tenant_of[customer["id"]]

    def test_a_snapshot_as_of_an_earlier_day_ignores_what_came_later(
        self, admin: Api, customer: dict, session: Session
    ) -> None:
        tenant = session.get(Tenant, admin.user.tenant_id)
        assert tenant is not None
        refresh(session, tenant, day=TODAY - timedelta(days=200), customer_id=customer["id"])
        row = session.scalars(
            select(CustomerValueAnalysis).where(
                CustomerValueAnalysis.customer_id == customer["id"],
                CustomerValueAnalysis.analysis_date == TODAY - timedelta(days=200),
            )
        ).one()
        assert (row.total_orders, row.total_amount) == (1, Decimal("10000.00"))  # only SO-1 existed
        assert date.fromisoformat(str(row.last_order_date)) == TODAY - timedelta(days=400)


def test_crm_jobs_run_nightly_writes_todays_snapshots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'nightly.db'}"
    monkeypatch.setattr(settings, "database_url", url)
    upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        tenant = make_tenant(session)
        actor = actor_for(make_user(session, tenant, Role.ADMIN))
        made = create_customer(session, actor, CustomerCreate(customer_name="夜间任务客户", customer_type="individual"))
        upsert_orders(
            session, actor, [OrderIn.model_validate(_order({"id": made.id}, "N-1", "paid", 3, "880.00", None))]
        )
        session.commit()
    today = business_today()  # not the module's TODAY: the suite may cross midnight in Shanghai
    result = CliRunner().invoke(app, ["jobs", "run", "nightly"])
    assert result.exit_code == 0, result.output
    assert "value_refresh: 1" in result.output
    assert "churn_warnings: 0" in result.output  # an order 3 days ago, created today: no risk
    with make_session_factory(engine)() as session:
        row = session.scalars(select(CustomerValueAnalysis)).one()
        assert (row.analysis_date, row.total_amount, row.lifecycle_stage) == (today, Decimal("880.00"), "new")
    trained = CliRunner().invoke(app, ["model", "train"])
    assert trained.exit_code == 0, trained.output
    assert "not used — 历史数据不足" in trained.output  # one customer is no history to learn from
    with make_session_factory(engine)() as session:
        model = session.scalars(select(ChurnModel)).one()
        assert (model.usable, model.metrics["train_rows"]) == (False, 0)
    engine.dispose()
    assert CliRunner().invoke(app, ["jobs", "run", "tomorrow"]).exit_code == 1
