"""Churn warnings: the nightly job that raises them, and the owner's retention work on them.

The job is set-based (a few statements per tenant over today's snapshots, which hold each
customer's risk, rule and reason; see crm.analytics.churn), never a loop over customers.
"""

from __future__ import annotations

import typing
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, String, and_, case, cast, exists, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session

from crm.analytics import churn, value
from crm.audit import service as audit
from crm.churn import schemas
from crm.customers.scope import customer_is_live, customer_scope
from crm.interactions import schemas as interaction_schemas
from crm.interactions import service as interactions
from crm.kit.actor import Actor
from crm.kit.clock import business_today
from crm.kit.db import utcnow
from crm.kit.dialects import upsert_insert
from crm.kit.errors import Conflict, ErrorCode, NotFound
from crm.kit.types import UTCDateTime
from crm.models import (
    ACTIVE_WARNING,
    ChurnWarning,
    Customer,
    CustomerValueAnalysis,
    InteractionDirection,
    InteractionType,
    Notification,
    RetentionAction,
    RetentionActionType,
    Tenant,
    User,
    WarningStatus,
)
from crm.models.churn import RISK_RANKS
from crm.tenants.service import settings_of

ACTION_INTERACTION = {
    RetentionActionType.CALL: InteractionType.CALL,
    RetentionActionType.VISIT: InteractionType.VISIT,
    RetentionActionType.WECHAT: InteractionType.WECHAT,
    RetentionActionType.EMAIL: InteractionType.EMAIL,
    RetentionActionType.MEETING: InteractionType.MEETING,
    RetentionActionType.OFFER: InteractionType.OTHER,
    RetentionActionType.OTHER: InteractionType.OTHER,
}
ACTION_NAMES = {
    RetentionActionType.CALL: "电话挽回",
    RetentionActionType.VISIT: "上门拜访",
    RetentionActionType.WECHAT: "微信沟通",
    RetentionActionType.EMAIL: "邮件沟通",
    RetentionActionType.MEETING: "会议沟通",
    RetentionActionType.OFFER: "优惠方案",
    RetentionActionType.OTHER: "挽回跟进",
}
CLOSED = (WarningStatus.RETAINED, WarningStatus.LOST, WarningStatus.CLEARED)


# ---------------------------------------------------------------- the nightly job


def raise_warnings(session: Session, tenant: Tenant, *, day: date | None = None) -> int:
    """Open, update and clear the tenant's warnings from the snapshots of ``day``; returns how many opened."""
    day = day or business_today(tenant.timezone or "Asia/Shanghai")
    rules = settings_of(tenant).churn
    snapshot = CustomerValueAnalysis
    now = literal(utcnow(), UTCDateTime())
    at_risk = and_(snapshot.tenant_id == tenant.id, snapshot.analysis_date == day, snapshot.churn_risk.is_not(None))
    in_work = ChurnWarning.status.in_(ACTIVE_WARNING)

    # The risk of a warning in work follows the customer's figures (UPDATE … FROM the snapshots).
    session.execute(
        update(ChurnWarning)
        .where(
            ChurnWarning.tenant_id == tenant.id,
            in_work,
            snapshot.customer_id == ChurnWarning.customer_id,
            at_risk,
            or_(snapshot.churn_risk != ChurnWarning.risk_level, snapshot.churn_rule != ChurnWarning.rule),
        )
        .values(
            risk_level=snapshot.churn_risk,
            rule=snapshot.churn_rule,
            reason=snapshot.churn_reason,
            churn_probability=snapshot.churn_probability,
            risk_changed_date=day,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    # Untouched warnings whose risk went away (by a snapshot of the day: without one nothing is
    # known, so nothing is cleared) are closed; one in progress waits for its outcome.
    risk_gone = exists().where(
        snapshot.tenant_id == tenant.id,
        snapshot.analysis_date == day,
        snapshot.customer_id == ChurnWarning.customer_id,
        snapshot.churn_risk.is_(None),
    )
    session.execute(
        update(ChurnWarning)
        .where(ChurnWarning.tenant_id == tenant.id, ChurnWarning.status == WarningStatus.OPEN, risk_gone)
        .values(status=WarningStatus.CLEARED, closed_at=now, outcome_note="风险已解除", updated_at=now)
        .execution_options(synchronize_session=False)
    )

    candidates = (
        select(
            snapshot.customer_id,
            snapshot.churn_risk,
            snapshot.churn_rule,
            snapshot.churn_reason,
            snapshot.churn_probability,
            Customer.assigned_sales_id,
            Customer.customer_level,
        )
        .join(Customer, Customer.id == snapshot.customer_id)
        .where(
            at_risk,
            Customer.deleted_at.is_(None),
            # A hashed NOT IN, read once: a NOT EXISTS per customer was planned as a scan of the
            # warnings that, inside the INSERT, also passed every warning already inserted.
            snapshot.customer_id.not_in(select(ChurnWarning.customer_id).where(in_work)),
        )
        .subquery("new")
    )
    # Each owner hears once a night how many of their customers became at risk.
    dialect = session.get_bind().dialect.name
    # (A second run the same day finds only customers who became at risk since; their owner was
    # already told today, so that notification stays as it was.)
    notified = upsert_insert(Notification, dialect).from_select(
        ["tenant_id", "user_id", "kind", "title", "body", "object_type", "dedupe_key", "created_at"],
        select(
            literal(tenant.id),
            candidates.c.assigned_sales_id,
            literal("churn_warning"),
            literal("客户流失预警"),
            literal("新增流失预警客户 ") + cast(func.count(), String) + literal(" 个，请及时跟进挽回"),
            literal("churn_warnings"),
            literal(f"churn:{day.isoformat()}"),
            now,
        )
        .where(candidates.c.assigned_sales_id.is_not(None))
        .group_by(candidates.c.assigned_sales_id),
    )
    session.execute(notified.on_conflict_do_nothing(index_elements=["user_id", "dedupe_key"]))
    strategy = case(
        *(
            (and_(candidates.c.customer_level == level, candidates.c.churn_risk == risk), rules.strategy(level, risk))
            for level in ("A", "B", "C", "D")
            for risk in churn.RISK_ORDER
        ),
        else_=rules.strategy("", "low"),
    )
    due = case(
        *(
            (candidates.c.churn_risk == risk, literal(day + timedelta(days=rules.due_days(risk))))
            for risk in churn.RISK_ORDER
        ),
    )
    count = int(session.scalar(select(func.count()).select_from(candidates)) or 0)
    if count == 0:
        return 0
    session.execute(
        insert(ChurnWarning).from_select(
            [
                "tenant_id",
                "customer_id",
                "risk_level",
                "rule",
                "reason",
                "status",
                "owner_id",
                "strategy",
                "due_date",
                "detected_date",
                "risk_changed_date",
                "churn_probability",
                "version",
                "created_at",
                "updated_at",
            ],
            select(
                literal(tenant.id),
                candidates.c.customer_id,
                candidates.c.churn_risk,
                candidates.c.churn_rule,
                candidates.c.churn_reason,
                literal(WarningStatus.OPEN.value),
                candidates.c.assigned_sales_id,
                strategy,
                due,
                literal(day),
                literal(day),
                candidates.c.churn_probability,
                literal(1),
                now,
                now,
            ),
        )
    )
    audit.record(
        session,
        "churn.warnings",
        actor=None,
        tenant_id=tenant.id,
        object_type="tenant",
        object_id=tenant.id,
        detail={"analysis_date": day.isoformat(), "opened": count},
    )
    return count


def raise_all(session: Session) -> int:
    """The nightly job (after the value refresh, which assessed every customer)."""
    tenants = session.scalars(select(Tenant).where(Tenant.is_active.is_(True)).order_by(Tenant.id))
    return sum(raise_warnings(session, tenant) for tenant in tenants)


# ---------------------------------------------------------------- reading


def _visible(actor: Actor) -> Select[Any]:
    stmt = (
        select(ChurnWarning, Customer.customer_code, Customer.customer_name, Customer.customer_level,
               Customer.region, User.display_name)
        .join(Customer, and_(Customer.id == ChurnWarning.customer_id, Customer.tenant_id == ChurnWarning.tenant_id))
        .outerjoin(User, User.id == ChurnWarning.owner_id)
        .where(ChurnWarning.tenant_id == actor.tenant_id, Customer.deleted_at.is_(None), *customer_scope(actor))
    )  # fmt: skip
    return typing.cast(Select[Any], stmt)


def list_warnings(actor: Actor, filters: schemas.WarningFilters) -> Select[Any]:
    stmt = _visible(actor)
    if filters.status == "active":
        stmt = stmt.where(ChurnWarning.status.in_(ACTIVE_WARNING))
    elif filters.status == "closed":
        stmt = stmt.where(ChurnWarning.status.in_(CLOSED))
    elif filters.status is not None:
        stmt = stmt.where(ChurnWarning.status == filters.status)
    if filters.risk_level is not None:
        # Also as its rank: the index in the list's order then starts at that level's warnings.
        stmt = stmt.where(
            ChurnWarning.risk_level == filters.risk_level, ChurnWarning.risk_rank == RISK_RANKS[filters.risk_level]
        )
    if filters.region is not None:
        stmt = stmt.where(Customer.region == filters.region)
    if filters.owner_id is not None:
        stmt = stmt.where(ChurnWarning.owner_id == filters.owner_id)
    if filters.customer_id is not None:
        stmt = stmt.where(ChurnWarning.customer_id == filters.customer_id)
    if filters.task_overdue is not None:
        late = and_(ChurnWarning.status.in_(ACTIVE_WARNING), ChurnWarning.due_date < _today(actor))
        stmt = stmt.where(late if filters.task_overdue else ~late)
    return stmt.order_by(ChurnWarning.risk_rank, ChurnWarning.due_date, ChurnWarning.id)


def _today(actor: Actor) -> date:
    """Today in the actor's tenant's time zone: the calendar the nightly job set due dates by."""
    return business_today(actor.policy.timezone)


def shown(row: Any, actor: Actor) -> schemas.ChurnWarning:
    warning, code, name, level, region, owner_name = row
    return schemas.ChurnWarning(
        id=warning.id, customer_id=warning.customer_id, customer_code=code, customer_name=name,
        customer_level=level, region=region, risk_level=warning.risk_level, rule=warning.rule,
        reason=warning.reason, status=warning.status, owner_id=warning.owner_id, owner_name=owner_name,
        strategy=warning.strategy, due_date=warning.due_date,
        task_overdue=warning.status in ACTIVE_WARNING and warning.due_date < _today(actor),
        detected_date=warning.detected_date, risk_changed_date=warning.risk_changed_date,
        churn_probability=warning.churn_probability, outcome_note=warning.outcome_note,
        closed_at=warning.closed_at, version=warning.version,
    )  # fmt: skip


def _row(session: Session, actor: Actor, warning_id: int, *, lock: bool = False) -> Any:
    stmt = _visible(actor).where(ChurnWarning.id == warning_id)
    if lock:
        stmt = stmt.with_for_update(of=ChurnWarning)
    row = session.execute(stmt).one_or_none()
    if row is None:
        raise NotFound("churn_warning")
    return row


def detail(session: Session, actor: Actor, warning_id: int) -> schemas.ChurnWarningDetail:
    row = _row(session, actor, warning_id)
    # The author's name comes with the actions: a sales rep may not list the tenant's users.
    actions = session.execute(
        select(RetentionAction, User.display_name)
        .outerjoin(User, and_(User.id == RetentionAction.staff_id, User.tenant_id == RetentionAction.tenant_id))
        .where(RetentionAction.warning_id == warning_id)
        .order_by(RetentionAction.action_date, RetentionAction.id)
    )
    return schemas.ChurnWarningDetail(
        **shown(row, actor).model_dump(),
        actions=[
            schemas.RetentionAction.model_validate(action).model_copy(update={"staff_name": name})
            for action, name in actions
        ],
    )


def summary(session: Session, actor: Actor, filters: schemas.SummaryFilters) -> schemas.WarningSummary:
    in_region = [Customer.region == filters.region] if filters.region is not None else []
    warning = ChurnWarning
    today = _today(actor)
    since = datetime.combine(today - timedelta(days=90), datetime.min.time()).replace(tzinfo=UTC)
    active = warning.status.in_(ACTIVE_WARNING)
    recently = warning.closed_at >= since
    # One pass over the warnings for every figure (a pass per figure grows with the book), and
    # no join: for the whole tenant only the warnings of deleted customers are left out
    # (customer_is_live).
    figures = (
        session.execute(
            select(
                *(func.count().filter(active, warning.risk_level == risk).label(risk) for risk in churn.RISK_ORDER),
                func.count().filter(active, warning.due_date < today).label("late"),
                func.count().filter(warning.status == WarningStatus.RETAINED, recently).label("retained"),
                func.count().filter(warning.status == WarningStatus.LOST, recently).label("lost"),
            ).where(
                warning.tenant_id == actor.tenant_id,
                customer_is_live(actor, warning.customer_id, *in_region),
                or_(active, and_(warning.status.in_([WarningStatus.RETAINED, WarningStatus.LOST]), recently)),
            )
        )
        .one()
        ._mapping
    )
    return schemas.WarningSummary(
        active=[schemas.RiskCount(risk_level=risk, count=int(figures[risk] or 0)) for risk in churn.RISK_ORDER],
        task_overdue=int(figures["late"] or 0),
        retained_90d=int(figures["retained"] or 0),
        lost_90d=int(figures["lost"] or 0),
    )


# ---------------------------------------------------------------- the owner's work


def add_action(
    session: Session, actor: Actor, warning_id: int, data: schemas.ActionCreate
) -> schemas.ChurnWarningDetail:
    """Record what was done; it is also an interaction on the customer's timeline."""
    warning = _row(session, actor, warning_id, lock=True)[0]
    if warning.status not in ACTIVE_WARNING:
        raise Conflict(ErrorCode.INVALID_TRANSITION, params={"action": "action", "status": warning.status.value})
    interaction = interactions.create_interaction(
        session,
        actor,
        warning.customer_id,
        interaction_schemas.InteractionCreate(
            interaction_type=ACTION_INTERACTION[data.action_type],
            interaction_direction=InteractionDirection.OUTBOUND,
            subject=f"流失挽回：{ACTION_NAMES[data.action_type]}",
            content=data.content,
            interaction_date=data.action_date,
        ),
    )
    session.add(
        RetentionAction(
            tenant_id=actor.tenant_id, warning_id=warning.id, action_type=data.action_type, content=data.content,
            staff_id=actor.id, interaction_id=interaction.id, action_date=interaction.interaction_date,
        )
    )  # fmt: skip
    if warning.status == WarningStatus.OPEN:
        warning.status = WarningStatus.IN_PROGRESS
    warning.updated_at = utcnow()
    session.flush()
    audit.record(
        session, "churn.action", actor=actor, object_type="churn_warning", object_id=warning.id,
        detail={"action_type": data.action_type.value, "interaction_id": interaction.id},
    )  # fmt: skip
    return detail(session, actor, warning.id)


def record_outcome(
    session: Session, actor: Actor, warning_id: int, data: schemas.Outcome
) -> schemas.ChurnWarningDetail:
    """Close the warning as retained or lost; a lost customer's lifecycle stage becomes churned at once."""
    warning = _row(session, actor, warning_id, lock=True)[0]
    if warning.version != data.version:
        raise Conflict(ErrorCode.VERSION_CONFLICT)
    if warning.status not in ACTIVE_WARNING:
        raise Conflict(ErrorCode.INVALID_TRANSITION, params={"action": data.outcome, "status": warning.status.value})
    before = warning.status.value
    warning.status = WarningStatus(data.outcome)
    warning.outcome_note = data.note
    warning.closed_at = utcnow()
    warning.closed_by = actor.id
    session.flush()
    audit.record(
        session, "churn.outcome", actor=actor, object_type="churn_warning", object_id=warning.id,
        changes={"status": [before, warning.status.value]},
    )  # fmt: skip
    tenant = session.get(Tenant, actor.tenant_id)
    if tenant is not None:  # today's snapshot shows the new stage without waiting for the night
        value.refresh(session, tenant, customer_id=warning.customer_id)
    return detail(session, actor, warning.id)
