"""The actor of a request, from its signed token and a short-lived cache of each API process.

Reading the user and the tenant for every request cost a statement each time. Instead each
process keeps the actors it has built for at most ``auth_cache_seconds``, and at most every
``auth_refresh_seconds`` asks the database (one round of small queries) which users and tenants
changed and which tokens were revoked since a little before it last asked, and forgets those.
A change committed through this process takes effect here at once; one made through another
process within the refresh interval.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from crm.auth import repository
from crm.auth.accounts import actor_for
from crm.auth.tokens import TokenClaims, token_still_valid
from crm.config import settings
from crm.kit.actor import Actor
from crm.kit.db import utcnow
from crm.kit.errors import ErrorCode, NotAuthenticated
from crm.models import RevokedToken, Tenant, User

# How far back each refresh looks again: a change committed by a transaction that began before
# the previous refresh carries an earlier updated_at than that refresh's time.
LOOKBACK = timedelta(seconds=30)


@dataclass(frozen=True)
class Entry:
    actor: Actor
    token_generation: int
    active: bool  # the user and the tenant
    loaded: float


class ActorCache:
    def __init__(self) -> None:
        self._entries: dict[int, Entry] = {}
        self._revoked: dict[str, datetime] = {}  # jti → when the token expires anyway
        self._refreshed_at: float = time.monotonic()
        self._checked_since: datetime = utcnow() - LOOKBACK
        self._refreshing = threading.Lock()
        self._writing = threading.Lock()  # worker threads change the entries; readers need no lock

    def entry(self, user_id: int) -> Entry | None:
        found = self._entries.get(user_id)
        if found is None or time.monotonic() - found.loaded > settings.auth_cache_seconds:
            return None
        return found

    def revoked(self, jti: str) -> bool:
        return jti in self._revoked

    @property
    def refresh_due(self) -> bool:
        return time.monotonic() - self._refreshed_at >= settings.auth_refresh_seconds

    def load(self, session: Session, claims: TokenClaims) -> Entry | None:
        found = repository.user_and_tenant(session, claims.user_id, claims.tenant_id)
        if found is None:
            return None
        user, tenant = found
        entry = Entry(
            actor_for(user, tenant), user.token_generation, user.is_active and tenant.is_active, time.monotonic()
        )
        self._entries[user.id] = entry
        return entry

    def refresh(self, session: Session) -> None:
        """Forget what changed elsewhere since the last refresh (one process refreshes at a time)."""
        if not self._refreshing.acquire(blocking=False):
            return
        try:
            now = utcnow()
            users, tenants, revoked = repository.changed_since(session, self._checked_since)
            self.forget(users=users, tenants=tenants, revoked=revoked)
            self._checked_since = now - LOOKBACK
            self._refreshed_at = time.monotonic()
        finally:
            self._refreshing.release()

    def forget(
        self,
        *,
        users: AbstractSet[int] = frozenset(),
        tenants: AbstractSet[int] = frozenset(),
        revoked: dict[str, datetime] | None = None,
    ) -> None:
        with self._writing:
            for user_id in users:
                self._entries.pop(user_id, None)
            if tenants:
                for user_id in [u for u, e in self._entries.items() if e.actor.tenant_id in tenants]:
                    self._entries.pop(user_id, None)
            if revoked:
                now = utcnow()
                kept = (
                    self._revoked
                    if len(self._revoked) < 10_000
                    else {j: at for j, at in self._revoked.items() if at > now}
                )
                # A new dict, swapped in whole: a reader never sees one being changed.
                self._revoked = {**kept, **revoked}

    def clear(self) -> None:
        with self._writing:
            self._entries.clear()
            self._revoked = {}
        self._refreshed_at = time.monotonic()
        self._checked_since = utcnow() - LOOKBACK


_cache = ActorCache()


def cache() -> ActorCache:
    return _cache


def cached(claims: TokenClaims) -> Entry | None:
    """What this process knows of the token's user, when that can be used without the database."""
    return None if _cache.refresh_due else _cache.entry(claims.user_id)


def authenticate(session: Session, claims: TokenClaims, known: Entry | None = None) -> Actor:
    """The actor a valid token stands for; NotAuthenticated when it was revoked, its user or tenant
    is gone or disabled, or the user's password or role changed since it was issued. With
    ``known`` (from ``cached``), the database is not read."""
    if known is None and _cache.refresh_due:
        _cache.refresh(session)
    if _cache.revoked(claims.token_id):
        raise NotAuthenticated(ErrorCode.TOKEN_REVOKED)
    entry = known or _cache.entry(claims.user_id) or _cache.load(session, claims)
    if entry is None or entry.actor.tenant_id != claims.tenant_id:
        raise NotAuthenticated()
    if not entry.active:
        raise NotAuthenticated(ErrorCode.USER_INACTIVE)
    if not token_still_valid(entry, claims):
        raise NotAuthenticated(ErrorCode.TOKEN_REVOKED)
    return entry.actor


# ---------------------------------------------------------------- changes made through this process

_CHANGED = "crm.auth.changed"


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, _context: Any) -> None:
    changed = session.info.setdefault(_CHANGED, ([], [], {}))
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, User):
            changed[0].append(obj.id)
        elif isinstance(obj, Tenant):
            changed[1].append(obj.id)
        elif isinstance(obj, RevokedToken):
            changed[2][obj.jti] = obj.expires_at


@event.listens_for(Session, "after_commit")
def _forget_committed_changes(session: Session) -> None:
    users, tenants, revoked = session.info.pop(_CHANGED, ([], [], {}))
    if users or tenants or revoked:
        _cache.forget(users=set(users), tenants=set(tenants), revoked=revoked)


@event.listens_for(Session, "after_rollback")
def _drop_noted_changes(session: Session) -> None:
    session.info.pop(_CHANGED, None)
