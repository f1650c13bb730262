"""Grading by rules (§5.1): the nightly regrade of every customer from today's value analysis.

A customer is graded A when their annual spend (last 365 days) or their potential value (the
predicted next 12 months) reaches the A thresholds, else B, else C, else D; the thresholds are
tenant settings (by default A 500,000 / 1,000,000, B 200,000 / 500,000, C 50,000 / 200,000).

A level set by a person (``PUT /customers/{id}/level``) is kept: the regrade leaves every
customer whose latest level change is a manual one, until a person releases it
(``POST /customers/{id}/level/release``). Every change the rules make is written to the level
history with its reason: the rule that matched and the figures.

Set-based: one INSERT … SELECT writes the history of every customer whose level changes, one
UPDATE … FROM moves their levels; no loop over customers.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, case, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session

from crm.audit import service as audit
from crm.kit.clock import business_today
from crm.kit.db import utcnow
from crm.kit.dialects import money_text
from crm.kit.types import UTCDateTime
from crm.models import Customer, CustomerLevelChange, CustomerValueAnalysis, Tenant
from crm.models.enums import CustomerLevel
from crm.tenants.schemas import GradingRules
from crm.tenants.service import settings_of

MANUAL = "manual"  # set by a person: kept until released
RULE = "rule"  # set by the nightly regrade
RELEASED = "release"  # a person handed the level back to the rules


def _yuan(amount: Decimal) -> str:
    return f"{amount:,.0f}"


def rule_text(rules: GradingRules, level: CustomerLevel) -> str:
    """The rule of a level, in words, as the history shows it."""
    if level == CustomerLevel.D:
        return f"D级：年消费<{_yuan(rules.c_spend)}且潜在价值<{_yuan(rules.c_potential)}"
    spend, potential = {
        CustomerLevel.A: (rules.a_spend, rules.a_potential),
        CustomerLevel.B: (rules.b_spend, rules.b_potential),
        CustomerLevel.C: (rules.c_spend, rules.c_potential),
    }[level]
    return f"{level.value}级：年消费≥{_yuan(spend)}或潜在价值≥{_yuan(potential)}"


def target_level(rules: GradingRules, annual: Any, potential: Any) -> Any:
    """The level the rules give, as SQL (the thresholds are bound as Money, so stored units match)."""

    def reached(spend: Decimal, value: Decimal) -> Any:
        return or_(annual >= spend, func.coalesce(potential, Decimal(0)) >= value)

    return case(
        (reached(rules.a_spend, rules.a_potential), CustomerLevel.A.value),
        (reached(rules.b_spend, rules.b_potential), CustomerLevel.B.value),
        (reached(rules.c_spend, rules.c_potential), CustomerLevel.C.value),
        else_=CustomerLevel.D.value,
    )


def _changes(session: Session, tenant: Tenant, day: date) -> Select[Any]:
    """The customers whose level the rules change today: id, old, new, and the reason."""
    dialect = session.get_bind().dialect.name
    rules = settings_of(tenant).grading
    snapshot = CustomerValueAnalysis
    # Customers whose latest level change was made by a person, in one pass over the history
    # (a hashed NOT IN, evaluated once): correlated per-customer lookups were planned as scans
    # that, inside the INSERT into the same history, also passed every row already inserted —
    # quadratic in the number of customers.
    ranked = select(
        CustomerLevelChange.customer_id,
        CustomerLevelChange.source,
        func.row_number()
        .over(
            partition_by=CustomerLevelChange.customer_id,
            order_by=(CustomerLevelChange.changed_at.desc(), CustomerLevelChange.id.desc()),
        )
        .label("n"),
    ).subquery("ranked")
    manual = select(ranked.c.customer_id).where(ranked.c.n == 1, ranked.c.source == MANUAL)
    target = target_level(rules, snapshot.annual_spend, snapshot.potential_value)
    reason = (
        literal("按规则定级：近12个月消费 ")
        + money_text(snapshot.annual_spend, dialect)
        + literal(" 元，预测12个月价值 ")
        + money_text(func.coalesce(snapshot.potential_value, 0), dialect)
        + literal(" 元；")
        + case(*((target == level.value, rule_text(rules, level)) for level in CustomerLevel))
    )
    return (
        select(
            Customer.id.label("customer_id"),
            Customer.customer_level.label("old_level"),
            target.label("new_level"),
            reason.label("reason"),
        )
        .join(snapshot, and_(snapshot.customer_id == Customer.id, snapshot.analysis_date == day))
        .where(
            Customer.tenant_id == tenant.id,
            Customer.deleted_at.is_(None),
            Customer.customer_level != target,
            Customer.id.not_in(manual),
        )
    )


def regrade(session: Session, tenant: Tenant, *, day: date | None = None) -> int:
    """Move every customer of the tenant to the level the rules give them; returns how many moved."""
    day = day or business_today(tenant.timezone or "Asia/Shanghai")
    changes = _changes(session, tenant, day).subquery("changes")
    now = literal(utcnow(), UTCDateTime())
    history = insert(CustomerLevelChange).from_select(
        ["tenant_id", "customer_id", "old_level", "new_level", "reason", "source", "changed_by", "changed_at"],
        select(
            literal(tenant.id),
            changes.c.customer_id,
            changes.c.old_level,
            changes.c.new_level,
            changes.c.reason,
            literal(RULE),
            literal(None),
            now,
        ),
    )
    moved = int(getattr(session.execute(history), "rowcount", 0) or 0)
    if moved <= 0:
        moved = int(session.scalar(select(func.count()).select_from(changes)) or 0)
    if moved == 0:
        return 0
    # A Core update: the rules' grading is not an edit of the profile, so its version stays.
    session.execute(
        update(Customer)
        .where(Customer.id == changes.c.customer_id)
        .values(customer_level=changes.c.new_level)
        .execution_options(synchronize_session=False)
    )
    audit.record(
        session,
        "customer.regrade",
        actor=None,
        tenant_id=tenant.id,
        object_type="tenant",
        object_id=tenant.id,
        detail={"analysis_date": day.isoformat(), "moved": moved},
    )
    return moved


def regrade_all(session: Session) -> int:
    """The nightly job (after the value refresh)."""
    return sum(regrade(session, tenant) for tenant in session.scalars(select(Tenant).where(Tenant.is_active.is_(True))))
