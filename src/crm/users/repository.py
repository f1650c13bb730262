"""Every SELECT of tenants and users.

Users are looked up before anyone is signed in (login) and across roles (assignment), so
these queries take the tenant explicitly rather than from an actor's scope.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.auth.permissions import SALES_OWNER_ROLES
from crm.models import Tenant, User


def tenant_by_code(session: Session, code: str) -> Tenant | None:
    return session.scalar(select(Tenant).where(Tenant.code == code))


def user_by_username(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def user_in_tenant(session: Session, tenant_id: int, user_id: int) -> User | None:
    return session.scalar(select(User).where(User.id == user_id, User.tenant_id == tenant_id))


def active_sales_owner(session: Session, tenant_id: int, user_id: int) -> User | None:
    """An active user of the tenant who can own customers as their sales rep."""
    return session.scalar(
        select(User).where(
            User.id == user_id,
            User.tenant_id == tenant_id,
            User.is_active.is_(True),
            User.role.in_(SALES_OWNER_ROLES),
        )
    )
