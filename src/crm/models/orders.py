"""Orders from the order system (§6.2) and receivables from finance (§6.3)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm.kit.db import Base, IdMixin, TimestampMixin, utcnow
from crm.kit.types import BigIntId, Money, UTCDateTime
from crm.models.enums import db_enum


class OrderStatus(StrEnum):
    CREATED = "created"
    PAID = "paid"
    SHIPPED = "shipped"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


# Orders in these states are money the customer did not end up spending.
NOT_SPENT = frozenset({OrderStatus.CANCELLED, OrderStatus.REFUNDED})


class CustomerOrder(IdMixin, TimestampMixin, Base):
    """One order as the order system last reported it; `order_no` is that system's number."""

    __tablename__ = "customer_orders"
    __table_args__ = (
        UniqueConstraint("tenant_id", "order_no"),
        # A customer's orders by date: value analysis, behaviour analysis, the profile. On
        # PostgreSQL it also holds what one customer's figures read, so that a refresh reads
        # index pages only: orders arrive in time order, so a customer's are spread over the
        # table, about one page read per order when they are not cached.
        Index(
            "ix_customer_orders_customer_date",
            "customer_id",
            "order_date",
            postgresql_include=["tenant_id", "status", "amount", "cost"],
        ),
        Index("ix_customer_orders_tenant_date", "tenant_id", "order_date"),
    )

    tenant_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("tenants.id"))
    customer_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("customers.id"))
    order_no: Mapped[str] = mapped_column(String(64))
    status: Mapped[OrderStatus] = mapped_column(db_enum(OrderStatus, "order_status"))
    # When the customer ordered (UTC); business dates are taken in the tenant's time zone.
    order_date: Mapped[datetime] = mapped_column(UTCDateTime)
    amount: Mapped[Decimal] = mapped_column(Money)
    # What the goods cost the company; null when the order system does not say.
    cost: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    # When the order system last changed the order: a re-sent older state does not overwrite a newer one.
    source_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - read once by the declarative mapper


class CustomerOrderItem(IdMixin, Base):
    __tablename__ = "customer_order_items"
    __table_args__ = (Index("ix_customer_order_items_order_id", "order_id"),)

    tenant_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("tenants.id"))
    order_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("customer_orders.id", ondelete="CASCADE"))
    product_code: Mapped[str] = mapped_column(String(64))
    product_name: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Money)


class CustomerReceivable(IdMixin, TimestampMixin, Base):
    """An amount the customer owes, as finance last reported it; `reference` is finance's own."""

    __tablename__ = "customer_receivables"
    __table_args__ = (
        UniqueConstraint("tenant_id", "reference"),
        Index("ix_customer_receivables_customer", "customer_id", "due_date"),
    )

    tenant_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("tenants.id"))
    customer_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("customers.id"))
    reference: Mapped[str] = mapped_column(String(64))
    amount_due: Mapped[Decimal] = mapped_column(Money)
    due_date: Mapped[date] = mapped_column(Date)
    # As finance counts it on `reported_at`; 0 when not overdue. A settled receivable has amount_due 0.
    overdue_days: Mapped[int] = mapped_column(Integer, default=0)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
