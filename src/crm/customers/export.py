"""Customer exports (§9.2): CSV (UTF-8 with BOM, so Excel opens Chinese correctly) or XLSX,
streamed in batches, masked exactly as the API masks, and audited with their row count.
Cells are written by crm.kit.spreadsheet, which keeps text from running as a formula."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session, sessionmaker

from crm.approvals.requests import must_ask, open_request
from crm.approvals.service import claim_export
from crm.audit import service as audit
from crm.config import settings
from crm.customers import presenters as present
from crm.customers import service
from crm.customers.repository import CustomerRepository
from crm.customers.schemas import CustomerFilters
from crm.kit.actor import Actor
from crm.kit.clock import business_today
from crm.kit.errors import RateLimited
from crm.kit.pagination import count_capped, count_rows
from crm.kit.spreadsheet import csv_rows, xlsx_file
from crm.models import ApprovalRequest, Customer

BATCH = 1_000
COLUMNS: list[tuple[str, str]] = [
    ("customer_code", "客户编码"),
    ("customer_name", "客户名称"),
    ("customer_type", "客户类型"),
    ("customer_level", "客户等级"),
    ("customer_status", "客户状态"),
    ("industry", "行业"),
    ("company_size", "企业规模"),
    ("annual_revenue", "年营业额"),
    ("credit_rating", "信用等级"),
    ("source", "客户来源"),
    ("acquisition_date", "获客日期"),
    ("province", "省份"),
    ("city", "城市"),
    ("region", "大区"),
    ("tags", "标签"),
    ("primary_contact", "主要联系人"),
    ("primary_phone", "联系电话"),
    ("created_at", "创建时间"),
]
# Written as numbers, not as the API's JSON text, so that a spreadsheet can sum them.
NUMBERS = ("annual_revenue",)
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _exports_today(session: Session, actor: Actor) -> int:
    zone = ZoneInfo(settings.default_timezone)
    midnight = datetime.combine(business_today(), time.min, tzinfo=zone).astimezone(UTC)
    return audit.count_since(session, actor, "customer.export", midnight)


def _seconds_to_midnight() -> int:
    zone = ZoneInfo(settings.default_timezone)
    now = datetime.now(zone)
    tomorrow = datetime.combine(now.date() + timedelta(days=1), time.min, tzinfo=zone)
    return int((tomorrow - now).total_seconds()) + 1


def start_export(session: Session, actor: Actor, filters: CustomerFilters, file_format: str) -> int | ApprovalRequest:
    """Check the caller may export this now and audit it, returning how many rows it holds; or,
    for more rows than the threshold by a role that must ask, the approval request opened instead."""
    service.check_query(actor, filters)
    if _exports_today(session, actor) >= actor.policy.export_daily_limit:
        raise RateLimited(_seconds_to_midnight())
    stmt = CustomerRepository(session, actor).export_statement(filters).with_only_columns(Customer.id)
    rows, within = count_capped(session, stmt, actor.policy.export_approval_threshold)
    if not within:
        rows = count_rows(session, stmt)
        if must_ask(actor):
            payload = {"filters": filters.model_dump(mode="json", exclude_none=True), "format": file_format}
            return open_request(session, actor, "customer.export", None, {**payload, "rows": rows})
    _audit(session, actor, filters, file_format, rows=rows)
    return rows


def _audit(
    session: Session,
    actor: Actor,
    filters: CustomerFilters,
    file_format: str,
    *,
    rows: int,
    approval: int | None = None,
) -> None:
    detail = {"rows": rows, "format": file_format, "filters": filters.model_dump(mode="json", exclude_none=True)}
    audit.record(
        session,
        "customer.export",
        actor=actor,
        object_type="customer",
        detail=detail if approval is None else {**detail, "approval_id": approval},
    )


def take_approved(session: Session, actor: Actor, request_id: int) -> tuple[CustomerFilters, str]:
    """The requester's approved export, claimed once and audited; its filters and format to stream.

    The file is built now, with the requester's current scope and masking: what they may
    see today, never more than the approver could have reviewed.
    """
    request = claim_export(session, actor, request_id)
    filters = CustomerFilters.model_validate(request.payload.get("filters", {}))
    service.check_query(actor, filters)  # the requester's rights of today, as for the rows
    file_format = str(request.payload.get("format", "csv"))
    stmt = CustomerRepository(session, actor).export_statement(filters).with_only_columns(Customer.id)
    _audit(session, actor, filters, file_format, rows=count_rows(session, stmt), approval=request.id)
    return filters, file_format


def _batches(factory: sessionmaker[Session], actor: Actor, filters: CustomerFilters) -> Iterator[list[list[Any]]]:
    """Rows to write, a batch at a time, read by a session of their own (the request's has committed)."""
    with factory() as session:
        repo = CustomerRepository(session, actor)
        stmt = repo.export_statement(filters)
        last_id: int | None = None
        while batch := list(
            session.scalars((stmt if last_id is None else stmt.where(Customer.id < last_id)).limit(BATCH))
        ):
            primaries = repo.primary_contacts([c.id for c in batch])
            rows = []
            for customer in batch:
                model = present.customer(customer, actor)
                shown = model.model_dump(mode="json") | {key: getattr(model, key) for key in NUMBERS}
                contact = primaries.get(customer.id)
                shown["primary_contact"] = contact.contact_name if contact else None
                shown["primary_phone"] = present.contact(contact, actor).contact_phone if contact else None
                shown["tags"] = "、".join(customer.tags or [])
                rows.append([shown.get(key) for key, _ in COLUMNS])
            yield rows
            last_id = batch[-1].id
            session.expunge_all()


def stream(factory: sessionmaker[Session], actor: Actor, filters: CustomerFilters, file_format: str) -> Iterator[bytes]:
    header = [title for _, title in COLUMNS]
    if file_format == "xlsx":
        yield from xlsx_file("客户", header, _batches(factory, actor, filters))
        return
    yield csv_rows([header], bom=True)
    for rows in _batches(factory, actor, filters):
        yield csv_rows(rows)


def file_response(
    factory: sessionmaker[Session], actor: Actor, filters: CustomerFilters, file_format: str
) -> StreamingResponse:
    """The streamed download; rows are read after the request's transaction has committed."""
    stamp = business_today().strftime("%Y%m%d")
    return StreamingResponse(
        stream(factory, actor, filters, file_format),
        media_type=MEDIA_TYPES[file_format],
        headers={"Content-Disposition": f'attachment; filename="customers-{stamp}.{file_format}"'},
    )
