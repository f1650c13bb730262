"""Data-subject requests: a copy of everything held about a person, and erasure.

Erasure anonymises in place rather than deleting rows, so that what the business must keep
(order totals, counts, level history, the fact that something happened and who did it)
survives while nothing identifies the person any more:

* the customer's name, remarks and tags, and every contact's and address's personal
  fields are overwritten (encrypted columns become NULL; the blind indexes too, so the
  person can no longer be found by phone or e-mail);
* free text that could name them (level-change reasons, approval payloads and notes) is
  replaced;
* their names, phones (in any written form), e-mails and WeChat ids are blanked wherever
  else the tenant's free text mentions them: another customer's ticket, remarks, tags, a
  saved view's name, a notification (crm.privacy.mentions);
* audit records keep actor, action, object and time, but personal values in their
  ``changes`` and ``detail`` are redacted and stamped ``redacted_at`` — the only change the
  database lets anyone make to an audit record;
* the search index is rebuilt from the anonymised row, and the customer is soft-deleted.

A customer under legal hold is not erased; the refusal is recorded with its reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from typing import cast as typed

from sqlalchemy import ColumnElement, CursorResult, Executable, false, or_, select, update
from sqlalchemy.orm import Session

from crm.audit import repository as audit_records
from crm.audit import service as audit
from crm.customers.scope import customer_scope
from crm.customers.service import reindex_customer
from crm.interactions.attachments import remove_files
from crm.kit.actor import Actor
from crm.kit.db import utcnow
from crm.kit.errors import Conflict, ErrorCode, NotFound, field_invalid
from crm.kit.redaction import Needles, needles
from crm.models import (
    ApprovalRequest,
    AuditLog,
    ChurnWarning,
    Customer,
    CustomerAddress,
    CustomerAssignment,
    CustomerContact,
    CustomerInteraction,
    CustomerLevelChange,
    CustomerOrder,
    CustomerReceivable,
    CustomerValueAnalysis,
    DataSubjectRequest,
    Notification,
    RequestKind,
    RequestOutcome,
    RetentionAction,
    ServiceRecord,
    SubjectType,
)
from crm.models.enums import ContactStatus
from crm.privacy import mentions, repository
from crm.privacy.schemas import LegalHold
from crm.saved_views import service as saved_views

ERASED = "［已删除］"
# Every table, and what erasure does with the subject's rows in it. A new table must be added
# here (a test compares this with the models), so personal data cannot slip past erasure
# unnoticed. Mentions of the person in any other row are blanked too (crm.privacy.mentions,
# whose test covers every column).
ERASURE_COVERAGE: dict[str, str] = {
    "customers": "name, remarks and tags replaced; soft-deleted",
    "customer_search": "tokens and text rebuilt from the replaced name alone (no contacts)",
    "customer_contacts": "every personal field cleared, blind indexes too",
    "customer_addresses": "detailed address, district, postcode, contact name and phone cleared",
    "customer_level_history": "reasons replaced (levels kept for the aggregates)",
    "customer_assignment_history": "no personal data: user ids and times only",
    "customer_interactions": "subject, content and next action replaced; attachment files deleted",
    "notifications": "titles and bodies about the customer replaced",
    "file_deletions": "attachment ids queued for deletion, no personal data",
    "customer_service_records": "subject, description, resolution and feedback replaced (counts and times kept)",
    "satisfaction_surveys": "no personal data: token ids, expiry and when answered (ratings live on the ticket)",
    "customer_orders": "no personal data: order numbers, amounts and dates, kept for the aggregates",
    "customer_order_items": "no personal data: products, quantities and amounts",
    "customer_receivables": "no personal data: finance references, amounts and dates",
    "customer_value_analysis": "no personal data: figures per day, kept for the aggregates",
    "churn_warnings": "outcome notes replaced (risk, rule, figures and dates kept for the aggregates)",
    "retention_actions": "what was written replaced (type and date kept)",
    "churn_models": "no personal data: coefficients and metrics of the tenant",
    "approval_requests": "payloads and decision notes cleared",
    "audit_logs": "personal values redacted once (redacted_at); who, what and when kept",
    "data_subject_requests": "no personal data: the request's reference, outcome and counts",
    "tenants": "no data about customers",
    "users": "staff accounts, not customers",
    "region_mappings": "no personal data",
    "code_sequences": "no personal data",
    "login_failures": "staff sign-in attempts, not customers",
    "revoked_tokens": "no personal data",
    "job_runs": "no personal data: which scheduled job ran for which period, and how",
    "saved_views": "a keyword filter naming the person removed, the name and other filters blanked; the rest kept",
}
# Fields whose values identify a person: redacted in the audit records about the subject.
PERSONAL_FIELDS = frozenset({
    "customer_name", "contact_name", "contact_title", "contact_phone", "contact_email", "contact_wechat",
    "birthday", "detailed_address", "district", "postal_code", "remarks", "preferences", "tags",
})  # fmt: skip
# A needle shorter than this is not searched for in other records: a two-character name
# like 王芳 belongs to many people, and redacting every mention would destroy others' data.
MIN_FREE_TEXT_NEEDLE = 3
# Fields of the subject's audit records that hold the names it was known by before.
PAST_NAMES = frozenset({"customer_name", "contact_name"})


# ---------------------------------------------------------------- finding the subject


def _customer(session: Session, actor: Actor, customer_id: int, *, for_update: bool = False) -> Customer:
    """The customer, deleted or not (a deleted customer still holds personal data)."""
    stmt = select(Customer).where(Customer.tenant_id == actor.tenant_id, Customer.id == customer_id)
    stmt = stmt.where(*customer_scope(actor))
    found = session.scalars(stmt.with_for_update() if for_update else stmt).one_or_none()
    if found is None:
        raise NotFound("customer")
    return found


def _contact(session: Session, actor: Actor, contact_id: int) -> CustomerContact:
    contact = session.scalars(
        select(CustomerContact).where(CustomerContact.tenant_id == actor.tenant_id, CustomerContact.id == contact_id)
    ).one_or_none()
    if contact is None:
        raise NotFound("contact")
    _customer(session, actor, contact.customer_id)  # the caller's scope covers its customer
    return contact


def _contacts(session: Session, customer_id: int) -> list[CustomerContact]:
    return list(
        session.scalars(
            select(CustomerContact).where(CustomerContact.customer_id == customer_id).order_by(CustomerContact.id)
        )
    )


def _addresses(session: Session, customer_id: int) -> list[CustomerAddress]:
    return list(
        session.scalars(
            select(CustomerAddress).where(CustomerAddress.customer_id == customer_id).order_by(CustomerAddress.id)
        )
    )


def _record(
    session: Session,
    actor: Actor,
    kind: RequestKind,
    subject: tuple[SubjectType, int],
    customer: Customer,
    *,
    reference: str | None,
    outcome: RequestOutcome = RequestOutcome.COMPLETED,
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
) -> DataSubjectRequest:
    request = DataSubjectRequest(
        tenant_id=actor.tenant_id,
        kind=kind,
        subject_type=subject[0],
        subject_id=subject[1],
        customer_id=customer.id,
        reference=reference,
        outcome=outcome,
        reason=reason,
        detail=detail,
        handled_by=actor.id,
    )
    session.add(request)
    session.flush()
    audit.record(
        session,
        f"privacy.{kind.value}",
        actor=actor,
        object_type=subject[0].value,
        object_id=subject[1],
        detail={"request_id": request.id, "outcome": outcome.value, "customer_id": customer.id, **(detail or {})},
    )
    return request


# ---------------------------------------------------------------- access (a copy of everything)


def _row(obj: Any, skip: Iterable[str] = ()) -> dict[str, Any]:
    skipped = {"phone_index", "email_index", *skip}
    return {
        column.key: audit._plain(getattr(obj, column.key))
        for column in obj.__table__.columns
        if column.key not in skipped
    }


def _rows_of(session: Session, model: Any, customer_id: int) -> list[dict[str, Any]]:
    """Every row of ``model`` about the customer, in the order they were written."""
    return [_row(r) for r in session.scalars(select(model).where(model.customer_id == customer_id).order_by(model.id))]


def _audit_trail(session: Session, actor: Actor, objects: list[tuple[str, list[int]]]) -> list[dict[str, Any]]:
    clauses: list[ColumnElement[bool]] = [
        (AuditLog.object_type == kind) & AuditLog.object_id.in_(ids) for kind, ids in objects if ids
    ]
    rows = session.scalars(
        select(AuditLog).where(AuditLog.tenant_id == actor.tenant_id, or_(false(), *clauses)).order_by(AuditLog.id)
    )
    return [
        {
            "at": row.created_at.isoformat(),
            "action": row.action,
            "by": row.actor_name,
            "object": f"{row.object_type}:{row.object_id}",
            "changes": row.changes,
        }
        for row in rows
    ]


def access_customer(
    session: Session, actor: Actor, customer_id: int, reference: str | None
) -> tuple[DataSubjectRequest, dict[str, Any]]:
    customer = _customer(session, actor, customer_id)
    contacts, addresses = _contacts(session, customer.id), _addresses(session, customer.id)
    data: dict[str, Any] = {
        "customer": _row(customer),
        "contacts": [_row(c) for c in contacts],
        "addresses": [_row(a) for a in addresses],
        # Everything recorded about the customer, table by table, oldest first. Profiling results
        # (the value analysis) are personal information too (PIPL art. 24).
        **{
            name: _rows_of(session, model, customer.id)
            for name, model in (
                ("level_history", CustomerLevelChange),
                ("assignment_history", CustomerAssignment),
                ("interactions", CustomerInteraction),
                ("service_records", ServiceRecord),
                ("orders", CustomerOrder),
                ("receivables", CustomerReceivable),
                ("value_analysis", CustomerValueAnalysis),
                ("approval_requests", ApprovalRequest),
            )
        },
        "activity": _audit_trail(
            session,
            actor,
            [
                ("customer", [customer.id]),
                ("contact", [c.id for c in contacts]),
                ("address", [a.id for a in addresses]),
            ],
        ),
    }
    detail = {"sections": {key: len(value) if isinstance(value, list) else 1 for key, value in data.items()}}
    request = _record(
        session,
        actor,
        RequestKind.ACCESS,
        (SubjectType.CUSTOMER, customer.id),
        customer,
        reference=reference,
        detail=detail,
    )
    return request, data


def access_contact(
    session: Session, actor: Actor, contact_id: int, reference: str | None
) -> tuple[DataSubjectRequest, dict[str, Any]]:
    contact = _contact(session, actor, contact_id)
    customer = _customer(session, actor, contact.customer_id)
    data: dict[str, Any] = {
        "contact": _row(contact),
        "customer": {"customer_code": customer.customer_code, "customer_name": customer.customer_name},
        "interactions": [
            _row(i)
            for i in session.scalars(
                select(CustomerInteraction)
                .where(CustomerInteraction.contact_id == contact.id)
                .order_by(CustomerInteraction.id)
            )
        ],
        "activity": _audit_trail(session, actor, [("contact", [contact.id])]),
    }
    detail = {"sections": {key: len(value) if isinstance(value, list) else 1 for key, value in data.items()}}
    request = _record(
        session,
        actor,
        RequestKind.ACCESS,
        (SubjectType.CONTACT, contact.id),
        customer,
        reference=reference,
        detail=detail,
    )
    return request, data


# ---------------------------------------------------------------- erasure


def _held(
    session: Session, actor: Actor, subject: tuple[SubjectType, int], customer: Customer, reference: str | None
) -> DataSubjectRequest | None:
    if not customer.legal_hold:
        return None
    return _record(
        session,
        actor,
        RequestKind.ERASURE,
        subject,
        customer,
        reference=reference,
        outcome=RequestOutcome.REFUSED,
        reason=f"legal_hold: {customer.legal_hold_reason or ''}".strip(),
    )


def _identifiers(
    contacts: Iterable[CustomerContact], addresses: Iterable[CustomerAddress], *names: str
) -> tuple[set[str], set[str]]:
    """The texts (names, e-mails, WeChat ids, addresses) and phones that identify the subject."""
    texts: set[str] = set(names)
    phones: set[str] = set()
    for c in contacts:
        texts.update(v for v in (c.contact_name, c.contact_email, c.contact_wechat) if v)
        phones.update(v for v in (c.contact_phone,) if v)
    for a in addresses:
        texts.update(v for v in (a.contact_name, a.detailed_address) if v)
        phones.update(v for v in (a.contact_phone,) if v)
    return {t for t in texts if t != ERASED}, phones


def _needles(texts: set[str], phones: set[str]) -> tuple[Needles, Needles]:
    """The subject's identifiers: all of them (for its own rows), and those searched in the rest
    of the tenant (long enough not to name other people too)."""
    long_enough = {t for t in texts if len(t) >= MIN_FREE_TEXT_NEEDLE}
    return needles(texts, phones), needles(long_enough, phones)


def _erase_contacts(session: Session, contacts: list[CustomerContact]) -> int:
    now = utcnow()
    for contact in contacts:
        contact.contact_name = ERASED
        contact.contact_title = None
        contact.contact_phone = None  # the @validates hooks clear the blind indexes too
        contact.contact_email = None
        contact.contact_wechat = None
        contact.birthday = None
        contact.preferences = None
        contact.remarks = None
        contact.is_primary = False
        contact.contact_status = ContactStatus.INACTIVE
        contact.deleted_at = contact.deleted_at or now
    session.flush()
    return len(contacts)


def _erase_addresses(session: Session, addresses: list[CustomerAddress], *, only_contact: set[str] | None) -> int:
    """Addresses of an erased customer lose everything personal; for an erased contact, only the
    address fields that name or reach that contact."""
    changed = 0
    for address in addresses:
        if only_contact is None:
            address.detailed_address = ERASED
            address.district = None
            address.postal_code = None
            address.contact_name = None
            address.contact_phone = None
            changed += 1
        elif {address.contact_name, address.contact_phone} & only_contact:
            address.contact_name = None
            address.contact_phone = None
            changed += 1
    session.flush()
    return changed


def _blank(value: Any) -> Any:
    """Every value erased, the shape ({"before", "after"}) and the absent values kept."""
    if isinstance(value, dict):
        return {k: _blank(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_blank(v) for v in value]
    return None if value is None else ERASED


def _redact(value: Any, found: Needles, *, personal: bool) -> Any:
    if isinstance(value, dict):
        return {
            found.sub(k): _blank(v) if personal and k in PERSONAL_FIELDS else _redact(v, found, personal=personal)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_redact(v, found, personal=personal) for v in value]
    return found.value(value)


def _redact_audit(
    session: Session, actor: Actor, objects: list[tuple[str, list[int]]], own: Needles, everywhere: Needles
) -> int:
    """Redact the subject's personal values from the audit trail; returns the records changed.

    Records about the subject lose their personal fields and any identifier elsewhere in them;
    every other record of the tenant (an export with the person's name as a filter, another
    customer's remarks quoting their phone) loses the identifiers it holds, the rest kept.
    """
    about = [(AuditLog.object_type == kind) & AuditLog.object_id.in_(ids) for kind, ids in objects if ids]
    mentions = [everywhere.mentioned(column, json_text=True) for column in (AuditLog.changes, AuditLog.detail)]
    stmt = select(AuditLog).where(AuditLog.tenant_id == actor.tenant_id, or_(*about, *mentions))
    subject = {(kind, i) for kind, ids in objects for i in ids}
    now, changed = utcnow(), 0
    for row in session.scalars(stmt.execution_options(yield_per=500)):
        personal = (row.object_type, row.object_id) in subject
        found = own if personal else everywhere
        changes = _redact(row.changes, found, personal=personal)
        detail = _redact(row.detail, found, personal=personal)
        if changes != row.changes or detail != row.detail:
            audit_records.redact(session, row.id, changes, detail, now)
            changed += 1
    return changed


def _erase_interactions(session: Session, actor: Actor, which: ColumnElement[bool]) -> int:
    """What was said and written in interactions about the person, and their attachments."""
    rows = list(
        session.scalars(select(CustomerInteraction).where(CustomerInteraction.tenant_id == actor.tenant_id, which))
    )
    for interaction in rows:
        remove_files(session, actor.tenant_id, interaction.attachments)
        interaction.subject = ERASED
        interaction.content = None
        interaction.next_action = None
        interaction.attachments = []
    session.flush()
    return len(rows)


def _erase_tickets(session: Session, which: ColumnElement[bool]) -> int:
    """What the person wrote and was told in tickets; type, priority, status and times stay."""
    return _rowcount(
        session,
        update(ServiceRecord)
        .where(which)
        .values(subject=ERASED, description=ERASED, resolution=None, satisfaction_feedback=None)
        .execution_options(synchronize_session=False),
    )


def _subject_needles(
    session: Session, actor: Actor, objects: list[tuple[str, list[int]]], identifiers: tuple[set[str], set[str]]
) -> tuple[Needles, Needles]:
    """The subject's identifiers, with the names the audit trail says it had before."""
    texts, phones = identifiers
    return _needles(texts | repository.past_values(session, actor.tenant_id, objects, PAST_NAMES), phones)


def _blank_elsewhere(
    session: Session,
    actor: Actor,
    owner: tuple[str, str, int],
    objects: list[tuple[str, list[int]]],
    found: tuple[Needles, Needles],
    *,
    counts: dict[str, int],
) -> dict[str, int]:
    """The subject's identifiers blanked in the rest of the tenant: the audit trail and saved views
    are counted in ``counts``; returns the rows changed per table by the scan of free text."""
    own, everywhere = found
    session.flush()
    mentioned = mentions.blank_mentions(session, actor.tenant_id, everywhere, owner, own)
    counts["audit_logs"] = _redact_audit(session, actor, objects, own, everywhere)
    counts["saved_views"] = saved_views.forget_person(session, actor.tenant_id, everywhere)
    session.flush()
    # Rows were rewritten in SQL: what the session holds of them is stale.
    session.expire_all()
    return mentioned


def _rowcount(session: Session, statement: Executable) -> int:
    return typed(CursorResult[Any], session.execute(statement)).rowcount


def erase_customer(session: Session, actor: Actor, customer_id: int, reference: str | None) -> DataSubjectRequest:
    customer = _customer(session, actor, customer_id, for_update=True)
    subject = (SubjectType.CUSTOMER, customer.id)
    if (refused := _held(session, actor, subject, customer, reference)) is not None:
        return refused
    if customer.anonymised_at is not None:
        raise Conflict(ErrorCode.ALREADY_ERASED)
    contacts, addresses = _contacts(session, customer.id), _addresses(session, customer.id)
    objects = [
        ("customer", [customer.id]),
        ("contact", [c.id for c in contacts]),
        ("address", [a.id for a in addresses]),
    ]
    found = _subject_needles(session, actor, objects, _identifiers(contacts, addresses, customer.customer_name))
    counts: dict[str, int] = {}
    counts["customer_contacts"] = _erase_contacts(session, contacts)
    counts["customer_addresses"] = _erase_addresses(session, addresses, only_contact=None)
    now = utcnow()
    customer.customer_name = f"已删除客户 {customer.customer_code}"
    customer.remarks = None
    customer.tags = []
    customer.anonymised_at = now
    if customer.deleted_at is None:
        customer.deleted_at, customer.deleted_by = now, actor.id
    session.flush()
    reindex_customer(session, customer, [])
    counts["customer_level_history"] = _rowcount(
        session,
        update(CustomerLevelChange).where(CustomerLevelChange.customer_id == customer.id).values(reason=ERASED),
    )
    counts["customer_interactions"] = _erase_interactions(
        session, actor, CustomerInteraction.customer_id == customer.id
    )
    counts["customer_service_records"] = _erase_tickets(session, ServiceRecord.customer_id == customer.id)
    warnings = select(ChurnWarning.id).where(ChurnWarning.customer_id == customer.id)
    counts["churn_warnings"] = _rowcount(
        session,
        update(ChurnWarning)
        .where(ChurnWarning.customer_id == customer.id, ChurnWarning.outcome_note.is_not(None))
        .values(outcome_note=ERASED)
        .execution_options(synchronize_session=False),
    )
    counts["retention_actions"] = _rowcount(
        session,
        update(RetentionAction)
        .where(RetentionAction.warning_id.in_(warnings))
        .values(content=ERASED)
        .execution_options(synchronize_session=False),
    )
    counts["notifications"] = _rowcount(
        session,
        update(Notification)
        .where(Notification.customer_id == customer.id)
        .values(title=ERASED, body=None)
        .execution_options(synchronize_session=False),
    )
    counts["approval_requests"] = _rowcount(
        session,
        update(ApprovalRequest)
        .where(ApprovalRequest.customer_id == customer.id)
        .values(payload={}, decision_note=None)
        .execution_options(synchronize_session=False),
    )
    mentioned = _blank_elsewhere(
        session, actor, ("customers", "customer_id", customer.id), objects, found, counts=counts
    )
    return _record(
        session,
        actor,
        RequestKind.ERASURE,
        subject,
        customer,
        reference=_blanked(reference, found),
        detail={"rows": counts, "mentions": mentioned},
    )


def erase_contact(session: Session, actor: Actor, contact_id: int, reference: str | None) -> DataSubjectRequest:
    contact = _contact(session, actor, contact_id)
    customer = _customer(session, actor, contact.customer_id, for_update=True)
    subject = (SubjectType.CONTACT, contact.id)
    if (refused := _held(session, actor, subject, customer, reference)) is not None:
        return refused
    if contact.contact_name == ERASED:
        raise Conflict(ErrorCode.ALREADY_ERASED)
    addresses = _addresses(session, customer.id)
    objects = [("contact", [contact.id])]
    found = _subject_needles(session, actor, objects, _identifiers([contact], []))
    reaches = {v for v in (contact.contact_name, contact.contact_phone) if v}
    counts = {
        "customer_contacts": _erase_contacts(session, [contact]),
        "customer_addresses": _erase_addresses(session, addresses, only_contact=reaches),
    }
    counts["customer_interactions"] = _erase_interactions(session, actor, CustomerInteraction.contact_id == contact.id)
    counts["customer_service_records"] = _erase_tickets(session, ServiceRecord.contact_id == contact.id)
    live = [c for c in _contacts(session, customer.id) if c.deleted_at is None]
    reindex_customer(session, customer, live)
    mentioned = _blank_elsewhere(
        session, actor, ("customer_contacts", "contact_id", contact.id), objects, found, counts=counts
    )
    return _record(
        session,
        actor,
        RequestKind.ERASURE,
        subject,
        customer,
        reference=_blanked(reference, found),
        detail={"rows": counts, "mentions": mentioned},
    )


def _blanked(reference: str | None, found: tuple[Needles, Needles]) -> str | None:
    """The request's own reference, typed by staff, may name the person too."""
    return found[0].sub(reference) if reference else reference


# ---------------------------------------------------------------- legal hold


def set_legal_hold(session: Session, actor: Actor, customer_id: int, data: LegalHold) -> Customer:
    if data.legal_hold and not data.reason:
        raise field_invalid("reason", "missing")
    customer = _customer(session, actor, customer_id, for_update=True)
    before = {"legal_hold": customer.legal_hold, "legal_hold_reason": customer.legal_hold_reason}
    customer.legal_hold = data.legal_hold
    customer.legal_hold_reason = data.reason if data.legal_hold else None
    session.flush()
    after = {"legal_hold": customer.legal_hold, "legal_hold_reason": customer.legal_hold_reason}
    audit.record(
        session,
        "customer.legal_hold",
        actor=actor,
        object_type="customer",
        object_id=customer.id,
        changes=audit.diff(before, after),
    )
    return customer


def requests_statement(actor: Actor, kind: RequestKind | None, customer_id: int | None) -> Any:
    stmt = select(DataSubjectRequest).where(DataSubjectRequest.tenant_id == actor.tenant_id)
    if kind is not None:
        stmt = stmt.where(DataSubjectRequest.kind == kind)
    if customer_id is not None:
        stmt = stmt.where(DataSubjectRequest.customer_id == customer_id)
    return stmt.order_by(DataSubjectRequest.id.desc())
