"""Customer, contact and address routes at the seed's paths (§4.1)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import JSONResponse, StreamingResponse

from crm.approvals.schemas import Approval
from crm.auth.dependencies import CurrentActor, SessionDep, require, require_any
from crm.auth.permissions import Permission
from crm.customers import export, schemas, service
from crm.customers import presenters as present
from crm.kit.actor import Actor
from crm.kit.errors import problem_responses
from crm.kit.pagination import Page, PageParams, page_of, page_params
from crm.kit.routing import UnitOfWorkRoute
from crm.kit.validation import IdPath
from crm.models import ApprovalRequest

router = APIRouter(prefix="/crm", tags=["customers"], route_class=UnitOfWorkRoute)

Reader = Annotated[Actor, Depends(require(Permission.CUSTOMER_READ))]
Creator = Annotated[Actor, Depends(require(Permission.CUSTOMER_CREATE))]
Editor = Annotated[Actor, Depends(require(Permission.CUSTOMER_UPDATE))]
# Finance edits the finance fields alone; which fields each caller may set is checked per field.
FieldEditor = Annotated[Actor, Depends(require_any(Permission.CUSTOMER_UPDATE, Permission.FINANCE_WRITE))]
Deleter = Annotated[Actor, Depends(require(Permission.CUSTOMER_DELETE))]
Grader = Annotated[Actor, Depends(require(Permission.CUSTOMER_LEVEL))]
Assigner = Annotated[Actor, Depends(require(Permission.CUSTOMER_ASSIGN))]
ContactWriter = Annotated[Actor, Depends(require(Permission.CONTACT_WRITE))]
Revealer = Annotated[Actor, Depends(require(Permission.PII_UNMASK))]
Exporter = Annotated[Actor, Depends(require(Permission.CUSTOMER_EXPORT))]
Filters = Annotated[schemas.CustomerFilters, Query()]

READ = problem_responses(401, 403, 404, 422)
ASKED: dict[int | str, dict[str, Any]] = {
    202: {"model": Approval, "description": "Sent to a manager for approval (sales, service and marketing roles)"}
}


def _asked(request: ApprovalRequest) -> JSONResponse:
    return JSONResponse(Approval.model_validate(request).model_dump(mode="json"), status_code=status.HTTP_202_ACCEPTED)


WRITE = problem_responses(400, 401, 403, 404, 409, 413, 422)


def _page(session: SessionDep, actor: Actor, filters: schemas.CustomerFilters) -> Page[schemas.Customer]:
    rows, total, exact = service.search_customers(session, actor, filters)
    params = filters.paging
    return page_of(schemas.Customer, [present.customer(r, actor) for r in rows], total, params, exact=exact)


@router.get("/customers", response_model=Page[schemas.Customer], responses=READ)
def list_customers(session: SessionDep, actor: Reader, filters: Filters) -> Page[schemas.Customer]:
    """Customers visible to the caller, newest first, with optional filters."""
    return _page(session, actor, filters)


@router.get("/customers/search", response_model=Page[schemas.Customer], responses=READ)
def search_customers(session: SessionDep, actor: Reader, filters: Filters) -> Page[schemas.Customer]:
    """Keyword search: exact code or phone first, then name prefix, then other matches."""
    return _page(session, actor, filters)


@router.get(
    "/customers/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The file, streamed",
            "content": {
                media: {"schema": {"type": "string", "format": "binary"}} for media in export.MEDIA_TYPES.values()
            },
        },
        **ASKED,
        **problem_responses(401, 403, 422, 429),
    },
)
def export_customers(
    request: Request,
    session: SessionDep,
    actor: Exporter,
    filters: Filters,
    file_format: Annotated[Literal["csv", "xlsx"], Query(alias="format")] = "csv",
) -> Response:
    """Download the customers the filters select as CSV (UTF-8 with BOM) or XLSX, masked; audited.

    More rows than the approval threshold, asked for by a sales, service or marketing role,
    answer 202 with an approval request; once approved, the requester downloads the file
    from `/approvals/{id}/download`.
    """
    started = export.start_export(session, actor, filters, file_format)
    if isinstance(started, ApprovalRequest):
        return _asked(started)
    return export.file_response(request.app.state.session_factory, actor, filters, file_format)


# The approved export's download sits with the export it streams (path under approvals).
@router.get(
    "/approvals/{approval_id}/download",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The approved export, streamed",
            "content": {
                media: {"schema": {"type": "string", "format": "binary"}} for media in export.MEDIA_TYPES.values()
            },
        },
        **problem_responses(401, 403, 404, 409, 422),
    },
)
def download_export(request: Request, session: SessionDep, actor: CurrentActor, approval_id: IdPath) -> Response:
    """The requester's approved export, downloadable once; audited with the approval."""
    filters, file_format = export.take_approved(session, actor, approval_id)
    return export.file_response(request.app.state.session_factory, actor, filters, file_format)


@router.post("/customers", response_model=schemas.CustomerDetail, status_code=status.HTTP_201_CREATED, responses=WRITE)
def create_customer(
    session: SessionDep, actor: Creator, data: schemas.CustomerCreate, response: Response
) -> schemas.CustomerDetail:
    """Create a customer, optionally with its contacts and addresses, in one transaction."""
    customer = service.create_customer(session, actor, data)
    response.headers["Location"] = f"/api/v1/crm/customers/{customer.id}"
    return service.profile(session, actor, customer)


@router.get("/customers/{customer_id}", response_model=schemas.CustomerDetail, responses=READ)
def get_customer(session: SessionDep, actor: Reader, customer_id: IdPath) -> schemas.CustomerDetail:
    """The customer profile with its contacts and addresses."""
    return service.profile(session, actor, service.get_customer(session, actor, customer_id))


@router.put("/customers/{customer_id}", response_model=schemas.CustomerDetail, responses={**WRITE, **ASKED})
def update_customer(
    session: SessionDep, actor: FieldEditor, customer_id: IdPath, data: schemas.CustomerUpdate
) -> schemas.CustomerDetail | JSONResponse:
    """Change the fields sent; `version` must be the one read, else 409. Blacklisting may need approval.

    `annual_revenue` and `credit_rating` need `finance.write` (finance, admin): sending either
    without it answers 403 naming the field, whatever its value.
    """
    result = service.update_customer(session, actor, customer_id, data)
    return _asked(result) if isinstance(result, ApprovalRequest) else service.profile(session, actor, result)


@router.delete(
    "/customers/{customer_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**WRITE, **ASKED},
    response_class=Response,
)
def delete_customer(session: SessionDep, actor: Deleter, customer_id: IdPath) -> Response:
    """Soft-delete (history kept); sales, service and marketing roles get an approval request instead."""
    request = service.delete_customer(session, actor, customer_id)
    return _asked(request) if request is not None else Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/customers/{customer_id}/level", response_model=schemas.CustomerDetail, responses={**WRITE, **ASKED})
def change_level(
    session: SessionDep, actor: Grader, customer_id: IdPath, data: schemas.LevelChange
) -> schemas.CustomerDetail | JSONResponse:
    """Set the level (A–D) with a reason, kept in the level history; downgrading an A may need approval."""
    result = service.change_level(session, actor, customer_id, data)
    return _asked(result) if isinstance(result, ApprovalRequest) else service.profile(session, actor, result)


@router.post("/customers/{customer_id}/level/release", response_model=schemas.CustomerDetail, responses=WRITE)
def release_level(
    session: SessionDep, actor: Grader, customer_id: IdPath, data: schemas.LevelRelease
) -> schemas.CustomerDetail:
    """Hand a manually set level back to the grading rules (the nightly regrade may change it)."""
    return service.profile(session, actor, service.release_level(session, actor, customer_id, data))


@router.get(
    "/customers/{customer_id}/level_history",
    response_model=Page[schemas.LevelHistoryEntry],
    responses=READ,
)
def level_history(
    session: SessionDep,
    actor: Reader,
    customer_id: IdPath,
    params: Annotated[PageParams, Depends(page_params)],
) -> Page[schemas.LevelHistoryEntry]:
    """Every level change, newest first: who, when, from what to what, and why."""
    items, total = service.level_history(session, actor, customer_id, params)
    return page_of(schemas.LevelHistoryEntry, items, total, params)


@router.put("/customers/{customer_id}/assign_sales", response_model=schemas.CustomerDetail, responses=WRITE)
def assign_sales(
    session: SessionDep, actor: Assigner, customer_id: IdPath, data: schemas.SalesAssignment
) -> schemas.CustomerDetail:
    """Give the customer to an active sales user of the tenant."""
    return service.profile(session, actor, service.assign_sales(session, actor, customer_id, data))


# ---------------------------------------------------------------- contacts


@router.get("/customers/{customer_id}/contacts", response_model=list[schemas.Contact], responses=READ)
def list_contacts(session: SessionDep, actor: Reader, customer_id: IdPath) -> list[schemas.Contact]:
    """The customer's contacts, primary first."""
    return [present.contact(c, actor) for c in service.list_contacts(session, actor, customer_id)]


@router.post(
    "/customers/{customer_id}/contacts",
    response_model=schemas.Contact,
    status_code=status.HTTP_201_CREATED,
    responses=WRITE,
)
def create_contact(
    session: SessionDep, actor: ContactWriter, customer_id: IdPath, data: schemas.ContactCreate
) -> schemas.Contact:
    """Add a contact; the first one, or one sent with is_primary, becomes the primary contact."""
    return present.contact(service.create_contact(session, actor, customer_id, data), actor)


@router.put("/contacts/{contact_id}", response_model=schemas.Contact, responses=WRITE)
def update_contact(
    session: SessionDep, actor: ContactWriter, contact_id: IdPath, data: schemas.ContactUpdate
) -> schemas.Contact:
    """Change a contact; `version` must be the one read, else 409."""
    return present.contact(service.update_contact(session, actor, contact_id, data), actor)


@router.delete(
    "/contacts/{contact_id}", status_code=status.HTTP_204_NO_CONTENT, responses=WRITE, response_class=Response
)
def delete_contact(session: SessionDep, actor: ContactWriter, contact_id: IdPath) -> Response:
    """Remove a contact (kept for history); a removed primary is succeeded by the oldest contact."""
    service.delete_contact(session, actor, contact_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------- addresses


@router.get("/customers/{customer_id}/addresses", response_model=list[schemas.Address], responses=READ)
def list_addresses(session: SessionDep, actor: Reader, customer_id: IdPath) -> list[schemas.Address]:
    """The customer's addresses by type, defaults first."""
    return [present.address(a, actor) for a in service.list_addresses(session, actor, customer_id)]


@router.post(
    "/customers/{customer_id}/addresses",
    response_model=schemas.Address,
    status_code=status.HTTP_201_CREATED,
    responses=WRITE,
)
def create_address(
    session: SessionDep, actor: ContactWriter, customer_id: IdPath, data: schemas.AddressCreate
) -> schemas.Address:
    """Add an address; the first of its type, or one sent with is_default, becomes the default."""
    return present.address(service.create_address(session, actor, customer_id, data), actor)


@router.put("/addresses/{address_id}", response_model=schemas.Address, responses=WRITE)
def update_address(
    session: SessionDep, actor: ContactWriter, address_id: IdPath, data: schemas.AddressUpdate
) -> schemas.Address:
    """Change an address; `version` must be the one read, else 409."""
    return present.address(service.update_address(session, actor, address_id, data), actor)


@router.delete(
    "/addresses/{address_id}", status_code=status.HTTP_204_NO_CONTENT, responses=WRITE, response_class=Response
)
def delete_address(session: SessionDep, actor: ContactWriter, address_id: IdPath) -> Response:
    """Delete an address; a deleted default is succeeded by the oldest address of its type."""
    service.delete_address(session, actor, address_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------- revealing personal data


@router.post("/contacts/{contact_id}/reveal", response_model=schemas.Revealed, responses=WRITE)
def reveal_contact(
    session: SessionDep, actor: Revealer, contact_id: IdPath, data: schemas.ContactReveal
) -> schemas.Revealed:
    """Show one masked value of a contact in clear; the reveal is audited."""
    return service.reveal_contact(session, actor, contact_id, data.field)


@router.post("/addresses/{address_id}/reveal", response_model=schemas.Revealed, responses=WRITE)
def reveal_address(
    session: SessionDep, actor: Revealer, address_id: IdPath, data: schemas.AddressReveal
) -> schemas.Revealed:
    """Show one masked value of an address in clear; the reveal is audited."""
    return service.reveal_address(session, actor, address_id, data.field)
