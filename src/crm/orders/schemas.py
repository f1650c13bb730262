from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    RootModel,
    StringConstraints,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from crm.kit.pagination import PagedQuery
from crm.kit.validation import MAX_ID, BoundedDate, LocalDateTime, batch_shape, reject_unstorable_text
from crm.models.orders import OrderStatus

MAX_BATCH = 1_000
# The most one order, line item, cost or receivable may carry: ¥1,000,000,000.00 (10 亿). Money
# columns hold NUMERIC(15, 2), just under ¥10 trillion: the sum of 9,999 of the largest orders
# still fits, and beyond that the value analysis caps its figures at what its columns hold.
MAX_AMOUNT = Decimal("1000000000.00")
Money = Annotated[Decimal, Field(ge=0, le=int(MAX_AMOUNT), decimal_places=2)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class _Write(BaseModel):
    model_config = ConfigDict(extra="forbid")
    _storable = field_validator("*", mode="before")(reject_unstorable_text)


class OrderItemIn(_Write):
    product_code: Code
    product_name: Name | None = None
    category: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] | None = None
    quantity: int = Field(ge=1, le=10_000_000)
    amount: Money


class OrderIn(_Write):
    """One order as the order system has it now; re-sending the same `order_no` updates it."""

    order_no: Code = Field(description="The order system's own order number: the key of the feed")
    customer_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="Our id, or give customer_code")
    customer_code: Code | None = None
    status: OrderStatus
    order_date: LocalDateTime = Field(description="When the customer ordered; without an offset, Asia/Shanghai")
    amount: Money
    cost: Money | None = Field(default=None, description="What the goods cost; or give margin")
    margin: Annotated[Decimal, Field(ge=-int(MAX_AMOUNT), le=int(MAX_AMOUNT), decimal_places=2)] | None = Field(
        default=None, description="amount − cost, when the order system reports margin instead of cost"
    )
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "CNY"
    source_updated_at: LocalDateTime | None = Field(
        default=None, description="When the order system last changed it: an older re-send is ignored"
    )
    items: Annotated[list[OrderItemIn], Field(max_length=500)] = Field(default_factory=list)

    @field_validator("margin")
    @classmethod
    def _cost_within_the_largest_amount(cls, margin: Decimal | None, info: ValidationInfo) -> Decimal | None:
        amount = info.data.get("amount")
        if margin is not None and amount is not None and amount - margin > MAX_AMOUNT:
            raise PydanticCustomError(
                "margin_too_low", "The cost (amount − margin) would exceed {le}", {"le": int(MAX_AMOUNT)}
            )
        return margin

    @model_validator(mode="after")
    def _one_customer_key_and_one_cost(self) -> OrderIn:
        if (self.customer_id is None) == (self.customer_code is None):
            raise PydanticCustomError("value_error", "give either customer_id or customer_code")
        if self.cost is not None and self.margin is not None:
            raise PydanticCustomError("value_error", "give cost or margin, not both")
        if self.margin is not None and self.margin > self.amount:
            raise PydanticCustomError("value_error", "the margin cannot exceed the amount")
        return self

    @property
    def effective_cost(self) -> Decimal | None:
        return self.amount - self.margin if self.margin is not None else self.cost


class OrderBatch(_Write):
    orders: Annotated[list[OrderIn], Field(min_length=1, max_length=MAX_BATCH)]


class OrdersBody(RootModel[Annotated[
    Annotated[OrderIn, Tag("tagged-one")] | Annotated[OrderBatch, Tag("tagged-batch")],
    Discriminator(batch_shape("orders")),
]]):  # fmt: skip
    """One order, or `{"orders": [...]}` (see crm.kit.validation.batch_shape)."""

    def orders(self) -> list[OrderIn]:
        return self.root.orders if isinstance(self.root, OrderBatch) else [self.root]


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    STALE = "stale"  # an older state than the one held: ignored


class OrderResult(BaseModel):
    order_no: str
    id: int
    customer_id: int
    outcome: Outcome


class BatchResult(BaseModel):
    created: int
    updated: int
    unchanged: int
    stale: int
    results: list[OrderResult]


class OrderItem(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    product_code: str
    product_name: str | None
    category: str | None
    quantity: int
    amount: Decimal | None = Field(description="Null without the finance permission")


class Order(BaseModel):
    id: int
    order_no: str
    customer_id: int
    status: OrderStatus
    order_date: datetime
    amount: Decimal | None = Field(description="Null without the finance permission")
    cost: Decimal | None = Field(description="Null without the finance permission")
    margin: Decimal | None = Field(description="amount − cost; null without the finance permission")
    currency: str
    counts_as_spend: bool = Field(description="False for cancelled and refunded orders")
    status_changed_at: datetime
    items: list[OrderItem]
    created_at: datetime
    updated_at: datetime


class OrderFilters(PagedQuery):
    status: list[OrderStatus] | None = None
    ordered_from: BoundedDate | None = None
    ordered_to: BoundedDate | None = None


# ---------------------------------------------------------------- receivables


class ReceivableIn(_Write):
    reference: Code = Field(description="Finance's own reference (invoice no.): re-sending it updates")
    amount_due: Money = Field(description="Still owed; 0 once settled")
    due_date: BoundedDate
    overdue_days: int = Field(default=0, ge=0, le=36_500, description="Days past due, as finance counts them")


class ReceivableBatch(_Write):
    receivables: Annotated[list[ReceivableIn], Field(min_length=1, max_length=MAX_BATCH)]


class ReceivablesBody(RootModel[Annotated[
    Annotated[ReceivableIn, Tag("tagged-one")] | Annotated[ReceivableBatch, Tag("tagged-batch")],
    Discriminator(batch_shape("receivables")),
]]):  # fmt: skip
    """One receivable, or `{"receivables": [...]}`."""

    def receivables(self) -> list[ReceivableIn]:
        return self.root.receivables if isinstance(self.root, ReceivableBatch) else [self.root]


class Receivable(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    reference: str
    amount_due: Decimal
    due_date: date
    overdue_days: int
    reported_at: datetime


class ReceivableSummary(BaseModel):
    """What the customer owes, and the payment terms their credit rating earns."""

    outstanding: Decimal
    overdue: Decimal
    max_overdue_days: int
    credit_rating: str | None
    payment_terms_days: int | None = Field(description="Days to pay granted by the credit rating (0: pay first)")
    payment_terms: str | None
    receivables: list[Receivable]
