"""Tickets: opening, editing, assigning and moving them through the status machine.

Who sees a ticket: whoever sees its customer, plus the agent it is assigned to (and, for a
service manager with a team, the tickets of the team). Who works it: the assigned agent,
service managers and admins. The first action of a service person on a ticket (starting,
escalating or editing it) stamps ``first_response_date``; resolving and closing stamp theirs.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, or_, select
from sqlalchemy.orm import Session

from crm.audit import service as audit
from crm.config import settings
from crm.customers.scope import customer_is_live, find_contact, find_customer, live_customer
from crm.kit.actor import Actor, DataScope
from crm.kit.db import utcnow
from crm.kit.errors import Conflict, ErrorCode, NotFound, PermissionDenied, field_invalid
from crm.models import Customer, Notification, SatisfactionSurvey, Tenant, User
from crm.models.enums import Role
from crm.models.service_desk import Priority, ServiceRecord, TicketStatus
from crm.service_desk import assignment, schemas, sla, surveys
from crm.service_desk.states import ACTIVE, Action, next_status
from crm.tenants.schemas import AssignmentRules
from crm.tenants.service import service_calendar, settings_of, sla_targets

AUDITED = (
    "customer_id", "contact_id", "service_type", "priority", "status", "subject", "assigned_staff_id",
    "escalated", "escalation_reason", "tags", "reopened_count",
)  # fmt: skip
SERVICE_ROLES = frozenset({Role.SERVICE_AGENT, Role.SERVICE_MANAGER})
DESK_MANAGERS = frozenset({Role.SERVICE_MANAGER, Role.ADMIN})


def _scope(actor: Actor) -> list[ColumnElement[bool]]:
    """Tickets of live customers the actor sees, and those assigned to them (or their team)."""
    if actor.data_scope == DataScope.TENANT:
        return [customer_is_live(actor, ServiceRecord.customer_id)]
    clauses = [customer_is_live(actor, ServiceRecord.customer_id), ServiceRecord.assigned_staff_id == actor.id]
    if actor.data_scope == DataScope.TEAM and actor.team:
        team = select(User.id).where(User.tenant_id == actor.tenant_id, User.team == actor.team)
        clauses.append(ServiceRecord.assigned_staff_id.in_(team))
    return [live_customer(actor, ServiceRecord.customer_id), or_(false(), *clauses)]


def tickets(actor: Actor) -> Select[ServiceRecord]:
    return select(ServiceRecord).where(ServiceRecord.tenant_id == actor.tenant_id, *_scope(actor))


def get_ticket(session: Session, actor: Actor, ticket_id: int, *, for_update: bool = False) -> ServiceRecord:
    stmt = tickets(actor).where(ServiceRecord.id == ticket_id)
    found = session.scalars(stmt.with_for_update(of=ServiceRecord) if for_update else stmt).one_or_none()
    if found is None:
        raise NotFound("service_record")
    return found


def search(actor: Actor, filters: schemas.ServiceRecordFilters) -> Select[ServiceRecord]:
    stmt = tickets(actor)
    if filters.status:
        stmt = stmt.where(ServiceRecord.status.in_(filters.status))
    if filters.priority:
        stmt = stmt.where(ServiceRecord.priority.in_(filters.priority))
    if filters.service_type is not None:
        stmt = stmt.where(ServiceRecord.service_type == filters.service_type)
    if filters.assigned_staff_id is not None:
        stmt = stmt.where(ServiceRecord.assigned_staff_id == filters.assigned_staff_id)
    if filters.unassigned is True:
        stmt = stmt.where(ServiceRecord.assigned_staff_id.is_(None))
    if filters.customer_id is not None:
        stmt = stmt.where(ServiceRecord.customer_id == filters.customer_id)
    if filters.escalated is not None:
        stmt = stmt.where(ServiceRecord.escalated.is_(filters.escalated))
    if filters.created_from is not None:
        stmt = stmt.where(ServiceRecord.created_date >= filters.created_from)
    if filters.created_to is not None:
        stmt = stmt.where(ServiceRecord.created_date < filters.created_to)
    if filters.sla_state is not None:
        stmt = stmt.where(_sla_clause(filters.sla_state, utcnow()))
    return stmt.order_by(ServiceRecord.id.desc())


def _late(due: Any, done: Any, now: datetime) -> ColumnElement[bool]:
    return and_(done.is_(None), due.is_not(None), due < now)


def breached_clause(now: datetime) -> ColumnElement[bool]:
    """Active tickets past a target: no first response by its due time, or not resolved by its."""
    return and_(
        ServiceRecord.status.in_(ACTIVE),
        or_(
            _late(ServiceRecord.first_response_due, ServiceRecord.first_response_date, now),
            _late(ServiceRecord.resolution_due, ServiceRecord.resolved_date, now),
        ),
    )


def _sla_clause(wanted: sla.SlaState, now: datetime) -> ColumnElement[bool]:
    breached = breached_clause(now)
    at_risk = and_(
        ServiceRecord.status.in_(ACTIVE),
        or_(
            _late(ServiceRecord.first_response_risk_at, ServiceRecord.first_response_date, now),
            _late(ServiceRecord.resolution_risk_at, ServiceRecord.resolved_date, now),
        ),
    )
    if wanted == sla.SlaState.BREACHED:
        return breached
    if wanted == sla.SlaState.AT_RISK:
        return and_(at_risk, ~breached)
    return and_(ServiceRecord.status.in_(ACTIVE), ~at_risk)


def escalate_breached(session: Session, *, now: datetime | None = None) -> int:
    """Escalate active urgent and high tickets past an SLA target, and tell the service managers.

    The scheduled job; a ticket is escalated once, so reruns do nothing more.
    """
    now = now or utcnow()
    late = list(
        session.scalars(
            select(ServiceRecord)
            .where(
                breached_clause(now),
                ServiceRecord.priority.in_((Priority.URGENT, Priority.HIGH)),
                ServiceRecord.escalated.is_(False),
            )
            .order_by(ServiceRecord.id)
            .limit(1000)
            .with_for_update(skip_locked=True)
        )
    )
    for ticket in late:
        missed = (
            "首次响应"
            if ticket.first_response_date is None and ticket.first_response_due and ticket.first_response_due < now
            else "解决"
        )
        before = audit.snapshot(ticket, AUDITED)
        ticket.escalated, ticket.escalated_at = True, now
        ticket.escalation_reason = f"SLA 超时：{missed}"
        session.flush()
        audit.record(
            session,
            "service_record.escalate",
            actor=None,
            tenant_id=ticket.tenant_id,
            object_type="service_record",
            object_id=ticket.id,
            changes=audit.diff(before, audit.snapshot(ticket, AUDITED)),
            detail={"customer_id": ticket.customer_id, "by": "sla"},
        )
        for user_id in _managers_of(session, ticket):
            session.add(
                Notification(
                    tenant_id=ticket.tenant_id,
                    user_id=user_id,
                    kind="ticket_escalated",
                    title=f"工单升级：{ticket.subject}"[:200],
                    body=ticket.escalation_reason,
                    object_type="service_record",
                    object_id=ticket.id,
                    customer_id=ticket.customer_id,
                    dedupe_key=f"escalated:{ticket.id}",
                )
            )
    session.flush()
    return len(late)


def _managers_of(session: Session, ticket: ServiceRecord) -> list[int]:
    """The service managers of the assignee's team (all of the tenant's without one), and the assignee."""
    team = None
    if ticket.assigned_staff_id is not None:
        team = session.scalar(select(User.team).where(User.id == ticket.assigned_staff_id))
    stmt = select(User.id).where(
        User.tenant_id == ticket.tenant_id, User.role == Role.SERVICE_MANAGER, User.is_active.is_(True)
    )
    managers = list(session.scalars(stmt.where(User.team == team) if team else stmt))
    if not managers and team:
        managers = list(session.scalars(stmt))
    if ticket.assigned_staff_id is not None and ticket.assigned_staff_id not in managers:
        managers.append(ticket.assigned_staff_id)
    return managers


def _check_contact(session: Session, actor: Actor, customer_id: int, contact_id: int | None) -> None:
    if contact_id is None:
        return
    contact = find_contact(session, actor, contact_id)
    if contact is None or contact.customer_id != customer_id:
        raise field_invalid("contact_id", "not_of_customer")


def _check_assignee(session: Session, actor: Actor, staff_id: int) -> None:
    found = session.scalar(
        select(User.id).where(
            User.id == staff_id,
            User.tenant_id == actor.tenant_id,
            User.is_active.is_(True),
            User.role.in_(SERVICE_ROLES),
        )
    )
    if found is None:
        raise field_invalid("assigned_staff_id", "invalid_assignee")


def _handle(actor: Actor, ticket: ServiceRecord) -> None:
    """Only the assigned agent, service managers and admins work a ticket."""
    if actor.role in DESK_MANAGERS:
        return
    if actor.role == Role.SERVICE_AGENT and ticket.assigned_staff_id in (None, actor.id):
        return
    raise PermissionDenied()


def _set_due_dates(session: Session, actor: Actor, ticket: ServiceRecord, *, since: datetime) -> None:
    tenant = session.get(Tenant, actor.tenant_id)
    if tenant is not None:
        sla.set_due_dates(ticket, service_calendar(tenant), sla_targets(tenant), since=since)


def _check_version(ticket: ServiceRecord, version: int) -> None:
    if ticket.version != version:
        raise Conflict(ErrorCode.VERSION_CONFLICT)


def _seconds_since_created(ticket: ServiceRecord, moment: datetime) -> int:
    return max(0, round((moment - ticket.created_date).total_seconds()))


def _responded(actor: Actor, ticket: ServiceRecord) -> None:
    if ticket.first_response_date is None and actor.role in SERVICE_ROLES | {Role.ADMIN}:
        ticket.first_response_date = utcnow()
        ticket.first_response_seconds = _seconds_since_created(ticket, ticket.first_response_date)


def _audit(session: Session, actor: Actor, action: str, ticket: ServiceRecord, before: dict[str, Any]) -> None:
    changes = audit.diff(before, audit.snapshot(ticket, AUDITED))
    audit.record(
        session,
        action,
        actor=actor,
        object_type="service_record",
        object_id=ticket.id,
        changes=changes,
        detail={"customer_id": ticket.customer_id},
    )


def create_ticket(session: Session, actor: Actor, data: schemas.ServiceRecordCreate) -> ServiceRecord:
    customer = find_customer(session, actor, data.customer_id)
    if customer is None:
        raise field_invalid("customer_id", "not_found")
    _check_contact(session, actor, customer.id, data.contact_id)
    if data.assigned_staff_id is not None:
        if actor.role not in DESK_MANAGERS:
            raise field_invalid("assigned_staff_id", "not_allowed")
        _check_assignee(session, actor, data.assigned_staff_id)
    ticket = ServiceRecord(
        tenant_id=actor.tenant_id,
        created_by=actor.id,
        created_date=utcnow(),
        status=TicketStatus.OPEN,
        **data.model_dump(),
    )
    _set_due_dates(session, actor, ticket, since=ticket.created_date)
    session.add(ticket)
    session.flush()
    audit.record(
        session,
        "service_record.create",
        actor=actor,
        object_type="service_record",
        object_id=ticket.id,
        changes=audit.created(audit.snapshot(ticket, AUDITED)),
        detail={"customer_id": ticket.customer_id},
    )
    tenant = session.get(Tenant, actor.tenant_id)
    if ticket.assigned_staff_id is None and tenant is not None:
        assignment.auto_assign(session, tenant, ticket, customer)
    else:
        assignment.notify_assignee(session, ticket)
    return ticket


def update_ticket(session: Session, actor: Actor, ticket_id: int, data: schemas.ServiceRecordUpdate) -> ServiceRecord:
    ticket = get_ticket(session, actor, ticket_id, for_update=True)
    _handle(actor, ticket)
    _check_version(ticket, data.version)
    if ticket.status not in ACTIVE:
        raise Conflict(ErrorCode.INVALID_TRANSITION, params={"action": "update", "status": ticket.status.value})
    values = data.model_dump(exclude_unset=True, exclude={"version"})
    if "contact_id" in values:
        _check_contact(session, actor, ticket.customer_id, values["contact_id"])
    before = audit.snapshot(ticket, AUDITED)
    for field, value in values.items():
        setattr(ticket, field, value)
    if "priority" in values:  # new targets, counted from the ticket's creation
        _set_due_dates(session, actor, ticket, since=ticket.created_date)
    _responded(actor, ticket)
    session.flush()
    _audit(session, actor, "service_record.update", ticket, before)
    return ticket


def assign_ticket(session: Session, actor: Actor, ticket_id: int, data: schemas.Assign) -> ServiceRecord:
    ticket = get_ticket(session, actor, ticket_id, for_update=True)
    if actor.role not in DESK_MANAGERS:
        raise PermissionDenied()
    _check_version(ticket, data.version)
    if ticket.status not in ACTIVE:
        raise Conflict(ErrorCode.INVALID_TRANSITION, params={"action": "assign", "status": ticket.status.value})
    _check_assignee(session, actor, data.assigned_staff_id)
    before = audit.snapshot(ticket, AUDITED)
    ticket.assigned_staff_id = data.assigned_staff_id
    session.flush()
    _audit(session, actor, "service_record.assign", ticket, before)
    assignment.notify_assignee(session, ticket)
    return ticket


def transition(
    session: Session, actor: Actor, ticket_id: int, action: Action, version: int, *, text: str | None = None
) -> ServiceRecord:
    """Move a ticket by ``action`` (start, resolve, close, reopen, cancel); 409 if not allowed now."""
    ticket = get_ticket(session, actor, ticket_id, for_update=True)
    _handle(actor, ticket)
    _check_version(ticket, version)
    target = next_status(action, ticket.status)
    now = utcnow()
    if action == Action.REOPEN:
        window = timedelta(days=settings.ticket_reopen_days)
        if ticket.resolved_date is not None and now - ticket.resolved_date > window:
            raise Conflict(ErrorCode.REOPEN_WINDOW_PASSED, params={"days": settings.ticket_reopen_days})
        if not text:
            raise field_invalid("reason", "missing")
    if action == Action.CANCEL and not text:
        raise field_invalid("reason", "missing")
    before = audit.snapshot(ticket, AUDITED)
    ticket.status = target
    if action == Action.START and ticket.assigned_staff_id is None and actor.role == Role.SERVICE_AGENT:
        ticket.assigned_staff_id = actor.id  # an agent who starts an unassigned ticket takes it
    if action == Action.RESOLVE:
        ticket.resolution, ticket.resolved_date = text, now
        ticket.resolution_seconds = _seconds_since_created(ticket, now)
    elif action == Action.CLOSE:
        ticket.closed_date = now
    elif action == Action.REOPEN:
        ticket.resolved_date = ticket.resolution_seconds = None
        ticket.reopened_count += 1
        _set_due_dates(session, actor, ticket, since=now)  # the resolution clock starts again
        surveys.supersede(session, ticket, now=now)  # the survey asks about a resolution undone
    elif action == Action.CANCEL:
        ticket.cancelled_date = now
    _responded(actor, ticket)
    session.flush()
    if action == Action.RESOLVE:
        surveys.issue(session, ticket, now=now)
    _audit(session, actor, f"service_record.{action.value}", ticket, before)
    if text and action in (Action.REOPEN, Action.CANCEL):
        audit.record(
            session,
            f"service_record.{action.value}_reason",
            actor=actor,
            object_type="service_record",
            object_id=ticket.id,
            detail={"reason": text},
        )
    return ticket


def escalate(session: Session, actor: Actor, ticket_id: int, data: schemas.Escalate) -> ServiceRecord:
    ticket = get_ticket(session, actor, ticket_id, for_update=True)
    _handle(actor, ticket)
    _check_version(ticket, data.version)
    if ticket.status not in ACTIVE:
        raise Conflict(ErrorCode.INVALID_TRANSITION, params={"action": "escalate", "status": ticket.status.value})
    if ticket.escalated:
        raise Conflict(ErrorCode.ALREADY_ESCALATED)
    before = audit.snapshot(ticket, AUDITED)
    ticket.escalated, ticket.escalation_reason, ticket.escalated_at = True, data.reason, utcnow()
    _responded(actor, ticket)
    session.flush()
    _audit(session, actor, "service_record.escalate", ticket, before)
    return ticket


def present(session: Session, ticket: ServiceRecord) -> schemas.ServiceRecord:
    """The ticket as the API shows it, with its SLA states as of now and its survey."""
    return present_many(session, [ticket])[0]


def present_many(session: Session, found: list[ServiceRecord]) -> list[schemas.ServiceRecord]:
    """Tickets as the API shows them, with their customer's and assignee's names; one query each.

    The customer's name is shown even to an agent who works the ticket without seeing the
    customer's profile: it is what they need to recognise whom they are helping.
    """
    now = utcnow()
    latest = surveys.latest_of(session, [t.id for t in found if t.resolved_date is not None or t.closed_date])
    customer_ids = {t.customer_id for t in found}
    customers = {
        row[0]: (row[1], row[2])
        for row in session.execute(
            select(Customer.id, Customer.customer_code, Customer.customer_name).where(Customer.id.in_(customer_ids))
        )
    }
    staff_ids = {t.assigned_staff_id for t in found if t.assigned_staff_id is not None}
    names = {
        row[0]: row[1] for row in session.execute(select(User.id, User.display_name).where(User.id.in_(staff_ids)))
    }
    return [
        _shown(ticket, latest.get(ticket.id), now).model_copy(
            update={
                "customer_code": customers.get(ticket.customer_id, (None, None))[0],
                "customer_name": customers.get(ticket.customer_id, (None, None))[1],
                "assigned_staff_name": names.get(ticket.assigned_staff_id) if ticket.assigned_staff_id else None,
            }
        )
        for ticket in found
    ]


def _shown(ticket: ServiceRecord, survey: SatisfactionSurvey | None, now: datetime) -> schemas.ServiceRecord:
    shown = schemas.ServiceRecord.model_validate(ticket)
    update: dict[str, Any] = {}
    if survey is not None:
        update["survey"] = schemas.TicketSurvey(
            status=surveys.status_of(survey, now),
            expires_at=survey.expires_at,
            answered_at=survey.answered_at,
            url=surveys.url_of(survey),
        )
    if ticket.status != TicketStatus.CANCELLED:
        update["first_response_sla"] = sla.state(
            ticket.first_response_due, ticket.first_response_risk_at, ticket.first_response_date, now
        )
        update["resolution_sla"] = sla.state(
            ticket.resolution_due, ticket.resolution_risk_at, ticket.resolved_date, now
        )
    return shown.model_copy(update=update)


def service_staff(session: Session, actor: Actor) -> list[schemas.ServiceStaff]:
    """Active service agents and managers of the tenant with their open work (the assignee picker)."""
    people = list(
        session.scalars(
            select(User)
            .where(User.tenant_id == actor.tenant_id, User.is_active.is_(True), User.role.in_(SERVICE_ROLES))
            .order_by(User.team, User.display_name, User.id)
        )
    )
    tenant = session.get(Tenant, actor.tenant_id)
    rules = settings_of(tenant).assignment if tenant is not None else AssignmentRules()
    loads = assignment.workloads(session, actor.tenant_id, people, rules)
    return [
        schemas.ServiceStaff(
            id=u.id,
            display_name=u.display_name,
            role=u.role,
            region=u.region,
            team=u.team,
            open_tickets=loads[u.id].open_tickets,
            load=loads[u.id].load,
            capacity=loads[u.id].capacity,
        )
        for u in people
    ]
