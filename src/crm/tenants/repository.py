"""Tenant-wide queries: per-tenant business codes (C00000001, …) from a counter row, safe under concurrency."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm.models import CodeSequence


def next_number(session: Session, tenant_id: int, name: str) -> int:
    """Reserve the next number; the row lock held until commit serialises concurrent callers."""
    bump = (
        update(CodeSequence)
        .where(CodeSequence.tenant_id == tenant_id, CodeSequence.name == name)
        .values(last_value=CodeSequence.last_value + 1)
        .returning(CodeSequence.last_value)
    )
    for _ in range(3):
        value = session.execute(bump).scalar_one_or_none()
        if value is not None:
            return int(value)
        try:
            with session.begin_nested():
                session.add(CodeSequence(tenant_id=tenant_id, name=name, last_value=1))
            return 1
        except IntegrityError:
            continue  # another transaction created the row first; bump it instead
    raise RuntimeError(f"could not reserve a number for {name}")
