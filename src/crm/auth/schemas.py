from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from crm.kit.regions import Region
from crm.kit.validation import reject_unstorable_text
from crm.models.enums import Role

Password = Annotated[str, StringConstraints(min_length=12, max_length=128)]


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_at: datetime
    expires_in: int


class Me(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    role: Role
    region: Region | None
    team: str | None
    tenant_id: int
    tenant_code: str
    tenant_name: str
    brand_name: str | None = Field(description="The tenant's brand, shown in the UI instead of its name")
    extra_regions: list[Region]
    permissions: list[str]
    data_scope: str


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    _storable = field_validator("*", mode="before")(reject_unstorable_text)

    current_password: str = Field(min_length=1, max_length=128)
    new_password: Password = Field(description="At least 12 characters, not the current one")
