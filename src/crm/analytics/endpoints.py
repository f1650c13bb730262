"""Customer value analysis at the seed's paths (§4.2.1)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from crm.analytics import behavior, schemas, service
from crm.auth.dependencies import SessionDep, require
from crm.auth.permissions import Permission
from crm.kit.actor import Actor
from crm.kit.errors import problem_responses
from crm.kit.routing import UnitOfWorkRoute
from crm.kit.validation import IdPath

router = APIRouter(prefix="/crm", tags=["customer intelligence"], route_class=UnitOfWorkRoute)

Reader = Annotated[Actor, Depends(require(Permission.CUSTOMER_READ))]
# Recomputing writes the customer's figures: for those who maintain the customer, not readers.
Refresher = Annotated[Actor, Depends(require(Permission.CUSTOMER_UPDATE))]


@router.get(
    "/customers/{customer_id}/value_analysis",
    response_model=schemas.ValueAnalysis,
    responses=problem_responses(401, 403, 404, 422),
)
def get_value_analysis(session: SessionDep, actor: Reader, customer_id: IdPath) -> schemas.ValueAnalysis:
    """The latest snapshot and the history; money figures only with the finance permission."""
    return service.value_analysis(session, actor, customer_id)


@router.post(
    "/customers/{customer_id}/value_analysis/refresh",
    response_model=schemas.ValueAnalysis,
    responses=problem_responses(401, 403, 404, 422),
)
def refresh_value_analysis(session: SessionDep, actor: Refresher, customer_id: IdPath) -> schemas.ValueAnalysis:
    """Recompute today's snapshot of this customer now (the nightly job does every customer)."""
    return service.refresh_one(session, actor, customer_id)


@router.get(
    "/customers/{customer_id}/behavior_analysis",
    response_model=schemas.BehaviorAnalysis,
    responses=problem_responses(401, 403, 404, 422),
)
def get_behavior_analysis(session: SessionDep, actor: Reader, customer_id: IdPath) -> schemas.BehaviorAnalysis:
    """RFM scores, monthly spend, favourite categories and products, preferred channel and hour, trends."""
    return behavior.behavior_analysis(session, actor, customer_id)
