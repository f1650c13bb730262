"""Every SELECT of the customer aggregate, always within the caller's tenant and scope."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy import ColumnElement, Row, Select, SQLColumnExpression, exists, func, nulls_last, or_, select
from sqlalchemy.orm import Session, joinedload

from crm.config import settings
from crm.customers import schemas
from crm.customers.schemas import CustomerFilters
from crm.kit import search
from crm.kit.actor import Actor
from crm.kit.dialects import json_array_contains, planner_methods
from crm.kit.pagination import count_capped, fetch_page_rows
from crm.kit.regions import normalise_province
from crm.kit.repository import ScopedRepository, data_scope_clause
from crm.models import (
    Customer,
    CustomerAddress,
    CustomerContact,
    CustomerLevelChange,
    CustomerSearch,
    CustomerValueAnalysis,
    RegionMapping,
    User,
)


def customer_scope(actor: Actor) -> list[ColumnElement[bool]]:
    clause = data_scope_clause(
        actor,
        sales_owner=Customer.assigned_sales_id,
        service_owner=Customer.assigned_service_id,
        region=Customer.region,
        team_members=select(User.id).where(User.tenant_id == actor.tenant_id, User.team == actor.team),
    )
    return [] if clause is None else [clause]


def live_customer_ids(session: Session, tenant_id: int) -> list[int]:
    """Every live customer of the tenant, by id in order (for jobs that work through them in batches)."""
    found = select(Customer.id).where(Customer.tenant_id == tenant_id, Customer.deleted_at.is_(None))
    return list(session.scalars(found.order_by(Customer.id)))


def live_customer(
    actor: Actor, customer_id: SQLColumnExpression[Any], *conditions: ColumnElement[bool]
) -> ColumnElement[bool]:
    """The customer ``customer_id`` refers to exists in the actor's tenant, is not deleted and meets
    ``conditions`` (the actor's scope is not applied: see customer_is_live)."""
    return exists(
        select(Customer.id).where(
            Customer.id == customer_id,
            Customer.tenant_id == actor.tenant_id,
            Customer.deleted_at.is_(None),
            *conditions,
        )
    )


def customer_is_live(
    actor: Actor, customer_id: SQLColumnExpression[Any], *conditions: ColumnElement[bool]
) -> ColumnElement[bool]:
    """The customer ``customer_id`` refers to is live, inside the actor's scope and meets ``conditions``.

    For rows of the actor's tenant (warnings, tickets: their customer is always of the same
    tenant). A tenant-wide actor with no further conditions only has to leave out deleted
    customers, which is an anti-join against the few of them (ix_customers_deleted) rather than
    a probe or hash of every live customer.
    """
    scope = customer_scope(actor)
    if not scope and not conditions:
        deleted = select(Customer.id).where(
            Customer.id == customer_id, Customer.tenant_id == actor.tenant_id, Customer.deleted_at.is_not(None)
        )
        return ~exists(deleted)
    return live_customer(actor, customer_id, *scope, *conditions)


def _visible_customer(actor: Actor, customer_id: SQLColumnExpression[Any]) -> ColumnElement[bool]:
    """The owning customer exists, is not deleted and is inside the actor's scope."""
    return live_customer(actor, customer_id, *customer_scope(actor))


# The smallest window of ids read at once when paging newest-first through a broad keyword,
# and the widest that is read row by row rather than through the keyword index.
# What a customer list shows (schemas.Customer), read as plain columns.
LISTED = tuple(getattr(Customer, name) for name in schemas.Customer.model_fields)

MIN_WINDOW = 1_000
NARROW_WINDOW = 20_000

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


@dataclass(frozen=True)
class _Windowed:
    """A relevance tier too large to list: its matches, paged newest first through id windows."""

    stmt: Select[int]
    density: float


class CustomerRepository(ScopedRepository[Customer]):
    model = Customer
    resource: ClassVar[str] = "customer"
    soft_delete = True

    def scope_clauses(self) -> Sequence[ColumnElement[bool]]:
        return customer_scope(self.actor)

    def get_profile(self, customer_id: int) -> Customer:
        # One round trip: a customer has a few contacts and addresses, their product few rows.
        return self.get(customer_id, joinedload(Customer.contacts), joinedload(Customer.addresses))

    def latest_analysis(self, customer_id: int) -> tuple[str | None, str | None, Any]:
        """Lifecycle stage, churn risk and probability from the newest analysis of a customer the
        caller has already read (so no scope check here)."""
        latest = self.session.execute(
            select(CustomerValueAnalysis.lifecycle_stage, CustomerValueAnalysis.churn_risk,
                   CustomerValueAnalysis.churn_probability)
            .where(CustomerValueAnalysis.customer_id == customer_id)
            .order_by(CustomerValueAnalysis.analysis_date.desc())
            .limit(1)
        ).one_or_none()  # fmt: skip
        return (latest[0], latest[1], latest[2]) if latest is not None else (None, None, None)

    def code_taken(self, code: str) -> bool:
        # Deleted customers keep their codes: history and integrations refer to them.
        stmt = select(Customer.id).where(Customer.tenant_id == self.actor.tenant_id, Customer.customer_code == code)
        return self.session.scalar(stmt) is not None

    def filtered(self, filters: CustomerFilters) -> Select[Customer]:
        """Visible customers narrowed by every filter except the keyword; no order yet."""
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
            stmt = stmt.where(json_array_contains(Customer.tags, filters.tag, self.dialect))
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
        return stmt.where(*self._finance_conditions(filters))

    @staticmethod
    def _finance_conditions(filters: CustomerFilters) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if filters.credit_rating:
            conditions.append(Customer.credit_rating.in_(filters.credit_rating))
        if filters.annual_revenue_min is not None:
            conditions.append(Customer.annual_revenue >= filters.annual_revenue_min)
        if filters.annual_revenue_max is not None:
            conditions.append(Customer.annual_revenue <= filters.annual_revenue_max)
        return conditions

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

    @staticmethod
    def ordered(stmt: Select[Customer], sort: str) -> Select[Customer]:
        if sort in ("relevance", "-created_at"):
            return stmt.order_by(Customer.id.desc())
        column = _SORTS[sort.lstrip("-")]
        direction = column.desc() if sort.startswith("-") else column.asc()
        return stmt.order_by(nulls_last(direction), Customer.id.desc())

    def list_page(self, filters: CustomerFilters) -> tuple[list[Row[Any]], int, bool]:
        """A page of customers as plain rows of what a list shows (no ORM objects to build)."""
        stmt = self.ordered(self.filtered(filters), filters.sort or "-created_at").with_only_columns(*LISTED)
        # Filters on skewed columns (level, status, region): see planner_methods' generic_plan.
        with planner_methods(self.session, generic_plan=False):
            return fetch_page_rows(self.session, stmt, filters.paging)

    @staticmethod
    def searchable(stmt: Select[Any]) -> Select[Any]:
        """``stmt`` joined to each customer's search data (one row a customer, see CustomerSearch)."""
        return stmt.join(CustomerSearch, CustomerSearch.customer_id == Customer.id)

    def keyword_page(self, filters: CustomerFilters, keyword: str) -> tuple[list[Row[Any]], int, bool]:
        # A sequential scan that hopes to fill a LIMIT early reads every row for a rare keyword;
        # the GIN index answers rare and common keywords alike within a page's worth of work.
        # Each statement reads about a page of rows: a parallel worker would cost more to start.
        with planner_methods(self.session, seqscan=False, parallel=False):
            return self._keyword_page(filters, keyword)

    def _keyword_page(self, filters: CustomerFilters, keyword: str) -> tuple[list[Row[Any]], int, bool]:
        """One page of keyword matches, ranked: exact code/phone/e-mail, then name prefix, then others.

        Each tier is listed newest first. A tier with more matches than can be ranked
        (``search_rank_limit``, e.g. 上海市 or 科技) is paged through windows of recent ids
        instead of sorted, later tiers are not reached, and the total becomes a lower bound.
        Either way a request reads about a page of rows however many customers match.
        """
        base = self.searchable(self.filtered(filters))
        limit = settings.search_rank_limit
        offset, size = (filters.page - 1) * filters.page_size, filters.page_size
        exact_ids = sorted(
            self.session.scalars(
                base.with_only_columns(Customer.id)
                .where(search.has_tokens(CustomerSearch.search_tokens, [search.exact_key(keyword)], self.dialect))
                .limit(limit)
            ),
            reverse=True,
        )
        matched = search.keyword_clause(CustomerSearch.search_tokens, CustomerSearch.search_text, keyword, self.dialect)
        sort = filters.sort or "relevance"
        if sort != "relevance":
            if exact_ids:
                matched = or_(matched, Customer.id.in_(exact_ids))
            total, exact = count_capped(self.session, base.with_only_columns(Customer.id).where(matched), limit)
            page = self.ordered(base.where(matched), sort).with_only_columns(*LISTED).limit(size).offset(offset)
            return list(self.session.execute(page).all()), total, exact

        others = base.with_only_columns(Customer.id).where(matched)
        if exact_ids:
            others = others.where(Customer.id.not_in(exact_ids))
        prefix = search.name_prefix_clause(CustomerSearch.search_tokens, Customer.customer_name, keyword, self.dialect)
        ids: list[int] = []
        skip, listed = offset, 0
        for stmt in (None, others.where(prefix), others.where(~prefix)):
            tier = exact_ids if stmt is None else self._tier(stmt, limit - listed)
            if isinstance(tier, _Windowed):  # too many to rank: the pages from here on are this tier's
                ids += self.newest(tier, skip=skip, take=size - len(ids)) if len(ids) < size else []
                return self.by_ids(ids), limit, False
            ids += tier[skip : skip + size - len(ids)]
            skip, listed = max(skip - len(tier), 0), listed + len(tier)
        return self.by_ids(ids), listed, True

    def _tier(self, stmt: Select[int], room: int) -> list[int] | _Windowed:
        """A tier's matches newest first when at most ``room``, else how to page through them."""
        probe = list(self.session.scalars(stmt.limit(max(room, 0) + 1)))
        if len(probe) <= room:
            return sorted(probe, reverse=True)
        # The probe read matches in storage order, roughly id order: their spread tells how
        # densely the tier matches, which sizes the first window of recent ids.
        return _Windowed(stmt, density=len(probe) / (max(probe) - min(probe) + 1))

    def newest(self, tier: _Windowed, *, skip: int, take: int) -> list[int]:
        """Ids from ``stmt`` newest first, read from windows of recent ids that grow as needed.

        Sorting all matches of a broad keyword by id costs one row visit per match (tens of
        thousands); a window of recent ids sized to hold the page costs a few hundred, and
        quadrupling windows keep the cost bounded when the matches are old.
        """
        need = skip + take
        upper = (self.session.scalar(select(func.max(Customer.id))) or 0) + 1
        width = max(int(2 * need / tier.density), MIN_WINDOW)
        found: list[int] = []
        while upper > 0 and len(found) < need:
            lower = max(upper - width, 0)
            window = tier.stmt.where(Customer.id >= lower, Customer.id < upper).order_by(Customer.id.desc())
            # A narrow window is cheapest read row by row in id order; a wide one through the
            # keyword's index. The planner, misjudging how common the keyword is, needs telling.
            with planner_methods(self.session, bitmapscan=width > NARROW_WINDOW):
                found += self.session.scalars(window.limit(need - len(found)))
            upper, width = lower, width * 4
        return found[skip:]

    def export_statement(self, filters: CustomerFilters) -> Select[Customer]:
        """Every visible customer the filters and keyword select, newest first (for keyset batches)."""
        stmt = self.filtered(filters)
        keyword = (filters.keyword or "").strip()
        if keyword:
            tokens, text = CustomerSearch.search_tokens, CustomerSearch.search_text
            matched = search.keyword_clause(tokens, text, keyword, self.dialect)
            exact = search.has_tokens(tokens, [search.exact_key(keyword)], self.dialect)
            stmt = self.searchable(stmt).where(or_(matched, exact))
        return stmt.order_by(Customer.id.desc())

    def by_ids(self, ids: list[int]) -> list[Row[Any]]:
        """The visible customers with these ids, in the order given, as rows of what a list shows."""
        if not ids:
            return []
        stmt = self.select().where(Customer.id.in_(ids)).with_only_columns(*LISTED)
        found = {row.id: row for row in self.session.execute(stmt)}
        return [found[i] for i in ids if i in found]

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

    def primary_contacts(self, customer_ids: list[int]) -> dict[int, CustomerContact]:
        """The primary contact of each of these (already visible) customers, in one query."""
        stmt = select(CustomerContact).where(
            CustomerContact.customer_id.in_(customer_ids),
            CustomerContact.is_primary.is_(True),
            CustomerContact.deleted_at.is_(None),
        )
        return {c.customer_id: c for c in self.session.scalars(stmt)}

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
