"""Writing the audit trail: one record per change, in the same transaction as the change.

Personal data (phones, e-mails, WeChat ids, birthdays, detailed addresses) is written only
masked, so the trail itself never becomes a copy of what it protects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from crm.audit import repository
from crm.kit.actor import Actor
from crm.kit.context import current_request
from crm.kit.crypto import keyring
from crm.kit.db import utcnow
from crm.kit.dialects import lock_until_commit
from crm.kit.masking import mask_address, mask_email, mask_phone, mask_text
from crm.kit.seal import GENESIS, body_hash, seal
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
    session.info.setdefault(_UNSEALED, []).append(entry)  # sealed, in this order, when flushed
    return entry


def count_since(session: Session, actor: Actor, action: str, since: datetime) -> int:
    """How often ``actor`` did ``action`` since ``since`` (daily limits read the trail)."""
    return repository.count_since(session, actor.id, action, since)


# ---------------------------------------------------------------- sealing (crm.kit.seal)

_UNSEALED = "crm.audit.unsealed"


def sealed_fields(entry: AuditLog) -> dict[str, Any]:
    """What a record's seal covers: everything but the body, which it covers by its hash."""
    return {
        "seq": entry.seq,
        "tenant_id": entry.tenant_id,
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "request_id": entry.request_id,
        "ip": entry.ip,
        "user_agent": entry.user_agent,
        "created_at": entry.created_at.astimezone(UTC).isoformat(),
        "body_hash": entry.body_hash,
    }


@event.listens_for(Session, "before_flush")
def _seal_new_records(session: Session, _context: Any, _instances: Any) -> None:
    """Extend each tenant's chain with the records about to be written, under a lock per tenant
    held to the end of the transaction: two transactions never extend a chain from one record."""
    pending = [e for e in session.info.pop(_UNSEALED, []) if e in session.new]
    if not pending:
        return
    key = keyring().seal_key
    for tenant_id in dict.fromkeys(e.tenant_id for e in pending):
        lock_until_commit(session, f"audit_chain:{tenant_id}")
        seq, previous = repository.chain_head(session, tenant_id) or (0, GENESIS)
        for entry in (e for e in pending if e.tenant_id == tenant_id):
            seq += 1
            entry.seq = seq
            entry.created_at = entry.created_at or utcnow()
            entry.body_hash = body_hash(entry.changes, entry.detail)
            entry.seal = previous = seal(key, previous, sealed_fields(entry))


@dataclass
class Verification:
    """What `crm audit verify` found in one chain."""

    tenant_id: int | None
    records: int = 0
    problems: list[str] = field(default_factory=list)
    head: str = GENESIS


def verify(session: Session, tenant_id: int | None) -> Verification:
    """Recompute a tenant's chain: the numbering (a number missing is a record deleted), every
    record's seal and, unless redacted, its body's hash."""
    key = keyring().seal_key
    found = Verification(tenant_id)
    expected, previous = 1, GENESIS
    for entry in repository.chain(session, tenant_id):
        found.records += 1
        if entry.seq is None or entry.seal is None or entry.body_hash is None:
            found.problems.append(f"#{entry.id}: not sealed (written around the application)")
            continue
        if entry.redacted_at is None and body_hash(entry.changes, entry.detail) != entry.body_hash:
            found.problems.append(f"#{entry.id} (seq {entry.seq}): changes or detail altered")
        if entry.seq != expected:
            # The seal before this record is gone with the records missing: go on from this one.
            missing = f"{expected}" if entry.seq == expected + 1 else f"{expected}–{entry.seq - 1}"
            what = f"record(s) {missing} missing (deleted)" if entry.seq > expected else "renumbered"
            found.problems.append(f"#{entry.id} (seq {entry.seq}): {what}")
        elif seal(key, previous, sealed_fields(entry)) != entry.seal:
            found.problems.append(f"#{entry.id} (seq {entry.seq}): record altered (its seal does not match)")
        previous, expected = entry.seal, entry.seq + 1
    found.head = previous
    return found


def verify_trail(session: Session, tenant_code: str | None = None) -> list[Verification] | None:
    """Every chain's verification, or one tenant's (None when no tenant has that code)."""
    if tenant_code is None:
        return [verify(session, tenant_id) for tenant_id in repository.chains(session)]
    tenant_id = repository.tenant_by_code(session, tenant_code)
    return None if tenant_id is None else [verify(session, tenant_id)]
