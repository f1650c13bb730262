"""Sign-in defences: failed attempts (for throttling) and revoked tokens (for logout)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from crm.kit.db import Base, IdMixin, utcnow
from crm.kit.types import UTCDateTime


class LoginFailure(IdMixin, Base):
    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_username", "username", "created_at"),
        Index("ix_login_failures_ip", "ip", "created_at"),
    )

    username: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(45))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RevokedToken(Base):
    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Kept until the token would have expired anyway; then it may be purged.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # Each API process asks which tokens were revoked since it last looked (crm.auth.actors).
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
