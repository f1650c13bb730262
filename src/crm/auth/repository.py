"""Every query of the sign-in defences: failed sign-in attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import Session

from crm.models import LoginFailure

Scope = Literal["account_address", "account", "address"]


def _same_address(ip: str | None) -> ColumnElement[bool]:
    return LoginFailure.ip == ip if ip else LoginFailure.ip.is_(None)


def recent_failures(
    session: Session, scope: Scope, username: str, ip: str | None, *, since: datetime, limit: int
) -> list[datetime]:
    """When the last ``limit`` failures of the account, the address or both happened, newest first."""
    where: ColumnElement[bool]
    if scope == "account_address":
        where = (LoginFailure.username == username) & _same_address(ip)
    elif scope == "account":
        where = LoginFailure.username == username
    else:
        where = _same_address(ip)
    return list(
        session.scalars(
            select(LoginFailure.created_at)
            .where(where, LoginFailure.created_at >= since)
            .order_by(LoginFailure.created_at.desc())
            .limit(limit)
        )
    )


def add_failure(session: Session, username: str, ip: str | None) -> None:
    session.add(LoginFailure(username=username, ip=ip))


def forget_failures(session: Session, username: str, ip: str | None) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.username == username, _same_address(ip)))
