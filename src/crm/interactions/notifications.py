"""Notifications: follow-up reminders sent when they fall due, and each user's inbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from crm.kit.actor import Actor
from crm.kit.db import utcnow
from crm.models import (
    Customer,
    CustomerInteraction,
    FollowUpStatus,
    Notification,
)


def send_follow_up_reminders(session: Session, *, now: datetime | None = None, batch: int = 1000) -> int:
    """Notify each owner once of every follow-up that has fallen due; returns how many were sent.

    Run by the scheduler every few minutes (and by `crm jobs run reminders`); a follow-up
    already reminded of for its current due date is skipped, so reruns do no harm.
    """
    now = now or utcnow()
    sent = 0
    while True:
        due = list(
            session.execute(
                select(CustomerInteraction, Customer.customer_name)
                .join(Customer, Customer.id == CustomerInteraction.customer_id)
                .where(
                    CustomerInteraction.follow_up_status == FollowUpStatus.PENDING,
                    CustomerInteraction.reminded_at.is_(None),
                    CustomerInteraction.next_action_date <= now,
                    Customer.deleted_at.is_(None),
                )
                # Oldest due first, read from the partial index ix_customer_interactions_to_remind
                # (ordering by id would walk the primary key over every interaction ever recorded).
                .order_by(CustomerInteraction.next_action_date, CustomerInteraction.id)
                .limit(batch)
                .with_for_update(of=CustomerInteraction, skip_locked=True)
            )
        )
        if not due:
            return sent
        for interaction, customer_name in due:
            due_at = (interaction.next_action_date or now).isoformat()
            session.add(
                Notification(
                    tenant_id=interaction.tenant_id,
                    user_id=interaction.staff_id,
                    kind="follow_up_due",
                    title=f"跟进到期：{customer_name}",
                    body=(interaction.next_action or interaction.subject)[:500],
                    object_type="interaction",
                    object_id=interaction.id,
                    customer_id=interaction.customer_id,
                    dedupe_key=f"follow_up:{interaction.id}:{due_at}",
                )
            )
        # One Core update per batch: being reminded is not an edit of the interaction (no version bump).
        session.execute(
            update(CustomerInteraction)
            .where(CustomerInteraction.id.in_([interaction.id for interaction, _ in due]))
            .values(reminded_at=now)
            .execution_options(synchronize_session=False)
        )
        session.flush()
        session.expunge_all()
        sent += len(due)


def notifications_statement(actor: Actor, unread: bool | None) -> Select[Notification]:
    stmt = select(Notification).where(Notification.user_id == actor.id)
    if unread is True:
        stmt = stmt.where(Notification.read_at.is_(None))
    elif unread is False:
        stmt = stmt.where(Notification.read_at.is_not(None))
    return stmt.order_by(Notification.id.desc())


def unread_count(session: Session, actor: Actor) -> int:
    from sqlalchemy import func  # noqa: PLC0415 - only here

    return int(
        session.scalar(select(func.count()).where(Notification.user_id == actor.id, Notification.read_at.is_(None)))
        or 0
    )


def mark_read(session: Session, actor: Actor, ids: list[int] | None) -> int:
    stmt = update(Notification).where(Notification.user_id == actor.id, Notification.read_at.is_(None))
    if ids is not None:
        stmt = stmt.where(Notification.id.in_(ids))
    result = session.execute(stmt.values(read_at=utcnow()).execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)
