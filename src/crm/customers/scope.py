"""What other domains may ask of customers: which ones the caller may see, and which are live.

Orders, tickets, interactions, analysis and the rest reach customers only through this module,
never through the customers' repository, so that the rules of visibility live in one place.
"""

from __future__ import annotations

from sqlalchemy import Select
from sqlalchemy.orm import Session

from crm.customers.repository import (
    ContactRepository,
    CustomerRepository,
    customer_is_live,
    customer_scope,
    live_customer,
    live_customer_ids,
)
from crm.kit.actor import Actor
from crm.models import Customer, CustomerContact

__all__ = [
    "customer_is_live",
    "customer_scope",
    "find_contact",
    "find_customer",
    "live_customer",
    "live_customer_ids",
    "visible_customer",
    "visible_customers",
]


def visible_customer(session: Session, actor: Actor, customer_id: int) -> Customer:
    """The customer, if live and inside the caller's scope; otherwise 404 (never 403: no oracle)."""
    return CustomerRepository(session, actor).get(customer_id)


def find_customer(session: Session, actor: Actor, customer_id: int) -> Customer | None:
    """As visible_customer, None instead of 404."""
    return CustomerRepository(session, actor).find(customer_id)


def find_contact(session: Session, actor: Actor, contact_id: int) -> CustomerContact | None:
    """A live contact of a customer inside the caller's scope, or None."""
    return ContactRepository(session, actor).find(contact_id)


def visible_customers(session: Session, actor: Actor) -> Select[Customer]:
    """Every live customer inside the caller's scope, as a statement to narrow further."""
    return CustomerRepository(session, actor).select()
