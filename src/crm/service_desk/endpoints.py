"""Service records at the seed's paths (§4.4), plus start, close, reopen, cancel and escalate."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from crm.auth.dependencies import SessionDep, require, require_any
from crm.auth.permissions import Permission
from crm.kit.actor import Actor
from crm.kit.errors import problem_responses
from crm.kit.pagination import Page, fetch_page, page_of
from crm.kit.routing import UnitOfWorkRoute
from crm.kit.validation import IdPath
from crm.service_desk import schemas, service, statistics
from crm.service_desk.states import Action

router = APIRouter(prefix="/crm", tags=["service desk"], route_class=UnitOfWorkRoute)

Reader = Annotated[Actor, Depends(require(Permission.CUSTOMER_READ))]
Opener = Annotated[Actor, Depends(require(Permission.TICKET_CREATE))]
Handler = Annotated[Actor, Depends(require(Permission.TICKET_HANDLE))]
Assigner = Annotated[Actor, Depends(require(Permission.TICKET_ASSIGN))]
# The dashboard's service figures (analytics.read), and the service desk's own statistics panel,
# which service agents use for the tickets they work (ticket.handle).
Analyst = Annotated[Actor, Depends(require_any(Permission.ANALYTICS_READ, Permission.TICKET_HANDLE))]
READ = problem_responses(401, 403, 404, 422)
WRITE = problem_responses(400, 401, 403, 404, 409, 413, 422)
Ticket = schemas.ServiceRecord


@router.get("/service_records", response_model=Page[Ticket], responses=READ)
def list_tickets(
    session: SessionDep, actor: Reader, filters: Annotated[schemas.ServiceRecordFilters, Query()]
) -> Page[Ticket]:
    """Tickets you can see, newest first; filter by status, priority, type, assignee, customer, dates."""
    params = filters.paging
    rows, total, exact = fetch_page(session, service.search(actor, filters), params)
    return page_of(Ticket, service.present_many(session, list(rows)), total, params, exact=exact)


@router.get("/service_records/statistics", response_model=schemas.ServiceStatistics, responses=READ)
def ticket_statistics(
    session: SessionDep, actor: Analyst, filters: Annotated[schemas.StatisticsFilters, Query()]
) -> schemas.ServiceStatistics:
    """Response and resolution times (average, p90), SLA attainment and satisfaction of the tickets you see."""
    return statistics.statistics(session, actor, filters)


@router.get("/users/service_staff", response_model=list[schemas.ServiceStaff], responses=problem_responses(401, 403))
def service_staff(session: SessionDep, actor: Assigner) -> list[schemas.ServiceStaff]:
    """Active service agents and managers with their open work, to assign tickets to."""
    return service.service_staff(session, actor)


@router.post("/service_records", response_model=Ticket, status_code=status.HTTP_201_CREATED, responses=WRITE)
def create_ticket(session: SessionDep, actor: Opener, data: schemas.ServiceRecordCreate, response: Response) -> Ticket:
    """Open a ticket for a customer you can see."""
    ticket = service.create_ticket(session, actor, data)
    response.headers["Location"] = f"/api/v1/crm/service_records/{ticket.id}"
    return service.present(session, ticket)


@router.get("/service_records/{ticket_id}", response_model=Ticket, responses=READ)
def get_ticket(session: SessionDep, actor: Reader, ticket_id: IdPath) -> Ticket:
    """One ticket."""
    return service.present(session, service.get_ticket(session, actor, ticket_id))


@router.put("/service_records/{ticket_id}", response_model=Ticket, responses=WRITE)
def update_ticket(session: SessionDep, actor: Handler, ticket_id: IdPath, data: schemas.ServiceRecordUpdate) -> Ticket:
    """Edit an open ticket (type, priority, subject, description, contact, tags)."""
    return service.present(session, service.update_ticket(session, actor, ticket_id, data))


@router.put("/service_records/{ticket_id}/assign", response_model=Ticket, responses=WRITE)
def assign_ticket(session: SessionDep, actor: Assigner, ticket_id: IdPath, data: schemas.Assign) -> Ticket:
    """Give an open ticket to a service agent (service managers, admins)."""
    return service.present(session, service.assign_ticket(session, actor, ticket_id, data))


@router.put("/service_records/{ticket_id}/start", response_model=Ticket, responses=WRITE)
def start_ticket(session: SessionDep, actor: Handler, ticket_id: IdPath, data: schemas.Transition) -> Ticket:
    """open → in_progress (the first response)."""
    return service.present(session, service.transition(session, actor, ticket_id, Action.START, data.version))


@router.put("/service_records/{ticket_id}/resolve", response_model=Ticket, responses=WRITE)
def resolve_ticket(session: SessionDep, actor: Handler, ticket_id: IdPath, data: schemas.Resolve) -> Ticket:
    """in_progress → resolved, with the resolution."""
    ticket = service.transition(session, actor, ticket_id, Action.RESOLVE, data.version, text=data.resolution)
    return service.present(session, ticket)


@router.put("/service_records/{ticket_id}/close", response_model=Ticket, responses=WRITE)
def close_ticket(session: SessionDep, actor: Handler, ticket_id: IdPath, data: schemas.Transition) -> Ticket:
    """resolved → closed."""
    return service.present(session, service.transition(session, actor, ticket_id, Action.CLOSE, data.version))


@router.put("/service_records/{ticket_id}/reopen", response_model=Ticket, responses=WRITE)
def reopen_ticket(session: SessionDep, actor: Handler, ticket_id: IdPath, data: schemas.Transition) -> Ticket:
    """resolved → in_progress, within the reopen window, with a reason."""
    ticket = service.transition(session, actor, ticket_id, Action.REOPEN, data.version, text=data.reason)
    return service.present(session, ticket)


@router.put("/service_records/{ticket_id}/cancel", response_model=Ticket, responses=WRITE)
def cancel_ticket(session: SessionDep, actor: Handler, ticket_id: IdPath, data: schemas.Transition) -> Ticket:
    """open or in_progress → cancelled, with a reason."""
    ticket = service.transition(session, actor, ticket_id, Action.CANCEL, data.version, text=data.reason)
    return service.present(session, ticket)


@router.put("/service_records/{ticket_id}/escalate", response_model=Ticket, responses=WRITE)
def escalate_ticket(session: SessionDep, actor: Handler, ticket_id: IdPath, data: schemas.Escalate) -> Ticket:
    """Escalate an open ticket, with the reason."""
    return service.present(session, service.escalate(session, actor, ticket_id, data))
