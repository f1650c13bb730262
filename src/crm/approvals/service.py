"""Deciding approval requests: an approval carries the operation out once, as the approver."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from crm.approvals.repository import ApprovalRepository
from crm.approvals.requests import performer
from crm.audit import service as audit
from crm.auth.permissions import Permission
from crm.config import settings
from crm.kit.actor import Actor
from crm.kit.db import utcnow
from crm.kit.errors import Conflict, CRMError, ErrorCode, PermissionDenied
from crm.models import ApprovalRequest, ApprovalStatus


def _carry_out(session: Session, approver: Actor, request: ApprovalRequest) -> str:
    """Run the approved operation; returns the outcome to record."""
    perform = performer(request.action)
    if perform is None:  # a request of an action this version no longer knows
        raise Conflict()
    return perform(session, approver, request)


def decide(session: Session, actor: Actor, request_id: int, *, approve: bool, note: str | None) -> ApprovalRequest:
    request = ApprovalRepository(session, actor).get(request_id, for_update=True)
    if not actor.can(Permission.APPROVAL_DECIDE) or request.requester_id == actor.id:
        raise PermissionDenied()
    if request.status != ApprovalStatus.PENDING:
        raise Conflict(ErrorCode.ALREADY_DECIDED)
    request.decided_by, request.decided_at, request.decision_note = actor.id, utcnow(), note
    if approve:
        try:
            with session.begin_nested():
                outcome = _carry_out(session, actor, request)
            request.status, request.outcome = ApprovalStatus.APPROVED, outcome
        except CRMError as error:  # e.g. the customer changed or went away meanwhile
            request.status, request.outcome = ApprovalStatus.FAILED, str(error.code)
    else:
        request.status = ApprovalStatus.REJECTED
    session.flush()
    audit.record(
        session,
        "approval.approve" if approve else "approval.reject",
        actor=actor,
        object_type="approval",
        object_id=request.id,
        detail={"action": request.action, "customer_id": request.customer_id, "outcome": request.outcome},
    )
    return request


def claim_export(session: Session, actor: Actor, request_id: int) -> ApprovalRequest:
    """The requester takes their approved export, once; the caller then streams the file."""
    request = ApprovalRepository(session, actor).get(request_id, for_update=True)
    if request.action != "customer.export" or request.requester_id != actor.id:
        raise PermissionDenied()
    if request.status != ApprovalStatus.APPROVED or request.outcome != "ready":
        state = request.outcome if request.status == ApprovalStatus.APPROVED else request.status.value
        raise Conflict(ErrorCode.NOT_READY, params={"state": state})
    days = settings.export_approval_valid_days
    if request.decided_at is not None and utcnow() - request.decided_at > timedelta(days=days):
        raise Conflict(ErrorCode.EXPIRED, params={"days": days})
    request.outcome = "downloaded"
    session.flush()
    return request
