"""Field-level permissions: who sees and who writes the sensitive fields, and money figures.

Money. Every money amount — order and line amounts, cost and margin, spend, the value
analysis' totals, lifetime and potential value, receivables, annual revenue — needs
``finance.read``, whoever's customer it is; counts, dates, levels and scores do not. Without
it an amount is null (never 0), and a text the system wrote that quotes an amount (an order's
timeline note, a rule's grading reason) shows ``***`` in its place.

Fields. Reading a finance field needs ``finance.read``; reading a personal field in clear
needs ``pii.unmask`` (it is shown masked otherwise). Writing a field needs the permission to
read it and the field's write permission: ``finance.write`` for the finance fields (the credit
rating decides payment terms), ``contact.write`` for personal ones, else the operation's own.
A caller without the read permission may not sort or filter by the field either.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TypeVar

from crm.auth.permissions import Permission
from crm.kit.actor import MASKABLE_FIELDS, Actor
from crm.kit.errors import ErrorCode, PermissionDenied

T = TypeVar("T")

FINANCE_FIELDS = ("annual_revenue", "credit_rating")
PERSONAL_FIELDS = tuple(sorted(MASKABLE_FIELDS))

# What it takes to see a field in clear, and to write it.
READ: dict[str, Permission] = {
    **dict.fromkeys(FINANCE_FIELDS, Permission.FINANCE_READ),
    **dict.fromkeys(PERSONAL_FIELDS, Permission.PII_UNMASK),
}
WRITE: dict[str, Permission] = {
    **dict.fromkeys(FINANCE_FIELDS, Permission.FINANCE_WRITE),
    **dict.fromkeys(PERSONAL_FIELDS, Permission.CONTACT_WRITE),
}

# An amount in a text the system wrote: "¥1,234.00", "523000.00 元", "1,234.00 USD".
_AMOUNT = re.compile(r"(?<=¥)-?\d[\d,]*(?:\.\d+)?|-?\d[\d,]*(?:\.\d+)?(?=\s*(?:元|[A-Z]{3}\b))")


def sees_money(actor: Actor) -> bool:
    return actor.can(Permission.FINANCE_READ)


def money(actor: Actor, amount: T) -> T | None:
    """``amount`` as ``actor`` may see it: itself, or null without the finance permission."""
    return amount if sees_money(actor) else None


def without_amounts(actor: Actor, text: str | None) -> str | None:
    """A text the system wrote, its amounts replaced by *** for a caller who may not see money."""
    if text is None or sees_money(actor):
        return text
    return _AMOUNT.sub("***", text)


def can_read(actor: Actor, field: str) -> bool:
    permission = READ.get(field)
    return permission is None or actor.can(permission)


def can_write(actor: Actor, field: str, default: Permission) -> bool:
    """Whether ``actor`` may set ``field``; ``default`` is what the fields without a rule of their own need."""
    return can_read(actor, field) and actor.can(WRITE.get(field, default))


def check_writable(actor: Actor, fields: Iterable[str], default: Permission) -> None:
    """403 naming the first of ``fields`` that ``actor`` may not set."""
    for field in fields:
        if not can_write(actor, field, default):
            raise PermissionDenied(
                ErrorCode.FIELD_WRITE_DENIED, params={"field": field}, fields=[(field, "field_write_denied", {})]
            )


def check_readable(actor: Actor, field: str, *, parameter: str) -> None:
    """403 when ``actor`` cannot see ``field`` but asked to sort or filter by it (query ``parameter``)."""
    if not can_read(actor, field):
        raise PermissionDenied(
            ErrorCode.FIELD_READ_DENIED,
            params={"field": field},
            fields=[(parameter, "field_read_denied", {"field": field})],
            location="query",
        )
