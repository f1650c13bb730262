"""Data-subject requests (§9.3; PIPL art. 45/47, GDPR art. 15/17): each one and its outcome."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from crm.kit.db import Base, IdMixin, utcnow
from crm.kit.types import BigIntId, JSONType, UTCDateTime
from crm.models.enums import db_enum


class RequestKind(StrEnum):
    ACCESS = "access"  # a copy of everything held about the person
    ERASURE = "erasure"  # their personal data removed or irreversibly anonymised


class SubjectType(StrEnum):
    CUSTOMER = "customer"
    CONTACT = "contact"


class RequestOutcome(StrEnum):
    COMPLETED = "completed"
    REFUSED = "refused"  # e.g. under legal hold; the reason says why


class DataSubjectRequest(IdMixin, Base):
    __tablename__ = "data_subject_requests"
    __table_args__ = (
        Index("ix_data_subject_requests_tenant_created", "tenant_id", "created_at"),
        Index("ix_data_subject_requests_customer", "customer_id"),
    )

    tenant_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("tenants.id"))
    kind: Mapped[RequestKind] = mapped_column(db_enum(RequestKind, "dsr_kind"))
    subject_type: Mapped[SubjectType] = mapped_column(db_enum(SubjectType, "dsr_subject_type"))
    subject_id: Mapped[int] = mapped_column(BigIntId)
    customer_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("customers.id"))
    # The person's own request reference (ticket, letter), never their personal data.
    reference: Mapped[str | None] = mapped_column(String(100))
    outcome: Mapped[RequestOutcome] = mapped_column(db_enum(RequestOutcome, "dsr_outcome"))
    reason: Mapped[str | None] = mapped_column(String(300))
    # What was done: rows anonymised per table, or the sections exported.
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    handled_by: Mapped[int] = mapped_column(BigIntId, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
