"""Users of the tenant (admin only), and the people customers can be assigned to."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from crm.auth.dependencies import SessionDep, require
from crm.auth.permissions import Permission
from crm.kit.actor import Actor
from crm.kit.errors import problem_responses
from crm.kit.pagination import Page, fetch_page, page_of
from crm.kit.routing import UnitOfWorkRoute
from crm.kit.validation import IdPath
from crm.users import repository, service
from crm.users.schemas import SalesOwner, UserCreate, UserFilters, UserOut, UserUpdate

router = APIRouter(prefix="/crm", tags=["users"], route_class=UnitOfWorkRoute)

Administrator = Annotated[Actor, Depends(require(Permission.USER_MANAGE))]
Assigner = Annotated[Actor, Depends(require(Permission.CUSTOMER_ASSIGN))]


@router.get("/users", response_model=Page[UserOut], responses=problem_responses(401, 403, 422))
def list_users(session: SessionDep, actor: Administrator, filters: Annotated[UserFilters, Query()]) -> Page[UserOut]:
    """The tenant's users, filtered by role, region, team, state or part of the name."""
    params = filters.paging
    rows, total, exact = fetch_page(session, repository.users_statement(actor.tenant_id, filters), params)
    return page_of(UserOut, [UserOut.model_validate(r) for r in rows], total, params, exact=exact)


@router.post(
    "/users",
    response_model=UserOut,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(400, 401, 403, 409, 413, 422),
)
def create_user(session: SessionDep, actor: Administrator, data: UserCreate, response: Response) -> UserOut:
    """Create a user in the tenant (password of at least 12 characters); audited."""
    user = service.add_user(session, actor, data)
    response.headers["Location"] = f"/api/v1/crm/users/{user.id}"
    return UserOut.model_validate(user)


@router.put("/users/{user_id}", response_model=UserOut, responses=problem_responses(400, 401, 403, 404, 409, 413, 422))
def update_user(session: SessionDep, actor: Administrator, user_id: IdPath, data: UserUpdate) -> UserOut:
    """Change a user's role, regions, team, name or password, or disable them; audited."""
    return UserOut.model_validate(service.change_user(session, actor, user_id, data))


@router.get("/users/sales_owners", response_model=list[SalesOwner], responses=problem_responses(401, 403))
def sales_owners(session: SessionDep, actor: Assigner) -> list[SalesOwner]:
    """Active sales reps and managers a customer can be assigned to."""
    return [SalesOwner.model_validate(u) for u in repository.sales_owners(session, actor.tenant_id)]
