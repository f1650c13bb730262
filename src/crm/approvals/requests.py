"""Opening approval requests; the customer services call this for the roles that must ask."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from crm.audit import service as audit
from crm.kit.actor import Actor
from crm.kit.regions import Region
from crm.models import ApprovalRequest, Customer
from crm.models.enums import Role

# Sales, service and marketing staff ask; managers and admins act directly (and are audited).
ASKING_ROLES = frozenset({Role.SALES, Role.SERVICE_AGENT, Role.SERVICE_MANAGER, Role.MARKETER})


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
