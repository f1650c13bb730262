from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from crm.kit.pagination import PagedQuery
from crm.kit.regions import Region
from crm.kit.validation import reject_unstorable_text
from crm.models.approvals import ApprovalStatus


class Approval(BaseModel):
    """A request to carry out a sensitive operation, and what became of it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    action: str = Field(
        description="customer.delete, customer.update (blacklisting), customer.level (downgrade) or customer.export"
    )
    customer_id: int | None
    region: Region | None
    payload: dict[str, Any]
    status: ApprovalStatus
    requester_id: int
    decided_by: int | None
    decided_at: datetime | None
    decision_note: str | None
    outcome: str | None = Field(
        description="done (an export: ready, then downloaded), or the error code when it could no longer be carried out"
    )
    created_at: datetime


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    _storable = field_validator("*", mode="before")(reject_unstorable_text)

    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class ApprovalFilters(PagedQuery):
    status: ApprovalStatus | None = None
