"""Paginated lists: ``{items, total, page, page_size}`` with a capped page size."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from crm.config import settings

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(ge=0, description="Matching rows; a lower bound when total_exact is false")
    page: int = Field(ge=1)
    page_size: int = Field(ge=1)
    total_exact: bool = Field(
        default=True, description="False when there are more rows than were counted (show “10000+”)"
    )


def page_of(model: type[M], items: list[M], total: int, params: PageParams, *, exact: bool = True) -> Page[M]:
    """The page answer for ``items`` (already converted to ``model``)."""
    return Page[model](  # type: ignore[valid-type]
        items=items, total=total, total_exact=exact, page=params.page, page_size=params.page_size
    )


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


def count_capped(session: Session, stmt: Select[*tuple[Any, ...]], cap: int) -> tuple[int, bool]:
    """Count up to ``cap`` rows: (count, exact). Stops reading once the cap is passed."""
    probe = stmt.order_by(None).limit(cap + 1).subquery()
    counted = int(session.scalar(select(func.count()).select_from(probe)) or 0)
    return (counted, True) if counted <= cap else (cap, False)


def fetch_page(
    session: Session, stmt: Select[Any], params: PageParams, *, count_limit: int | None = None
) -> tuple[list[Any], int, bool]:
    """Entities of one page, the total and whether it is exact; ``stmt`` must have a stable order."""
    total, exact = count_capped(session, stmt, count_limit or settings.count_limit)
    if exact and total <= params.offset:
        return [], total, exact
    rows = list(session.scalars(stmt.limit(params.page_size).offset(params.offset)).unique())
    return rows, total, exact
