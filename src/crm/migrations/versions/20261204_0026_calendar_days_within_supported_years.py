"""tenant settings: holidays and workdays outside the supported years are dropped

Dates from clients now lie between 1900-01-01 and 2999-12-31 (crm.kit.validation), and a
tenant's stored settings are read through the same schema: a day outside those years, stored
before, would stop every reading of that tenant's settings (tickets, the nightly jobs). Such a
day never matched a working day anyway.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crm.kit.types import JSONType

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As written here rather than imported: the migration keeps meaning what it did when it ran.
EARLIEST, LATEST = "1900-01-01", "2999-12-31"
CALENDAR_DAYS = ("holidays", "workdays")


def upgrade() -> None:
    tenants = sa.table("tenants", sa.column("id", sa.BigInteger()), sa.column("settings", JSONType))
    bind = op.get_bind()
    for tenant_id, stored in bind.execute(sa.select(tenants.c.id, tenants.c.settings)).all():
        calendar = (stored or {}).get("service_calendar")
        if not isinstance(calendar, dict):
            continue
        kept = {
            key: [day for day in calendar[key] if isinstance(day, str) and EARLIEST <= day[:10] <= LATEST]
            for key in CALENDAR_DAYS
            if isinstance(calendar.get(key), list)
        }
        if all(len(kept[key]) == len(calendar[key]) for key in kept):
            continue
        settings = {**stored, "service_calendar": {**calendar, **kept}}
        bind.execute(sa.update(tenants).where(tenants.c.id == tenant_id).values(settings=settings))


def downgrade() -> None:
    """Nothing to put back: the days dropped were never usable."""
