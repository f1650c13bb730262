"""Business rules of customers, contacts and addresses.

Functions take (session, actor, …), raise CRMError subclasses, flush when they need ids
or constraint checks, and never commit: the caller's unit of work does.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Row, update
from sqlalchemy.orm import Session

from crm.approvals.requests import must_ask, open_request, performs
from crm.audit import service as audit
from crm.auth import fields as field_rules
from crm.auth.permissions import Permission
from crm.customers import presenters as present
from crm.customers import schemas
from crm.customers.repository import AddressRepository, ContactRepository, CustomerRepository
from crm.kit import search
from crm.kit.actor import Actor, DataScope
from crm.kit.db import utcnow
from crm.kit.dialects import upsert_insert
from crm.kit.errors import Conflict, ErrorCode, PermissionDenied, field_invalid
from crm.kit.pagination import PageParams, count_rows
from crm.kit.regions import Region
from crm.models import (
    ApprovalRequest,
    Customer,
    CustomerAddress,
    CustomerAssignment,
    CustomerContact,
    CustomerLevelChange,
    CustomerSearch,
    User,
)
from crm.models.enums import CustomerLevel, CustomerStatus, Role
from crm.tenants.repository import next_number
from crm.users.service import find_sales_owner, find_user

SERVICE_ROLES = frozenset({Role.SERVICE_AGENT, Role.SERVICE_MANAGER})

# The fields each audit record compares (personal data is masked by crm.audit).
CUSTOMER_AUDITED = (
    "customer_code",
    "customer_level",
    "assigned_sales_id",
    *(f for f in schemas.CustomerUpdate.model_fields if f != "version"),
)
CONTACT_AUDITED = tuple(f for f in schemas.ContactUpdate.model_fields if f != "version")
ADDRESS_AUDITED = tuple(f for f in schemas.AddressUpdate.model_fields if f != "version")


# Filters that narrow the list by a field's value: only for callers who can see the field.
FIELD_FILTERS = {
    "credit_rating": "credit_rating",
    "annual_revenue_min": "annual_revenue",
    "annual_revenue_max": "annual_revenue",
}


def check_query(actor: Actor, filters: schemas.CustomerFilters) -> None:
    """Refuse a list, search or export that would tell ``actor`` values it cannot see.

    Ordering or narrowing by a hidden field ranks customers by it. A whole phone or e-mail
    as the keyword confirms a masked value (138****5678 has 10,000 candidates) for a role
    that cannot reveal it, so such roles may not look customers up that way; a phone's last
    four digits stay open to everyone, as every masked phone shows them.
    """
    if filters.sort is not None:
        field_rules.check_readable(actor, filters.sort.lstrip("-"), parameter="sort")
    for parameter, field in FIELD_FILTERS.items():
        if getattr(filters, parameter) is not None:
            field_rules.check_readable(actor, field, parameter=parameter)
    keyword = (filters.keyword or "").strip()
    if keyword and search.personal_lookup(keyword) is not None and not actor.can(Permission.PII_UNMASK):
        raise PermissionDenied(
            ErrorCode.PII_SEARCH_DENIED, fields=[("keyword", "pii_search_denied", {})], location="query"
        )


def _personal_values(data: schemas.ContactCreate | schemas.AddressCreate) -> list[str]:
    return [f for f in field_rules.PERSONAL_FIELDS if getattr(data, f, None) is not None]


def _check_version(current: int, sent: int | None) -> None:
    if sent is not None and sent != current:
        raise Conflict(ErrorCode.VERSION_CONFLICT)


# ---------------------------------------------------------------- search index


def search_fields(customer: Customer, contacts: Iterable[CustomerContact]) -> tuple[list[str], str]:
    """The search tokens and plain text of a customer and its live contacts (see crm.kit.search)."""
    contacts = [c for c in contacts if c.deleted_at is None]
    texts = [customer.customer_name, customer.customer_code]
    texts += [c.contact_name for c in contacts]
    emails = [c.contact_email for c in contacts if c.contact_email]
    phones = [c.contact_phone for c in contacts if c.contact_phone]
    tokens = search.index_tokens(
        texts, phones=phones, emails=emails, exact=[customer.customer_code], name=customer.customer_name
    )
    # Phones and e-mails are searchable only through their blind tokens, never in clear.
    return tokens, search.search_text(texts)


def reindex_customer(session: Session, customer: Customer, contacts: Iterable[CustomerContact]) -> None:
    """Write the customer's search data (its own row: the profile's version stays)."""
    tokens, text = search_fields(customer, contacts)
    row = upsert_insert(CustomerSearch.__table__, session.get_bind().dialect.name)
    row = row.values(customer_id=customer.id, search_tokens=tokens, search_text=text)
    session.execute(
        row.on_conflict_do_update(
            index_elements=["customer_id"],
            set_={"search_tokens": row.excluded.search_tokens, "search_text": row.excluded.search_text},
        )
    )


# ---------------------------------------------------------------- customers


def _resolve_region(repo: CustomerRepository, customer: Customer) -> None:
    if customer.region_locked:
        return
    customer.region = repo.region_for_province(customer.province) if customer.province else None


def _keep_in_creators_region(actor: Actor, customer: Customer, *, explicit: bool) -> None:
    """A region-scoped creator's new customer lands in their region, where they can see it."""
    if actor.data_scope != DataScope.REGION or not actor.regions:
        return
    if customer.region is None:
        customer.region = Region(actor.regions[0])
    elif customer.region not in actor.regions:
        field = "region" if explicit else "province"
        raise field_invalid(field, "region_outside_scope", regions="、".join(actor.regions))


def _check_service_owner(session: Session, actor: Actor, user_id: int | None) -> None:
    if user_id is None:
        return
    user = find_user(session, actor.tenant_id, user_id)
    if user is None or not user.is_active or user.role not in SERVICE_ROLES:
        raise field_invalid("assigned_service_id", "invalid_assignee", user_id=user_id)


def _check_referrer(repo: CustomerRepository, referrer_id: int | None, customer_id: int | None = None) -> None:
    """A referrer is another live customer of the tenant (one the actor can see)."""
    if referrer_id is None:
        return
    if referrer_id == customer_id or repo.find(referrer_id) is None:
        raise field_invalid("referred_by", "not_found")


def _sales_owner_for_new_customer(session: Session, actor: Actor, requested: int | None) -> int | None:
    if actor.role == Role.SALES:
        # A sales rep's new customer is theirs; giving it away is a manager's assignment.
        if requested not in (None, actor.id):
            raise PermissionDenied()
        return actor.id
    if requested is not None and find_sales_owner(session, actor.tenant_id, requested) is None:
        raise field_invalid("assigned_sales_id", "invalid_assignee", user_id=requested)
    return requested


def _generate_code(repo: CustomerRepository) -> str:
    while True:
        code = f"C{next_number(repo.session, repo.actor.tenant_id, 'customer'):08d}"
        if not repo.code_taken(code):
            return code


def create_customer(session: Session, actor: Actor, data: schemas.CustomerCreate) -> Customer:
    # Null is a new customer's default: only a value sets a finance field.
    finance = [f for f in field_rules.FINANCE_FIELDS if getattr(data, f) is not None]
    field_rules.check_writable(actor, finance, Permission.CUSTOMER_CREATE)
    repo = CustomerRepository(session, actor)
    if data.customer_code is not None:
        if repo.code_taken(data.customer_code):
            raise Conflict(ErrorCode.DUPLICATE, params={"field": "customer_code", "value": data.customer_code})
        code = data.customer_code
    else:
        code = _generate_code(repo)
    _check_service_owner(session, actor, data.assigned_service_id)
    _check_referrer(repo, data.referred_by)
    fields = data.model_dump(exclude={"customer_code", "contacts", "addresses", "region", "assigned_sales_id"})
    customer = Customer(
        **fields,
        tenant_id=actor.tenant_id,
        customer_code=code,
        assigned_sales_id=_sales_owner_for_new_customer(session, actor, data.assigned_sales_id),
        region=data.region,
        region_locked=data.region is not None,
        created_by=actor.id,
        updated_by=actor.id,
    )
    _resolve_region(repo, customer)
    _keep_in_creators_region(actor, customer, explicit=data.region is not None)
    session.add(customer)
    session.flush()
    session.add(
        CustomerLevelChange(
            tenant_id=actor.tenant_id,
            customer_id=customer.id,
            old_level=None,
            new_level=customer.customer_level,
            reason="新建客户 / customer created",
            source="create",
            changed_by=actor.id,
        )
    )
    if customer.assigned_sales_id is not None:
        session.add(
            CustomerAssignment(
                tenant_id=actor.tenant_id,
                customer_id=customer.id,
                old_sales_id=None,
                new_sales_id=customer.assigned_sales_id,
                changed_by=actor.id,
            )
        )
    _audit_created(session, actor, "customer", customer, fields=CUSTOMER_AUDITED)
    for contact in data.contacts:
        _add_contact(session, actor, customer, contact)
    for address in data.addresses:
        _add_address(session, actor, customer, address)
    session.flush()
    reindex_customer(session, customer, repo.active_contacts(customer.id))
    return repo.get_profile(customer.id)


def get_customer(session: Session, actor: Actor, customer_id: int) -> Customer:
    return CustomerRepository(session, actor).get_profile(customer_id)


def search_customers(
    session: Session, actor: Actor, filters: schemas.CustomerFilters
) -> tuple[list[Row[Any]], int, bool]:
    """A page of customers (rows of what a list shows), its total and whether that total is exact."""
    check_query(actor, filters)
    repo = CustomerRepository(session, actor)
    keyword = (filters.keyword or "").strip()
    return repo.keyword_page(filters, keyword) if keyword else repo.list_page(filters)


def update_customer(
    session: Session, actor: Actor, customer_id: int, data: schemas.CustomerUpdate
) -> Customer | ApprovalRequest:
    """Update, or when this blacklists the customer and the role must ask, open an approval request.

    Every field sent needs its write permission (see crm.auth.fields), even when its value
    stays: accepting an unchanged value would tell a caller the value it cannot read.
    """
    changes = data.model_dump(exclude_unset=True, exclude={"version"})
    field_rules.check_writable(actor, changes, Permission.CUSTOMER_UPDATE)
    repo = CustomerRepository(session, actor)
    customer = repo.get(customer_id, for_update=True)
    _check_version(customer.version, data.version)
    blacklisting = changes.get("customer_status") == CustomerStatus.BLACKLIST != customer.customer_status
    if blacklisting and must_ask(actor):
        return open_request(
            session, actor, "customer.update", customer, data.model_dump(mode="json", exclude_unset=True)
        )
    before = audit.snapshot(customer, CUSTOMER_AUDITED)
    if "assigned_service_id" in changes:
        _check_service_owner(session, actor, changes["assigned_service_id"])
    if "referred_by" in changes:
        _check_referrer(repo, changes["referred_by"], customer.id)
    if "region" in changes:
        customer.region_locked = changes["region"] is not None
    for field, value in changes.items():
        setattr(customer, field, value)
    if "province" in changes or "region" in changes:
        _resolve_region(repo, customer)
    customer.updated_by = actor.id
    session.flush()
    if "customer_name" in changes:
        reindex_customer(session, customer, repo.active_contacts(customer.id))
    _audit_change(session, actor, "customer.update", customer, before=before, fields=CUSTOMER_AUDITED)
    return repo.get_profile(customer.id)


def _audit_created(
    session: Session,
    actor: Actor,
    object_type: str,
    obj: Any,
    *,
    fields: tuple[str, ...],
    detail: dict[str, Any] | None = None,
) -> None:
    changes = audit.created(audit.snapshot(obj, fields))
    action = f"{object_type}.create"
    audit.record(
        session, action, actor=actor, object_type=object_type, object_id=obj.id, changes=changes, detail=detail
    )


def _audit_change(
    session: Session, actor: Actor, action: str, obj: Any, *, before: dict[str, Any], fields: tuple[str, ...]
) -> None:
    changed = audit.diff(before, audit.snapshot(obj, fields))
    if changed:
        object_type = action.split(".", 1)[0]
        audit.record(session, action, actor=actor, object_type=object_type, object_id=obj.id, changes=changed)


def delete_customer(session: Session, actor: Actor, customer_id: int) -> ApprovalRequest | None:
    """Delete, or for roles that must ask, open an approval request and return it."""
    repo = CustomerRepository(session, actor)
    customer = repo.get(customer_id, for_update=True)
    if must_ask(actor):
        return open_request(session, actor, "customer.delete", customer, {})
    customer.deleted_at = utcnow()
    customer.deleted_by = actor.id
    customer.updated_by = actor.id
    session.flush()
    audit.record(session, "customer.delete", actor=actor, object_type="customer", object_id=customer.id)
    return None


def _record_level(
    session: Session, actor: Actor, customer: Customer, level: CustomerLevel, reason: str, *, source: str
) -> None:
    session.add(
        CustomerLevelChange(
            tenant_id=actor.tenant_id,
            customer_id=customer.id,
            old_level=customer.customer_level,
            new_level=level,
            reason=reason,
            source=source,
            changed_by=actor.id,
        )
    )


def change_level(
    session: Session, actor: Actor, customer_id: int, data: schemas.LevelChange
) -> Customer | ApprovalRequest:
    """Change the level, or when this downgrades an A customer and the role must ask, request it."""
    repo = CustomerRepository(session, actor)
    customer = repo.get(customer_id, for_update=True)
    _check_version(customer.version, data.version)
    if customer.customer_level == CustomerLevel.A != data.level and must_ask(actor):
        return open_request(session, actor, "customer.level", customer, data.model_dump(mode="json"))
    if customer.customer_level != data.level:
        # A level set by a person is kept: the nightly regrade leaves customers whose latest
        # level change is manual, until a person releases it (release_level).
        _record_level(session, actor, customer, data.level, data.reason, source="manual")
        audit.record(
            session,
            "customer.level",
            actor=actor,
            object_type="customer",
            object_id=customer.id,
            changes={"customer_level": {"before": customer.customer_level.value, "after": data.level.value}},
            detail={"reason": data.reason},
        )
        customer.customer_level = CustomerLevel(data.level)
        customer.updated_by = actor.id
        session.flush()
    return repo.get_profile(customer.id)


def release_level(session: Session, actor: Actor, customer_id: int, data: schemas.LevelRelease) -> Customer:
    """Hand a manually set level back to the rules: the next regrade may change it."""
    repo = CustomerRepository(session, actor)
    customer = repo.get(customer_id, for_update=True)
    _record_level(session, actor, customer, customer.customer_level, data.reason, source="release")
    audit.record(
        session, "customer.level_release", actor=actor, object_type="customer", object_id=customer.id,
        detail={"reason": data.reason, "level": customer.customer_level.value},
    )  # fmt: skip
    session.flush()
    return repo.get_profile(customer.id)


def level_history(
    session: Session, actor: Actor, customer_id: int, params: PageParams
) -> tuple[list[schemas.LevelHistoryEntry], int]:
    repo = CustomerRepository(session, actor)
    repo.get(customer_id)
    stmt = repo.level_history(customer_id)
    total = count_rows(session, stmt)
    rows = session.execute(stmt.limit(params.page_size).offset(params.offset)).all()
    items = [
        schemas.LevelHistoryEntry(
            id=change.id,
            customer_id=change.customer_id,
            old_level=change.old_level,
            new_level=change.new_level,
            # The nightly regrade writes the figures it graded by into its reason.
            reason=field_rules.without_amounts(actor, change.reason) if change.source == "rule" else change.reason,
            source=change.source,
            changed_by=change.changed_by,
            changed_by_name=name,
            changed_at=change.changed_at,
        )
        for change, name in rows
    ]
    return items, total


def assign_sales(session: Session, actor: Actor, customer_id: int, data: schemas.SalesAssignment) -> Customer:
    repo = CustomerRepository(session, actor)
    customer = repo.get(customer_id, for_update=True)
    _check_version(customer.version, data.version)
    owner: User | None = find_sales_owner(session, actor.tenant_id, data.assigned_sales_id)
    if owner is None:
        raise field_invalid("assigned_sales_id", "invalid_assignee", user_id=data.assigned_sales_id)
    if customer.assigned_sales_id != owner.id:
        session.add(
            CustomerAssignment(
                tenant_id=actor.tenant_id,
                customer_id=customer.id,
                old_sales_id=customer.assigned_sales_id,
                new_sales_id=owner.id,
                changed_by=actor.id,
            )
        )
        audit.record(
            session,
            "customer.assign",
            actor=actor,
            object_type="customer",
            object_id=customer.id,
            changes={"assigned_sales_id": {"before": customer.assigned_sales_id, "after": owner.id}},
        )
        customer.assigned_sales_id = owner.id
        customer.updated_by = actor.id
        session.flush()
    return repo.get_profile(customer.id)


# ---------------------------------------------------------------- contacts


def _clear_primary(session: Session, customer_id: int, keep_id: int | None) -> None:
    stmt = update(CustomerContact).where(
        CustomerContact.customer_id == customer_id, CustomerContact.is_primary.is_(True)
    )
    if keep_id is not None:
        stmt = stmt.where(CustomerContact.id != keep_id)
    # A bulk UPDATE before the new primary is flushed keeps the partial unique index satisfied.
    session.execute(
        stmt.values(is_primary=False, version=CustomerContact.version + 1).execution_options(
            synchronize_session="fetch"
        )
    )


def _add_contact(session: Session, actor: Actor, customer: Customer, data: schemas.ContactCreate) -> CustomerContact:
    field_rules.check_writable(actor, _personal_values(data), Permission.CONTACT_WRITE)
    existing = CustomerRepository(session, actor).active_contacts(customer.id)
    make_primary = data.is_primary or not existing
    if make_primary:
        _clear_primary(session, customer.id, None)
    contact = CustomerContact(
        **data.model_dump(exclude={"is_primary"}),
        is_primary=make_primary,
        tenant_id=actor.tenant_id,
        customer_id=customer.id,
        created_by=actor.id,
        updated_by=actor.id,
    )
    session.add(contact)
    session.flush()
    _audit_created(session, actor, "contact", contact, fields=CONTACT_AUDITED, detail={"customer_id": customer.id})
    return contact


def list_contacts(session: Session, actor: Actor, customer_id: int) -> list[CustomerContact]:
    repo = CustomerRepository(session, actor)
    repo.get(customer_id)
    return repo.active_contacts(customer_id)


def create_contact(session: Session, actor: Actor, customer_id: int, data: schemas.ContactCreate) -> CustomerContact:
    repo = CustomerRepository(session, actor)
    customer = repo.get(customer_id, for_update=True)
    contact = _add_contact(session, actor, customer, data)
    reindex_customer(session, customer, repo.active_contacts(customer.id))
    return contact


def update_contact(session: Session, actor: Actor, contact_id: int, data: schemas.ContactUpdate) -> CustomerContact:
    changes = data.model_dump(exclude_unset=True, exclude={"version"})
    field_rules.check_writable(actor, changes, Permission.CONTACT_WRITE)
    contact = ContactRepository(session, actor).get(contact_id, for_update=True)
    _check_version(contact.version, data.version)
    before = audit.snapshot(contact, CONTACT_AUDITED)
    if changes.get("is_primary"):
        _clear_primary(session, contact.customer_id, contact.id)
    for field, value in changes.items():
        setattr(contact, field, value)
    contact.updated_by = actor.id
    session.flush()
    _audit_change(session, actor, "contact.update", contact, before=before, fields=CONTACT_AUDITED)
    customers = CustomerRepository(session, actor)
    reindex_customer(session, customers.get(contact.customer_id), customers.active_contacts(contact.customer_id))
    return contact


def delete_contact(session: Session, actor: Actor, contact_id: int) -> None:
    contact = ContactRepository(session, actor).get(contact_id, for_update=True)
    was_primary = contact.is_primary
    contact.deleted_at = utcnow()
    contact.is_primary = False
    contact.updated_by = actor.id
    session.flush()
    audit.record(
        session,
        "contact.delete",
        actor=actor,
        object_type="contact",
        object_id=contact.id,
        detail={"customer_id": contact.customer_id},
    )
    customers = CustomerRepository(session, actor)
    remaining = customers.active_contacts(contact.customer_id)
    if was_primary and remaining:
        # The customer keeps a primary contact: the longest-standing one takes over.
        successor = min(remaining, key=lambda c: c.id)
        successor.is_primary = True
        session.flush()
    reindex_customer(session, customers.get(contact.customer_id), remaining)


# ---------------------------------------------------------------- addresses


def _clear_default(session: Session, customer_id: int, address_type: Any, keep_id: int | None) -> None:
    stmt = update(CustomerAddress).where(
        CustomerAddress.customer_id == customer_id,
        CustomerAddress.address_type == address_type,
        CustomerAddress.is_default.is_(True),
    )
    if keep_id is not None:
        stmt = stmt.where(CustomerAddress.id != keep_id)
    session.execute(
        stmt.values(is_default=False, version=CustomerAddress.version + 1).execution_options(
            synchronize_session="fetch"
        )
    )


def _add_address(session: Session, actor: Actor, customer: Customer, data: schemas.AddressCreate) -> CustomerAddress:
    field_rules.check_writable(actor, _personal_values(data), Permission.CONTACT_WRITE)
    same_type = [
        a for a in CustomerRepository(session, actor).addresses(customer.id) if a.address_type == data.address_type
    ]
    make_default = data.is_default or not same_type
    if make_default:
        _clear_default(session, customer.id, data.address_type, None)
    address = CustomerAddress(
        **data.model_dump(exclude={"is_default"}),
        is_default=make_default,
        tenant_id=actor.tenant_id,
        customer_id=customer.id,
    )
    session.add(address)
    session.flush()
    _audit_created(session, actor, "address", address, fields=ADDRESS_AUDITED, detail={"customer_id": customer.id})
    return address


def list_addresses(session: Session, actor: Actor, customer_id: int) -> list[CustomerAddress]:
    repo = CustomerRepository(session, actor)
    repo.get(customer_id)
    return repo.addresses(customer_id)


def create_address(session: Session, actor: Actor, customer_id: int, data: schemas.AddressCreate) -> CustomerAddress:
    customer = CustomerRepository(session, actor).get(customer_id, for_update=True)
    return _add_address(session, actor, customer, data)


def update_address(session: Session, actor: Actor, address_id: int, data: schemas.AddressUpdate) -> CustomerAddress:
    changes = data.model_dump(exclude_unset=True, exclude={"version"})
    field_rules.check_writable(actor, changes, Permission.CONTACT_WRITE)
    address = AddressRepository(session, actor).get(address_id, for_update=True)
    _check_version(address.version, data.version)
    before = audit.snapshot(address, ADDRESS_AUDITED)
    new_type = changes.get("address_type", address.address_type)
    becomes_default = changes.get("is_default", address.is_default and new_type == address.address_type)
    if becomes_default:
        _clear_default(session, address.customer_id, new_type, address.id)
    for field, value in changes.items():
        setattr(address, field, value)
    address.is_default = bool(becomes_default)
    session.flush()
    _audit_change(session, actor, "address.update", address, before=before, fields=ADDRESS_AUDITED)
    return address


def delete_address(session: Session, actor: Actor, address_id: int) -> None:
    address = AddressRepository(session, actor).get(address_id, for_update=True)
    customer_id, address_type, was_default = address.customer_id, address.address_type, address.is_default
    audit.record(
        session,
        "address.delete",
        actor=actor,
        object_type="address",
        object_id=address.id,
        changes={f: {"before": v, "after": None} for f, v in audit.snapshot(address, ADDRESS_AUDITED).items()},
        detail={"customer_id": customer_id},
    )
    session.delete(address)
    session.flush()
    if was_default:
        rest = [a for a in CustomerRepository(session, actor).addresses(customer_id) if a.address_type == address_type]
        if rest:
            min(rest, key=lambda a: a.id).is_default = True
            session.flush()


# ---------------------------------------------------------------- revealing personal data


def _reveal(session: Session, actor: Actor, row: CustomerContact | CustomerAddress, field: str) -> schemas.Revealed:
    object_type = "contact" if isinstance(row, CustomerContact) else "address"
    value = getattr(row, field)
    audit.record(
        session,
        "pii.reveal",
        actor=actor,
        object_type=object_type,
        object_id=row.id,
        detail={"field": field, "customer_id": row.customer_id},
    )
    return schemas.Revealed(field=field, value=None if value is None else str(value))


def reveal_contact(session: Session, actor: Actor, contact_id: int, field: str) -> schemas.Revealed:
    return _reveal(session, actor, ContactRepository(session, actor).get(contact_id), field)


def reveal_address(session: Session, actor: Actor, address_id: int, field: str) -> schemas.Revealed:
    return _reveal(session, actor, AddressRepository(session, actor).get(address_id), field)


def profile(session: Session, actor: Actor, customer: Customer) -> schemas.CustomerDetail:
    """The profile with what analysis adds: lifecycle stage and churn risk, payment terms (finance)."""
    detail = present.customer_detail(customer, actor)
    stage, risk, probability = CustomerRepository(session, actor).latest_analysis(customer.id)
    extra: dict[str, Any] = {"lifecycle_stage": stage, "churn_risk": risk, "churn_probability": probability}
    if field_rules.can_read(actor, "credit_rating"):  # the terms follow from the rating
        extra["payment_terms_days"], extra["payment_terms"] = present.payment_terms(actor, customer)
    return detail.model_copy(update=extra)


# ---------------------------------------------------------------- what an approval carries out


@performs("customer.delete")
def _approved_delete(session: Session, approver: Actor, request: ApprovalRequest) -> str:
    delete_customer(session, approver, _customer_of(request))
    return "done"


@performs("customer.update")
def _approved_update(session: Session, approver: Actor, request: ApprovalRequest) -> str:
    update_customer(session, approver, _customer_of(request), schemas.CustomerUpdate.model_validate(request.payload))
    return "done"


@performs("customer.level")
def _approved_level(session: Session, approver: Actor, request: ApprovalRequest) -> str:
    change_level(session, approver, _customer_of(request), schemas.LevelChange.model_validate(request.payload))
    return "done"


@performs("customer.export")
def _approved_export(session: Session, approver: Actor, request: ApprovalRequest) -> str:
    return "ready"  # the requester downloads it, once, with their own scope and masking


def _customer_of(request: ApprovalRequest) -> int:
    if request.customer_id is None:
        raise Conflict()
    return request.customer_id
