"""Reading the audit trail, always within the caller's tenant."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, ClassVar, cast

from sqlalchemy import ColumnElement, Select, Table, func, select
from sqlalchemy.orm import Session

from crm.audit.schemas import AuditFilters
from crm.kit.dialects import redact_audit_record
from crm.kit.repository import ScopedRepository
from crm.models import AuditLog, Tenant


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


# ---------------------------------------------------------------- the sealed chain (any tenant)


def chain_head(session: Session, tenant_id: int | None) -> tuple[int, str] | None:
    """The last sealed record of a tenant's chain (its number and seal), or None for a new chain."""
    row = session.execute(
        select(AuditLog.seq, AuditLog.seal)
        .where(_chain(tenant_id), AuditLog.seq.is_not(None))
        .order_by(AuditLog.seq.desc())
        .limit(1)
    ).one_or_none()
    return (int(row.seq), str(row.seal)) if row is not None else None


def chains(session: Session) -> list[int | None]:
    """Every tenant with audit records (None: records no tenant could be told for)."""
    return list(session.scalars(select(AuditLog.tenant_id).distinct()))


def chain(session: Session, tenant_id: int | None, batch: int = 2_000) -> Iterator[AuditLog]:
    """A tenant's records in their chain's order, read in batches."""
    stmt = select(AuditLog).where(_chain(tenant_id)).order_by(AuditLog.seq.nulls_first(), AuditLog.id)
    yield from session.scalars(stmt.execution_options(yield_per=batch))


def tenant_by_code(session: Session, code: str) -> int | None:
    return session.scalar(select(Tenant.id).where(Tenant.code == code))


def _chain(tenant_id: int | None) -> ColumnElement[bool]:
    return AuditLog.tenant_id.is_(None) if tenant_id is None else AuditLog.tenant_id == tenant_id


def count_since(session: Session, actor_id: int, action: str, since: datetime) -> int:
    stmt = select(func.count()).where(
        AuditLog.actor_id == actor_id, AuditLog.action == action, AuditLog.created_at >= since
    )
    return int(session.scalar(stmt) or 0)


def redact(session: Session, record_id: int, changes: Any, detail: Any, at: datetime) -> None:
    values = {"changes": changes, "detail": detail, "redacted_at": at}
    redact_audit_record(session, cast(Table, AuditLog.__table__), record_id, values)
