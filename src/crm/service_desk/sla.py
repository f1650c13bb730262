"""Service-level targets per priority, in working hours of the tenant's service calendar.

The targets are a tenant setting (by default crm.tenants.schemas.DEFAULT_SLA_TARGETS). A ticket
is *at risk* once 80 % of a target's working time has passed, and *breached* after it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from crm.kit.calendar import WorkingCalendar
from crm.models.service_desk import Priority, ServiceRecord

AT_RISK_SHARE = 0.8


class SlaState(StrEnum):
    OK = "ok"
    AT_RISK = "at_risk"
    BREACHED = "breached"
    MET = "met"


def set_due_dates(
    ticket: ServiceRecord, calendar: WorkingCalendar, targets: dict[Priority, tuple[float, float]], *, since: datetime
) -> None:
    """Stamp the ticket's due and at-risk moments from ``since`` (creation, or a reopening)."""
    response_hours, resolution_hours = targets[ticket.priority]
    if ticket.first_response_date is None:
        ticket.first_response_due = calendar.add(ticket.created_date, timedelta(hours=response_hours))
        ticket.first_response_risk_at = calendar.add(
            ticket.created_date, timedelta(hours=response_hours * AT_RISK_SHARE)
        )
    ticket.resolution_due = calendar.add(since, timedelta(hours=resolution_hours))
    ticket.resolution_risk_at = calendar.add(since, timedelta(hours=resolution_hours * AT_RISK_SHARE))


def state(due: datetime | None, risk_at: datetime | None, done: datetime | None, now: datetime) -> SlaState | None:
    if due is None:
        return None
    if done is not None:
        return SlaState.MET if done <= due else SlaState.BREACHED
    if now > due:
        return SlaState.BREACHED
    if risk_at is not None and now >= risk_at:
        return SlaState.AT_RISK
    return SlaState.OK
