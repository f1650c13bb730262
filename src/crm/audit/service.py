"""Writing the audit trail: one record per change, in the same transaction as the change.

Personal data (phones, e-mails, WeChat ids, birthdays, detailed addresses) is written only
masked, so the trail itself never becomes a copy of what it protects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.kit.actor import Actor
from crm.kit.context import current_request
from crm.kit.masking import mask_address, mask_email, mask_phone, mask_text
from crm.models import AuditLog

PII_MASKS: dict[str, Callable[[str], str]] = {
    "contact_phone": mask_phone,
    "contact_email": mask_email,
    "contact_wechat": mask_text,
    "birthday": lambda _value: "****-**-**",
    "detailed_address": mask_address,
}


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _safe(field: str, value: Any) -> Any:
    plain = _plain(value)
    mask = PII_MASKS.get(field)
    return mask(str(plain)) if mask is not None and plain is not None else plain


def snapshot(obj: object, fields: Iterable[str]) -> dict[str, Any]:
    """The audited fields of ``obj`` as JSON values, personal data masked."""
    return {field: _safe(field, getattr(obj, field)) for field in fields}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """{field: {"before", "after"}} for every field whose (masked) value changed."""
    return {
        field: {"before": before.get(field), "after": value}
        for field, value in after.items()
        if before.get(field) != value
    }


def created(after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {field: {"before": None, "after": value} for field, value in after.items() if value not in (None, [], {})}


def record(
    session: Session,
    action: str,
    *,
    actor: Actor | None,
    object_type: str | None = None,
    object_id: int | None = None,
    changes: dict[str, Any] | None = None,
    detail: dict[str, Any] | None = None,
    tenant_id: int | None = None,
) -> AuditLog:
    request = current_request()
    entry = AuditLog(
        tenant_id=tenant_id if tenant_id is not None else (actor.tenant_id if actor else None),
        actor_id=actor.id if actor else None,
        actor_name=actor.username if actor else None,
        action=action,
        object_type=object_type,
        object_id=object_id,
        changes=changes or None,
        detail=_plain(detail) if detail else None,
        request_id=request.request_id if request else None,
        ip=request.ip if request else None,
        user_agent=request.user_agent if request else None,
    )
    session.add(entry)
    return entry


def count_since(session: Session, actor: Actor, action: str, since: datetime) -> int:
    """How often ``actor`` did ``action`` since ``since`` (daily limits read the trail)."""
    stmt = select(func.count()).where(
        AuditLog.actor_id == actor.id, AuditLog.action == action, AuditLog.created_at >= since
    )
    return int(session.scalar(stmt) or 0)
