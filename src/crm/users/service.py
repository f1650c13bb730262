"""Tenants and users: creation and administration (sign-in and the Actor are crm.auth.accounts)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crm.audit import service as audit
from crm.auth.accounts import revoke_tokens
from crm.auth.passwords import hash_password
from crm.kit.actor import Actor
from crm.kit.errors import Conflict, ErrorCode, NotFound, field_invalid
from crm.kit.regions import DEFAULT_PROVINCE_REGIONS, Region
from crm.models import RegionMapping, Tenant, User
from crm.models.enums import Role
from crm.users import repository
from crm.users.schemas import UserCreate, UserUpdate

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


def _check_region(role: Role, region: Region | None) -> None:
    if role in (Role.SALES_MANAGER, Role.SERVICE_MANAGER) and region is None:
        raise field_invalid("region", "missing")


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
    _check_region(role, region)
    if repository.user_by_username(session, tenant.id, username) is not None:
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


# Other domains look users up through this service, not through the users' tables.
find_sales_owner = repository.active_sales_owner
find_user = repository.user_in_tenant


# ---------------------------------------------------------------- administering users

USER_AUDITED = (
    "username", "display_name", "role", "region", "extra_regions", "team", "service_capacity", "is_active",
)  # fmt: skip


def add_user(session: Session, actor: Actor, data: UserCreate) -> User:
    tenant = session.get(Tenant, actor.tenant_id)
    if tenant is None:
        raise Conflict()
    user = create_user(
        session,
        tenant=tenant,
        username=data.username,
        password=data.password,
        role=data.role,
        region=data.region,
        display_name=data.display_name,
        team=data.team,
    )
    user.extra_regions = [r.value for r in data.extra_regions]
    user.service_capacity = data.service_capacity
    session.flush()
    changes = audit.created(audit.snapshot(user, USER_AUDITED))
    audit.record(session, "user.create", actor=actor, object_type="user", object_id=user.id, changes=changes)
    return user


def change_user(session: Session, actor: Actor, user_id: int, data: UserUpdate) -> User:
    user = repository.user_in_tenant(session, actor.tenant_id, user_id)
    if user is None:
        raise NotFound("user")
    values = data.model_dump(exclude_unset=True)
    if user.id == actor.id and (values.get("is_active") is False or values.get("role", user.role) != user.role):
        raise Conflict(ErrorCode.OWN_ACCOUNT)  # an admin cannot lock themselves out
    before = audit.snapshot(user, USER_AUDITED)
    password = values.pop("password", None)
    if "extra_regions" in values:
        values["extra_regions"] = [Region(r).value for r in values["extra_regions"] or []]
    for field, value in values.items():
        setattr(user, field, value)
    _check_region(user.role, user.region)
    if password is not None:
        user.password_hash = hash_password(password)
    session.flush()
    changes = audit.diff(before, audit.snapshot(user, USER_AUDITED))
    if password is not None:
        changes["password"] = {"before": "****", "after": "****"}  # that it changed, never the value
    if changes:
        audit.record(session, "user.update", actor=actor, object_type="user", object_id=user.id, changes=changes)
    reasons = [
        reason
        for reason, applies in (
            ("password_changed", password is not None),
            ("role_changed", "role" in changes),
            ("disabled", changes.get("is_active", {}).get("after") is False),
        )
        if applies
    ]
    if reasons:
        revoke_tokens(session, actor, user, reasons)
    return user
