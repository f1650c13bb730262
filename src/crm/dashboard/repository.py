"""Every query of the dashboard's customer figures."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from crm.kit.dialects import counts_by_each, statement_resources
from crm.models import Customer

# The groups are few (levels, regions, days of history), but without statistics on the
# acquisition-day expression PostgreSQL takes it for one group per customer and, within the
# default work_mem, sorts every customer on disk instead of hashing the few groups in memory.
BOOK_WORK_MEM = "64MB"


def book_counts(session: Session, book: Select[Any], acquired: Any) -> Iterator[tuple[int, Any, int]]:
    """Visible customers counted by level (0), region (1) and business day of acquisition (2), in
    one pass (an index-only scan of ix_customers_live_book)."""
    with statement_resources(session, work_mem=BOOK_WORK_MEM):
        yield from counts_by_each(session, book, Customer.customer_level, Customer.region, acquired.label("acquired"))
