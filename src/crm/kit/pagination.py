"""Paginated lists: ``{items, total, page, page_size}`` with a capped page size."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from crm.config import settings

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(ge=0)
    page: int = Field(ge=1)
    page_size: int = Field(ge=1)


class PageParams(BaseModel):
    page: int = 1
    page_size: int = settings.default_page_size

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


def page_params(
    page: Annotated[int, Query(ge=1, le=100_000, description="1-based page number")] = 1,
    page_size: Annotated[
        int, Query(ge=1, le=settings.max_page_size, description="Rows per page")
    ] = settings.default_page_size,
) -> PageParams:
    return PageParams(page=page, page_size=page_size)


def count_rows(session: Session, stmt: Select[*tuple[Any, ...]]) -> int:
    return int(session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0)


def fetch_page(session: Session, stmt: Select[Any], params: PageParams) -> tuple[list[Any], int]:
    """Entities of one page and the total count; ``stmt`` must already have a stable order."""
    total = count_rows(session, stmt)
    if total <= params.offset:
        return [], total
    rows = list(session.scalars(stmt.limit(params.page_size).offset(params.offset)).unique())
    return rows, total
