from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, field_validator

from crm.config import settings
from crm.kit.validation import not_null, reject_unstorable_text
from crm.models import SavedViewPage

MAX_VIEWS_PER_PAGE = 50

ViewName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
Version = Annotated[int, Field(ge=1, le=2**31 - 1, description="The version you read; a stale one answers 409")]


class ViewDefinition(BaseModel):
    """What the view restores. Filters, sort and columns are checked against the page's list."""

    model_config = ConfigDict(extra="forbid")
    _storable = field_validator("*", mode="before")(reject_unstorable_text)

    filters: dict[str, Any] = Field(
        default_factory=dict,
        description="The list's own filter parameters (for customers: keyword, level, status, type, industry, "
        "source, tag, province, region, assigned_sales_id, acquired_from, acquired_to), as the list takes them",
    )
    sort: Annotated[str, StringConstraints(max_length=50)] | None = Field(
        default=None, description="One of the list's sort values, e.g. `-created_at`"
    )
    columns: list[Annotated[str, StringConstraints(max_length=50)]] = Field(
        default_factory=list, max_length=50, description="Optional columns shown, by key"
    )
    page_size: int | None = Field(default=None, ge=1, le=settings.max_page_size)


class SavedView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    page: SavedViewPage
    name: str
    definition: ViewDefinition
    is_default: bool
    version: int
    created_at: datetime
    updated_at: datetime


class WriteModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    _storable = field_validator("*", mode="before")(reject_unstorable_text)


class SavedViewCreate(WriteModel):
    page: SavedViewPage
    name: ViewName
    definition: ViewDefinition = Field(default_factory=ViewDefinition)
    is_default: bool = Field(default=False, description="Open the page with this view; the previous default stops")


class SavedViewUpdate(WriteModel):
    """Rename, replace the definition, or set or unset the default; fields left out stay."""

    name: Annotated[ViewName | None, BeforeValidator(not_null)] = None
    definition: Annotated[ViewDefinition | None, BeforeValidator(not_null)] = None
    is_default: Annotated[bool | None, BeforeValidator(not_null)] = None
    version: Version


class ViewQuery(BaseModel):
    page: SavedViewPage
