"""Request-scoped dependencies: the unit of work and the authenticated actor."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from crm.auth.permissions import Permission
from crm.auth.tokens import read_token, token_still_valid
from crm.config import settings
from crm.kit.actor import Actor
from crm.kit.db import unit_of_work
from crm.kit.errors import ErrorCode, NotAuthenticated, PermissionDenied, RateLimited
from crm.kit.ratelimit import limiter
from crm.models import RevokedToken, Tenant, User
from crm.users.service import actor_for

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/login", auto_error=False)


def get_session(request: Request) -> Iterator[Session]:
    yield from unit_of_work(request.app.state.session_factory)


# scope="function": the transaction commits before the response is sent, so a client never
# sees success for a write that failed to commit.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_actor(request: Request, session: SessionDep, token: Annotated[str | None, Depends(oauth2_scheme)]) -> Actor:
    claims = read_token(token) if token else None
    if claims is None:
        raise NotAuthenticated()
    # One round trip for the user, the tenant and whether the token was revoked (signed out):
    # every request pays for this statement.
    revoked = exists().where(RevokedToken.jti == claims.token_id)
    found = session.execute(
        select(User, Tenant, revoked.label("revoked"))
        .join(Tenant, Tenant.id == User.tenant_id)
        .where(User.id == claims.user_id, User.tenant_id == claims.tenant_id)
    ).one_or_none()
    if found is not None and found.revoked:
        raise NotAuthenticated(ErrorCode.TOKEN_REVOKED)
    # Per user and per tenant too: signing in again gives a fresh token, not a fresh budget.
    wait = limiter().hit_all(
        {
            f"token:{claims.token_id}": settings.api_rate_limit_per_minute,
            f"user:{claims.user_id}": settings.api_rate_limit_per_user_minute,
            f"tenant:{claims.tenant_id}": settings.api_rate_limit_per_tenant_minute,
        },
        60,
    )
    if wait is not None:
        raise RateLimited(wait)
    request.state.token_claims = claims
    if found is None:
        raise NotAuthenticated()
    user, tenant = found.User, found.Tenant
    if not user.is_active or not tenant.is_active:
        raise NotAuthenticated(ErrorCode.USER_INACTIVE)
    if not token_still_valid(user, claims):
        raise NotAuthenticated(ErrorCode.TOKEN_REVOKED)
    # The session's identity map holds rows only while something refers to them: kept here,
    # the tenant (its settings) is found by session.get for the rest of the request instead
    # of being read again.
    session.info["request_rows"] = (user, tenant)
    return actor_for(user, tenant)


CurrentActor = Annotated[Actor, Depends(get_actor)]


def require(permission: Permission) -> Callable[[Actor], Coroutine[Any, Any, Actor]]:
    """A dependency that lets the request through only with ``permission``."""

    # async: a pure check, so FastAPI runs it on the event loop instead of a worker thread.
    async def check(actor: CurrentActor) -> Actor:
        if not actor.can(permission):
            raise PermissionDenied()
        return actor

    return check


def require_any(*permissions: Permission) -> Callable[[Actor], Coroutine[Any, Any, Actor]]:
    """A dependency that lets the request through with at least one of ``permissions``."""

    async def check(actor: CurrentActor) -> Actor:
        if not any(actor.can(permission) for permission in permissions):
            raise PermissionDenied()
        return actor

    return check


def Allowed(permission: Permission) -> object:  # noqa: N802 - reads as a type in signatures
    return Depends(require(permission))
