"""Opening approval requests; the customer services call this for the roles that must ask."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from crm.audit import service as audit
from crm.kit.actor import Actor
from crm.models import ApprovalRequest, Customer
from crm.models.enums import Role

# Sales, service and marketing staff ask; managers and admins act directly (and are audited).
ASKING_ROLES = frozenset({Role.SALES, Role.SERVICE_AGENT, Role.SERVICE_MANAGER, Role.MARKETER})


def must_ask(actor: Actor) -> bool:
    return actor.role in ASKING_ROLES


def open_request(
    session: Session, actor: Actor, action: str, customer: Customer, payload: dict[str, Any]
) -> ApprovalRequest:
    request = ApprovalRequest(
        tenant_id=actor.tenant_id,
        requester_id=actor.id,
        action=action,
        customer_id=customer.id,
        region=customer.region,
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
        detail={"action": action, "customer_id": customer.id},
    )
    return request
