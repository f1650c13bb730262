"""Reading and changing a tenant's settings; the policy every request of the tenant runs under."""

from __future__ import annotations

from datetime import time

from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy.orm import Session

from crm.audit import service as audit
from crm.kit.actor import Actor, TenantPolicy
from crm.kit.calendar import WorkingCalendar
from crm.kit.errors import NotFound
from crm.models import Tenant
from crm.models.service_desk import Priority
from crm.tenants.schemas import TenantSettings, TenantSettingsUpdate


def settings_of(tenant: Tenant) -> TenantSettings:
    return TenantSettings.model_validate(tenant.settings or {})


def policy_for(tenant: Tenant | None) -> TenantPolicy:
    if tenant is None:
        return TenantPolicy()
    rules = settings_of(tenant)
    return TenantPolicy(
        brand_name=rules.brand_name,
        masked_fields=frozenset(field for field, masked in rules.masking.model_dump().items() if masked),
        export_approval_threshold=rules.export_approval_threshold,
        export_daily_limit=rules.export_daily_limit,
        timezone=tenant.timezone or "Asia/Shanghai",
        payment_terms=tuple((str(rating), days) for rating, days in rules.payment_terms.items()),
    )


def _tenant(session: Session, actor: Actor) -> Tenant:
    tenant = session.get(Tenant, actor.tenant_id)
    if tenant is None:
        raise NotFound("tenant")
    return tenant


def get_settings(session: Session, actor: Actor) -> tuple[Tenant, TenantSettings]:
    tenant = _tenant(session, actor)
    return tenant, settings_of(tenant)


SECTIONS = ("masking", "service_calendar", "sla", "assignment", "payment_terms", "value", "grading", "churn")
NESTED_MAPS = {"assignment": ("weights",), "churn": ("playbook", "task_due_days")}


def update_settings(session: Session, actor: Actor, data: TenantSettingsUpdate) -> tuple[Tenant, TenantSettings]:
    tenant = session.get(Tenant, actor.tenant_id, with_for_update=True)
    if tenant is None:
        raise NotFound("tenant")
    before = settings_of(tenant)
    merged = before.model_dump(mode="json")
    changes = data.model_dump(mode="json", exclude_unset=True)
    # Each section merges key by key (unmasking e-mails leaves the phone rule as it was; new
    # targets for urgent tickets leave the others), and so do the maps inside a section that
    # are keyed by priority or risk; everything else sent replaces what was there.
    for section in SECTIONS:
        sent = changes.pop(section, None) or {}
        for inner in NESTED_MAPS.get(section, ()):
            # A key sent as null (only the playbook takes one) removes the tenant's entry.
            entries = {**merged[section][inner], **(sent.pop(inner, None) or {})}
            merged[section][inner] = {key: value for key, value in entries.items() if value is not None}
        merged[section].update(sent)
    merged.update(changes)
    try:
        after = TenantSettings.model_validate(merged)  # the merged rules are checked as a whole
    except ValidationError as error:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in error.errors(include_url=False)]
        ) from error
    tenant.settings = after.model_dump(mode="json")
    session.flush()
    changes = audit.diff(before.model_dump(mode="json"), after.model_dump(mode="json"))
    if changes:
        audit.record(
            session, "tenant.settings", actor=actor, object_type="tenant", object_id=tenant.id, changes=changes
        )
    return tenant, after


def service_calendar(tenant: Tenant) -> WorkingCalendar:
    rules = settings_of(tenant).service_calendar
    return WorkingCalendar(
        timezone=tenant.timezone or "Asia/Shanghai",
        weekdays=frozenset(rules.weekdays),
        start=time.fromisoformat(rules.start),
        end=time.fromisoformat(rules.end),
        holidays=frozenset(rules.holidays),
        workdays=frozenset(rules.workdays),
    )


def sla_targets(tenant: Tenant) -> dict[Priority, tuple[float, float]]:
    return {p: (t.first_response_hours, t.resolution_hours) for p, t in settings_of(tenant).sla.items()}
