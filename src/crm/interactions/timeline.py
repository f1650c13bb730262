"""A customer's timeline: interactions, tickets, level changes and assignments in one list."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, literal, select, union_all
from sqlalchemy.orm import Session

from crm.auth import fields
from crm.customers.scope import visible_customer
from crm.interactions import schemas
from crm.kit.actor import Actor
from crm.models import (
    CustomerAssignment,
    CustomerInteraction,
    CustomerLevelChange,
    ServiceRecord,
)

# What the timeline streams: each kind's table and the moment it happened.
TIMELINE_SOURCES: dict[str, tuple[Any, Any]] = {
    "interaction": (CustomerInteraction, CustomerInteraction.interaction_date),
    "service_record": (ServiceRecord, ServiceRecord.created_date),
    "level_change": (CustomerLevelChange, CustomerLevelChange.changed_at),
    "assignment": (CustomerAssignment, CustomerAssignment.changed_at),
}


def timeline(
    session: Session, actor: Actor, customer_id: int, query: schemas.TimelineQuery
) -> list[schemas.TimelineEntry]:
    """Interactions, tickets, level changes and assignments of one customer, newest first, one page."""
    visible_customer(session, actor, customer_id)
    kinds = set(query.kinds or TIMELINE_SOURCES)
    parts: list[Select[str, int, datetime]] = [
        select(literal(kind).label("kind"), model.id.label("id"), when.label("occurred_at")).where(
            model.customer_id == customer_id, model.tenant_id == actor.tenant_id
        )
        for kind, (model, when) in TIMELINE_SOURCES.items()
        if kind in kinds
    ]
    if not parts:
        return []
    stream = union_all(*parts).subquery()
    offset = (query.page - 1) * query.page_size
    page = session.execute(
        select(stream.c.kind, stream.c.id)
        .order_by(stream.c.occurred_at.desc(), stream.c.kind, stream.c.id.desc())
        .limit(query.page_size)
        .offset(offset)
    ).all()
    return _timeline_entries(session, actor, [(str(kind), int(id_)) for kind, id_ in page])


def _timeline_entries(session: Session, actor: Actor, page: list[tuple[str, int]]) -> list[schemas.TimelineEntry]:
    def ids(kind: str) -> list[int]:
        return [i for k, i in page if k == kind]

    interactions = {
        i.id: i
        for i in session.scalars(select(CustomerInteraction).where(CustomerInteraction.id.in_(ids("interaction"))))
    }
    levels = {
        c.id: c
        for c in session.scalars(select(CustomerLevelChange).where(CustomerLevelChange.id.in_(ids("level_change"))))
    }
    tickets = {
        t.id: t for t in session.scalars(select(ServiceRecord).where(ServiceRecord.id.in_(ids("service_record"))))
    }
    moves = {
        a.id: a for a in session.scalars(select(CustomerAssignment).where(CustomerAssignment.id.in_(ids("assignment"))))
    }
    entries = []
    for kind, id_ in page:
        if kind == "interaction":
            i = interactions[id_]
            entries.append(
                schemas.TimelineEntry(
                    kind="interaction",
                    id=i.id,
                    occurred_at=i.interaction_date,
                    title=i.subject,
                    actor_id=i.staff_id,
                    detail={
                        "interaction_type": i.interaction_type.value,
                        "interaction_direction": i.interaction_direction.value,
                        "outcome": i.outcome.value if i.outcome else None,
                        "next_action": i.next_action,
                        "next_action_date": i.next_action_date.isoformat() if i.next_action_date else None,
                        "follow_up_status": i.follow_up_status.value,
                        "contact_id": i.contact_id,
                        "source": i.source.value,
                    },
                )
            )
        elif kind == "service_record":
            t = tickets[id_]
            entries.append(
                schemas.TimelineEntry(
                    kind="service_record",
                    id=t.id,
                    occurred_at=t.created_date,
                    title=t.subject,
                    actor_id=t.assigned_staff_id,
                    detail={
                        "service_type": t.service_type.value,
                        "priority": t.priority.value,
                        "status": t.status.value,
                        "resolved_date": t.resolved_date.isoformat() if t.resolved_date else None,
                        "satisfaction_rating": t.satisfaction_rating,
                    },
                )
            )
        elif kind == "level_change":
            c = levels[id_]
            entries.append(
                schemas.TimelineEntry(
                    kind="level_change",
                    id=c.id,
                    occurred_at=c.changed_at,
                    title=f"{c.old_level or '-'} → {c.new_level}",
                    actor_id=c.changed_by,
                    detail={
                        "old_level": c.old_level,
                        "new_level": c.new_level,
                        # The nightly regrade writes the figures it graded by into its reason.
                        "reason": fields.without_amounts(actor, c.reason) if c.source == "rule" else c.reason,
                        "source": c.source,
                    },
                )
            )
        else:
            a = moves[id_]
            entries.append(
                schemas.TimelineEntry(
                    kind="assignment",
                    id=a.id,
                    occurred_at=a.changed_at,
                    title="销售负责人变更 / sales owner changed",
                    actor_id=a.changed_by,
                    detail={"old_sales_id": a.old_sales_id, "new_sales_id": a.new_sales_id},
                )
            )
    return entries
