"""Every query of reading a customer's value analysis."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.models import CustomerValueAnalysis, Tenant


def value_history(session: Session, customer_id: int, limit: int) -> list[CustomerValueAnalysis]:
    """A customer's daily snapshots, newest first."""
    return list(
        session.scalars(
            select(CustomerValueAnalysis)
            .where(CustomerValueAnalysis.customer_id == customer_id)
            .order_by(CustomerValueAnalysis.analysis_date.desc())
            .limit(limit)
        )
    )


def tenant(session: Session, tenant_id: int) -> Tenant | None:
    return session.get(Tenant, tenant_id)
