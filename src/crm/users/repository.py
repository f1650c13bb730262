"""Every SELECT of tenants and users.

Users are looked up before anyone is signed in (login) and across roles (assignment), so
these queries take the tenant explicitly rather than from an actor's scope.
"""

from __future__ import annotations

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from crm.auth.permissions import SALES_OWNER_ROLES
from crm.models import Tenant, User
from crm.users.schemas import UserFilters


def tenant_by_code(session: Session, code: str) -> Tenant | None:
    return session.scalar(select(Tenant).where(Tenant.code == code))


def user_by_username(session: Session, tenant_id: int, username: str) -> User | None:
    return session.scalar(select(User).where(User.tenant_id == tenant_id, User.username == username))


def any_user(session: Session) -> bool:
    """Anyone at all can sign in: the database is no longer new."""
    return session.scalar(select(User.id).limit(1)) is not None


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


def users_statement(tenant_id: int, filters: UserFilters) -> Select[User]:
    stmt = select(User).where(User.tenant_id == tenant_id)
    if filters.role is not None:
        stmt = stmt.where(User.role == filters.role)
    if filters.region is not None:
        stmt = stmt.where(User.region == filters.region)
    if filters.team is not None:
        stmt = stmt.where(User.team == filters.team)
    if filters.is_active is not None:
        stmt = stmt.where(User.is_active.is_(filters.is_active))
    if filters.keyword:
        word = filters.keyword.strip()
        stmt = stmt.where(
            or_(User.username.contains(word, autoescape=True), User.display_name.contains(word, autoescape=True))
        )
    return stmt.order_by(User.id)


def sales_owners(session: Session, tenant_id: int) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .where(User.tenant_id == tenant_id, User.is_active.is_(True), User.role.in_(SALES_OWNER_ROLES))
            .order_by(User.region, User.display_name)
        )
    )
