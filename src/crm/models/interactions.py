"""Interactions with customers and their follow-ups (§3.4), and in-app notifications."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from crm.kit.db import Base, IdMixin, TimestampMixin, utcnow
from crm.kit.types import BigIntId, JSONType, UTCDateTime
from crm.models.enums import db_enum


class InteractionType(StrEnum):
    CALL = "call"
    EMAIL = "email"
    MEETING = "meeting"
    VISIT = "visit"
    WECHAT = "wechat"
    OTHER = "other"


class InteractionDirection(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class InteractionOutcome(StrEnum):
    SUCCESSFUL = "successful"
    FAILED = "failed"
    FOLLOW_UP_NEEDED = "follow_up_needed"


class InteractionSource(StrEnum):
    STAFF = "staff"  # recorded by a person
    ORDER = "order"  # an order's status changed in the order system (§6.2)


class FollowUpStatus(StrEnum):
    NONE = "none"  # no next action planned
    PENDING = "pending"
    DONE = "done"
    CANCELLED = "cancelled"


class CustomerInteraction(IdMixin, TimestampMixin, Base):
    __tablename__ = "customer_interactions"
    __table_args__ = (
        Index("ix_customer_interactions_customer_date", "customer_id", "interaction_date"),
        Index("ix_customer_interactions_staff_id", "staff_id"),
        Index("ix_customer_interactions_interaction_date", "interaction_date"),
        # The pending follow-ups of one person, by due date: what pending_follow_up reads.
        Index(
            "ix_customer_interactions_pending",
            "tenant_id",
            "staff_id",
            "next_action_date",
            postgresql_where=text("follow_up_status = 'pending'"),
            sqlite_where=text("follow_up_status = 'pending'"),
        ),
        # The pending follow-ups of a team (or tenant) by due date: a manager's pending_follow_up.
        Index(
            "ix_customer_interactions_pending_due",
            "tenant_id",
            "next_action_date",
            postgresql_where=text("follow_up_status = 'pending'"),
            sqlite_where=text("follow_up_status = 'pending'"),
        ),
        # Follow-ups fallen due whose owner has not been reminded yet: what the reminder job reads.
        Index(
            "ix_customer_interactions_to_remind",
            "next_action_date",
            postgresql_where=text("follow_up_status = 'pending' AND reminded_at IS NULL"),
            sqlite_where=text("follow_up_status = 'pending' AND reminded_at IS NULL"),
        ),
    )

    tenant_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("tenants.id"))
    customer_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("customers.id"))
    contact_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("customer_contacts.id"))
    interaction_type: Mapped[InteractionType] = mapped_column(db_enum(InteractionType, "interaction_type"))
    interaction_direction: Mapped[InteractionDirection] = mapped_column(
        db_enum(InteractionDirection, "interaction_direction")
    )
    subject: Mapped[str] = mapped_column(String(200))
    content: Mapped[str | None] = mapped_column(Text)
    interaction_date: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[InteractionOutcome | None] = mapped_column(db_enum(InteractionOutcome, "interaction_outcome"))
    next_action: Mapped[str | None] = mapped_column(String(200))
    next_action_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    staff_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("users.id"))
    # [{id, file_name, content_type, size_bytes, sha256, uploaded_at}]; the files live in storage.
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    follow_up_status: Mapped[FollowUpStatus] = mapped_column(
        db_enum(FollowUpStatus, "follow_up_status"), default=FollowUpStatus.NONE
    )
    follow_up_done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the owner was reminded of this follow-up falling due (once per due date).
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who recorded it: staff, or the order feed. Only staff contact moves last_contact_date and
    # counts for the preferred channel and hour.
    source: Mapped[InteractionSource] = mapped_column(
        db_enum(InteractionSource, "interaction_source"), default=InteractionSource.STAFF, server_default="staff"
    )
    created_by: Mapped[int] = mapped_column(BigIntId, ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - read once by the declarative mapper


class Notification(IdMixin, Base):
    """An in-app message to one user (a follow-up falling due, a ticket escalated, …)."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_unread", "user_id", "read_at", "id"),
        # The same event notifies a user once, however often the job that finds it runs.
        UniqueConstraint("user_id", "dedupe_key"),
    )

    tenant_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("tenants.id"))
    user_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(String(500))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[int | None] = mapped_column(BigIntId)
    customer_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("customers.id"))
    dedupe_key: Mapped[str] = mapped_column(String(100))
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FileDeletion(IdMixin, Base):
    """A stored file to delete once the transaction that let it go has committed.

    Files are not transactional: deleting one inside a transaction that then rolls back
    would lose it. So erasure queues the deletion here, and a job removes the file.
    """

    __tablename__ = "file_deletions"

    tenant_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("tenants.id"))
    attachment_id: Mapped[str] = mapped_column(String(32))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
