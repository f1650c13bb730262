"""Recording interactions and follow-ups, and listing a staff member's pending ones.

Recording an interaction moves the customer's ``last_contact_date`` in the same
transaction. An interaction with a ``next_action_date`` is a pending follow-up of its
staff member until it is marked done (or cancelled); moving the date reschedules it, and
the owner is reminded once when it falls due (crm.interactions.notifications).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, case, literal, select, union_all, update
from sqlalchemy.orm import Session

from crm.audit import service as audit
from crm.auth import fields
from crm.auth.permissions import Permission
from crm.config import settings
from crm.customers import presenters
from crm.customers.scope import customer_scope, find_contact, visible_customer
from crm.interactions import schemas
from crm.kit.actor import Actor, DataScope
from crm.kit.clock import business_today
from crm.kit.db import utcnow
from crm.kit.dialects import planner_methods
from crm.kit.errors import Conflict, ErrorCode, NotFound, PermissionDenied, field_invalid
from crm.kit.types import UTCDateTime
from crm.models import (
    Customer,
    CustomerContact,
    CustomerInteraction,
    FollowUpStatus,
    InteractionDirection,
    InteractionSource,
    InteractionType,
    User,
)
from crm.models.enums import Role

AUDITED = (
    "contact_id", "interaction_type", "interaction_direction", "subject", "interaction_date", "duration_minutes",
    "outcome", "next_action", "next_action_date", "follow_up_status", "staff_id",
)  # fmt: skip
MANAGERS = frozenset({Role.ADMIN, Role.SALES_MANAGER, Role.SERVICE_MANAGER})
# An interaction is something that happened; a little slack allows for clocks and time zones.
FUTURE_SLACK = timedelta(hours=24)


# ---------------------------------------------------------------- who counts as "my team"


def team_members(actor: Actor) -> Select[int] | None:
    """The staff whose follow-ups the actor manages: None for the whole tenant (admins)."""
    if actor.role == Role.ADMIN:
        return None
    if actor.role == Role.SERVICE_MANAGER and actor.data_scope == DataScope.TEAM and actor.team:
        return select(User.id).where(User.tenant_id == actor.tenant_id, User.team == actor.team)
    if actor.role in (Role.SALES_MANAGER, Role.SERVICE_MANAGER):
        return select(User.id).where(User.tenant_id == actor.tenant_id, User.region.in_(actor.regions or ("",)))
    return select(literal(actor.id))


def _staff_clause(session: Session, actor: Actor) -> ColumnElement[bool]:
    if actor.role not in MANAGERS:
        return CustomerInteraction.staff_id == actor.id
    members = team_members(actor)
    if members is None:
        return CustomerInteraction.tenant_id == actor.tenant_id
    # The ids themselves, not a subquery: PostgreSQL then knows how many people the team has,
    # and reads a manager's follow-ups in due order from ix_customer_interactions_pending_due
    # instead of sorting every member's pending follow-ups.
    return CustomerInteraction.staff_id.in_(list(session.scalars(members)))


def _check_staff(session: Session, actor: Actor, staff_id: int | None) -> int:
    if staff_id is None or staff_id == actor.id:
        return actor.id
    if actor.role not in MANAGERS:
        raise field_invalid("staff_id", "not_allowed")
    members = team_members(actor)
    stmt = select(User.id).where(User.id == staff_id, User.tenant_id == actor.tenant_id, User.is_active.is_(True))
    if members is not None:
        stmt = stmt.where(User.id.in_(members))
    if session.scalar(stmt) is None:
        raise field_invalid("staff_id", "invalid_assignee")
    return staff_id


# ---------------------------------------------------------------- interactions


def _interaction(
    session: Session, actor: Actor, interaction_id: int, *, for_update: bool = False
) -> CustomerInteraction:
    stmt = select(CustomerInteraction).where(
        CustomerInteraction.id == interaction_id,
        CustomerInteraction.tenant_id == actor.tenant_id,
        CustomerInteraction.customer_id.in_(
            select(Customer.id).where(
                Customer.tenant_id == actor.tenant_id, Customer.deleted_at.is_(None), *customer_scope(actor)
            )
        ),
    )
    found = session.scalars(stmt.with_for_update() if for_update else stmt).one_or_none()
    if found is None:
        raise NotFound("interaction")
    return found


def _check_contact(session: Session, actor: Actor, customer_id: int, contact_id: int | None) -> None:
    if contact_id is None:
        return
    contact = find_contact(session, actor, contact_id)
    if contact is None or contact.customer_id != customer_id:
        raise field_invalid("contact_id", "not_of_customer")


def _check_date(field: str, value: datetime | None) -> None:
    if value is not None and value > utcnow() + FUTURE_SLACK:
        raise field_invalid(field, "in_future")


def _touch_customer(session: Session, customer_id: int, when: datetime) -> None:
    """last_contact_date = the latest interaction, without bumping the profile's version."""
    moment = literal(when, UTCDateTime())
    session.execute(
        update(Customer)
        .where(Customer.id == customer_id)
        .values(
            last_contact_date=case(
                (Customer.last_contact_date.is_(None), moment),
                (Customer.last_contact_date < moment, moment),
                else_=Customer.last_contact_date,
            )
        )
        .execution_options(synchronize_session=False)
    )


def list_interactions(
    session: Session, actor: Actor, customer_id: int, filters: schemas.InteractionFilters
) -> Select[CustomerInteraction]:
    visible_customer(session, actor, customer_id)  # 404 outside the caller's scope
    stmt = select(CustomerInteraction).where(
        CustomerInteraction.tenant_id == actor.tenant_id, CustomerInteraction.customer_id == customer_id
    )
    if filters.interaction_type is not None:
        stmt = stmt.where(CustomerInteraction.interaction_type == filters.interaction_type)
    if filters.staff_id is not None:
        stmt = stmt.where(CustomerInteraction.staff_id == filters.staff_id)
    if filters.since is not None:
        stmt = stmt.where(CustomerInteraction.interaction_date >= filters.since)
    if filters.until is not None:
        stmt = stmt.where(CustomerInteraction.interaction_date < filters.until)
    return stmt.order_by(CustomerInteraction.interaction_date.desc(), CustomerInteraction.id.desc())


def create_interaction(
    session: Session, actor: Actor, customer_id: int, data: schemas.InteractionCreate
) -> CustomerInteraction:
    customer = visible_customer(session, actor, customer_id)
    _check_contact(session, actor, customer.id, data.contact_id)
    _check_date("interaction_date", data.interaction_date)
    staff_id = _check_staff(session, actor, data.staff_id)
    interaction = CustomerInteraction(
        tenant_id=actor.tenant_id,
        customer_id=customer.id,
        staff_id=staff_id,
        created_by=actor.id,
        attachments=[],
        **data.model_dump(exclude={"staff_id", "interaction_date"}),
        interaction_date=data.interaction_date or utcnow(),
        follow_up_status=FollowUpStatus.PENDING if data.next_action_date else FollowUpStatus.NONE,
    )
    session.add(interaction)
    session.flush()
    _touch_customer(session, customer.id, interaction.interaction_date)
    audit.record(
        session,
        "interaction.create",
        actor=actor,
        object_type="interaction",
        object_id=interaction.id,
        changes=audit.created(audit.snapshot(interaction, AUDITED)),
        detail={"customer_id": customer.id},
    )
    return interaction


def record_from_feed(
    session: Session,
    *,
    customer: Customer,
    staff_id: int,
    created_by: int,
    subject: str,
    content: str,
    when: datetime,
    source: InteractionSource = InteractionSource.ORDER,
) -> CustomerInteraction:
    """An interaction a feed writes (an order's status changed, §6.2): on the customer's timeline,
    but no contact with them, so ``last_contact_date`` stays as it is."""
    interaction = CustomerInteraction(
        tenant_id=customer.tenant_id,
        customer_id=customer.id,
        staff_id=staff_id,
        created_by=created_by,
        interaction_type=InteractionType.OTHER,
        interaction_direction=InteractionDirection.INBOUND,
        subject=subject[:200],
        content=content,
        interaction_date=when,
        attachments=[],
        follow_up_status=FollowUpStatus.NONE,
        source=source,
    )
    session.add(interaction)
    return interaction


def present(actor: Actor, interaction: CustomerInteraction) -> schemas.Interaction:
    """An interaction as ``actor`` may see it: a feed's note quotes the order's amount (money)."""
    shown = schemas.Interaction.model_validate(interaction)
    if interaction.source == InteractionSource.STAFF:
        return shown
    return shown.model_copy(update={"content": fields.without_amounts(actor, shown.content)})


def update_interaction(
    session: Session, actor: Actor, interaction_id: int, data: schemas.InteractionUpdate
) -> CustomerInteraction:
    interaction = _interaction(session, actor, interaction_id, for_update=True)
    if interaction.staff_id != actor.id and actor.role not in MANAGERS:
        raise PermissionDenied()
    if interaction.version != data.version:
        raise Conflict(ErrorCode.VERSION_CONFLICT)
    values = data.model_dump(exclude_unset=True, exclude={"version"})
    if "contact_id" in values:
        _check_contact(session, actor, interaction.customer_id, values["contact_id"])
    _check_date("interaction_date", values.get("interaction_date"))
    before = audit.snapshot(interaction, AUDITED)
    status = values.pop("follow_up_status", None)
    for field, value in values.items():
        setattr(interaction, field, value)
    if "next_action_date" in values:  # rescheduled (or cleared): due again, reminded again
        interaction.reminded_at = None
        interaction.follow_up_done_at = None
        interaction.follow_up_status = FollowUpStatus.PENDING if values["next_action_date"] else FollowUpStatus.NONE
    if status is not None:
        _set_follow_up(interaction, status)
    session.flush()
    if "interaction_date" in values:
        _touch_customer(session, interaction.customer_id, interaction.interaction_date)
    changes = audit.diff(before, audit.snapshot(interaction, AUDITED))
    if changes:
        audit.record(
            session,
            "interaction.update",
            actor=actor,
            object_type="interaction",
            object_id=interaction.id,
            changes=changes,
            detail={"customer_id": interaction.customer_id},
        )
    return interaction


def _set_follow_up(interaction: CustomerInteraction, status: FollowUpStatus) -> None:
    if status == interaction.follow_up_status:
        return
    if interaction.next_action_date is None and status != FollowUpStatus.NONE:
        raise field_invalid("follow_up_status", "no_follow_up")
    if status == FollowUpStatus.NONE:
        raise field_invalid("follow_up_status", "not_allowed")
    interaction.follow_up_status = status
    interaction.follow_up_done_at = utcnow() if status == FollowUpStatus.DONE else None


# ---------------------------------------------------------------- pending follow-ups


def _day_start(day_offset: int) -> datetime:
    zone = ZoneInfo(settings.default_timezone)
    return datetime.combine(business_today() + timedelta(days=day_offset), time.min, tzinfo=zone)


FOLLOW_UP_COLUMNS = (
    CustomerInteraction.id, CustomerInteraction.customer_id, CustomerInteraction.contact_id,
    CustomerInteraction.subject, CustomerInteraction.next_action, CustomerInteraction.next_action_date,
    CustomerInteraction.staff_id, CustomerInteraction.version,
    Customer.customer_code, Customer.customer_name, Customer.customer_level,
)  # fmt: skip


def pending_follow_ups(session: Session, actor: Actor, query: schemas.FollowUpQuery) -> schemas.PendingFollowUps:
    """Overdue, today's and upcoming follow-ups, each due-date first; days are the tenant's."""
    # Plain rows of only what a follow-up shows (no ORM objects: building 150 of them for a
    # manager's team cost more than the queries).
    base = (
        select(*FOLLOW_UP_COLUMNS)
        .join(Customer, Customer.id == CustomerInteraction.customer_id)
        .where(
            CustomerInteraction.tenant_id == actor.tenant_id,
            CustomerInteraction.follow_up_status == FollowUpStatus.PENDING,
            _staff_clause(session, actor),
            Customer.deleted_at.is_(None),
            *customer_scope(actor),
        )
    )
    if query.staff_id is not None:
        base = base.where(CustomerInteraction.staff_id == query.staff_id)
    today, tomorrow, horizon = _day_start(0), _day_start(1), _day_start(1 + query.days)
    due = CustomerInteraction.next_action_date
    # Each group is read in due order and cut at the limit. PostgreSQL underestimates how many of a
    # team's follow-ups fall in a window (the dates of all interactions skew its statistics) and
    # would rather sort every one of them than walk an index in due order, which reads only
    # what is shown: forbidding a full sort leaves it the walk.
    windows = (
        ("overdue", due < today),
        ("today", (due >= today) & (due < tomorrow)),
        ("upcoming", (due >= tomorrow) & (due < horizon)),
    )
    # One round trip: the three cut-off windows as one UNION ALL, each branch its own index walk.
    branches = [
        base.add_columns(literal(name).label("window"))
        .where(window)
        .order_by(due, CustomerInteraction.id)
        .limit(query.limit + 1)
        .subquery(name)
        .select()
        for name, window in windows
    ]
    # Nor parallel workers: each branch reads a few hundred index entries, less work than
    # launching a worker to share it.
    with planner_methods(session, sort=False, parallel=False):
        rows = session.execute(union_all(*branches)).all()
    pages: dict[str, list[Any]] = {name: [] for name, _ in windows}
    for row in rows:
        pages[row.window].append(row)
    truncated = any(len(page) > query.limit for page in pages.values())
    groups = {
        name: sorted(page, key=lambda r: (r.next_action_date, r.id))[: query.limit] for name, page in pages.items()
    }
    contact_ids = {row.contact_id for rows in groups.values() for row in rows if row.contact_id}
    contacts: dict[int, schemas.FollowUpContact] = {}
    if contact_ids:
        listed = select(CustomerContact.id, CustomerContact.contact_name, CustomerContact.contact_phone).where(
            CustomerContact.id.in_(contact_ids), CustomerContact.deleted_at.is_(None)
        )
        for contact_id, contact_name, phone in session.execute(listed):
            contacts[contact_id] = schemas.FollowUpContact(
                id=contact_id, contact_name=contact_name, contact_phone=presenters.contact_phone(phone, actor)
            )

    def entry(row: Any) -> schemas.FollowUp:
        return schemas.FollowUp(
            interaction_id=row.id,
            subject=row.subject,
            next_action=row.next_action,
            next_action_date=row.next_action_date,  # pending ones always have a date
            staff_id=row.staff_id,
            version=row.version,
            customer=schemas.FollowUpCustomer(
                id=row.customer_id,
                customer_code=row.customer_code,
                customer_name=row.customer_name,
                customer_level=row.customer_level,
            ),
            contact=contacts.get(row.contact_id) if row.contact_id else None,
        )

    return schemas.PendingFollowUps(
        overdue=[entry(row) for row in groups["overdue"]],
        today=[entry(row) for row in groups["today"]],
        upcoming=[entry(row) for row in groups["upcoming"]],
        truncated=truncated,
    )


def can_write(actor: Actor) -> bool:
    return actor.can(Permission.INTERACTION_WRITE)
