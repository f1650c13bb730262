"""Saved views: a user's named filters, sort, columns and page size of a list screen (issue 6)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from crm.kit.db import Base, IdMixin, TimestampMixin
from crm.kit.types import BigIntId, JSONType
from crm.models.enums import db_enum


class SavedViewPage(StrEnum):
    """The list screens a view belongs to; service_records and churn_warnings may follow."""

    CUSTOMERS = "customers"


class SavedView(IdMixin, TimestampMixin, Base):
    """One user's named view of a list; only its owner sees it, even within the tenant."""

    __tablename__ = "saved_views"
    __table_args__ = (
        UniqueConstraint("user_id", "page", "name"),
        # At most one default view per user and page: the service clears the old one first.
        Index(
            "uq_saved_views_default",
            "user_id",
            "page",
            unique=True,
            postgresql_where=text("is_default"),
            sqlite_where=text("is_default"),
        ),
    )

    tenant_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("tenants.id"))
    user_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("users.id"))
    page: Mapped[SavedViewPage] = mapped_column(db_enum(SavedViewPage, "saved_view_page"))
    name: Mapped[str] = mapped_column(String(50))
    # {"filters": {...}, "sort": str | None, "columns": [str], "page_size": int | None}
    definition: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - read once by the declarative mapper
