"""Thinning of the daily value snapshots: daily for a while, then one per customer and month.

The nightly refresh writes one snapshot per customer and day: at 1,000,000 customers that is
365,000,000 rows a year, most of which nobody reads again. A tenant keeps every daily snapshot
of the last ``value.snapshot_days`` business days (90 by default); older ones are thinned to
the customer's last snapshot of each calendar month, which the value history and the CLV chart
then show as month-end points. No month of a customer's history is lost.

Set-based, and cheap on the nights after the first: the dates that hold snapshots older than
the window are walked in order through the (tenant_id, analysis_date) index (one probe each);
for each date that is not the last of its month, one DELETE removes the rows of that date
whose customer has a later snapshot in the same month. After the first thinning, a night
deletes the one day that left the window, and the older months cost one index probe each.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import delete, exists, func, select
from sqlalchemy.orm import Session, aliased

from crm.audit import service as audit
from crm.kit.clock import business_today
from crm.models import CustomerValueAnalysis, Tenant
from crm.tenants.service import settings_of


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def thin(session: Session, tenant: Tenant, *, day: date | None = None) -> int:
    """Thin the tenant's snapshots older than its window; returns how many were deleted."""
    day = day or business_today(tenant.timezone or "Asia/Shanghai")
    cutoff = day - timedelta(days=settings_of(tenant).value.snapshot_days)
    snapshot = CustomerValueAnalysis
    later = aliased(CustomerValueAnalysis)
    of_tenant = snapshot.tenant_id == tenant.id
    deleted = 0
    current: date | None = None
    while True:
        after = [] if current is None else [snapshot.analysis_date > current]
        current = session.scalar(
            select(func.min(snapshot.analysis_date)).where(of_tenant, snapshot.analysis_date < cutoff, *after)
        )
        if current is None:
            break
        month_end = _next_month(current)
        last = session.scalar(
            select(func.max(snapshot.analysis_date)).where(
                of_tenant, snapshot.analysis_date > current, snapshot.analysis_date < month_end
            )
        )
        if last is None:  # the month's last date: kept
            continue
        result = session.execute(
            delete(snapshot)
            .where(
                of_tenant,
                snapshot.analysis_date == current,
                exists().where(
                    later.customer_id == snapshot.customer_id,
                    later.analysis_date > current,
                    later.analysis_date < month_end,
                ),
            )
            .execution_options(synchronize_session=False)
        )
        deleted += int(getattr(result, "rowcount", 0) or 0)
    if deleted:
        audit.record(
            session,
            "value_analysis.thin",
            actor=None,
            tenant_id=tenant.id,
            object_type="tenant",
            object_id=tenant.id,
            detail={"before": cutoff.isoformat(), "deleted": deleted},
        )
    return deleted


def thin_all(session: Session) -> int:
    """The nightly job (after the jobs that read today's snapshots)."""
    tenants = session.scalars(select(Tenant).where(Tenant.is_active.is_(True)).order_by(Tenant.id))
    return sum(thin(session, tenant) for tenant in tenants)
