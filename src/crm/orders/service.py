"""The order feed (§6.2) and the receivables feed (§6.3).

Orders arrive from the order system, one or up to 1,000 at a time, keyed by the order
system's own order number: a re-sent order updates the one held instead of duplicating it,
and an older state than the one held (by ``source_updated_at``) is ignored. A new order and
every status change write an interaction on the customer's timeline. A batch is one
transaction: one invalid order refuses the batch with the field named, and nothing is stored.

Cancelled and refunded orders stay on record but are not spend (``NOT_SPENT``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, delete, or_, select
from sqlalchemy.orm import Session

from crm.audit import service as audit
from crm.auth import fields
from crm.config import settings
from crm.customers.presenters import payment_terms
from crm.customers.scope import visible_customer
from crm.interactions.service import record_from_feed
from crm.kit.actor import Actor
from crm.kit.db import utcnow
from crm.kit.errors import ValidationFailed
from crm.models import NOT_SPENT, Customer, CustomerOrder, CustomerOrderItem, CustomerReceivable, OrderStatus
from crm.orders import schemas

STATUS_NAMES = {
    OrderStatus.CREATED: "已下单",
    OrderStatus.PAID: "已付款",
    OrderStatus.SHIPPED: "已发货",
    OrderStatus.COMPLETED: "已完成",
    OrderStatus.CANCELLED: "已取消",
    OrderStatus.REFUNDED: "已退款",
}
ORDER_FIELDS = ("status", "order_date", "amount", "cost", "currency", "customer_id")


def _field(prefix: str, index: int, name: str) -> str:
    return f"{prefix}.{index}.{name}" if prefix else name


def _customers(session: Session, actor: Actor, orders: Sequence[schemas.OrderIn], prefix: str) -> dict[int, Customer]:
    """The customer of each order (by position); 422 naming the first order whose customer is unknown."""
    ids = {o.customer_id for o in orders if o.customer_id is not None}
    codes = {o.customer_code for o in orders if o.customer_code is not None}
    found = list(
        session.scalars(
            select(Customer).where(
                Customer.tenant_id == actor.tenant_id,
                Customer.deleted_at.is_(None),
                or_(Customer.id.in_(ids), Customer.customer_code.in_(codes)),
            )
        )
    )
    by_id = {c.id: c for c in found}
    by_code = {c.customer_code: c for c in found}
    result: dict[int, Customer] = {}
    missing: list[tuple[str, str, dict[str, Any]]] = []
    for index, order in enumerate(orders):
        customer = (
            by_id.get(order.customer_id) if order.customer_id is not None else by_code.get(order.customer_code or "")
        )
        if customer is None:
            name = "customer_id" if order.customer_id is not None else "customer_code"
            missing.append((_field(prefix, index, name), "not_found", {}))
        else:
            result[index] = customer
    if missing:
        raise ValidationFailed(fields=missing[:20])
    return result


def _note_status(session: Session, actor: Actor, order: CustomerOrder, customer: Customer, when: datetime) -> None:
    amount = f"¥{order.amount:,.2f}" if order.currency == "CNY" else f"{order.amount:,.2f} {order.currency}"
    record_from_feed(
        session,
        customer=customer,
        staff_id=customer.assigned_sales_id or actor.id,
        created_by=actor.id,
        subject=f"订单 {order.order_no} {STATUS_NAMES[order.status]}",
        content=f"订单金额 {amount}",
        when=when,
    )


def _items_by_number(session: Session, held: dict[str, CustomerOrder]) -> dict[str, list[CustomerOrderItem]]:
    by_id = _items_of(session, [order.id for order in held.values()])
    return {number: by_id.get(order.id, []) for number, order in held.items()}


def _items_of(session: Session, order_ids: list[int]) -> dict[int, list[CustomerOrderItem]]:
    found: dict[int, list[CustomerOrderItem]] = {}
    for item in session.scalars(
        select(CustomerOrderItem).where(CustomerOrderItem.order_id.in_(order_ids)).order_by(CustomerOrderItem.id)
    ):
        found.setdefault(item.order_id, []).append(item)
    return found


def _item_key(item: CustomerOrderItem | schemas.OrderItemIn) -> tuple[Any, ...]:
    """What makes two item lines the same, whether held or sent."""
    return (item.product_code, item.product_name, item.category, item.quantity, item.amount)


def _result(order: CustomerOrder, outcome: schemas.Outcome) -> schemas.OrderResult:
    return schemas.OrderResult(order_no=order.order_no, id=order.id, customer_id=order.customer_id, outcome=outcome)


def upsert_orders(
    session: Session, actor: Actor, orders: Sequence[schemas.OrderIn], *, prefix: str = "orders"
) -> schemas.BatchResult:
    """Store what the order system sent; returns what happened to each order, in order.

    Built for bulk feeds: the orders held are read in one query, the new ones written in one
    flush, and the items of every order whose items changed replaced by one DELETE and one
    INSERT, so a batch of 1,000 costs a handful of statements rather than thousands.
    """
    customers = _customers(session, actor, orders, prefix)
    numbers = {o.order_no for o in orders}
    held = {
        o.order_no: o
        for o in session.scalars(
            select(CustomerOrder)
            .where(CustomerOrder.tenant_id == actor.tenant_id, CustomerOrder.order_no.in_(numbers))
            .with_for_update()
        )
    }
    items = {number: [_item_key(i) for i in rows] for number, rows in _items_by_number(session, held).items()}
    existing = set(held)
    # order_no → (order, its items as last sent), for every order whose items must be written.
    to_write: dict[str, tuple[CustomerOrder, list[schemas.OrderItemIn]]] = {}
    now = utcnow()
    outcomes: list[tuple[CustomerOrder, schemas.Outcome]] = []
    for index, sent in enumerate(orders):
        customer = customers[index]
        values = {
            "status": sent.status,
            "order_date": sent.order_date,
            "amount": sent.amount,
            "cost": sent.effective_cost,
            "currency": sent.currency,
            "customer_id": customer.id,
        }
        sent_items = [_item_key(i) for i in sent.items]
        order = held.get(sent.order_no)
        if order is None:
            order = CustomerOrder(
                tenant_id=actor.tenant_id,
                order_no=sent.order_no,
                source_updated_at=sent.source_updated_at,
                status_changed_at=sent.source_updated_at or now,
                **values,
            )
            session.add(order)
            held[sent.order_no], items[sent.order_no] = order, sent_items
            to_write[sent.order_no] = (order, sent.items)
            _note_status(session, actor, order, customer, sent.source_updated_at or sent.order_date)
            outcomes.append((order, schemas.Outcome.CREATED))
            continue
        if (
            sent.source_updated_at is not None
            and order.source_updated_at is not None
            and sent.source_updated_at < order.source_updated_at
        ):
            outcomes.append((order, schemas.Outcome.STALE))
            continue
        changed = {f: v for f, v in values.items() if getattr(order, f) != v}
        items_changed = items.get(sent.order_no, []) != sent_items
        if sent.source_updated_at is not None:
            order.source_updated_at = sent.source_updated_at
        if not changed and not items_changed:
            outcomes.append((order, schemas.Outcome.UNCHANGED))
            continue
        for field, value in changed.items():
            setattr(order, field, value)
        if "status" in changed:
            order.status_changed_at = sent.source_updated_at or now
            _note_status(session, actor, order, customer, order.status_changed_at)
        if items_changed:
            items[sent.order_no] = sent_items
            to_write[sent.order_no] = (order, sent.items)
        outcomes.append((order, schemas.Outcome.UPDATED))
    session.flush()  # the new orders get their ids
    replaced = [order.id for number, (order, _) in to_write.items() if number in existing]
    if replaced:
        session.execute(delete(CustomerOrderItem).where(CustomerOrderItem.order_id.in_(replaced)))
    session.add_all(
        CustomerOrderItem(tenant_id=order.tenant_id, order_id=order.id, **i.model_dump())
        for order, sent_items in to_write.values()
        for i in sent_items
    )
    session.flush()
    results = [_result(order, outcome) for order, outcome in outcomes]
    counts = {o: sum(1 for r in results if r.outcome == o) for o in schemas.Outcome}
    audit.record(
        session,
        "order.feed",
        actor=actor,
        object_type="order",
        detail={
            "created": counts[schemas.Outcome.CREATED],
            "updated": counts[schemas.Outcome.UPDATED],
            "unchanged": counts[schemas.Outcome.UNCHANGED],
            "stale": counts[schemas.Outcome.STALE],
            "order_nos": [r.order_no for r in results if r.outcome != schemas.Outcome.UNCHANGED][:100],
        },
    )
    return schemas.BatchResult(
        created=counts[schemas.Outcome.CREATED],
        updated=counts[schemas.Outcome.UPDATED],
        unchanged=counts[schemas.Outcome.UNCHANGED],
        stale=counts[schemas.Outcome.STALE],
        results=results,
    )


def orders_of(actor: Actor, customer_id: int, filters: schemas.OrderFilters) -> Select[CustomerOrder]:
    stmt = select(CustomerOrder).where(
        CustomerOrder.tenant_id == actor.tenant_id, CustomerOrder.customer_id == customer_id
    )
    if filters.status:
        stmt = stmt.where(CustomerOrder.status.in_(filters.status))
    if filters.ordered_from is not None:
        stmt = stmt.where(CustomerOrder.order_date >= _day_start(filters.ordered_from))
    if filters.ordered_to is not None:
        stmt = stmt.where(CustomerOrder.order_date < _day_start(filters.ordered_to, next_day=True))
    return stmt.order_by(CustomerOrder.order_date.desc(), CustomerOrder.id.desc())


def _day_start(day: date, *, next_day: bool = False) -> datetime:
    """The first moment of a business day (Asia/Shanghai)."""
    start = datetime.combine(day, time(0), ZoneInfo(settings.default_timezone))
    return start + timedelta(days=1) if next_day else start


def _item(actor: Actor, item: CustomerOrderItem) -> schemas.OrderItem:
    shown = schemas.OrderItem.model_validate(item)
    return shown.model_copy(update={"amount": fields.money(actor, shown.amount)})


def present(session: Session, actor: Actor, orders: list[CustomerOrder]) -> list[schemas.Order]:
    """The orders as ``actor`` may see them: amounts, cost and margin need the finance permission."""
    items = _items_of(session, [o.id for o in orders])
    return [
        schemas.Order(
            id=o.id,
            order_no=o.order_no,
            customer_id=o.customer_id,
            status=o.status,
            order_date=o.order_date,
            amount=fields.money(actor, o.amount),
            cost=fields.money(actor, o.cost),
            margin=fields.money(actor, o.amount - o.cost if o.cost is not None else None),
            currency=o.currency,
            counts_as_spend=o.status not in NOT_SPENT,
            status_changed_at=o.status_changed_at,
            items=[_item(actor, i) for i in items.get(o.id, [])],
            created_at=o.created_at,
            updated_at=o.updated_at,
        )
        for o in orders
    ]


# ---------------------------------------------------------------- receivables and payment terms


def upsert_receivables(
    session: Session, actor: Actor, customer_id: int, sent: Sequence[schemas.ReceivableIn]
) -> schemas.ReceivableSummary:
    customer = visible_customer(session, actor, customer_id)
    references = {r.reference for r in sent}
    held = {
        r.reference: r
        for r in session.scalars(
            select(CustomerReceivable)
            .where(CustomerReceivable.tenant_id == actor.tenant_id, CustomerReceivable.reference.in_(references))
            .with_for_update()
        )
    }
    now = utcnow()
    for index, receivable in enumerate(sent):
        row = held.get(receivable.reference)
        if row is not None and row.customer_id != customer.id:
            field = f"receivables.{index}.reference" if len(sent) > 1 else "reference"
            raise ValidationFailed(fields=[(field, "not_of_customer", {})])
        if row is None:
            row = CustomerReceivable(tenant_id=actor.tenant_id, customer_id=customer.id, reference=receivable.reference)
            session.add(row)
            held[receivable.reference] = row
        row.amount_due, row.due_date, row.overdue_days = (
            receivable.amount_due,
            receivable.due_date,
            receivable.overdue_days,
        )
        row.reported_at = now
    session.flush()
    audit.record(
        session,
        "receivable.feed",
        actor=actor,
        object_type="customer",
        object_id=customer.id,
        detail={"references": sorted(references)[:100], "count": len(sent)},
    )
    return receivable_summary(session, actor, customer)


def customer_of(session: Session, actor: Actor, customer_id: int) -> Customer:
    """The customer whose orders or receivables are asked for; 404 outside the caller's scope."""
    return visible_customer(session, actor, customer_id)


def receivable_summary(session: Session, actor: Actor, customer: Customer) -> schemas.ReceivableSummary:
    rows = list(
        session.scalars(
            select(CustomerReceivable)
            .where(CustomerReceivable.customer_id == customer.id, CustomerReceivable.amount_due > 0)
            .order_by(CustomerReceivable.due_date, CustomerReceivable.id)
        )
    )
    days, label = payment_terms(actor, customer)
    return schemas.ReceivableSummary(
        outstanding=sum((r.amount_due for r in rows), Decimal("0.00")),
        overdue=sum((r.amount_due for r in rows if r.overdue_days > 0), Decimal("0.00")),
        max_overdue_days=max((r.overdue_days for r in rows), default=0),
        credit_rating=customer.credit_rating.value if customer.credit_rating else None,
        payment_terms_days=days,
        payment_terms=label,
        receivables=[schemas.Receivable.model_validate(r) for r in rows],
    )
