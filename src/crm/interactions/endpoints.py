"""Interactions, follow-ups, notifications and the timeline, at the seed's paths (§4.2.2)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Path, Query, Response, UploadFile, status
from fastapi.responses import StreamingResponse

from crm.auth.dependencies import CurrentActor, SessionDep, require
from crm.auth.permissions import Permission
from crm.interactions import attachments, notifications, schemas, service, timeline
from crm.kit.actor import Actor
from crm.kit.errors import problem_responses
from crm.kit.http import download_headers
from crm.kit.pagination import Page, fetch_page, page_of
from crm.kit.routing import UnitOfWorkRoute
from crm.kit.validation import IdPath

router = APIRouter(prefix="/crm", tags=["interactions"], route_class=UnitOfWorkRoute)

Reader = Annotated[Actor, Depends(require(Permission.CUSTOMER_READ))]
Writer = Annotated[Actor, Depends(require(Permission.INTERACTION_WRITE))]
READ = problem_responses(401, 403, 404, 422)
WRITE = problem_responses(400, 401, 403, 404, 409, 413, 422)


@router.get("/customers/{customer_id}/interactions", response_model=Page[schemas.Interaction], responses=READ)
def list_interactions(
    session: SessionDep,
    actor: Reader,
    customer_id: IdPath,
    filters: Annotated[schemas.InteractionFilters, Query()],
) -> Page[schemas.Interaction]:
    """The customer's interactions, newest first, with their attachments."""
    params = filters.paging
    rows, total, exact = fetch_page(session, service.list_interactions(session, actor, customer_id, filters), params)
    return page_of(schemas.Interaction, [service.present(actor, r) for r in rows], total, params, exact=exact)


@router.post(
    "/customers/{customer_id}/interactions",
    response_model=schemas.Interaction,
    status_code=status.HTTP_201_CREATED,
    responses=WRITE,
)
def create_interaction(
    session: SessionDep, actor: Writer, customer_id: IdPath, data: schemas.InteractionCreate, response: Response
) -> schemas.Interaction:
    """Record a call, e-mail, meeting, visit or WeChat exchange; a next_action_date makes it a follow-up."""
    interaction = service.create_interaction(session, actor, customer_id, data)
    response.headers["Location"] = f"/api/v1/crm/interactions/{interaction.id}"
    return service.present(actor, interaction)


@router.get("/interactions/pending_follow_up", response_model=schemas.PendingFollowUps, responses=READ)
def pending_follow_up(
    session: SessionDep, actor: Reader, query: Annotated[schemas.FollowUpQuery, Query()]
) -> schemas.PendingFollowUps:
    """Your open follow-ups (a manager's: their team's): overdue, today and upcoming."""
    return service.pending_follow_ups(session, actor, query)


@router.put("/interactions/{interaction_id}", response_model=schemas.Interaction, responses=WRITE)
def update_interaction(
    session: SessionDep, actor: Writer, interaction_id: IdPath, data: schemas.InteractionUpdate
) -> schemas.Interaction:
    """Edit an interaction, mark its follow-up done or cancelled, or reschedule it."""
    return service.present(actor, service.update_interaction(session, actor, interaction_id, data))


@router.post(
    "/interactions/{interaction_id}/attachments",
    response_model=schemas.Attachment,
    status_code=status.HTTP_201_CREATED,
    responses=WRITE,
)
def upload_attachment(
    session: SessionDep, actor: Writer, interaction_id: IdPath, file: Annotated[UploadFile, File()]
) -> schemas.Attachment:
    """Attach a file (images, PDF, Office documents, text; size limited by CRM_ATTACHMENT_MAX_BYTES)."""
    described = attachments.add_attachment(
        session,
        actor,
        interaction_id,
        file_name=file.filename or "file",
        content_type=file.content_type or "",
        stream=file.file,
    )
    return schemas.Attachment.model_validate(described)


@router.get(
    "/interactions/{interaction_id}/attachments/{attachment_id}",
    response_class=StreamingResponse,
    responses={
        200: {"description": "The file", "content": {"application/octet-stream": {}}},
        **READ,
        **problem_responses(409),
    },
)
def download_attachment(
    session: SessionDep,
    actor: Reader,
    interaction_id: IdPath,
    attachment_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")],
) -> StreamingResponse:
    """Download one attachment of an interaction you can see (409 when the stored file is damaged)."""
    described, size, content = attachments.open_attachment(session, actor, interaction_id, attachment_id)
    return StreamingResponse(
        content, media_type=described["content_type"], headers=download_headers(described["file_name"], size)
    )


@router.get("/notifications", response_model=Page[schemas.Notification], responses=problem_responses(401, 422))
def list_notifications(
    session: SessionDep, actor: CurrentActor, filters: Annotated[schemas.NotificationFilters, Query()]
) -> Page[schemas.Notification]:
    """Your notifications, newest first (`unread=true` for the unread ones)."""
    params = filters.paging
    rows, total, exact = fetch_page(session, notifications.notifications_statement(actor, filters.unread), params)
    items = [schemas.Notification.model_validate(r) for r in rows]
    return page_of(schemas.Notification, items, total, params, exact=exact)


@router.post("/notifications/read", responses=problem_responses(400, 401, 422))
def mark_notifications_read(session: SessionDep, actor: CurrentActor, data: schemas.MarkRead) -> dict[str, int]:
    """Mark some (or all) of your notifications read; answers how many changed and how many stay unread."""
    changed = notifications.mark_read(session, actor, data.ids)
    return {"marked": changed, "unread": notifications.unread_count(session, actor)}


@router.get("/customers/{customer_id}/timeline", response_model=list[schemas.TimelineEntry], responses=READ)
def customer_timeline(
    session: SessionDep, actor: Reader, customer_id: IdPath, query: Annotated[schemas.TimelineQuery, Query()]
) -> list[schemas.TimelineEntry]:
    """Interactions, level changes and assignments in one stream, newest first, a page at a time."""
    return timeline.timeline(session, actor, customer_id, query)
