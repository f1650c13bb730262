"""An erased person's identifiers blanked wherever the tenant's free text mentions them.

Erasure clears the subject's own records (crm.privacy.service). What staff wrote elsewhere
can still name the person: another customer's ticket quoting the phone, a saved view named
after them, remarks, notes, tags, notifications, approval payloads. Every free-text column
(String, Text or JSON, read from the models, so a new column is scanned without anyone
listing it) of every table of the tenant is scanned, except the columns listed below with
the reason. The identifiers found are replaced by a marker and the rest of the text stays.

Encrypted columns cannot be read by SQL. The subject's own are cleared by the erasure; the
others belong to other customers' contacts and addresses and hold that person's own phone,
e-mail or address, never a note about someone else.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Column, Enum, String, Table
from sqlalchemy.orm import Session

from crm.kit.redaction import Needles
from crm.models import Base
from crm.privacy import repository

_CODE = "a code or key the application writes, never free text"
_STAFF = "about staff, not customers"
_GENERATED = "written by the application from figures and the tenant's playbook, never naming anyone"
_REGION = "a place name from the region table"
_IDENTITY = (
    "the record's own person: cleared on the subject's rows; elsewhere it names another customer "
    "or contact (a namesake is someone else), who has requests of their own"
)
_ENCRYPTED = "encrypted: the subject's own is cleared; elsewhere it is another person's own (see above)"

# Free-text columns not scanned across the tenant, each with the reason. The test of erasure
# seeds every other one with a person's identifiers and checks that none is left anywhere.
NOT_PERSONAL: dict[str, str] = {
    "approval_requests.action": _CODE,
    "approval_requests.outcome": _CODE,
    "audit_logs.action": _CODE,
    "audit_logs.object_type": _CODE,
    "audit_logs.request_id": _CODE,
    "audit_logs.actor_name": _STAFF + ": who did it is kept, as the audit trail must",
    "audit_logs.ip": _STAFF + ": the address a member of staff worked from",
    "audit_logs.user_agent": _STAFF + ": the browser a member of staff worked with",
    "audit_logs.body_hash": "a hash of the record's body as written (crm.kit.seal)",
    "audit_logs.seal": "an HMAC linking the record to the one before it (crm.kit.seal)",
    "churn_models.algorithm": _CODE,
    "churn_models.parameters": "the churn model's coefficients: numbers of the whole tenant",
    "churn_models.metrics": "the churn model's quality figures: numbers of the whole tenant",
    "churn_warnings.rule": _CODE,
    "churn_warnings.reason": _GENERATED,
    "churn_warnings.strategy": _GENERATED,
    "code_sequences.name": _CODE,
    "customer_addresses.province": _REGION,
    "customer_addresses.city": _REGION,
    "customer_addresses.postal_code": "six digits of a postal district",
    "customer_contacts.phone_index": "a keyed hash (blind index), cleared with the subject's contacts",
    "customer_contacts.email_index": "a keyed hash (blind index), cleared with the subject's contacts",
    "customer_level_history.source": _CODE,
    "customer_order_items.product_code": _CODE,
    "customer_order_items.product_name": "the product catalogue of the order system",
    "customer_order_items.category": "the product catalogue of the order system",
    "customer_orders.order_no": _CODE,
    "customer_orders.currency": _CODE,
    "customer_receivables.reference": "the finance system's document number",
    "customer_value_analysis.churn_risk": _CODE,
    "customer_value_analysis.churn_rule": _CODE,
    "customer_value_analysis.churn_reason": _GENERATED,
    "customer_value_analysis.lifecycle_stage": _CODE,
    "customers.customer_code": _CODE + ": kept so that orders and integrations still resolve",
    "customers.province": _REGION,
    "customers.city": _REGION,
    "file_deletions.attachment_id": _CODE,
    "job_runs.job": _CODE,
    "job_runs.period": _CODE,
    "job_runs.status": _CODE,
    "job_runs.error": "an error's kind and first line, without the statement's parameters",
    "login_failures.username": _STAFF + ": sign-in attempts, of no tenant",
    "login_failures.ip": _STAFF + ": sign-in attempts, of no tenant",
    "notifications.kind": _CODE,
    "notifications.object_type": _CODE,
    "notifications.dedupe_key": _CODE,
    "region_mappings.province": _REGION,
    "revoked_tokens.jti": _CODE,
    "satisfaction_surveys.token_id": _CODE,
    "tenants.code": "the operating company, not a customer",
    "tenants.name": "the operating company, not a customer",
    "tenants.timezone": "the operating company, not a customer",
    "tenants.settings": "the operating company's configuration",
    "users.username": _STAFF,
    "users.display_name": _STAFF,
    "users.password_hash": _STAFF,
    "users.team": _STAFF,
    "users.extra_regions": _STAFF,
}
# Columns cleared on the subject's own rows by the erasure itself, and not scanned elsewhere.
SUBJECT_ONLY: dict[str, str] = {
    "customers.customer_name": _IDENTITY,
    "customer_contacts.contact_name": _IDENTITY,
    "customer_contacts.contact_phone": _ENCRYPTED,
    "customer_contacts.contact_email": _ENCRYPTED,
    "customer_contacts.contact_wechat": _ENCRYPTED,
    "customer_contacts.birthday": _ENCRYPTED,
    "customer_addresses.contact_name": _IDENTITY,
    "customer_addresses.contact_phone": _ENCRYPTED,
    "customer_addresses.detailed_address": _ENCRYPTED,
    "customer_search.search_tokens": "rebuilt from the subject's erased record; other rows index other customers",
    "customer_search.search_text": "rebuilt from the subject's erased record; other rows index other customers",
}
# Columns scanned across the tenant by code of their own, which knows their rules.
OWN_RULES: dict[str, str] = {
    "audit_logs.changes": "audit records change only by a redaction, stamped redacted_at (privacy.service)",
    "audit_logs.detail": "audit records change only by a redaction, stamped redacted_at (privacy.service)",
    "saved_views.name": "a view's name stays unique for its owner (views.service.forget_person)",
    "saved_views.definition": "a keyword filter naming the person is removed, not blanked (views.service)",
}


def is_free_text(column: Column[Any]) -> bool:
    """A column people may have written a name, phone or e-mail into, as SQL can read it."""
    return isinstance(column.type, String | JSON) and not isinstance(column.type, Enum)


def scanned_columns() -> list[tuple[Table, list[Column[Any]]]]:
    """The tables of a tenant and their free-text columns that the scan blanks."""
    listed = NOT_PERSONAL.keys() | SUBJECT_ONLY.keys() | OWN_RULES.keys()
    found = []
    for table in Base.metadata.sorted_tables:
        if "tenant_id" not in table.c:
            continue
        columns = [c for c in table.c if is_free_text(c) and f"{table.name}.{c.name}" not in listed]
        if columns:
            found.append((table, columns))
    return found


def blank_mentions(
    session: Session,
    tenant_id: int,
    everywhere: Needles,
    owner: tuple[str, str, int],
    own: Needles,
) -> dict[str, int]:
    """Blank the person's identifiers in every scanned column of the tenant; returns the rows
    changed per table.

    ``owner`` names the subject's rows: (its own table, the column other tables refer to it
    by, its id). Those rows are searched for every identifier (``own``), the rest of the tenant
    for the ones long enough not to name other people too (``everywhere``).
    """
    own_table, reference, subject_id = owner
    counts: dict[str, int] = {}
    for table, columns in scanned_columns():
        texts = [c for c in columns if not isinstance(c.type, JSON)]
        documents = [c for c in columns if isinstance(c.type, JSON)]
        tenant = table.c.tenant_id == tenant_id
        passes = [(tenant, everywhere)]
        mine = repository.owned_by(table, "id" if table.name == own_table else reference, [subject_id])
        if mine is not None:
            passes.insert(0, (tenant & mine, own))
        changed = 0
        for where, needles in passes:
            changed += repository.blank_text(session, table, texts, where, needles)
            changed += sum(repository.blank_json(session, table, c, where, needles) for c in documents)
        if changed:
            counts[table.name] = changed
    return counts
