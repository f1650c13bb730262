"""Saved views: a user's own, checked against the list they belong to."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm.kit.actor import Actor
from crm.kit.db import utcnow
from crm.kit.errors import Conflict, ErrorCode, NotFound, PermissionDenied, ValidationFailed, field_invalid
from crm.kit.redaction import Needles
from crm.models import SavedView, SavedViewPage
from crm.saved_views import schemas
from crm.saved_views.pages import PAGES, PageRules

FieldErrors = list[tuple[str, str, dict[str, Any]]]
NAME_LENGTH = 50  # saved_views.name


def _rules(actor: Actor, page: SavedViewPage) -> PageRules:
    rules = PAGES[page]
    if not actor.can(rules.permission):
        raise PermissionDenied()
    return rules


def _own(actor: Actor) -> Select[SavedView]:
    # Views are private: another user's view is "not found", also within the tenant.
    return select(SavedView).where(SavedView.tenant_id == actor.tenant_id, SavedView.user_id == actor.id)


def _get(session: Session, actor: Actor, view_id: int) -> SavedView:
    view = session.scalars(_own(actor).where(SavedView.id == view_id)).one_or_none()
    if view is None:
        raise NotFound("saved_view")
    _rules(actor, view.page)
    return view


def _filters(rules: PageRules, raw: dict[str, Any]) -> tuple[dict[str, Any], FieldErrors]:
    """The filters as the list's own model reads them, with the fields it refuses."""
    prefix = "definition.filters"
    errors: FieldErrors = [(f"{prefix}.{key}", "extra_forbidden", {}) for key in raw if key not in rules.filter_fields]
    if errors:
        return {}, errors
    try:
        parsed = rules.filters.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors():
            path = [str(p) for p in err["loc"] if not str(p).startswith(("function-", "constrained-"))]
            ctx = {k: v for k, v in (err.get("ctx") or {}).items() if isinstance(v, str | int | float)}
            if err["type"] == "value_error":
                ctx.setdefault("detail", str((err.get("ctx") or {}).get("error", err.get("msg", ""))))
            errors.append((".".join([prefix, *path]), err["type"], ctx))
        return {}, errors
    # Only what was given, normalised (stripped, deduplicated) as the list would read it.
    return parsed.model_dump(mode="json", include=set(raw), exclude_none=True), []


def _definition(rules: PageRules, definition: schemas.ViewDefinition) -> dict[str, Any]:
    filters, errors = _filters(rules, definition.filters)
    if definition.sort is not None and definition.sort not in rules.sorts:
        errors.append(("definition.sort", "sort_unknown", {"expected": ", ".join(rules.sorts)}))
    for i, column in enumerate(definition.columns):
        if column not in rules.columns:
            errors.append((f"definition.columns.{i}", "column_unknown", {"expected": ", ".join(rules.columns)}))
    if errors:
        raise ValidationFailed(fields=errors)
    columns = list(dict.fromkeys(definition.columns))
    return {"filters": filters, "sort": definition.sort, "columns": columns, "page_size": definition.page_size}


def _name_taken(session: Session, actor: Actor, page: SavedViewPage, name: str, *, but: int | None = None) -> bool:
    stmt = _own(actor).where(SavedView.page == page, SavedView.name == name)
    if but is not None:
        stmt = stmt.where(SavedView.id != but)
    return session.scalars(stmt.limit(1)).first() is not None


def _duplicate(name: str) -> Conflict:
    return Conflict(ErrorCode.DUPLICATE, params={"field": "view_name", "value": name})


def _clear_default(session: Session, actor: Actor, page: SavedViewPage, *, but: int | None = None) -> None:
    # Before the new default is flushed: the partial unique index allows one default at a time.
    stmt = (
        update(SavedView)
        .where(
            SavedView.tenant_id == actor.tenant_id,
            SavedView.user_id == actor.id,
            SavedView.page == page,
            SavedView.is_default.is_(True),
        )
        .values(is_default=False, version=SavedView.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    if but is not None:
        stmt = stmt.where(SavedView.id != but)
    session.execute(stmt)


def _flush(session: Session, name: str) -> None:
    # Two requests creating the same name at once: the unique constraint decides, as a 409.
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise _duplicate(name) from exc


def list_views(session: Session, actor: Actor, page: SavedViewPage) -> list[SavedView]:
    _rules(actor, page)
    stmt = _own(actor).where(SavedView.page == page).order_by(SavedView.is_default.desc(), SavedView.name, SavedView.id)
    return list(session.scalars(stmt))


def create_view(session: Session, actor: Actor, data: schemas.SavedViewCreate) -> SavedView:
    rules = _rules(actor, data.page)
    definition = _definition(rules, data.definition)
    count = session.scalar(select(func.count()).select_from(_own(actor).where(SavedView.page == data.page).subquery()))
    if (count or 0) >= schemas.MAX_VIEWS_PER_PAGE:
        raise field_invalid("page", "views_limit", limit=schemas.MAX_VIEWS_PER_PAGE)
    if _name_taken(session, actor, data.page, data.name):
        raise _duplicate(data.name)
    if data.is_default:
        _clear_default(session, actor, data.page)
    view = SavedView(
        tenant_id=actor.tenant_id,
        user_id=actor.id,
        page=data.page,
        name=data.name,
        definition=definition,
        is_default=data.is_default,
    )
    session.add(view)
    _flush(session, data.name)
    return view


def update_view(session: Session, actor: Actor, view_id: int, data: schemas.SavedViewUpdate) -> SavedView:
    view = _get(session, actor, view_id)
    if data.version != view.version:
        raise Conflict(ErrorCode.VERSION_CONFLICT)
    rules = PAGES[view.page]
    if data.definition is not None:
        view.definition = _definition(rules, data.definition)
    if data.name is not None and data.name != view.name:
        if _name_taken(session, actor, view.page, data.name, but=view.id):
            raise _duplicate(data.name)
        view.name = data.name
    if data.is_default is not None and data.is_default != view.is_default:
        if data.is_default:
            _clear_default(session, actor, view.page, but=view.id)
        view.is_default = data.is_default
    _flush(session, view.name)
    return view


def delete_view(session: Session, actor: Actor, view_id: int) -> None:
    view = _get(session, actor, view_id)
    session.delete(view)
    session.flush()


def forget_person(session: Session, tenant_id: int, needles: Needles) -> int:
    """Data-subject erasure: the tenant's saved views that name an erased person (by name, phone or
    e-mail) lose the keyword filter that names them, and the identifiers in their names and other
    filters are blanked. The rest of each view stays; returns how many views changed. The caller
    chooses the needles (long enough not to hit other people)."""
    if not needles:
        return 0
    stmt = select(SavedView).where(
        SavedView.tenant_id == tenant_id,
        needles.mentioned(SavedView.name) | needles.mentioned(SavedView.definition, json_text=True),
    )
    changed = 0
    for view in session.scalars(stmt.order_by(SavedView.id)):
        filters = dict((view.definition or {}).get("filters") or {})
        keyword = filters.get("keyword")
        if isinstance(keyword, str) and needles.found_in(keyword):
            del filters["keyword"]  # blanked, it would filter for the marker and find nothing
        definition = needles.value({**view.definition, "filters": filters})
        name = _free_name(session, view, needles.sub(view.name)[:NAME_LENGTH])
        if (definition, name) != (view.definition, view.name):
            view.definition, view.name = definition, name  # new values: the version moves on
            session.flush()  # the next view's name is checked against this one
            changed += 1
    return changed


def _free_name(session: Session, view: SavedView, name: str) -> str:
    """``name``, or with a number after it if its owner has another view of that name."""
    candidate, number = name, 1
    while (
        candidate != view.name
        and session.scalars(
            select(SavedView.id).where(
                SavedView.user_id == view.user_id,
                SavedView.page == view.page,
                SavedView.name == candidate,
                SavedView.id != view.id,
            )
        ).first()
    ):
        number += 1
        suffix = f" ({number})"
        candidate = name[: NAME_LENGTH - len(suffix)] + suffix
    return candidate
