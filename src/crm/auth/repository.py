"""Every query of sign-in: failed attempts, accounts signing in, and who is signed in."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import Session

from crm.models import LoginFailure, RevokedToken, Tenant, User

Scope = Literal["account_address", "account", "address"]


def _same_address(ip: str | None) -> ColumnElement[bool]:
    return LoginFailure.ip == ip if ip else LoginFailure.ip.is_(None)


def recent_failures(
    session: Session, scope: Scope, username: str, ip: str | None, *, since: datetime, limit: int
) -> list[datetime]:
    """When the last ``limit`` failures of the account, the address or both happened, newest first."""
    where: ColumnElement[bool]
    if scope == "account_address":
        where = (LoginFailure.username == username) & _same_address(ip)
    elif scope == "account":
        where = LoginFailure.username == username
    else:
        where = _same_address(ip)
    return list(
        session.scalars(
            select(LoginFailure.created_at)
            .where(where, LoginFailure.created_at >= since)
            .order_by(LoginFailure.created_at.desc())
            .limit(limit)
        )
    )


def add_failure(session: Session, username: str, ip: str | None) -> None:
    session.add(LoginFailure(username=username, ip=ip))


def forget_failures(session: Session, username: str, ip: str | None) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.username == username, _same_address(ip)))


# ---------------------------------------------------------------- accounts (crm.auth.accounts)


def users_signing_in(session: Session, username: str, tenant_code: str | None) -> list[User]:
    """The accounts a login may mean: the one of the named tenant, or up to two of any tenant."""
    stmt = select(User).where(User.username == username)
    if tenant_code is not None:
        stmt = stmt.join(Tenant, Tenant.id == User.tenant_id).where(Tenant.code == tenant_code)
    return list(session.scalars(stmt.order_by(User.id).limit(2)))


def user_in_tenant(session: Session, tenant_id: int, user_id: int) -> User | None:
    return session.scalar(select(User).where(User.id == user_id, User.tenant_id == tenant_id))


# ---------------------------------------------------------------- who is signed in (crm.auth.actors)


def user_and_tenant(session: Session, user_id: int, tenant_id: int) -> tuple[User, Tenant] | None:
    found = session.execute(
        select(User, Tenant)
        .join(Tenant, Tenant.id == User.tenant_id)
        .where(User.id == user_id, User.tenant_id == tenant_id)
    ).one_or_none()
    return (found.User, found.Tenant) if found is not None else None


def changed_since(session: Session, since: datetime) -> tuple[set[int], set[int], dict[str, datetime]]:
    """Users and tenants changed, and tokens revoked (with their expiry), since ``since``."""
    users = set(session.scalars(select(User.id).where(User.updated_at >= since)))
    tenants = set(session.scalars(select(Tenant.id).where(Tenant.updated_at >= since)))
    stmt = select(RevokedToken.jti, RevokedToken.expires_at).where(RevokedToken.revoked_at >= since)
    revoked: dict[str, datetime] = dict(session.execute(stmt).all())
    return users, tenants, revoked
