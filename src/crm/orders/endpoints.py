"""The order feed and the receivables feed (§6.2, §6.3), and a customer's orders."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from crm.auth.dependencies import SessionDep, require
from crm.auth.permissions import Permission
from crm.kit.actor import Actor
from crm.kit.errors import problem_responses
from crm.kit.pagination import Page, fetch_page, page_of
from crm.kit.routing import UnitOfWorkRoute
from crm.kit.validation import IdPath
from crm.orders import schemas, service

router = APIRouter(prefix="/crm", tags=["orders and receivables"], route_class=UnitOfWorkRoute)

Reader = Annotated[Actor, Depends(require(Permission.CUSTOMER_READ))]
FinanceReader = Annotated[Actor, Depends(require(Permission.FINANCE_READ))]
Feeder = Annotated[Actor, Depends(require(Permission.ORDER_WRITE))]
READ = problem_responses(401, 403, 404, 422)
WRITE = problem_responses(400, 401, 403, 404, 409, 413, 422)


@router.post("/orders", response_model=schemas.BatchResult, responses=WRITE)
def receive_orders(session: SessionDep, actor: Feeder, data: schemas.OrdersBody) -> schemas.BatchResult:
    """One order or `{"orders": [...]}` (up to 1,000) from the order system; re-sent order numbers update."""
    prefix = "orders" if isinstance(data.root, schemas.OrderBatch) else ""
    return service.upsert_orders(session, actor, data.orders(), prefix=prefix)


@router.get("/customers/{customer_id}/orders", response_model=Page[schemas.Order], responses=READ)
def list_orders(
    session: SessionDep, actor: Reader, customer_id: IdPath, filters: Annotated[schemas.OrderFilters, Query()]
) -> Page[schemas.Order]:
    """The customer's orders, newest first; amounts, cost and margin only with the finance permission."""
    service.customer_of(session, actor, customer_id)
    params = filters.paging
    rows, total, exact = fetch_page(session, service.orders_of(actor, customer_id, filters), params)
    return page_of(schemas.Order, service.present(session, actor, list(rows)), total, params, exact=exact)


@router.post("/customers/{customer_id}/receivables", response_model=schemas.ReceivableSummary, responses=WRITE)
def receive_receivables(
    session: SessionDep,
    actor: Feeder,
    customer_id: IdPath,
    data: schemas.ReceivablesBody,
) -> schemas.ReceivableSummary:
    """One receivable or `{"receivables": [...]}` from finance; a re-sent reference updates."""
    return service.upsert_receivables(session, actor, customer_id, data.receivables())


@router.get("/customers/{customer_id}/receivables", response_model=schemas.ReceivableSummary, responses=READ)
def customer_receivables(session: SessionDep, actor: FinanceReader, customer_id: IdPath) -> schemas.ReceivableSummary:
    """What the customer owes, what is overdue, and the payment terms of their credit rating."""
    return service.receivable_summary(session, actor, service.customer_of(session, actor, customer_id))
