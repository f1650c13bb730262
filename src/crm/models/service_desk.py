"""Service records (tickets) of the service desk (§3.7, §4.4)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column

from crm.kit.db import Base, IdMixin, TimestampMixin, utcnow
from crm.kit.types import BigIntId, JSONType, UTCDateTime
from crm.models.enums import db_enum


class ServiceType(StrEnum):
    CONSULTATION = "consultation"
    COMPLAINT = "complaint"
    TECHNICAL_SUPPORT = "technical_support"
    AFTER_SALES = "after_sales"
    OTHER = "other"


class Priority(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    URGENT = "urgent"


class TicketStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class ServiceRecord(IdMixin, TimestampMixin, Base):
    __tablename__ = "customer_service_records"
    __table_args__ = (
        Index("ix_customer_service_records_customer_id", "customer_id"),
        Index("ix_customer_service_records_tenant_status", "tenant_id", "status", "priority"),
        Index("ix_customer_service_records_assigned_staff", "assigned_staff_id", "status"),
        Index("ix_customer_service_records_created_date", "tenant_id", "created_date"),
        # Open work of one agent, for workload-based assignment.
        Index(
            "ix_customer_service_records_open_work",
            "assigned_staff_id",
            "priority",
            postgresql_where=text("status IN ('open', 'in_progress')"),
            sqlite_where=text("status IN ('open', 'in_progress')"),
        ),
    )

    tenant_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("tenants.id"))
    customer_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("customers.id"))
    contact_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("customer_contacts.id"))
    service_type: Mapped[ServiceType] = mapped_column(db_enum(ServiceType, "service_type"))
    priority: Mapped[Priority] = mapped_column(db_enum(Priority, "ticket_priority"), default=Priority.MEDIUM)
    status: Mapped[TicketStatus] = mapped_column(db_enum(TicketStatus, "ticket_status"), default=TicketStatus.OPEN)
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    resolution: Mapped[str | None] = mapped_column(Text)
    assigned_staff_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("users.id"))
    created_date: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_response_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    satisfaction_rating: Mapped[int | None] = mapped_column(Integer)
    satisfaction_feedback: Mapped[str | None] = mapped_column(Text)
    escalated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    escalation_reason: Mapped[str | None] = mapped_column(String(200))
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    reopened_count: Mapped[int] = mapped_column(Integer, default=0)
    # SLA clocks (working time of the tenant's service calendar; see crm.service_desk.sla).
    first_response_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_risk_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_risk_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Wall-clock seconds from creation to the first response and to the (last) resolution,
    # stamped by those actions so that statistics are plain averages and percentiles.
    first_response_seconds: Mapped[int | None] = mapped_column(Integer)
    resolution_seconds: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[int] = mapped_column(BigIntId, ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - read once by the declarative mapper


class SatisfactionSurvey(IdMixin, Base):
    """The one-time survey link sent when a ticket is resolved (see crm.service_desk.surveys).

    The link carries a signed token naming this row; the row says whether it was answered and
    until when it is valid. The rating and feedback are stored on the ticket itself.
    """

    __tablename__ = "satisfaction_surveys"
    __table_args__ = (Index("ix_satisfaction_surveys_ticket", "service_record_id"),)

    tenant_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("tenants.id"))
    service_record_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("customer_service_records.id"))
    # The token's own random id (its "jti"): a token is valid only for the row holding it.
    token_id: Mapped[str] = mapped_column(String(32), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A newer survey of the same ticket (resolved again after a reopening) replaces this one.
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
