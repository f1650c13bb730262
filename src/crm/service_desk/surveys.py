"""Satisfaction surveys (§2.3's last step): a one-time link the customer answers without signing in.

Resolving a ticket issues a survey. Its link carries a signed token (HS256, audience
``crm:survey``, so it is never accepted as an access token, nor an access token as a
survey) naming the survey row and that row's random token id. The row decides: a token
works once (``answered_at``), until ``expires_at`` (the tenant's ``survey_valid_days``), and
only while it is the ticket's latest survey (a reopened ticket's pending survey is
superseded). The rating (1–5) and feedback are stored on the ticket.

The token holds nothing but ids and the expiry; with the same key it is re-created from the
row, so staff can copy the link again from the ticket at any time.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum

import jwt
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crm.audit import service as audit
from crm.config import settings
from crm.kit.db import utcnow
from crm.kit.errors import Conflict, ErrorCode, Gone, NotFound
from crm.models import Customer, SatisfactionSurvey, ServiceRecord, Tenant
from crm.tenants.service import settings_of

AUDIENCE = "crm:survey"
ISSUER = "crm"


class SurveyStatus(StrEnum):
    PENDING = "pending"
    ANSWERED = "answered"
    EXPIRED = "expired"


def issue(session: Session, ticket: ServiceRecord, *, now: datetime | None = None) -> SatisfactionSurvey:
    """A new survey for a just-resolved ticket; an earlier unanswered one stops working."""
    now = now or utcnow()
    supersede(session, ticket, now=now)
    tenant = session.get(Tenant, ticket.tenant_id)
    days = settings_of(tenant).survey_valid_days if tenant is not None else 14
    survey = SatisfactionSurvey(
        tenant_id=ticket.tenant_id,
        service_record_id=ticket.id,
        token_id=uuid.uuid4().hex,
        expires_at=now + timedelta(days=days),
        created_at=now,
    )
    session.add(survey)
    session.flush()
    return survey


def supersede(session: Session, ticket: ServiceRecord, *, now: datetime | None = None) -> None:
    session.execute(
        update(SatisfactionSurvey)
        .where(
            SatisfactionSurvey.service_record_id == ticket.id,
            SatisfactionSurvey.answered_at.is_(None),
            SatisfactionSurvey.superseded_at.is_(None),
        )
        .values(superseded_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )


def token_of(survey: SatisfactionSurvey) -> str:
    payload = {
        "sub": str(survey.id),
        "jti": survey.token_id,
        "exp": int(survey.expires_at.timestamp()),
        "aud": AUDIENCE,
        "iss": ISSUER,
    }
    return jwt.encode(payload, settings.signing_key, algorithm="HS256")


def url_of(survey: SatisfactionSurvey) -> str:
    return f"{settings.public_base_url}/survey/{token_of(survey)}"


def status_of(survey: SatisfactionSurvey, now: datetime | None = None) -> SurveyStatus:
    if survey.answered_at is not None:
        return SurveyStatus.ANSWERED
    if survey.superseded_at is not None or (now or utcnow()) >= survey.expires_at:
        return SurveyStatus.EXPIRED
    return SurveyStatus.PENDING


def latest_of(session: Session, ticket_ids: list[int]) -> dict[int, SatisfactionSurvey]:
    """The newest survey of each ticket, in one query (for a page of tickets)."""
    if not ticket_ids:
        return {}
    latest: dict[int, SatisfactionSurvey] = {}
    rows = session.scalars(
        select(SatisfactionSurvey)
        .where(SatisfactionSurvey.service_record_id.in_(ticket_ids))
        .order_by(SatisfactionSurvey.service_record_id, SatisfactionSurvey.id)
    )
    for survey in rows:
        latest[survey.service_record_id] = survey
    return latest


def find(session: Session, token: str, *, for_update: bool = False) -> tuple[SatisfactionSurvey, ServiceRecord]:
    """The survey a token names, with its ticket; 404 for a forged, malformed or unknown token.

    The token's own expiry is not checked here: the row's is, so that an expired link answers
    410 ("expired") rather than 404.
    """
    try:
        claims = jwt.decode(
            token,
            settings.signing_key,
            algorithms=["HS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["sub", "jti", "exp", "aud"], "verify_exp": False},
        )
        survey_id = int(claims["sub"])
        token_id = str(claims["jti"])
    except (jwt.PyJWTError, ValueError, TypeError):
        raise NotFound("survey") from None
    stmt = select(SatisfactionSurvey).where(SatisfactionSurvey.id == survey_id)
    survey = session.scalars(stmt.with_for_update() if for_update else stmt).one_or_none()
    if survey is None or survey.token_id != token_id:
        raise NotFound("survey")
    ticket = session.get(ServiceRecord, survey.service_record_id)
    customer = session.get(Customer, ticket.customer_id) if ticket is not None else None
    if ticket is None or customer is None or customer.deleted_at is not None:
        raise NotFound("survey")
    return survey, ticket


def answer(session: Session, token: str, rating: int, feedback: str | None) -> tuple[SatisfactionSurvey, ServiceRecord]:
    """Store the customer's rating on the ticket: once, before the link expires."""
    survey, ticket = find(session, token, for_update=True)
    state = status_of(survey)
    if state == SurveyStatus.ANSWERED:
        raise Conflict(ErrorCode.SURVEY_ANSWERED)
    if state == SurveyStatus.EXPIRED:
        raise Gone(ErrorCode.SURVEY_EXPIRED)
    now = utcnow()
    survey.answered_at = now
    ticket.satisfaction_rating = rating
    ticket.satisfaction_feedback = feedback
    session.flush()
    audit.record(
        session,
        "service_record.satisfaction",
        actor=None,
        tenant_id=ticket.tenant_id,
        object_type="service_record",
        object_id=ticket.id,
        changes={"satisfaction_rating": {"before": None, "after": rating}},
        detail={"customer_id": ticket.customer_id, "survey_id": survey.id, "by": "customer"},
    )
    return survey, ticket
