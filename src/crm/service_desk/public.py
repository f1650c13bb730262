"""The satisfaction survey a customer answers from the link, without signing in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from crm.auth.dependencies import SessionDep
from crm.kit.errors import RateLimited, problem_responses
from crm.kit.ratelimit import limiter
from crm.kit.routing import UnitOfWorkRoute
from crm.models import SatisfactionSurvey, ServiceRecord, Tenant
from crm.service_desk import schemas, surveys
from crm.tenants.service import settings_of

router = APIRouter(prefix="/public", tags=["satisfaction surveys"], route_class=UnitOfWorkRoute)

SurveyToken = Annotated[str, Path(min_length=20, max_length=1000, pattern=r"^[A-Za-z0-9_.-]+$")]
# Survey links are public: a modest limit per address keeps anyone from guessing at them.
ANSWERS_PER_MINUTE = 30


def _limited(request: Request) -> None:
    address = request.client.host if request.client else "unknown"
    wait = limiter().hit(f"survey:{address}", ANSWERS_PER_MINUTE, 60)
    if wait is not None:
        raise RateLimited(wait)


Limited = Depends(_limited)


def _shown(session: SessionDep, found: tuple[SatisfactionSurvey, ServiceRecord]) -> schemas.PublicSurvey:
    survey, ticket = found
    tenant = session.get(Tenant, ticket.tenant_id)
    brand = (settings_of(tenant).brand_name or tenant.name) if tenant is not None else ""
    return schemas.PublicSurvey(
        status=surveys.status_of(survey),
        brand_name=brand,
        subject=ticket.subject,
        resolved_date=ticket.resolved_date,
        expires_at=survey.expires_at,
        rating=ticket.satisfaction_rating if survey.answered_at is not None else None,
    )


@router.get(
    "/surveys/{token}",
    response_model=schemas.PublicSurvey,
    responses=problem_responses(404, 422, 429),
    dependencies=[Limited],
)
def read_survey(session: SessionDep, token: SurveyToken) -> schemas.PublicSurvey:
    """The survey behind a link: what it asks about, and whether it can still be answered."""
    return _shown(session, surveys.find(session, token))


@router.post(
    "/surveys/{token}",
    response_model=schemas.PublicSurvey,
    responses=problem_responses(400, 404, 409, 410, 413, 422, 429),
    dependencies=[Limited],
)
def answer_survey(session: SessionDep, token: SurveyToken, data: schemas.SurveyAnswer) -> schemas.PublicSurvey:
    """Rate the service 1–5 with optional feedback; a link works once, until it expires."""
    return _shown(session, surveys.answer(session, token, data.rating, data.feedback))
