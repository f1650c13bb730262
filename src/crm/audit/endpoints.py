from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from crm.audit.repository import AuditRepository
from crm.audit.schemas import AuditEntry, AuditFilters
from crm.auth.dependencies import SessionDep, require
from crm.auth.permissions import Permission
from crm.kit.actor import Actor
from crm.kit.errors import problem_responses
from crm.kit.pagination import Page, fetch_page, page_of
from crm.kit.routing import UnitOfWorkRoute

router = APIRouter(prefix="/crm", tags=["audit"], route_class=UnitOfWorkRoute)

Auditor = Annotated[Actor, Depends(require(Permission.AUDIT_READ))]


@router.get("/audit_logs", response_model=Page[AuditEntry], responses=problem_responses(401, 403, 422))
def list_audit_logs(session: SessionDep, actor: Auditor, filters: Annotated[AuditFilters, Query()]) -> Page[AuditEntry]:
    """The tenant's audit trail, newest first (admins and analysts); it cannot be edited."""
    params = filters.paging
    rows, total, exact = fetch_page(session, AuditRepository(session, actor).search(filters), params)
    return page_of(AuditEntry, [AuditEntry.model_validate(r) for r in rows], total, params, exact=exact)
