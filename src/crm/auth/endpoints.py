from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordRequestForm
from pydantic_core import PydanticCustomError

from crm.audit import service as audit
from crm.auth import throttle
from crm.auth.accounts import actor_for, authenticate, change_own_password
from crm.auth.dependencies import CurrentActor, SessionDep
from crm.auth.schemas import Me, PasswordChange, Token
from crm.auth.tokens import issue_token
from crm.kit.context import current_request
from crm.kit.errors import NotAuthenticated, RateLimited, field_invalid, problem_responses, render_error
from crm.kit.regions import Region
from crm.kit.routing import UnitOfWorkRoute
from crm.kit.validation import reject_unstorable_text
from crm.models import RevokedToken, Tenant, User

router = APIRouter(prefix="/auth", tags=["auth"], route_class=UnitOfWorkRoute)

TENANT_FIELD = (
    "The tenant's code (企业代码). Needed only when another tenant has a user of the same name; "
    "without it such a name is refused like an unknown one."
)


def _storable(field: str, value: str) -> str:
    try:
        reject_unstorable_text(value)
    except PydanticCustomError:
        raise field_invalid(field, "text_invalid") from None
    return value


@router.post("/login", response_model=Token, responses=problem_responses(400, 401, 422, 429))
def login(
    request: Request,
    session: SessionDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    tenant: Annotated[str | None, Form(max_length=32, description=TENANT_FIELD)] = None,
) -> Token | JSONResponse:
    """Exchange a user name and password (and a tenant code when needed) for a bearer token."""
    username = _storable("username", form.username)
    password = _storable("password", form.password)
    tenant_code = _storable("tenant", tenant or "").strip() or None
    request_context = current_request()
    attempt = throttle.admit(session, username, request_context.ip if request_context else None)
    if attempt.retry_after is not None:
        audit.record(session, "auth.login_throttled", actor=None, detail={"username": username[:64]})
        return render_error(request, RateLimited(attempt.retry_after))
    outcome = authenticate(session, username, password, tenant_code)
    user = outcome.user
    if outcome.error is not None or user is None:
        # A refused login is answered rather than raised, so that its records are committed.
        throttle.record_failure(session, attempt, tenant_id=user.tenant_id if user else None)
        detail = {"username": username[:64], "reason": outcome.error}
        if tenant_code:
            detail["tenant"] = tenant_code
        audit.record(
            session, "auth.login_failed", actor=None, tenant_id=user.tenant_id if user else None, detail=detail
        )
        return render_error(request, NotAuthenticated(outcome.error))
    throttle.forget_failures(session, attempt)
    audit.record(session, "auth.login", actor=actor_for(user), object_type="user", object_id=user.id)
    return _token_for(user)


def _token_for(user: User) -> Token:
    token, expires = issue_token(user.id, user.tenant_id, generation=user.token_generation)
    return Token(
        access_token=token,
        expires_at=expires,
        expires_in=int((expires - datetime.now(UTC)).total_seconds()),
    )


@router.post("/password", response_model=Token, responses=problem_responses(400, 401, 413, 422, 429))
def change_password(
    request: Request, session: SessionDep, actor: CurrentActor, data: PasswordChange
) -> Token | JSONResponse:
    """Change one's own password: every session ends, and the answer carries a new token for this one."""
    request_context = current_request()
    # A wrong current password counts as a failed sign-in: a stolen token must not become a
    # way to guess the password.
    attempt = throttle.admit(session, actor.username, request_context.ip if request_context else None)
    if attempt.retry_after is not None:
        audit.record(session, "auth.login_throttled", actor=actor, detail={"username": actor.username})
        return render_error(request, RateLimited(attempt.retry_after))
    user = change_own_password(session, actor, data.current_password, data.new_password)
    if user is None:
        throttle.record_failure(session, attempt, tenant_id=actor.tenant_id)
        return render_error(request, field_invalid("current_password", "password_incorrect"))
    return _token_for(user)


@router.get("/me", response_model=Me, responses=problem_responses(401))
def me(session: SessionDep, actor: CurrentActor) -> Me:
    """The signed-in user, their tenant, permissions and data scope."""
    user = session.get(User, actor.id)
    tenant = session.get(Tenant, actor.tenant_id)
    if user is None or tenant is None:  # deleted between get_actor and here
        raise NotAuthenticated()
    return Me(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        region=user.region,
        team=user.team,
        tenant_id=tenant.id,
        tenant_code=tenant.code,
        tenant_name=tenant.name,
        brand_name=actor.policy.brand_name,
        extra_regions=[Region(r) for r in user.extra_regions or []],
        permissions=sorted(actor.permissions),
        data_scope=actor.data_scope,
    )


@router.post("/logout", status_code=204, response_class=Response, responses=problem_responses(401))
def logout(request: Request, session: SessionDep, actor: CurrentActor) -> Response:
    """Sign out: this token stops working at once, on every API worker."""
    claims = request.state.token_claims
    session.add(RevokedToken(jti=claims.token_id, expires_at=claims.expires_at))
    audit.record(session, "auth.logout", actor=actor, object_type="user", object_id=actor.id)
    return Response(status_code=204)
