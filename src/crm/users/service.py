"""Tenants and users: creation, authentication, and the Actor a request runs as."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from crm.auth.passwords import hash_password, verify_password
from crm.auth.permissions import ROLE_PERMISSIONS, ROLE_SCOPES
from crm.kit.actor import Actor
from crm.kit.db import utcnow
from crm.kit.errors import Conflict, ErrorCode, field_invalid
from crm.kit.regions import DEFAULT_PROVINCE_REGIONS, Region
from crm.models import RegionMapping, Tenant, User
from crm.models.enums import Role
from crm.users import repository

MIN_PASSWORD_LENGTH = 12


def create_tenant(session: Session, code: str, name: str | None = None) -> Tenant:
    if repository.tenant_by_code(session, code) is not None:
        raise Conflict(ErrorCode.DUPLICATE, params={"field": "tenant", "value": code})
    tenant = Tenant(code=code, name=name or code)
    session.add(tenant)
    session.flush()
    session.add_all(
        RegionMapping(tenant_id=tenant.id, province=province, region=region)
        for province, region in DEFAULT_PROVINCE_REGIONS.items()
    )
    session.flush()
    return tenant


def get_or_create_tenant(session: Session, code: str) -> Tenant:
    tenant = repository.tenant_by_code(session, code)
    return tenant if tenant is not None else create_tenant(session, code)


def create_user(
    session: Session,
    *,
    tenant: Tenant,
    username: str,
    password: str,
    role: Role,
    region: Region | None = None,
    display_name: str | None = None,
    team: str | None = None,
) -> User:
    username = username.strip()
    if not username:
        raise field_invalid("username", "missing")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise field_invalid("password", "string_too_short", min_length=MIN_PASSWORD_LENGTH)
    if role in (Role.SALES_MANAGER, Role.SERVICE_MANAGER) and region is None:
        raise field_invalid("region", "missing")
    if repository.user_by_username(session, username) is not None:
        raise Conflict(ErrorCode.DUPLICATE, params={"field": "username", "value": username})
    user = User(
        tenant_id=tenant.id,
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        role=role,
        region=region,
        team=team,
        is_active=True,
    )
    session.add(user)
    session.flush()
    return user


@dataclass(frozen=True)
class LoginOutcome:
    user: User | None  # the account so named, if any: failures are audited in its tenant
    error: ErrorCode | None  # None when the credentials let the user in


def authenticate(session: Session, username: str, password: str) -> LoginOutcome:
    """Check credentials, taking the same time whether or not the user exists."""
    user = repository.user_by_username(session, username.strip())
    if not verify_password(user.password_hash if user else None, password) or user is None:
        return LoginOutcome(user, ErrorCode.INVALID_CREDENTIALS)
    if not user.is_active:  # said only to whoever knows the password
        return LoginOutcome(user, ErrorCode.USER_INACTIVE)
    user.last_login_at = utcnow()
    return LoginOutcome(user, None)


def actor_for(user: User) -> Actor:
    return Actor(
        id=user.id,
        tenant_id=user.tenant_id,
        username=user.username,
        role=user.role,
        data_scope=ROLE_SCOPES[user.role],
        permissions=frozenset(ROLE_PERMISSIONS[user.role]),
        regions=(user.region,) if user.region else (),
        team=user.team,
        display_name=user.display_name,
    )


# Other domains look users up through this service, not through the users' tables.
find_sales_owner = repository.active_sales_owner
find_user = repository.user_in_tenant
