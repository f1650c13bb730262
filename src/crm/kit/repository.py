"""The one place where tenant isolation, soft delete and data scope are applied.

Every repository starts its statements from :meth:`ScopedRepository.select`, so a query
cannot forget the caller's tenant or scope. A row outside them is simply not found.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, false, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.interfaces import ORMOption

from crm.kit.actor import Actor, DataScope
from crm.kit.errors import NotFound

M = TypeVar("M")


def data_scope_clause(
    actor: Actor,
    *,
    sales_owner: SQLColumnExpression[Any],
    service_owner: SQLColumnExpression[Any],
    region: SQLColumnExpression[Any],
    team_members: Any = None,
) -> ColumnElement[bool] | None:
    """The rows of a customer-owned table the actor may see, or None for the whole tenant."""
    match actor.data_scope:
        case DataScope.TENANT:
            return None
        case DataScope.OWN:
            return sales_owner == actor.id
        case DataScope.SERVICE:
            return service_owner == actor.id
        case DataScope.REGION:
            return region.in_(actor.regions) if actor.regions else false()
        case DataScope.TEAM:
            return service_owner.in_(team_members) if actor.team and team_members is not None else false()
    return false()


class ScopedRepository(Generic[M]):
    model: ClassVar[type[Any]]
    resource: ClassVar[str] = "resource"
    soft_delete: ClassVar[bool] = False

    def __init__(self, session: Session, actor: Actor) -> None:
        self.session = session
        self.actor = actor

    def scope_clauses(self) -> Sequence[ColumnElement[bool]]:
        """Extra filters from the actor's data scope; a subclass narrows here."""
        return ()

    def select(self, *options: ORMOption) -> Select[M]:
        model = self.model
        stmt = select(model).where(model.tenant_id == self.actor.tenant_id)
        if self.soft_delete:
            stmt = stmt.where(model.deleted_at.is_(None))
        stmt = stmt.where(*self.scope_clauses())
        return stmt.options(*options) if options else stmt

    def find(self, id_: int, *options: ORMOption, for_update: bool = False) -> M | None:
        stmt = self.select(*options).where(self.model.id == id_)
        if for_update:
            stmt = stmt.with_for_update(of=self.model)
        return self.session.scalars(stmt).unique().one_or_none()

    def get(self, id_: int, *options: ORMOption, for_update: bool = False) -> M:
        found = self.find(id_, *options, for_update=for_update)
        if found is None:
            raise NotFound(self.resource)
        return found
