"""The managers' dashboard (§8, screen 7): customer figures; service figures are /service_records/statistics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from crm.auth.dependencies import SessionDep, require
from crm.auth.permissions import Permission
from crm.dashboard import schemas, service
from crm.kit.actor import Actor
from crm.kit.errors import problem_responses
from crm.kit.routing import UnitOfWorkRoute

router = APIRouter(prefix="/crm", tags=["analytics"], route_class=UnitOfWorkRoute)

Reader = Annotated[Actor, Depends(require(Permission.ANALYTICS_READ))]


@router.get(
    "/analytics/dashboard", response_model=schemas.CustomerDashboard, responses=problem_responses(401, 403, 422)
)
def customer_dashboard(
    session: SessionDep, actor: Reader, filters: Annotated[schemas.DashboardFilters, Query()]
) -> schemas.CustomerDashboard:
    """Customers you can see by level and region, and new customers per business month of the period."""
    return service.dashboard(session, actor, filters)
