"""Requests for sensitive operations that a manager must approve (§9.2)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from crm.kit.db import Base, IdMixin, TimestampMixin
from crm.kit.regions import Region
from crm.kit.types import BigIntId, JSONType, UTCDateTime
from crm.models.enums import db_enum


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"  # and carried out
    REJECTED = "rejected"
    FAILED = "failed"  # approved, but the operation could no longer be carried out


class ApprovalRequest(IdMixin, TimestampMixin, Base):
    __tablename__ = "approval_requests"
    __table_args__ = (
        Index("ix_approval_requests_tenant_status", "tenant_id", "status", "region"),
        Index("ix_approval_requests_requester", "requester_id", "created_at"),
    )

    tenant_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("tenants.id"))
    requester_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(40))
    # The customer the operation concerns; none for an export (its filters are in the payload).
    customer_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("customers.id"))
    # The customer's region when asked: the managers of that region decide.
    region: Mapped[Region | None] = mapped_column(db_enum(Region, "approval_region"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[ApprovalStatus] = mapped_column(
        db_enum(ApprovalStatus, "approval_status"), default=ApprovalStatus.PENDING
    )
    decided_by: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(String(500))
    outcome: Mapped[str | None] = mapped_column(String(200))
