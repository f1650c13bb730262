from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from crm.kit.regions import Region
from crm.models.enums import Role


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
