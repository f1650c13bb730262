from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from crm.approvals import service
from crm.approvals.repository import ApprovalRepository
from crm.approvals.schemas import Approval, ApprovalFilters, Decision
from crm.auth.dependencies import CurrentActor, SessionDep
from crm.kit.errors import problem_responses
from crm.kit.pagination import Page, fetch_page, page_of
from crm.kit.routing import UnitOfWorkRoute
from crm.kit.validation import IdPath

router = APIRouter(prefix="/crm", tags=["approvals"], route_class=UnitOfWorkRoute)


@router.get("/approvals", response_model=Page[Approval], responses=problem_responses(401, 422))
def list_approvals(
    session: SessionDep, actor: CurrentActor, filters: Annotated[ApprovalFilters, Query()]
) -> Page[Approval]:
    """Your own requests; for managers also those of their region, for admins the tenant's."""
    params = filters.paging
    rows, total, exact = fetch_page(session, ApprovalRepository(session, actor).search(filters), params)
    return page_of(Approval, [Approval.model_validate(r) for r in rows], total, params, exact=exact)


@router.get("/approvals/{approval_id}", response_model=Approval, responses=problem_responses(401, 404, 422))
def get_approval(session: SessionDep, actor: CurrentActor, approval_id: IdPath) -> Approval:
    """One request and its outcome."""
    return Approval.model_validate(ApprovalRepository(session, actor).get(approval_id))


@router.post(
    "/approvals/{approval_id}/approve",
    response_model=Approval,
    responses=problem_responses(400, 401, 403, 404, 409, 422),
)
def approve(session: SessionDep, actor: CurrentActor, approval_id: IdPath, data: Decision) -> Approval:
    """Approve: the operation is carried out at once, exactly once."""
    return Approval.model_validate(service.decide(session, actor, approval_id, approve=True, note=data.note))


@router.post(
    "/approvals/{approval_id}/reject",
    response_model=Approval,
    responses=problem_responses(400, 401, 403, 404, 409, 422),
)
def reject(session: SessionDep, actor: CurrentActor, approval_id: IdPath, data: Decision) -> Approval:
    """Reject: nothing changes."""
    return Approval.model_validate(service.decide(session, actor, approval_id, approve=False, note=data.note))
