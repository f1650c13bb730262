"""What a saved view may hold, per list screen: its filters, sort fields and columns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

from pydantic import BaseModel

from crm.auth.permissions import Permission
from crm.customers.schemas import CustomerFilters, SortField
from crm.models import SavedViewPage

# The customer table's optional columns. Keep in step with CUSTOMER_COLUMNS in
# web/src/utils/columns.ts: tests/saved_views/test_saved_views.py compares the two.
CUSTOMER_COLUMNS = (
    "customer_code",
    "customer_type",
    "customer_level",
    "customer_status",
    "industry",
    "region",
    "province",
    "owner",
    "acquisition_date",
    "last_contact_date",
    "annual_revenue",
    "tags",
    "created_at",
)


@dataclass(frozen=True)
class PageRules:
    permission: Permission  # what the list itself needs: without it, no views of it either
    filters: type[BaseModel]  # the list's own filter model
    not_filters: frozenset[str]  # its fields a view keeps elsewhere (sort, page size) or not at all
    sorts: tuple[str, ...]
    columns: tuple[str, ...]

    @property
    def filter_fields(self) -> frozenset[str]:
        return frozenset(self.filters.model_fields) - self.not_filters


PAGES: dict[SavedViewPage, PageRules] = {
    SavedViewPage.CUSTOMERS: PageRules(
        permission=Permission.CUSTOMER_READ,
        filters=CustomerFilters,
        not_filters=frozenset({"page", "page_size", "sort"}),
        sorts=get_args(SortField),
        columns=CUSTOMER_COLUMNS,
    ),
}
