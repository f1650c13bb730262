"""Sign-in throttling: too many failures for one account or from one address → 429.

Failures are rows in the database, so every API worker sees the same count.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from crm.config import settings
from crm.kit.db import utcnow
from crm.models import LoginFailure


def retry_after(session: Session, username: str, ip: str | None) -> int | None:
    """Seconds until a sign-in may be tried again, or None when it may be tried now."""
    window = timedelta(minutes=settings.login_window_minutes)
    now = utcnow()
    keys = [LoginFailure.username == username] + ([LoginFailure.ip == ip] if ip else [])
    waits = []
    for key in keys:
        recent = session.scalars(
            select(LoginFailure.created_at)
            .where(key, LoginFailure.created_at >= now - window)
            .order_by(LoginFailure.created_at.desc())
            .limit(settings.login_max_failures)
        ).all()
        if len(recent) >= settings.login_max_failures:
            # The lock lifts when the oldest of the last N failures leaves the window.
            waits.append(recent[-1] + window - now)
    return max(1, int(max(waits).total_seconds()) + 1) if waits else None


def record_failure(session: Session, username: str, ip: str | None) -> None:
    session.add(LoginFailure(username=username[:64], ip=ip))


def forget_failures(session: Session, username: str) -> None:
    """A successful sign-in clears its account's count (not its address's)."""
    session.execute(delete(LoginFailure).where(LoginFailure.username == username))
