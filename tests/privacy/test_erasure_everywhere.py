"""Erasure leaves the person's name, phones, e-mail and WeChat id in no column of any table.

The columns are read from the models: every column stored as text or JSON is either scanned
by the erasure, cleared with the subject, handled by rules of its own, or listed as holding
no personal data with the reason. The test writes the person's identifiers into every column
that can hold them, in every row of the tenant, erases the customer through the API, and
reads the whole database back as a dump (pg_dump on PostgreSQL, iterdump on SQLite).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import JSON, Column, Engine, Enum, String, Table, select, update
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from crm.app import create_app
from crm.kit.clock import business_today
from crm.kit.redaction import MARKER
from crm.models import (
    ApprovalRequest,
    AuditLog,
    Base,
    ChurnWarning,
    Notification,
    RetentionAction,
    SavedView,
    User,
)
from crm.models.enums import Role
from crm.privacy.mentions import NOT_PERSONAL, OWN_RULES, SUBJECT_ONLY, is_free_text, scanned_columns
from tests.factories import Api, make_tenant, make_user
from tests.servers import _pg_bin

NAME = "张三丰"
PHONE = "13811112222"
EMAIL = "Zhang.Sanfeng@wudang.example"
WECHAT = "wudang_zsf"
ASSISTANT = "张翠山"
ASSISTANT_PHONE = "13922223333"
STREET = "紫霄宫南岩路1号"
# How people write a mobile number: each form must be gone.
WRITTEN = ["{}", "{} {} {}", "{}-{}-{}", "+86 {}"]


def _spelled(phone: str, form: str) -> str:
    return form.format(phone) if form.count("{}") == 1 else form.format(phone[:3], phone[3:7], phone[7:])


def _stores_text(column: Column[Any]) -> bool:
    """Stored as text or JSON, whatever the Python type (encrypted columns and token lists too)."""
    stored = column.type.impl_instance if isinstance(column.type, TypeDecorator) else column.type
    return isinstance(stored, String | JSON) and not isinstance(column.type, Enum)


def _every_text_column() -> set[str]:
    return {f"{t.name}.{c.name}" for t in Base.metadata.sorted_tables for c in t.columns if _stores_text(c)}


def _scanned() -> set[str]:
    return {f"{table.name}.{c.name}" for table, columns in scanned_columns() for c in columns}


def test_every_text_column_is_scanned_cleared_with_the_subject_handled_or_not_personal() -> None:
    decided = [_scanned(), set(SUBJECT_ONLY), set(OWN_RULES), set(NOT_PERSONAL)]
    assert set().union(*decided) == _every_text_column()
    assert sum(len(d) for d in decided) == len(_every_text_column())  # each column decided once
    assert all(reason.strip() for reason in {**NOT_PERSONAL, **SUBJECT_ONLY, **OWN_RULES}.values())
    assert all(is_free_text(c) for _, columns in scanned_columns() for c in columns)


# ---------------------------------------------------------------- the world of one tenant


@pytest.fixture
def admin_api(committed: sessionmaker[Session]) -> Iterator[Api]:
    """An admin whose requests really commit, so that the database can be dumped."""
    with committed() as session:
        user = make_user(session, make_tenant(session), Role.ADMIN)
        session.expunge(user)
    with TestClient(create_app(committed, check_migrations=False), raise_server_exceptions=False) as client:
        yield Api(client, user)


def _customer_with_records(
    api: Api, name: str, contacts: list[dict[str, Any]], address: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A customer with contacts, an address, a logged call with a file, a ticket, a level change
    and an access request."""
    customer = api.create_customer(
        customer_name=name,
        customer_type="individual",
        province="湖北",
        tags=["太极"],
        contacts=contacts,
        addresses=[
            {"address_type": "home", "province": "湖北", "city": "十堰市", "detailed_address": "武当山特区"}
            | (address or {})
        ],
    )
    call = api.post(
        f"/crm/customers/{customer['id']}/interactions",
        {"interaction_type": "call", "interaction_direction": "outbound", "subject": "回访", "content": "确认需求"},
    ).json()
    attached = api.post(f"/crm/interactions/{call['id']}/attachments", files={"file": ("记录.txt", b"x", "text/plain")})
    assert attached.status_code == 201, attached.text
    ticket = api.post(
        "/crm/service_records",
        {"customer_id": customer["id"], "service_type": "complaint", "subject": "投诉", "description": "送货延迟",
         "tags": ["物流"]},
    )  # fmt: skip
    assert ticket.status_code == 201, ticket.text
    assert api.put(f"/crm/customers/{customer['id']}/level", {"level": "B", "reason": "追加订单"}).status_code == 200
    assert api.post(f"/crm/privacy/customers/{customer['id']}/access", {"reference": "SAR-1"}).status_code == 200
    return customer


def _records_only_a_job_writes(session: Session, user: User, customer_id: int) -> None:
    """A churn warning with an action taken, an approval and a notification about the customer."""
    today = business_today()
    warning = ChurnWarning(
        tenant_id=user.tenant_id, customer_id=customer_id, risk_level="low", rule="quiet", reason="低风险",
        status="open", owner_id=user.id, strategy="回访", due_date=today, detected_date=today,
        risk_changed_date=today, outcome_note="已回访",
    )  # fmt: skip
    session.add(warning)
    session.flush()
    session.add_all([
        RetentionAction(tenant_id=user.tenant_id, warning_id=warning.id, action_type="call", content="电话回访",
                        staff_id=user.id),
        ApprovalRequest(tenant_id=user.tenant_id, requester_id=user.id, action="customer.delete",
                        customer_id=customer_id, payload={"why": "重复客户"}, decision_note="同意"),
        Notification(tenant_id=user.tenant_id, user_id=user.id, kind="follow_up", title="跟进提醒", body="今天回访",
                     customer_id=customer_id, dedupe_key=f"follow_up:{customer_id}"),
        SavedView(tenant_id=user.tenant_id, user_id=user.id, page="customers", name=f"视图{customer_id}",
                  definition={"filters": {"level": ["B"]}}),
    ])  # fmt: skip


@pytest.fixture
def world(admin_api: Api, committed: sessionmaker[Session]) -> dict[str, Any]:
    person = {"contact_name": NAME, "contact_phone": PHONE, "contact_email": EMAIL, "contact_wechat": WECHAT,
              "birthday": "1990-02-03", "is_primary": True}  # fmt: skip
    assistant = {"contact_name": ASSISTANT, "contact_phone": ASSISTANT_PHONE}
    address = {"detailed_address": STREET, "contact_name": NAME, "contact_phone": PHONE}
    subject = _customer_with_records(admin_api, NAME, [person, assistant], address)
    other = _customer_with_records(admin_api, "峨眉派", [{"contact_name": "周芷若", "contact_phone": "13733334444"}])
    with committed() as session:
        user = session.get_one(User, admin_api.user.id)
        for customer in (subject, other):
            _records_only_a_job_writes(session, user, customer["id"])
        session.commit()
    return {"subject": subject, "other": other, "tenant_id": admin_api.user.tenant_id}


# ---------------------------------------------------------------- writing the person everywhere


def _mention(number: int, room: int | None, suffix: str, *, blanked: bool = False) -> str:
    """The person's identifiers as staff might write them, as many as fit in ``room`` characters;
    ``blanked``: the same text as erasure should leave it."""
    phone = _spelled(PHONE, WRITTEN[number % len(WRITTEN)])
    assistant_phone = _spelled(ASSISTANT_PHONE, WRITTEN[(number + 1) % len(WRITTEN)])
    email = EMAIL.upper() if number % 2 else EMAIL
    parts = [("{}要求升级", NAME), ("{}", phone), ("{}", email), ("{}", WECHAT), ("助理{}", ASSISTANT),
             ("{}", assistant_phone), ("{}", STREET)]  # fmt: skip
    shift = number % len(parts)
    written, left = "", ""
    for words, identifier in parts[shift:] + parts[:shift]:
        longer = f"{written} {words.format(identifier)}".strip()
        if room is not None and len(longer + suffix) > room:
            break
        written, left = longer, f"{left} {words.format(MARKER)}".strip()
    return (left if blanked else written) + suffix


def _seeded(current: Any, text: str) -> Any:
    """A JSON value with the mention added, its shape kept (a list of objects gets it in each; none
    becomes an object)."""
    if current is None or isinstance(current, dict):
        return {**(current or {}), "note": text, text: "备注"}
    if isinstance(current, list) and current and all(isinstance(v, dict) for v in current):
        return [{**v, "note": text} for v in current]
    return [*current, text]


def _owned(table: Table, subject_id: int) -> Any:
    return table.c.id == subject_id if table.name == "customers" else table.c.customer_id == subject_id


def _seed_everywhere(session: Session, tenant_id: int, subject_id: int) -> list[str]:
    """Write the mention into every scanned or specially handled column of every row of the tenant
    (the audit trail apart); returns the columns in the order they were numbered."""
    written = sorted(_scanned() | set(OWN_RULES))
    for number, key in enumerate(written):
        table_name, column_name = key.split(".")
        table = Base.metadata.tables[table_name]
        if table_name == "audit_logs":
            continue  # immutable: see _audit_records
        column = table.c[column_name]
        rows = session.execute(select(table.c.id, column).where(table.c.tenant_id == tenant_id)).all()
        if table.name == "customers" or "customer_id" in table.c:
            others = session.scalars(
                select(table.c.id).where(table.c.tenant_id == tenant_id, ~_owned(table, subject_id))
            )
            assert others.first(), f"the world has no row of {table_name} but the subject's: add one"
        assert rows, f"the world has no row of {table_name}: add one"
        room = column.type.length if isinstance(column.type, String) else None
        for row_id, current in rows:
            text = _mention(number, room, f" #{row_id}")
            value = _seeded(current, text) if isinstance(column.type, JSON) else text
            session.execute(update(table).where(table.c.id == row_id).values({column_name: value}))
    return written


def _audit_records(session: Session, tenant_id: int, subject: dict[str, Any], other: dict[str, Any]) -> None:
    """Audit records that mention the person: about them, about another customer, about nothing."""
    for number, (object_type, object_id) in enumerate(
        [("customer", subject["id"]), ("contact", subject["contacts"][0]["id"]), ("customer", other["id"]),
         (None, None)]
    ):  # fmt: skip
        text = _mention(number, None, "")
        session.add(
            AuditLog(tenant_id=tenant_id, action="customer.update", object_type=object_type, object_id=object_id,
                     changes={"remarks": {"before": None, "after": text}}, detail={"keyword": text, "n": int(PHONE)})
        )  # fmt: skip


# ---------------------------------------------------------------- reading the database back


def _dump(engine: Engine) -> str:
    """The whole database as its own dump tool writes it."""
    if engine.dialect.name == "postgresql":
        url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        command = [_pg_bin("pg_dump"), "--data-only", url]
        done = subprocess.run(command, capture_output=True, check=True, text=True)  # noqa: S603 - the server's own tool
        return done.stdout
    connection = sqlite3.connect(str(engine.url.database))
    try:
        return "\n".join(connection.iterdump())
    finally:
        connection.close()


def _forms() -> list[str]:
    """Every identifier of the person and the contacts erased with them, in every written form."""
    phones = [_spelled(p, form) for p in (PHONE, ASSISTANT_PHONE) for form in WRITTEN[:3]]
    return [NAME, ASSISTANT, EMAIL, WECHAT, STREET, *phones]


def _left_in(dump: str) -> list[str]:
    text = dump.casefold()
    found = []
    for form in _forms():
        escaped = json.dumps(form)[1:-1]  # JSON may hold non-ASCII \u-escaped
        if any(v.casefold() in text for v in {form, escaped, escaped.replace("\\", "\\\\")}):
            found.append(form)
    return found


def _subject_values(session: Session, subject_id: int) -> dict[str, list[Any]]:
    """The subject's own values of the columns cleared with it, read through their types (decrypted)."""
    values = {}
    for key in SUBJECT_ONLY:
        table_name, column_name = key.split(".")
        table = Base.metadata.tables[table_name]
        values[key] = list(session.scalars(select(table.c[column_name]).where(_owned(table, subject_id))))
    return values


def _names_the_person(value: Any) -> bool:
    if isinstance(value, date):
        return value == date(1990, 2, 3)
    text = json.dumps(value, ensure_ascii=False, default=str).casefold() if value is not None else ""
    return any(form.casefold() in text for form in _forms())


class TestErasureLeavesNothingAnywhere:
    def test_no_identifier_of_the_person_is_left_in_any_column_of_any_table(
        self, admin_api: Api, world: dict[str, Any], committed: sessionmaker[Session], engine: Engine
    ) -> None:
        subject, other, tenant_id = world["subject"], world["other"], world["tenant_id"]
        with committed() as session:
            written = _seed_everywhere(session, tenant_id, subject["id"])
            _audit_records(session, tenant_id, subject, other)
            session.commit()
            before = _subject_values(session, subject["id"])
        assert {"customer_service_records.escalation_reason", "saved_views.name", "customers.tags"} <= set(written)
        for key, values in before.items():
            assert any(_names_the_person(v) for v in values), f"the world gives the subject no {key}"
        assert set(_left_in(_dump(engine))) == set(_forms())  # the dump does show what is there

        erased = admin_api.post(f"/crm/privacy/customers/{subject['id']}/erase", {"reference": f"{NAME}的删除申请"})

        assert erased.status_code == 200, erased.text
        assert erased.json()["reference"] == f"{MARKER}的删除申请"
        assert _left_in(_dump(engine)) == []
        with committed() as session:
            after = _subject_values(session, subject["id"])
        assert {key: [v for v in values if _names_the_person(v)] for key, values in after.items()} == {
            key: [] for key in after
        }

    def test_what_else_the_rows_say_stays(
        self, admin_api: Api, world: dict[str, Any], committed: sessionmaker[Session]
    ) -> None:
        subject, other, tenant_id = world["subject"], world["other"], world["tenant_id"]
        with committed() as session:
            columns = _seed_everywhere(session, tenant_id, subject["id"])
            session.commit()
        before = admin_api.get(f"/crm/customers/{other['id']}").json()

        assert admin_api.post(f"/crm/privacy/customers/{subject['id']}/erase", {}).status_code == 200

        after = admin_api.get(f"/crm/customers/{other['id']}").json()
        number, suffix = columns.index("customers.remarks"), f" #{other['id']}"
        assert (before["remarks"], after["remarks"]) == (
            _mention(number, None, suffix),
            _mention(number, None, suffix, blanked=True),
        )
        assert after["tags"] == ["太极", _mention(columns.index("customers.tags"), None, suffix, blanked=True)]
        assert (after["customer_name"], [c["contact_name"] for c in after["contacts"]]) == ("峨眉派", ["周芷若"])
        assert after["version"] > before["version"]  # an edit of what was read before is refused
