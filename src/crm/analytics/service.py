"""Reading and refreshing a customer's value analysis, within the reader's scope and rights."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crm.analytics import repository, schemas, value
from crm.auth import fields
from crm.customers.scope import visible_customer
from crm.kit.actor import Actor
from crm.kit.errors import NotFound
from crm.models import CustomerValueAnalysis

HISTORY = 400
MONEY = ("total_amount", "avg_order_amount", "customer_lifetime_value", "service_cost", "profit_margin",
         "annual_spend", "potential_value")  # fmt: skip


def _shown(actor: Actor, row: CustomerValueAnalysis) -> schemas.ValueSnapshot:
    snapshot = schemas.ValueSnapshot.model_validate(row)
    if fields.sees_money(actor):
        return snapshot
    return snapshot.model_copy(update=dict.fromkeys(MONEY))


def value_analysis(session: Session, actor: Actor, customer_id: int) -> schemas.ValueAnalysis:
    customer = visible_customer(session, actor, customer_id)
    rows = repository.value_history(session, customer.id, HISTORY + 1)
    shown = [_shown(actor, r) for r in rows]
    return schemas.ValueAnalysis(customer_id=customer.id, latest=shown[0] if shown else None, history=shown[1:])


def refresh_one(session: Session, actor: Actor, customer_id: int) -> schemas.ValueAnalysis:
    customer = visible_customer(session, actor, customer_id)
    tenant = repository.tenant(session, actor.tenant_id)
    if tenant is None:
        raise NotFound("tenant")
    value.refresh(session, tenant, customer_id=customer.id)
    session.flush()
    session.expire_all()
    return value_analysis(session, actor, customer.id)
