"""Automatic assignment of tickets (§5.3): by the customer's service team, priority and workload.

A new ticket goes to an active service agent of the customer's service team:

1. Customers of level A go to the tenant's VIP team when one is configured (and has agents).
2. Otherwise the team is that of the customer's own service agent (``assigned_service_id``),
   else the team configured for the customer's region, else every agent of the tenant.
3. The customer's own agent takes it when active, in that team and with room for it.
4. Otherwise the agent with the lowest share of their capacity in use, then the fewest open
   tickets, then the lowest id (so the choice is repeatable).

An agent's workload is the sum of the priority weights of their open and in-progress
tickets; they have room for a ticket while workload + its weight ≤ their capacity. A ticket
nobody has room for stays unassigned, in the queue; the ``assign_queue`` job assigns queued
tickets, most urgent and oldest first, as room frees up.

Concurrency: the candidate agents' rows are locked (``SELECT … FOR UPDATE``, in id order so
two choosers never deadlock) before their workloads are read, so two tickets created at the
same moment are chosen one after the other, and the second sees the first. On SQLite every
writing transaction holds the database's write lock already.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from crm.audit import service as audit
from crm.models import Customer, Notification, Tenant, User
from crm.models.enums import CustomerLevel, Role
from crm.models.service_desk import Priority, ServiceRecord, TicketStatus
from crm.service_desk.states import ACTIVE
from crm.tenants.schemas import AssignmentRules
from crm.tenants.service import settings_of


@dataclass(frozen=True)
class Workload:
    user_id: int
    open_tickets: int
    load: int
    capacity: int

    def has_room_for(self, weight: int) -> bool:
        return self.load + weight <= self.capacity


@dataclass(frozen=True)
class Choice:
    user_id: int
    rule: str  # customer_agent, least_loaded
    team: str | None
    load_before: int
    capacity: int


def _weight_of(rules: AssignmentRules) -> ColumnElement[int]:
    return case(*((ServiceRecord.priority == priority, weight) for priority, weight in rules.weights.items()), else_=1)


def workloads(session: Session, tenant_id: int, users: list[User], rules: AssignmentRules) -> dict[int, Workload]:
    """The open work of each of ``users``: one grouped query over their active tickets."""
    ids = [u.id for u in users]
    counted: dict[int, tuple[int, int]] = {
        user_id: (int(count), int(load))
        for user_id, count, load in session.execute(
            select(ServiceRecord.assigned_staff_id, func.count(), func.coalesce(func.sum(_weight_of(rules)), 0))
            .where(
                ServiceRecord.tenant_id == tenant_id,
                ServiceRecord.assigned_staff_id.in_(ids),
                ServiceRecord.status.in_(ACTIVE),
            )
            .group_by(ServiceRecord.assigned_staff_id)
        )
        if user_id is not None
    }
    return {
        u.id: Workload(
            user_id=u.id,
            open_tickets=int(counted.get(u.id, (0, 0))[0]),
            load=int(counted.get(u.id, (0, 0))[1]),
            capacity=u.service_capacity or rules.max_load,
        )
        for u in users
    }


def _agents(session: Session, tenant_id: int, team: str | None, *, lock: bool) -> list[User]:
    stmt = select(User).where(User.tenant_id == tenant_id, User.role == Role.SERVICE_AGENT, User.is_active.is_(True))
    if team is not None:
        stmt = stmt.where(User.team == team)
    stmt = stmt.order_by(User.id)
    return list(session.scalars(stmt.with_for_update() if lock else stmt))


def _customer_team(session: Session, customer: Customer, rules: AssignmentRules) -> str | None:
    if customer.assigned_service_id is not None:
        team = session.scalar(
            select(User.team).where(User.id == customer.assigned_service_id, User.is_active.is_(True))
        )
        if team:
            return team
    if customer.region is not None:
        return rules.region_teams.get(customer.region)
    return None


def choose_agent(session: Session, tenant: Tenant, customer: Customer, priority: Priority) -> Choice | None:
    """The agent a new ticket of ``customer`` goes to, or None when nobody has room (or rules are off).

    Locks the candidates' user rows until the transaction ends: call it in the transaction that
    assigns the ticket.
    """
    rules = settings_of(tenant).assignment
    if not rules.enabled:
        return None
    weight = rules.weights[priority]
    team: str | None = None
    agents: list[User] = []
    if customer.customer_level == CustomerLevel.A and rules.vip_team:
        team = rules.vip_team
        agents = _agents(session, tenant.id, team, lock=True)
    if not agents:
        team = _customer_team(session, customer, rules)
        agents = _agents(session, tenant.id, team, lock=True)
    if not agents:
        return None
    loads = workloads(session, tenant.id, agents, rules)
    own = loads.get(customer.assigned_service_id) if customer.assigned_service_id is not None else None
    if own is not None and own.has_room_for(weight):
        return Choice(own.user_id, "customer_agent", team, own.load, own.capacity)
    with_room = [w for w in loads.values() if w.has_room_for(weight)]
    if not with_room:
        return None
    best = min(with_room, key=lambda w: (w.load / w.capacity, w.open_tickets, w.user_id))
    return Choice(best.user_id, "least_loaded", team, best.load, best.capacity)


def notify_assignee(session: Session, ticket: ServiceRecord) -> None:
    """Tell the agent a ticket is theirs (once per ticket and agent)."""
    if ticket.assigned_staff_id is None:
        return
    already = session.scalar(
        select(Notification.id).where(
            Notification.user_id == ticket.assigned_staff_id, Notification.dedupe_key == f"assigned:{ticket.id}"
        )
    )
    if already is not None:
        return
    session.add(
        Notification(
            tenant_id=ticket.tenant_id,
            user_id=ticket.assigned_staff_id,
            kind="ticket_assigned",
            title=f"新工单：{ticket.subject}"[:200],
            body=f"优先级 {ticket.priority.value}",
            object_type="service_record",
            object_id=ticket.id,
            customer_id=ticket.customer_id,
            dedupe_key=f"assigned:{ticket.id}",
        )
    )


def auto_assign(session: Session, tenant: Tenant, ticket: ServiceRecord, customer: Customer) -> Choice | None:
    """Give an unassigned ticket to the agent ``choose_agent`` picks; audited with the rule used."""
    choice = choose_agent(session, tenant, customer, ticket.priority)
    if choice is None:
        return None
    ticket.assigned_staff_id = choice.user_id
    session.flush()
    audit.record(
        session,
        "service_record.auto_assign",
        actor=None,
        tenant_id=ticket.tenant_id,
        object_type="service_record",
        object_id=ticket.id,
        changes={"assigned_staff_id": {"before": None, "after": choice.user_id}},
        detail={
            "customer_id": ticket.customer_id,
            "rule": choice.rule,
            "team": choice.team,
            "load_before": choice.load_before,
            "capacity": choice.capacity,
        },
    )
    notify_assignee(session, ticket)
    return choice


PRIORITY_ORDER = case(
    (ServiceRecord.priority == Priority.URGENT, 0),
    (ServiceRecord.priority == Priority.HIGH, 1),
    (ServiceRecord.priority == Priority.MEDIUM, 2),
    else_=3,
)


def assign_queue(session: Session) -> int:
    """The scheduled job: assign waiting open tickets, most urgent and oldest first."""
    waiting = list(
        session.scalars(
            select(ServiceRecord)
            .where(ServiceRecord.status == TicketStatus.OPEN, ServiceRecord.assigned_staff_id.is_(None))
            .order_by(PRIORITY_ORDER, ServiceRecord.created_date, ServiceRecord.id)
            .limit(500)
            .with_for_update(skip_locked=True)
        )
    )
    assigned = 0
    for ticket in waiting:
        tenant = session.get(Tenant, ticket.tenant_id)
        customer = session.get(Customer, ticket.customer_id)
        if tenant is None or customer is None or customer.deleted_at is not None:
            continue
        if auto_assign(session, tenant, ticket, customer) is not None:
            assigned += 1
    session.flush()
    return assigned
