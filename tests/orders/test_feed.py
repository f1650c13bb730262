"""The order feed (§6.2) and the receivables feed (§6.3): idempotent, all-or-nothing, on the timeline."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.models import CustomerInteraction, CustomerOrder, CustomerOrderItem
from tests.factories import Api


def order(customer: dict, order_no: str = "SO-20261101-001", **fields: Any) -> dict[str, Any]:
    return {
        "order_no": order_no,
        "customer_id": customer["id"],
        "status": "created",
        "order_date": "2026-11-01T10:30:00",
        "amount": "12800.00",
        "cost": "9000.00",
        "items": [
            {
                "product_code": "P-100",
                "product_name": "工业空调",
                "category": "暖通",
                "quantity": 2,
                "amount": "12800.00",
            }
        ],
        **fields,
    }


def send(admin: Api, body: dict[str, Any]) -> dict[str, Any]:
    answer = admin.post("/crm/orders", body)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


@pytest.fixture
def customer(admin: Api, sales_a: Api) -> dict:
    return admin.create_customer(
        customer_name="杭州恒温设备", province="浙江", assigned_sales_id=sales_a.user.id, credit_rating="AA"
    )


def feed_interactions(session: Session, customer: dict) -> list[str]:
    return list(
        session.scalars(
            select(CustomerInteraction.subject)
            .where(CustomerInteraction.customer_id == customer["id"], CustomerInteraction.source == "order")
            .order_by(CustomerInteraction.id)
        )
    )


class TestOrders:
    def test_a_new_order_is_stored_and_noted_on_the_timeline_without_counting_as_contact(
        self, admin: Api, sales_a: Api, customer: dict, session: Session
    ) -> None:
        result = send(admin, order(customer))
        assert (result["created"], result["results"][0]["outcome"]) == (1, "created")
        assert feed_interactions(session, customer) == ["订单 SO-20261101-001 已下单"]
        timeline = sales_a.get(f"/crm/customers/{customer['id']}/timeline", params={"kinds": "interaction"}).json()
        assert (timeline[0]["kind"], timeline[0]["detail"]["source"]) == ("interaction", "order")
        assert timeline[0]["actor_id"] == sales_a.user.id  # the customer's own rep
        assert sales_a.get(f"/crm/customers/{customer['id']}").json()["last_contact_date"] is None

    def test_re_sending_an_order_updates_it_and_notes_each_status_change_once(
        self, admin: Api, customer: dict, session: Session
    ) -> None:
        send(admin, order(customer))
        paid = send(admin, order(customer, status="paid"))
        assert paid["results"][0]["outcome"] == "updated"
        again = send(admin, order(customer, status="paid"))
        assert again["results"][0]["outcome"] == "unchanged"
        assert session.scalar(select(func.count()).select_from(CustomerOrder)) == 1
        assert feed_interactions(session, customer) == ["订单 SO-20261101-001 已下单", "订单 SO-20261101-001 已付款"]

    def test_an_older_state_sent_late_is_ignored(self, admin: Api, customer: dict) -> None:
        send(admin, order(customer, status="shipped", source_updated_at="2026-11-03T09:00:00"))
        late = send(admin, order(customer, status="paid", source_updated_at="2026-11-02T09:00:00"))
        assert late["results"][0]["outcome"] == "stale"
        shown = admin.get(f"/crm/customers/{customer['id']}/orders").json()["items"][0]
        assert shown["status"] == "shipped"

    def test_items_are_replaced_by_what_is_sent(self, admin: Api, customer: dict, session: Session) -> None:
        send(admin, order(customer))
        items = [
            {"product_code": "P-200", "category": "配件", "quantity": 5, "amount": "500.00"},
            {"product_code": "P-100", "category": "暖通", "quantity": 1, "amount": "6400.00"},
        ]
        assert send(admin, order(customer, items=items))["results"][0]["outcome"] == "updated"
        shown = admin.get(f"/crm/customers/{customer['id']}/orders").json()["items"][0]
        assert [(i["product_code"], i["quantity"]) for i in shown["items"]] == [("P-200", 5), ("P-100", 1)]
        assert session.scalar(select(func.count()).select_from(CustomerOrderItem)) == 2

    def test_a_customer_code_identifies_the_customer_and_margin_gives_the_cost(
        self, admin: Api, customer: dict
    ) -> None:
        body = order(customer, cost=None, margin="3800.00")
        del body["customer_id"], body["cost"]
        body["customer_code"] = customer["customer_code"]
        send(admin, body)
        shown = admin.get(f"/crm/customers/{customer['id']}/orders").json()["items"][0]
        assert (shown["cost"], shown["margin"]) == ("9000.00", "3800.00")

    def test_cancelled_orders_are_kept_but_are_no_spend(self, admin: Api, sales_a: Api, customer: dict) -> None:
        send(admin, order(customer, status="cancelled"))
        seen_by_rep = sales_a.get(f"/crm/customers/{customer['id']}/orders").json()["items"][0]
        assert (seen_by_rep["status"], seen_by_rep["counts_as_spend"]) == ("cancelled", False)

    def test_a_batch_with_one_unknown_customer_stores_nothing_and_names_it(
        self, admin: Api, customer: dict, session: Session
    ) -> None:
        batch = [order(customer, f"SO-{n}") for n in range(3)]
        del batch[2]["customer_id"]
        batch[2]["customer_code"] = "C99999999"
        refused = admin.post("/crm/orders", {"orders": batch})
        assert refused.status_code == 422
        assert [e["field"] for e in refused.json()["errors"]] == ["orders.2.customer_code"]
        assert session.scalar(select(func.count()).select_from(CustomerOrder)) == 0
        assert feed_interactions(session, customer) == []

    def test_a_batch_of_many_is_one_call_and_at_most_1000(self, admin: Api, customer: dict) -> None:
        result = send(admin, {"orders": [order(customer, f"SO-{n:04d}") for n in range(250)]})
        assert (result["created"], len(result["results"])) == (250, 250)
        too_many = admin.post("/crm/orders", {"orders": [order(customer, f"X-{n}") for n in range(1001)]})
        assert (too_many.status_code, too_many.json()["errors"][0]["field"]) == (422, "orders")

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"amount": "-1"}, "amount"),
            ({"status": "lost"}, "status"),
            ({"cost": "1.00", "margin": "2.00"}, ""),
            ({"items": [{"product_code": "P", "quantity": 0, "amount": "1"}]}, "items.0.quantity"),
        ],
    )
    def test_bad_orders_are_refused_with_the_field_named(
        self, admin: Api, customer: dict, change: dict[str, Any], field: str
    ) -> None:
        refused = admin.post("/crm/orders", order(customer, **change))
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] in ({field} if field else {"body", ""})

    def test_only_the_feeds_account_sends_orders(self, sales_a: Api, manager_east: Api, customer: dict) -> None:
        assert sales_a.post("/crm/orders", order(customer)).status_code == 403
        assert manager_east.post("/crm/orders", order(customer)).status_code == 403


class TestAmounts:
    """One order, line, cost or receivable carries at most ¥1,000,000,000.00 (MAX_AMOUNT)."""

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            (lambda c: order(c, amount="5000000000000.00"), "amount"),
            (lambda c: order(c, amount="1000000000.01"), "amount"),
            (lambda c: order(c, cost="5000000000000.00"), "cost"),
            (lambda c: order(c, cost=None, margin="-5000000000000.00"), "margin"),
            (lambda c: order(c, amount="999999999.00", cost=None, margin="-2.00"), "margin"),
            (
                lambda c: order(c, items=[{"product_code": "P", "quantity": 1, "amount": "5000000000000"}]),
                "items.0.amount",
            ),
            (lambda c: {"orders": [order(c), order(c, "SO-2", amount="5E+12")]}, "orders.1.amount"),
        ],
        ids=[
            "trillions",
            "one fen over",
            "cost",
            "negative margin",
            "margin making the cost too high",
            "item",
            "batch",
        ],
    )
    def test_an_amount_beyond_the_largest_is_refused_with_the_field_named_and_nothing_stored(
        self, admin: Api, customer: dict, session: Session, body: Any, field: str
    ) -> None:
        sent = {k: v for k, v in body(customer).items() if v is not None}
        refused = admin.post("/crm/orders", sent)
        assert refused.status_code == 422, refused.text
        assert [e["field"] for e in refused.json()["errors"]] == [field]
        assert session.scalar(select(func.count()).select_from(CustomerOrder)) == 0

    def test_the_largest_amount_is_accepted(self, admin: Api, customer: dict) -> None:
        largest = order(customer, amount="1000000000.00", cost=None, margin="0.00")
        assert send(admin, largest)["created"] == 1
        shown = admin.get(f"/crm/customers/{customer['id']}/orders").json()["items"][0]
        assert (shown["amount"], shown["cost"]) == ("1000000000.00", "1000000000.00")

    def test_a_receivable_beyond_the_largest_amount_is_refused_with_the_field_named(
        self, admin: Api, customer: dict
    ) -> None:
        refused = admin.post(
            f"/crm/customers/{customer['id']}/receivables",
            {"reference": "INV-BIG", "amount_due": "5000000000000.00", "due_date": "2026-12-01"},
        )
        assert (refused.status_code, [e["field"] for e in refused.json()["errors"]]) == (422, ["amount_due"])
        message = refused.json()["errors"][0]["message"]
        assert message == "不能大于 1000000000"


class TestReceivables:
    def test_receivables_are_summed_and_the_credit_rating_gives_payment_terms(
        self, admin: Api, manager_east: Api, customer: dict
    ) -> None:
        path = f"/crm/customers/{customer['id']}/receivables"
        first = admin.post(
            path, {"reference": "INV-1", "amount_due": "5000.00", "due_date": "2026-10-31", "overdue_days": 32}
        )
        assert first.status_code == 200, first.text
        both = admin.post(path, {"receivables": [
            {"reference": "INV-2", "amount_due": "3000.00", "due_date": "2026-12-31"},
            {"reference": "INV-1", "amount_due": "2000.00", "due_date": "2026-10-31", "overdue_days": 32},
        ]}).json()  # fmt: skip
        assert (both["outstanding"], both["overdue"], both["max_overdue_days"]) == ("5000.00", "2000.00", 32)
        assert (both["credit_rating"], both["payment_terms_days"], both["payment_terms"]) == ("AA", 60, "月结 60 天")
        admin.post(path, {"reference": "INV-1", "amount_due": "0", "due_date": "2026-10-31"})  # settled
        shown = manager_east.get(path).json()
        assert [r["reference"] for r in shown["receivables"]] == ["INV-2"]

    def test_payment_terms_are_a_tenant_setting(self, admin: Api, customer: dict) -> None:
        admin.put("/crm/settings", {"payment_terms": {"AA": 0}})
        shown = admin.get(f"/crm/customers/{customer['id']}/receivables").json()
        assert (shown["payment_terms_days"], shown["payment_terms"]) == (0, "款到发货")
        assert admin.get("/crm/settings").json()["payment_terms"]["AAA"] == 90

    def test_a_reference_of_another_customer_is_refused(self, admin: Api, customer: dict) -> None:
        other = admin.create_customer(customer_name="另一家")
        admin.post(
            f"/crm/customers/{customer['id']}/receivables",
            {"reference": "INV-9", "amount_due": "1", "due_date": "2026-12-01"},
        )
        refused = admin.post(
            f"/crm/customers/{other['id']}/receivables",
            {"reference": "INV-9", "amount_due": "1", "due_date": "2026-12-01"},
        )
        assert (refused.status_code, refused.json()["errors"][0]["field"]) == (422, "reference")

    def test_receivables_are_financial_data(self, sales_a: Api, customer: dict) -> None:
        assert sales_a.get(f"/crm/customers/{customer['id']}/receivables").status_code == 403


class TestMoneyFigures:
    """Money needs finance.read wherever it shows; counts, statuses and dates do not (crm.auth.fields)."""

    def test_a_sales_rep_sees_their_customers_orders_without_any_amount(
        self, admin: Api, sales_a: Api, customer: dict
    ) -> None:
        send(admin, order(customer))
        seen = sales_a.get(f"/crm/customers/{customer['id']}/orders").json()["items"][0]
        assert (seen["amount"], seen["cost"], seen["margin"]) == (None, None, None)
        assert [(i["quantity"], i["amount"]) for i in seen["items"]] == [(2, None)]
        assert (seen["order_no"], seen["status"], seen["counts_as_spend"]) == ("SO-20261101-001", "created", True)

    def test_finance_readers_see_amounts_cost_and_margin(
        self, admin: Api, manager_east: Api, finance: Api, customer: dict
    ) -> None:
        send(admin, order(customer))
        for api in (manager_east, finance):
            seen = api.get(f"/crm/customers/{customer['id']}/orders").json()["items"][0]
            assert (seen["amount"], seen["cost"], seen["margin"]) == ("12800.00", "9000.00", "3800.00")
            assert [i["amount"] for i in seen["items"]] == ["12800.00"]

    def test_the_orders_note_among_the_interactions_quotes_its_amount_only_to_finance_readers(
        self, admin: Api, sales_a: Api, manager_east: Api, customer: dict
    ) -> None:
        send(admin, order(customer))

        def note(api: Api) -> tuple[str, str]:
            shown = api.get(f"/crm/customers/{customer['id']}/interactions").json()["items"][0]
            return shown["subject"], shown["content"]

        assert note(sales_a) == ("订单 SO-20261101-001 已下单", "订单金额 ¥***")
        assert note(manager_east) == ("订单 SO-20261101-001 已下单", "订单金额 ¥12,800.00")
