"""Sign-in throttling: too many failures → 429 with the seconds to wait.

Three counts, each within the window: an account from one address (``login_max_failures``),
an account from anywhere (``login_max_failures_per_account``, so that guesses spread over many
addresses are limited too) and an address for any account (``login_max_failures_per_address``,
much higher, so that one person's typos do not lock out an office behind one NAT).

Failures are rows in the database, so every API worker sees the same count. Counting and
deciding are atomic: an attempt locks its account and its address until its transaction ends,
so parallel attempts are counted one after another, and the password of an attempt over a
limit is never checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from crm.audit import service as audit
from crm.auth import repository
from crm.auth.repository import Scope
from crm.config import settings
from crm.kit.db import utcnow
from crm.kit.dialects import lock_until_commit


@dataclass(frozen=True)
class Attempt:
    """A sign-in attempt: may its password be checked, and which limits would one more failure reach."""

    username: str
    ip: str | None
    retry_after: int | None  # seconds to wait, or None when the password may be checked
    locks_on_failure: tuple[Scope, ...]


def _limits(ip: str | None) -> list[tuple[Scope, int]]:
    limits: list[tuple[Scope, int]] = [
        ("account_address", settings.login_max_failures),
        ("account", settings.login_max_failures_per_account),
    ]
    if ip:
        limits.append(("address", settings.login_max_failures_per_address))
    return limits


def admit(session: Session, username: str, ip: str | None) -> Attempt:
    """Lock the attempt's account and address, then decide whether its password may be checked."""
    username = username.strip()[:64]  # as stored, and as the account is looked up
    lock_until_commit(session, f"login:account:{username}", *([f"login:address:{ip}"] if ip else []))
    window = timedelta(minutes=settings.login_window_minutes)
    now = utcnow()
    waits: list[timedelta] = []
    locks: list[Scope] = []
    for scope, limit in _limits(ip):
        recent = repository.recent_failures(session, scope, username, ip, since=now - window, limit=limit)
        if len(recent) >= limit:
            # The lock lifts when the oldest of the last N failures leaves the window.
            waits.append(recent[-1] + window - now)
        elif len(recent) == limit - 1:
            locks.append(scope)
    wait = max(1, int(max(waits).total_seconds()) + 1) if waits else None
    return Attempt(username, ip, wait, tuple(locks))


def record_failure(session: Session, attempt: Attempt, *, tenant_id: int | None) -> None:
    """Count a failed attempt; a failure that locks an account or an address is audited."""
    repository.add_failure(session, attempt.username, attempt.ip)
    for scope in attempt.locks_on_failure:
        audit.record(
            session,
            "auth.lockout",
            actor=None,
            tenant_id=tenant_id,
            detail={"username": attempt.username, "scope": scope, "minutes": settings.login_window_minutes},
        )


def forget_failures(session: Session, attempt: Attempt) -> None:
    """A successful sign-in clears its account's failures from its address (not the others')."""
    repository.forget_failures(session, attempt.username, attempt.ip)
