"""The append-only audit trail (§9.2): who did what to which record, from where, and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from crm.kit.db import Base, IdMixin, utcnow
from crm.kit.types import BigIntId, JSONType, UTCDateTime


class AuditLog(IdMixin, Base):
    __tablename__ = "audit_logs"
    __table_args__ = (
        Index("ix_audit_logs_tenant_created", "tenant_id", "created_at"),
        Index("ix_audit_logs_object", "object_type", "object_id"),
        Index("ix_audit_logs_actor", "actor_id", "created_at"),
        # A record's place in its tenant's sealed chain (crm.kit.seal), unique so that two
        # writers can never both extend the chain from the same record.
        Index("ix_audit_logs_tenant_seq", "tenant_id", "seq", unique=True),
    )

    # Null only for a failed login with an unknown user name: no tenant can be told.
    tenant_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("tenants.id"))
    actor_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("users.id"))
    actor_name: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[int | None] = mapped_column(BigIntId)
    # {field: {"before": …, "after": …}}; personal data appears only masked.
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    request_id: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Records never change, with one exception: erasing a person's data on request redacts
    # the personal values in ``changes`` and ``detail`` once, and stamps the time it did.
    redacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The seal (crm.kit.seal): the record's number in its tenant's chain, its body's hash as
    # written, and the HMAC linking it to the record before it.
    seq: Mapped[int | None] = mapped_column(BigIntId)
    body_hash: Mapped[str | None] = mapped_column(String(64))
    seal: Mapped[str | None] = mapped_column(String(64))
