"""Churn warnings and their retention tasks (§2.4, §5.2), and the tenant's trained churn model."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, Computed, Date, ForeignKey, Index, Integer, Numeric, SmallInteger, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from crm.kit.db import Base, IdMixin, TimestampMixin, utcnow
from crm.kit.types import BigIntId, JSONType, UTCDateTime
from crm.models.enums import db_enum


class ChurnRisk(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


# risk_level as a rank, most severe first (the generated column churn_warnings.risk_rank).
RISK_RANKS = {"high": 1, "medium": 2, "low": 3}
RISK_RANK = "CASE risk_level " + " ".join(f"WHEN '{r}' THEN {n}" for r, n in RISK_RANKS.items()) + " ELSE 9 END"


class WarningStatus(StrEnum):
    OPEN = "open"  # raised, the owner has not acted yet
    IN_PROGRESS = "in_progress"  # the owner has recorded a retention action
    RETAINED = "retained"  # outcome: the customer stayed
    LOST = "lost"  # outcome: the customer left
    CLEARED = "cleared"  # the risk went away before anyone acted


ACTIVE_WARNING = (WarningStatus.OPEN, WarningStatus.IN_PROGRESS)


class LifecycleStage(StrEnum):
    PROSPECT = "prospect"
    NEW = "new"
    ACTIVE = "active"
    AT_RISK = "at_risk"
    CHURNED = "churned"
    WON_BACK = "won_back"


class RetentionActionType(StrEnum):
    CALL = "call"
    VISIT = "visit"
    WECHAT = "wechat"
    EMAIL = "email"
    MEETING = "meeting"
    OFFER = "offer"  # a discount, a gift, special terms
    OTHER = "other"


class ChurnWarning(IdMixin, TimestampMixin, Base):
    """One episode of churn risk of a customer: raised by the nightly rules, worked by the owner."""

    __tablename__ = "churn_warnings"
    __table_args__ = (
        # At most one warning in work per customer: the nightly run updates it instead.
        Index(
            "uq_churn_warnings_active_customer",
            "customer_id",
            unique=True,
            postgresql_where=text("status IN ('open', 'in_progress')"),
            sqlite_where=text("status IN ('open', 'in_progress')"),
        ),
        Index("ix_churn_warnings_tenant_status", "tenant_id", "status", "risk_level"),
        # The list's order (most severe first, then by due date) for the warnings in work: the
        # first page is read from it instead of sorting every warning of the tenant.
        Index(
            "ix_churn_warnings_active_order",
            "tenant_id",
            "risk_rank",
            "due_date",
            "id",
            postgresql_where=text("status IN ('open', 'in_progress')"),
            sqlite_where=text("status IN ('open', 'in_progress')"),
        ),
        Index("ix_churn_warnings_owner", "owner_id", "status"),
    )

    tenant_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("tenants.id"))
    customer_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("customers.id"))
    risk_level: Mapped[ChurnRisk] = mapped_column(db_enum(ChurnRisk, "churn_risk"))
    # Kept by the database from risk_level (1 high, 2 medium, 3 low), so that "most severe
    # first" is an indexed order rather than a CASE sorted at read time.
    risk_rank: Mapped[int | None] = mapped_column(SmallInteger, Computed(RISK_RANK, persisted=True))
    rule: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[WarningStatus] = mapped_column(db_enum(WarningStatus, "churn_warning_status"))
    owner_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("users.id"))
    strategy: Mapped[str] = mapped_column(Text)
    due_date: Mapped[date] = mapped_column(Date)
    detected_date: Mapped[date] = mapped_column(Date)
    risk_changed_date: Mapped[date] = mapped_column(Date)
    churn_probability: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    outcome_note: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - read once by the declarative mapper


class RetentionAction(IdMixin, Base):
    """What the owner did about a warning; each one is also an interaction on the timeline."""

    __tablename__ = "retention_actions"
    __table_args__ = (Index("ix_retention_actions_warning", "warning_id"),)

    tenant_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("tenants.id"))
    warning_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("churn_warnings.id"))
    action_type: Mapped[RetentionActionType] = mapped_column(db_enum(RetentionActionType, "retention_action_type"))
    content: Mapped[str] = mapped_column(Text)
    staff_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("users.id"))
    interaction_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("customer_interactions.id"))
    action_date: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChurnModel(IdMixin, Base):
    """A churn model trained on the tenant's history (crm.analytics.prediction); the latest scores."""

    __tablename__ = "churn_models"
    __table_args__ = (Index("ix_churn_models_tenant", "tenant_id", "trained_at"),)

    tenant_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("tenants.id"))
    trained_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    algorithm: Mapped[str] = mapped_column(String(64))
    usable: Mapped[bool] = mapped_column(Boolean, default=False)  # false: too little history, the rules alone apply
    # Coefficients on standardised features: the nightly refresh scores in SQL from these.
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    trained_by: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("users.id"))
