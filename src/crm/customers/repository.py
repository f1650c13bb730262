"""Every SELECT of the customer aggregate, always within the caller's tenant and scope."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, case, exists, func, nulls_last, select
from sqlalchemy.orm import selectinload

from crm.customers.schemas import CustomerFilters
from crm.kit import search
from crm.kit.actor import Actor
from crm.kit.dialects import json_array_contains
from crm.kit.regions import normalise_province
from crm.kit.repository import ScopedRepository, data_scope_clause
from crm.models import Customer, CustomerAddress, CustomerContact, CustomerLevelChange, RegionMapping, User


def customer_scope(actor: Actor) -> list[ColumnElement[bool]]:
    clause = data_scope_clause(
        actor,
        sales_owner=Customer.assigned_sales_id,
        service_owner=Customer.assigned_service_id,
        region=Customer.region,
    )
    return [] if clause is None else [clause]


def _visible_customer(actor: Actor, customer_id: SQLColumnExpression[Any]) -> ColumnElement[bool]:
    """The owning customer exists, is not deleted and is inside the actor's scope."""
    return exists(
        select(Customer.id).where(
            Customer.id == customer_id,
            Customer.tenant_id == actor.tenant_id,
            Customer.deleted_at.is_(None),
            *customer_scope(actor),
        )
    )


_SORTS: dict[str, Any] = {
    "created_at": Customer.id,  # ids grow with creation time and are indexed
    "updated_at": Customer.updated_at,
    "customer_name": Customer.customer_name,
    "customer_code": Customer.customer_code,
    "customer_level": Customer.customer_level,
    "acquisition_date": Customer.acquisition_date,
    "last_contact_date": Customer.last_contact_date,
    "annual_revenue": Customer.annual_revenue,
}


class CustomerRepository(ScopedRepository[Customer]):
    model = Customer
    resource: ClassVar[str] = "customer"
    soft_delete = True

    def scope_clauses(self) -> Sequence[ColumnElement[bool]]:
        return customer_scope(self.actor)

    def get_profile(self, customer_id: int) -> Customer:
        return self.get(customer_id, selectinload(Customer.contacts), selectinload(Customer.addresses))

    def code_taken(self, code: str) -> bool:
        # Deleted customers keep their codes: history and integrations refer to them.
        stmt = select(Customer.id).where(Customer.tenant_id == self.actor.tenant_id, Customer.customer_code == code)
        return self.session.scalar(stmt) is not None

    def search_statement(self, filters: CustomerFilters) -> Select[Customer]:  # noqa: PLR0912 - one branch per filter
        dialect = self.session.get_bind().dialect.name
        stmt = self.select()
        if filters.level:
            stmt = stmt.where(Customer.customer_level.in_(filters.level))
        if filters.status:
            stmt = stmt.where(Customer.customer_status.in_(filters.status))
        if filters.type:
            stmt = stmt.where(Customer.customer_type == filters.type)
        if filters.industry:
            stmt = stmt.where(Customer.industry == filters.industry)
        if filters.source:
            stmt = stmt.where(Customer.source == filters.source)
        if filters.tag:
            stmt = stmt.where(json_array_contains(Customer.tags, filters.tag, dialect))
        if filters.province:
            stmt = stmt.where(Customer.province == (normalise_province(filters.province) or filters.province))
        if filters.region:
            stmt = stmt.where(Customer.region == filters.region)
        if filters.assigned_sales_id:
            stmt = stmt.where(Customer.assigned_sales_id == filters.assigned_sales_id)
        if filters.acquired_from:
            stmt = stmt.where(Customer.acquisition_date >= filters.acquired_from)
        if filters.acquired_to:
            stmt = stmt.where(Customer.acquisition_date <= filters.acquired_to)

        keyword = (filters.keyword or "").strip()
        if keyword:
            stmt = stmt.where(search.keyword_clause(Customer.search_tokens, Customer.search_text, keyword, dialect))
        sort = filters.sort or ("relevance" if keyword else "-created_at")
        if sort == "relevance":
            if not keyword:
                return stmt.order_by(Customer.id.desc())
            exact = search.has_tokens(Customer.search_tokens, [search.exact_key(keyword)], dialect)
            name_prefix = func.lower(Customer.customer_name).startswith(search.normalise_text(keyword), autoescape=True)
            rank = case((exact, 0), (name_prefix, 1), else_=2)
            return stmt.order_by(rank, Customer.id.desc())
        column = _SORTS[sort.lstrip("-")]
        ordered = column.desc() if sort.startswith("-") else column.asc()
        return stmt.order_by(nulls_last(ordered), Customer.id.desc())

    def level_history(self, customer_id: int) -> Select[CustomerLevelChange, str]:
        return (
            select(CustomerLevelChange, User.display_name)
            .outerjoin(User, User.id == CustomerLevelChange.changed_by)
            .where(
                CustomerLevelChange.tenant_id == self.actor.tenant_id,
                CustomerLevelChange.customer_id == customer_id,
            )
            .order_by(CustomerLevelChange.changed_at.desc(), CustomerLevelChange.id.desc())
        )

    def region_for_province(self, province: str) -> Any:
        return self.session.scalar(
            select(RegionMapping.region).where(
                RegionMapping.tenant_id == self.actor.tenant_id, RegionMapping.province == province
            )
        )

    def active_contacts(self, customer_id: int) -> list[CustomerContact]:
        stmt = (
            select(CustomerContact)
            .where(CustomerContact.customer_id == customer_id, CustomerContact.deleted_at.is_(None))
            .order_by(CustomerContact.is_primary.desc(), CustomerContact.id)
        )
        return list(self.session.scalars(stmt))

    def addresses(self, customer_id: int) -> list[CustomerAddress]:
        stmt = (
            select(CustomerAddress)
            .where(CustomerAddress.customer_id == customer_id)
            .order_by(CustomerAddress.address_type, CustomerAddress.is_default.desc(), CustomerAddress.id)
        )
        return list(self.session.scalars(stmt))


class ContactRepository(ScopedRepository[CustomerContact]):
    model = CustomerContact
    resource: ClassVar[str] = "contact"
    soft_delete = True

    def scope_clauses(self) -> Sequence[ColumnElement[bool]]:
        return [_visible_customer(self.actor, CustomerContact.customer_id)]


class AddressRepository(ScopedRepository[CustomerAddress]):
    model = CustomerAddress
    resource: ClassVar[str] = "address"

    def scope_clauses(self) -> Sequence[ColumnElement[bool]]:
        return [_visible_customer(self.actor, CustomerAddress.customer_id)]
