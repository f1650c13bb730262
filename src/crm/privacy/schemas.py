from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from crm.kit.pagination import PagedQuery
from crm.kit.validation import MAX_ID, reject_unstorable_text
from crm.models import RequestKind, RequestOutcome, SubjectType

Reference = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class SubjectRequest(BaseModel):
    """A person's request, as the operator received it."""

    model_config = ConfigDict(extra="forbid")
    _storable = field_validator("*", mode="before")(reject_unstorable_text)

    reference: Reference | None = Field(
        default=None, description="The request's own reference (ticket or letter number); never personal data."
    )


class LegalHold(BaseModel):
    model_config = ConfigDict(extra="forbid")
    _storable = field_validator("*", mode="before")(reject_unstorable_text)

    legal_hold: bool
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = Field(
        default=None, description="Why the data must be kept (required when placing a hold), e.g. 诉讼保全 2026-民-118"
    )


class HoldState(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    customer_code: str
    legal_hold: bool
    legal_hold_reason: str | None


class DataSubjectRequest(BaseModel):
    """A recorded request and what became of it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: RequestKind
    subject_type: SubjectType
    subject_id: int
    customer_id: int
    reference: str | None
    outcome: RequestOutcome
    reason: str | None = Field(description="Why it was refused (legal hold and its reason)")
    detail: dict[str, Any] | None = Field(
        description="Rows anonymised per table (rows) and other rows whose mentions were blanked (mentions), "
        "or the sections exported"
    )
    handled_by: int
    created_at: datetime


class SubjectData(BaseModel):
    """Everything held about the person, and the record of this access request."""

    request: DataSubjectRequest
    data: dict[str, Any]


class RequestFilters(PagedQuery):
    kind: RequestKind | None = None
    customer_id: int | None = Field(default=None, ge=1, le=MAX_ID)
