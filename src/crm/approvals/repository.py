"""Approval requests a caller may see: their own, their region's (managers), the tenant's (admins)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from sqlalchemy import ColumnElement, Select, false, or_

from crm.approvals.schemas import ApprovalFilters
from crm.kit.actor import DataScope
from crm.kit.repository import ScopedRepository
from crm.models import ApprovalRequest
from crm.models.enums import Role


class ApprovalRepository(ScopedRepository[ApprovalRequest]):
    model = ApprovalRequest
    resource: ClassVar[str] = "approval"

    def scope_clauses(self) -> Sequence[ColumnElement[bool]]:
        own = ApprovalRequest.requester_id == self.actor.id
        if self.actor.role == Role.ADMIN:
            return ()
        if self.actor.role == Role.SALES_MANAGER and self.actor.data_scope == DataScope.REGION:
            region = ApprovalRequest.region.in_(self.actor.regions) if self.actor.regions else false()
            return [or_(own, region)]
        return [own]

    def search(self, filters: ApprovalFilters) -> Select[ApprovalRequest]:
        stmt = self.select()
        if filters.status:
            stmt = stmt.where(ApprovalRequest.status == filters.status)
        return stmt.order_by(ApprovalRequest.id.desc())
