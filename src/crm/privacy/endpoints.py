"""Data-subject requests and legal hold (admin only: `privacy.manage`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from crm.auth.dependencies import SessionDep, require
from crm.auth.permissions import Permission
from crm.kit.actor import Actor
from crm.kit.errors import Conflict, ErrorCode, problem_responses, render_error
from crm.kit.pagination import Page, fetch_page, page_of
from crm.kit.routing import UnitOfWorkRoute
from crm.kit.validation import IdPath
from crm.models import DataSubjectRequest as RequestRow
from crm.models import RequestOutcome
from crm.privacy import schemas, service

router = APIRouter(prefix="/crm", tags=["privacy"], route_class=UnitOfWorkRoute)

PrivacyOfficer = Annotated[Actor, Depends(require(Permission.PRIVACY_MANAGE))]
ERASE = problem_responses(400, 401, 403, 404, 409, 422)


def _answer(request: Request, row: RequestRow) -> schemas.DataSubjectRequest | Response:
    """A refused erasure answers 409 naming the hold; the refusal itself stays recorded (committed)."""
    if row.outcome == RequestOutcome.REFUSED:
        return render_error(request, Conflict(ErrorCode.LEGAL_HOLD, params={"reason": row.reason, "id": row.id}))
    return schemas.DataSubjectRequest.model_validate(row)


@router.post("/privacy/customers/{customer_id}/access", response_model=schemas.SubjectData, responses=ERASE)
def access_customer(
    session: SessionDep, actor: PrivacyOfficer, customer_id: IdPath, data: schemas.SubjectRequest
) -> schemas.SubjectData:
    """Everything held about a customer (deleted ones too), unmasked, as JSON; the request is recorded."""
    row, held = service.access_customer(session, actor, customer_id, data.reference)
    return schemas.SubjectData(request=schemas.DataSubjectRequest.model_validate(row), data=held)


@router.post("/privacy/contacts/{contact_id}/access", response_model=schemas.SubjectData, responses=ERASE)
def access_contact(
    session: SessionDep, actor: PrivacyOfficer, contact_id: IdPath, data: schemas.SubjectRequest
) -> schemas.SubjectData:
    """Everything held about one contact person, as JSON; the request is recorded."""
    row, held = service.access_contact(session, actor, contact_id, data.reference)
    return schemas.SubjectData(request=schemas.DataSubjectRequest.model_validate(row), data=held)


@router.post("/privacy/customers/{customer_id}/erase", response_model=schemas.DataSubjectRequest, responses=ERASE)
def erase_customer(
    request: Request, session: SessionDep, actor: PrivacyOfficer, customer_id: IdPath, data: schemas.SubjectRequest
) -> schemas.DataSubjectRequest | Response:
    """Erase a customer's personal data everywhere (aggregates stay); 409 under legal hold."""
    return _answer(request, service.erase_customer(session, actor, customer_id, data.reference))


@router.post("/privacy/contacts/{contact_id}/erase", response_model=schemas.DataSubjectRequest, responses=ERASE)
def erase_contact(
    request: Request, session: SessionDep, actor: PrivacyOfficer, contact_id: IdPath, data: schemas.SubjectRequest
) -> schemas.DataSubjectRequest | Response:
    """Erase one contact person's data everywhere; 409 when the customer is under legal hold."""
    return _answer(request, service.erase_contact(session, actor, contact_id, data.reference))


@router.get(
    "/privacy/requests", response_model=Page[schemas.DataSubjectRequest], responses=problem_responses(401, 403, 422)
)
def list_requests(
    session: SessionDep, actor: PrivacyOfficer, filters: Annotated[schemas.RequestFilters, Query()]
) -> Page[schemas.DataSubjectRequest]:
    """Every data-subject request of the tenant and its outcome, newest first."""
    params = filters.paging
    rows, total, exact = fetch_page(
        session, service.requests_statement(actor, filters.kind, filters.customer_id), params
    )
    items = [schemas.DataSubjectRequest.model_validate(r) for r in rows]
    return page_of(schemas.DataSubjectRequest, items, total, params, exact=exact)


@router.put(
    "/customers/{customer_id}/legal_hold",
    response_model=schemas.HoldState,
    responses=problem_responses(400, 401, 403, 404, 409, 422),
)
def set_legal_hold(
    session: SessionDep, actor: PrivacyOfficer, customer_id: IdPath, data: schemas.LegalHold
) -> schemas.HoldState:
    """Place or lift a legal hold: while held, erasure requests are refused; audited."""
    return schemas.HoldState.model_validate(service.set_legal_hold(session, actor, customer_id, data))
