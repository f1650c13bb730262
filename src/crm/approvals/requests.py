"""Opening approval requests, and what an approval carries out.

A domain whose operations some roles must ask for opens requests here and registers, for each
action, the performer that runs the operation once it is approved (crm.approvals.service).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from crm.audit import service as audit
from crm.kit.actor import Actor
from crm.kit.regions import Region
from crm.models import ApprovalRequest, Customer
from crm.models.enums import Role

# Sales, service and marketing staff ask; managers and admins act directly (and are audited).
ASKING_ROLES = frozenset({Role.SALES, Role.SERVICE_AGENT, Role.SERVICE_MANAGER, Role.MARKETER})


# The approver runs it; it returns the outcome to record ("done", or "ready" for a download).
Performer = Callable[[Session, Actor, ApprovalRequest], str]
_PERFORMERS: dict[str, Performer] = {}


def performs(action: str) -> Callable[[Performer], Performer]:
    """Register what approving a request of ``action`` carries out."""

    def register(performer: Performer) -> Performer:
        _PERFORMERS[action] = performer
        return performer

    return register


def performer(action: str) -> Performer | None:
    return _PERFORMERS.get(action)


def must_ask(actor: Actor) -> bool:
    return actor.role in ASKING_ROLES


def open_request(
    session: Session, actor: Actor, action: str, customer: Customer | None, payload: dict[str, Any]
) -> ApprovalRequest:
    """Ask a manager of the customer's region (of the requester's, for an export) or an admin."""
    own_region = Region(actor.regions[0]) if actor.regions else None
    region = customer.region if customer is not None else own_region
    request = ApprovalRequest(
        tenant_id=actor.tenant_id,
        requester_id=actor.id,
        action=action,
        customer_id=customer.id if customer else None,
        region=region,
        payload=payload,
    )
    session.add(request)
    session.flush()
    audit.record(
        session,
        "approval.request",
        actor=actor,
        object_type="approval",
        object_id=request.id,
        detail={"action": action, "customer_id": request.customer_id},
    )
    return request
