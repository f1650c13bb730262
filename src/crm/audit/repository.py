"""Reading the audit trail, always within the caller's tenant."""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import Select

from crm.audit.schemas import AuditFilters
from crm.kit.repository import ScopedRepository
from crm.models import AuditLog


class AuditRepository(ScopedRepository[AuditLog]):
    model = AuditLog
    resource: ClassVar[str] = "resource"

    def search(self, filters: AuditFilters) -> Select[AuditLog]:
        stmt = self.select()
        if filters.action:
            stmt = stmt.where(AuditLog.action == filters.action)
        if filters.actor_id:
            stmt = stmt.where(AuditLog.actor_id == filters.actor_id)
        if filters.object_type:
            stmt = stmt.where(AuditLog.object_type == filters.object_type)
        if filters.object_id:
            stmt = stmt.where(AuditLog.object_id == filters.object_id)
        if filters.since:
            stmt = stmt.where(AuditLog.created_at >= filters.since)
        if filters.until:
            stmt = stmt.where(AuditLog.created_at < filters.until)
        return stmt.order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
