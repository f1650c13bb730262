"""Saved views of list screens: each user manages their own (issue 6)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from crm.auth.dependencies import CurrentActor, SessionDep
from crm.kit.errors import problem_responses
from crm.kit.routing import UnitOfWorkRoute
from crm.kit.validation import IdPath
from crm.saved_views import schemas, service

router = APIRouter(prefix="/crm", tags=["saved views"], route_class=UnitOfWorkRoute)

READ = problem_responses(401, 403, 422)
WRITE = problem_responses(400, 401, 403, 404, 409, 413, 422)


@router.get("/saved_views", response_model=list[schemas.SavedView], responses=READ)
def list_views(
    session: SessionDep, actor: CurrentActor, query: Annotated[schemas.ViewQuery, Query()]
) -> list[schemas.SavedView]:
    """Your own views of a list screen: the default first, then by name."""
    return [schemas.SavedView.model_validate(v) for v in service.list_views(session, actor, query.page)]


@router.post("/saved_views", response_model=schemas.SavedView, status_code=status.HTTP_201_CREATED, responses=WRITE)
def create_view(session: SessionDep, actor: CurrentActor, data: schemas.SavedViewCreate) -> schemas.SavedView:
    """Save a view of a list screen; as the default, it replaces your previous default there."""
    return schemas.SavedView.model_validate(service.create_view(session, actor, data))


@router.put("/saved_views/{view_id}", response_model=schemas.SavedView, responses=WRITE)
def update_view(
    session: SessionDep, actor: CurrentActor, view_id: IdPath, data: schemas.SavedViewUpdate
) -> schemas.SavedView:
    """Rename a view, replace what it restores, or set or unset it as the default."""
    return schemas.SavedView.model_validate(service.update_view(session, actor, view_id, data))


@router.delete(
    "/saved_views/{view_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_responses(401, 403, 404, 422),
)
def delete_view(session: SessionDep, actor: CurrentActor, view_id: IdPath) -> Response:
    """Delete one of your views."""
    service.delete_view(session, actor, view_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
