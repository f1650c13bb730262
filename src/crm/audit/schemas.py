from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from crm.kit.pagination import PagedQuery
from crm.kit.validation import MAX_ID, AwareDateTime, reject_unstorable_text


class AuditEntry(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    actor_id: int | None
    actor_name: str | None
    action: str = Field(description="e.g. customer.update, customer.level, auth.login_failed")
    object_type: str | None
    object_id: int | None
    changes: dict[str, Any] | None = Field(description="{field: {before, after}}; personal data masked")
    detail: dict[str, Any] | None
    request_id: str | None
    ip: str | None
    user_agent: str | None
    created_at: datetime


class AuditFilters(PagedQuery):
    _storable = field_validator("*", mode="before")(reject_unstorable_text)

    action: Annotated[str, StringConstraints(max_length=40)] | None = None
    actor_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    object_type: Annotated[str, StringConstraints(max_length=40)] | None = None
    object_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    since: AwareDateTime | None = Field(default=None, description="Inclusive, with a time zone")
    until: AwareDateTime | None = Field(default=None, description="Exclusive, with a time zone")
