"""Request-scoped dependencies: the unit of work and the authenticated actor."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

import anyio
import anyio.to_thread
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from crm.auth import actors
from crm.auth.permissions import Permission
from crm.auth.tokens import TokenClaims, read_token
from crm.config import settings
from crm.kit.actor import Actor
from crm.kit.errors import NotAuthenticated, PermissionDenied, RateLimited
from crm.kit.ratelimit import limiter

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/login", auto_error=False)


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's unit of work (crm.kit.db.unit_of_work): committed when the endpoint returns,
    rolled back when it raises. Opened without a worker thread (a session is made without I/O),
    and usually committed by the endpoint's own thread (crm.kit.routing): then closed here without one."""
    session: Session = request.app.state.session_factory()
    try:
        yield session
    except BaseException:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(_discard, session)
        raise
    if not session.in_transaction():
        session.close()
        return
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(_commit, session)


def _commit(session: Session) -> None:
    try:
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _discard(session: Session) -> None:
    try:
        session.rollback()
    finally:
        session.close()


# scope="function": the transaction commits before the response is sent, so a client never
# sees success for a write that failed to commit.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def get_actor(
    request: Request, session: SessionDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Actor:
    claims = read_token(token) if token else None
    if claims is None:
        raise NotAuthenticated()
    # Usually the actor is cached and the limits are counted in process: no thread, no statement.
    known = actors.cached(claims)
    if known is None or limiter().blocking:
        actor = await anyio.to_thread.run_sync(_authenticate, session, claims, known)
    else:
        actor = _authenticate(session, claims, known)
    request.state.token_claims = claims
    return actor


def _authenticate(session: Session, claims: TokenClaims, known: actors.Entry | None) -> Actor:
    actor = actors.authenticate(session, claims, known)
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
    return actor


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
