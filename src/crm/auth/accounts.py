"""Accounts as sign-in sees them: checking credentials, the Actor a user acts as, their own
password, and ending their sessions. The users package administers accounts through these."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from crm.audit import service as audit
from crm.auth import repository
from crm.auth.passwords import hash_password, verify_password
from crm.auth.permissions import ROLE_PERMISSIONS, ROLE_SCOPES
from crm.kit.actor import Actor, DataScope
from crm.kit.db import utcnow
from crm.kit.errors import ErrorCode, NotFound, field_invalid
from crm.models import Tenant, User
from crm.models.enums import Role
from crm.tenants.service import policy_for


@dataclass(frozen=True)
class LoginOutcome:
    user: User | None  # the account so named, if any: failures are audited in its tenant
    error: ErrorCode | None  # None when the credentials let the user in


def authenticate(session: Session, username: str, password: str, tenant_code: str | None = None) -> LoginOutcome:
    """Check credentials, taking the same time whether or not the user exists.

    Without a tenant code the name must be unique across tenants; a name two tenants use is
    answered like an unknown one, so the answer says nothing about other tenants.
    """
    found = repository.users_signing_in(session, username.strip(), tenant_code)
    user = found[0] if len(found) == 1 else None
    if not verify_password(user.password_hash if user else None, password) or user is None:
        return LoginOutcome(user, ErrorCode.INVALID_CREDENTIALS)
    if not user.is_active:  # said only to whoever knows the password
        return LoginOutcome(user, ErrorCode.USER_INACTIVE)
    user.last_login_at = utcnow()
    return LoginOutcome(user, None)


def actor_for(user: User, tenant: Tenant | None = None) -> Actor:
    """The user as the services see them; with their tenant, under its settings."""
    scope = ROLE_SCOPES[user.role]
    if user.role == Role.SERVICE_MANAGER and user.team:
        scope = DataScope.TEAM  # a service manager with a team sees what the team serves
    regions = tuple(dict.fromkeys(r for r in (user.region, *(user.extra_regions or [])) if r))
    return Actor(
        id=user.id,
        tenant_id=user.tenant_id,
        username=user.username,
        role=user.role,
        data_scope=scope,
        permissions=frozenset(ROLE_PERMISSIONS[user.role]),
        regions=regions,
        team=user.team,
        display_name=user.display_name,
        policy=policy_for(tenant),
    )


def change_own_password(session: Session, actor: Actor, current_password: str, new_password: str) -> User | None:
    """Give the signed-in user a new password and end all their sessions; None when the current
    password is wrong (the caller counts that as a failed sign-in)."""
    user = repository.user_in_tenant(session, actor.tenant_id, actor.id)
    if user is None:
        raise NotFound("user")
    if not verify_password(user.password_hash, current_password):
        return None
    if new_password == current_password:
        raise field_invalid("new_password", "password_unchanged")
    user.password_hash = hash_password(new_password)
    audit.record(session, "user.password_change", actor=actor, object_type="user", object_id=user.id)
    revoke_tokens(session, actor, user, ["password_changed"])
    return user


def revoke_tokens(session: Session, actor: Actor, user: User, reasons: list[str]) -> None:
    """End every session of ``user`` at once: the tokens issued so far stop working on every worker."""
    user.token_generation += 1
    session.flush()
    audit.record(
        session, "user.tokens_revoked", actor=actor, object_type="user", object_id=user.id, detail={"reasons": reasons}
    )
