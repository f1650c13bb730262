"""Churn warnings, their retention tasks and the churn model's status (§2.4, §5.2, §10.2)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from crm.analytics import prediction
from crm.analytics.schemas import ChurnModelStatus
from crm.auth.dependencies import SessionDep, require
from crm.auth.permissions import Permission
from crm.churn import schemas, service
from crm.kit.actor import Actor
from crm.kit.errors import problem_responses
from crm.kit.pagination import Page, fetch_page_rows, page_of
from crm.kit.routing import UnitOfWorkRoute
from crm.kit.validation import IdPath

# Included by crm.analytics.endpoints (under its /crm prefix).
router = APIRouter(prefix="/crm", tags=["customer intelligence"], route_class=UnitOfWorkRoute)

Reader = Annotated[Actor, Depends(require(Permission.CUSTOMER_READ))]
Writer = Annotated[Actor, Depends(require(Permission.INTERACTION_WRITE))]
Trainer = Annotated[Actor, Depends(require(Permission.SETTINGS_MANAGE))]
READ = problem_responses(401, 403, 404, 422)
WRITE = problem_responses(400, 401, 403, 404, 409, 413, 422)


@router.get("/churn_warnings", response_model=Page[schemas.ChurnWarning], responses=READ)
def list_warnings(
    session: SessionDep, actor: Reader, filters: Annotated[schemas.WarningFilters, Query()]
) -> Page[schemas.ChurnWarning]:
    """Churn warnings of the customers you see: most severe first, then by the task's due date."""
    params = filters.paging
    rows, total, exact = fetch_page_rows(session, service.list_warnings(actor, filters), params)
    return page_of(schemas.ChurnWarning, [service.shown(r, actor) for r in rows], total, params, exact=exact)


@router.get("/churn_warnings/summary", response_model=schemas.WarningSummary, responses=READ)
def warning_summary(
    session: SessionDep, actor: Reader, filters: Annotated[schemas.SummaryFilters, Query()]
) -> schemas.WarningSummary:
    """Warnings in work by risk, overdue tasks and outcomes of the last 90 days, of one region if asked."""
    return service.summary(session, actor, filters)


@router.get("/churn_warnings/{warning_id}", response_model=schemas.ChurnWarningDetail, responses=READ)
def get_warning(session: SessionDep, actor: Reader, warning_id: IdPath) -> schemas.ChurnWarningDetail:
    """One warning with its retention actions."""
    return service.detail(session, actor, warning_id)


@router.post(
    "/churn_warnings/{warning_id}/actions", response_model=schemas.ChurnWarningDetail, status_code=201, responses=WRITE
)
def add_action(
    session: SessionDep, actor: Writer, warning_id: IdPath, data: schemas.ActionCreate
) -> schemas.ChurnWarningDetail:
    """Record a retention action (also an interaction on the timeline); the task is then in progress."""
    return service.add_action(session, actor, warning_id, data)


@router.put("/churn_warnings/{warning_id}/outcome", response_model=schemas.ChurnWarningDetail, responses=WRITE)
def record_outcome(
    session: SessionDep, actor: Writer, warning_id: IdPath, data: schemas.Outcome
) -> schemas.ChurnWarningDetail:
    """Close the retention task: the customer was retained or lost."""
    return service.record_outcome(session, actor, warning_id, data)


@router.get("/churn_model", response_model=ChurnModelStatus, responses=problem_responses(401, 403))
def churn_model(session: SessionDep, actor: Reader) -> ChurnModelStatus:
    """Whether churn_probability comes from a trained model or the rules alone apply, with the metrics."""
    return prediction.status(session, actor.tenant_id)


@router.post("/churn_model/train", response_model=ChurnModelStatus, responses=problem_responses(401, 403))
def train_churn_model(session: SessionDep, actor: Trainer) -> ChurnModelStatus:
    """Train and evaluate the churn model on the tenant's history now (as `crm model train` does)."""
    prediction.train(session, actor.tenant_id, trained_by=actor.id)
    return prediction.status(session, actor.tenant_id)
