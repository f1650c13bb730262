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
        default=True,
        description="False when there are more rows than were counted (show “100+”); `exact_total=true` counts all",
    )


def page_of(model: type[M], items: list[M], total: int, params: PageParams, *, exact: bool = True) -> Page[M]:
    """The page answer for ``items`` (already converted to ``model``)."""
    return Page[model](  # type: ignore[valid-type]
        items=items, total=total, total_exact=exact, page=params.page, page_size=params.page_size
    )


# The total is counted this many pages past the one shown: enough for the pager, cheap at any size.
LOOKAHEAD_PAGES = 5


class PageParams(BaseModel):
    page: int = 1
    page_size: int = settings.default_page_size
    exact_total: bool = False

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size

    @property
    def count_cap(self) -> int | None:
        """How many rows the total is counted up to (None: all of them)."""
        return None if self.exact_total else self.offset + self.page_size * LOOKAHEAD_PAGES


class PagedQuery(BaseModel):
    """The paging part of a list's query parameters."""

    page: int = Field(default=1, ge=1, le=100_000, description="1-based page number")
    page_size: int = Field(
        default=settings.default_page_size, ge=1, le=settings.max_page_size, description="Rows per page"
    )
    exact_total: bool = Field(
        default=False,
        description="Count every matching row (slow for a large list); otherwise `total` is counted a few pages "
        "ahead and `total_exact` says whether that is all",
    )

    @property
    def paging(self) -> PageParams:
        return PageParams(page=self.page, page_size=self.page_size, exact_total=self.exact_total)


def page_params(
    page: Annotated[int, Query(ge=1, le=100_000, description="1-based page number")] = 1,
    page_size: Annotated[
        int, Query(ge=1, le=settings.max_page_size, description="Rows per page")
    ] = settings.default_page_size,
    exact_total: Annotated[bool, Query(description="Count every matching row (slow for a large list)")] = False,
) -> PageParams:
    return PageParams(page=page, page_size=page_size, exact_total=exact_total)


def count_rows(session: Session, stmt: Select[*tuple[Any, ...]]) -> int:
    return int(session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0)


def count_capped(session: Session, stmt: Select[*tuple[Any, ...]], cap: int) -> tuple[int, bool]:
    """Count up to ``cap`` rows: (count, exact). Stops reading once the cap is passed."""
    probe = stmt.order_by(None).limit(cap + 1).subquery()
    counted = int(session.scalar(select(func.count()).select_from(probe)) or 0)
    return (counted, True) if counted <= cap else (cap, False)


def page_total(session: Session, stmt: Select[Any], params: PageParams, shown: int) -> tuple[int, bool]:
    """The total of a list whose page ``params`` showed ``shown`` rows, and whether it is exact.

    A page that is not full is the last one: the total follows from it without a count. Otherwise
    the rows are counted only as far as the pager needs (``count_cap``), or all of them when asked.
    """
    if 0 < shown < params.page_size or (shown == 0 and params.offset == 0):
        return params.offset + shown, True
    cap = params.count_cap
    return (count_rows(session, stmt), True) if cap is None else count_capped(session, stmt, cap)


def fetch_page(session: Session, stmt: Select[Any], params: PageParams) -> tuple[list[Any], int, bool]:
    """Entities of one page, the total and whether it is exact; ``stmt`` must have a stable order."""
    rows = list(session.scalars(stmt.limit(params.page_size).offset(params.offset)).unique())
    total, exact = page_total(session, stmt, params, len(rows))
    return rows, total, exact


def fetch_page_rows(session: Session, stmt: Select[Any], params: PageParams) -> tuple[list[Any], int, bool]:
    """As fetch_page, for a statement of columns rather than entities: its rows as they are."""
    rows = list(session.execute(stmt.limit(params.page_size).offset(params.offset)).all())
    total, exact = page_total(session, stmt, params, len(rows))
    return rows, total, exact
