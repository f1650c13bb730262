"""What each caller may see of a customer: the one place that masks personal data and hides
financial figures (§9.1), for every response type — profiles, lists, search and nested routes.

Personal data (phones, e-mails, WeChat ids, birthdays, detailed addresses) is always shown
masked; a caller with ``pii.unmask`` reveals one value at a time through the audited reveal
endpoints. Financial figures are left out (null) for callers without ``finance.read``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import Row

from crm.auth import fields
from crm.customers import schemas
from crm.kit.actor import Actor
from crm.kit.masking import mask_address, mask_email, mask_phone, mask_text
from crm.models import Customer, CustomerAddress, CustomerContact

M = TypeVar("M", bound=BaseModel)

FINANCIAL_FIELDS = fields.FINANCE_FIELDS
CONTACT_MASKS: dict[str, Callable[[Any], str]] = {
    "contact_phone": mask_phone,
    "contact_email": mask_email,
    "contact_wechat": mask_text,
    "birthday": lambda value: "****" + str(value)[4:],  # YYYY-MM-DD → ****-MM-DD
}
ADDRESS_MASKS: dict[str, Callable[[Any], str]] = {
    "detailed_address": mask_address,
    "contact_phone": mask_phone,
}
REVEALABLE = {"contact": CONTACT_MASKS, "address": ADDRESS_MASKS}


def _masked(model: M, masks: dict[str, Callable[[Any], str]], actor: Actor) -> M:
    """Mask the fields the tenant's masking rules name (all of them unless it decided otherwise)."""
    masked = actor.policy.masked_fields
    values = {f: mask(getattr(model, f)) for f, mask in masks.items() if f in masked and getattr(model, f) is not None}
    return model.model_copy(update=values)


def contact_phone(value: str | None, actor: Actor) -> str | None:
    """A contact's phone as every response shows it to ``actor`` (masked unless the rules say not)."""
    if value is None or "contact_phone" not in actor.policy.masked_fields:
        return value
    return CONTACT_MASKS["contact_phone"](value)


def contact(row: CustomerContact, actor: Actor) -> schemas.Contact:
    return _masked(schemas.Contact.model_validate(row), CONTACT_MASKS, actor)


def address(row: CustomerAddress, actor: Actor) -> schemas.Address:
    return _masked(schemas.Address.model_validate(row), ADDRESS_MASKS, actor)


def _without_finance(model: M, actor: Actor) -> M:
    hidden = [f for f in FINANCIAL_FIELDS if not fields.can_read(actor, f)]
    return model.model_copy(update=dict.fromkeys(hidden)) if hidden else model


def customer(row: Customer | Row[Any], actor: Actor) -> schemas.Customer:
    return _without_finance(schemas.Customer.model_validate(row), actor)


def customer_detail(row: Customer, actor: Actor) -> schemas.CustomerDetail:
    detail = schemas.CustomerDetail.model_validate(row)
    detail = detail.model_copy(
        update={
            "contacts": [contact(c, actor) for c in row.contacts],
            "addresses": [address(a, actor) for a in row.addresses],
        }
    )
    return _without_finance(detail, actor)


def payment_terms(actor: Actor, customer: Customer) -> tuple[int | None, str | None]:
    """Days to pay that the customer's credit rating earns, from the tenant's table (§6.3), as the actor carries it."""
    if customer.credit_rating is None:
        return None, None
    days = dict(actor.policy.payment_terms).get(customer.credit_rating)
    if days is None:
        return None, None
    return days, (f"月结 {days} 天" if days > 0 else "款到发货")
