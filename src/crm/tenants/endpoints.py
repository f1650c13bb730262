"""Tenant settings (admin only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from crm.auth.dependencies import SessionDep, require
from crm.auth.permissions import Permission
from crm.kit.actor import Actor
from crm.kit.errors import problem_responses
from crm.kit.routing import UnitOfWorkRoute
from crm.tenants import service
from crm.tenants.schemas import TenantSettingsOut, TenantSettingsUpdate

router = APIRouter(prefix="/crm", tags=["settings"], route_class=UnitOfWorkRoute)

Administrator = Annotated[Actor, Depends(require(Permission.SETTINGS_MANAGE))]


@router.get("/settings", response_model=TenantSettingsOut, responses=problem_responses(401, 403))
def get_settings(session: SessionDep, actor: Administrator) -> TenantSettingsOut:
    """The tenant's brand name, masking rules, export limit and approval threshold."""
    tenant, rules = service.get_settings(session, actor)
    return TenantSettingsOut(tenant_code=tenant.code, tenant_name=tenant.name, **rules.model_dump())


@router.put("/settings", response_model=TenantSettingsOut, responses=problem_responses(400, 401, 403, 413, 422))
def update_settings(session: SessionDep, actor: Administrator, data: TenantSettingsUpdate) -> TenantSettingsOut:
    """Change some of the tenant's settings (the others stay); audited."""
    tenant, rules = service.update_settings(session, actor, data)
    return TenantSettingsOut(tenant_code=tenant.code, tenant_name=tenant.name, **rules.model_dump())
