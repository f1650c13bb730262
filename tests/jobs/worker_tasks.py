"""Tasks that only the tests register: `crm worker` imports this module through
CRM_EXTRA_TASK_MODULES=tests.jobs.worker_tasks."""

from __future__ import annotations

from sqlalchemy import text

from crm.kit.db import unit_of_work
from crm.kit.tasks import RETRY_POLICY, celery_app, task_session_factory
from crm.models import Tenant


@celery_app.task(name="tests.append_to_name", **RETRY_POLICY)  # type: ignore[untyped-decorator]  # Celery is untyped
def append_to_name(tenant_id: int, suffix: str) -> None:
    """Append ``suffix`` to the tenant's name. While the tenant's settings hold `failures_left` > 0
    it counts one down (committed), appends, then meets a real database error (PostgreSQL cancels a
    statement past its timeout), so that attempt's append is rolled back and the task retried."""
    factory = task_session_factory()
    left = 0
    for session in unit_of_work(factory):
        tenant = session.get_one(Tenant, tenant_id)
        left = int(tenant.settings.get("failures_left", 0))
        if left:
            tenant.settings = {**tenant.settings, "failures_left": left - 1}
    for session in unit_of_work(factory):
        tenant = session.get_one(Tenant, tenant_id)
        tenant.name += suffix
        session.flush()
        if left:
            session.execute(text("SET LOCAL statement_timeout = 1"))
            session.execute(text("SELECT pg_sleep(1)"))
