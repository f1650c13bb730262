from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from crm.auth.schemas import Password
from crm.kit.pagination import PagedQuery
from crm.kit.regions import Region
from crm.kit.validation import not_null, reject_unstorable_text
from crm.models.enums import Role

Username = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[\w.@-]+$")]
DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Team = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


CAPACITY = "Service agents: priority-weighted open tickets they take on (null: the tenant's default)"


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    role: Role
    region: Region | None
    extra_regions: list[Region]
    team: str | None
    service_capacity: int | None
    is_active: bool
    last_login_at: datetime | None
    created_at: datetime


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    _storable = field_validator("*", mode="before")(reject_unstorable_text)

    username: Username
    display_name: DisplayName | None = None
    password: Password = Field(description="At least 12 characters")
    role: Role
    region: Region | None = None
    extra_regions: list[Region] = Field(default_factory=list, max_length=7)
    team: Team | None = None
    service_capacity: int | None = Field(default=None, ge=1, le=10_000, description=CAPACITY)


class UserUpdate(BaseModel):
    """Only the fields sent change; send `is_active: false` to disable an account."""

    model_config = ConfigDict(extra="forbid")
    _storable = field_validator("*", mode="before")(reject_unstorable_text)

    display_name: Annotated[DisplayName | None, AfterValidator(not_null)] = None
    password: Annotated[Password | None, AfterValidator(not_null)] = None
    role: Annotated[Role | None, AfterValidator(not_null)] = None
    region: Region | None = Field(default=None, description="null clears it (not for managers)")
    extra_regions: Annotated[list[Region] | None, AfterValidator(not_null), Field(max_length=7)] = None
    team: Team | None = Field(default=None, description="null clears it")
    service_capacity: int | None = Field(default=None, ge=1, le=10_000, description=CAPACITY)
    is_active: Annotated[bool | None, AfterValidator(not_null)] = None


class SalesOwner(BaseModel):
    """Someone a customer can be assigned to."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    display_name: str
    role: Role
    region: Region | None


class UserFilters(PagedQuery):
    role: Role | None = None
    region: Region | None = None
    team: str | None = Field(default=None, max_length=64)
    is_active: bool | None = None
    keyword: str | None = Field(default=None, max_length=64, description="Part of the user name or display name")
