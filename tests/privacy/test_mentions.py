"""Erasure blanks the person's identifiers wherever else the tenant's free text mentions them."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.kit.redaction import MARKER
from crm.models import AuditLog, ServiceRecord
from tests.factories import Api

NAME = "张三丰"
PHONE = "13811112222"
EMAIL = "zsf@wudang.example"


def _customer(api: Api, name: str, **contact: Any) -> dict[str, Any]:
    return api.create_customer(
        customer_name=name,
        customer_type="individual",
        province="湖北",
        contacts=[{"contact_name": name, "is_primary": True, **contact}],
    )


def _stored(session: Session, ticket: dict[str, Any]) -> ServiceRecord:
    """A ticket as stored (an erased customer's tickets are no longer shown)."""
    return session.scalars(select(ServiceRecord).where(ServiceRecord.id == ticket["id"])).one()


def _ticket(api: Api, customer_id: int, description: str = "送货延迟", **fields: Any) -> dict[str, Any]:
    made = api.post(
        "/crm/service_records",
        {"customer_id": customer_id, "service_type": "complaint", "subject": "投诉", "description": description}
        | fields,
    )
    assert made.status_code == 201, made.text
    return dict(made.json())


@pytest.fixture
def person(admin: Api) -> dict[str, Any]:
    return _customer(admin, NAME, contact_phone=PHONE, contact_email=EMAIL)


@pytest.fixture
def other(admin: Api) -> dict[str, Any]:
    return _customer(admin, "峨眉派", contact_phone="13733334444")


class TestTheTestersFindings:
    def test_the_erased_customers_escalation_reason_and_tags_keep_no_name_or_phone(
        self, admin: Api, person: dict[str, Any], session: Session
    ) -> None:
        ticket = _ticket(admin, person["id"], tags=[NAME, "加急"])
        escalated = admin.put(
            f"/crm/service_records/{ticket['id']}/escalate",
            {"version": ticket["version"], "reason": f"{NAME}要求升级 {PHONE}"},
        )
        assert escalated.status_code == 200, escalated.text

        assert admin.post(f"/crm/privacy/customers/{person['id']}/erase", {}).status_code == 200

        stored = _stored(session, ticket)
        assert stored.escalation_reason == f"{MARKER}要求升级 {MARKER}"
        assert stored.tags == [MARKER, "加急"]

    def test_a_saved_view_named_after_the_person_is_renamed(self, admin: Api, person: dict[str, Any]) -> None:
        view = admin.post(
            "/crm/saved_views", {"page": "customers", "name": f"{NAME}的客户", "definition": {"filters": {}}}
        ).json()

        assert admin.post(f"/crm/privacy/customers/{person['id']}/erase", {}).status_code == 200

        views = admin.get("/crm/saved_views", params={"page": "customers"}).json()
        assert [(v["id"], v["name"]) for v in views] == [(view["id"], f"{MARKER}的客户")]


class TestOtherRecordsOfTheTenant:
    def test_another_customers_ticket_quoting_the_phone_keeps_the_rest_of_its_text(
        self, admin: Api, person: dict[str, Any], other: dict[str, Any]
    ) -> None:
        ticket = _ticket(admin, other["id"], f"转介绍人{NAME}（+86 138-1111-2222，{EMAIL.upper()}）说送货延迟")

        erased = admin.post(f"/crm/privacy/customers/{person['id']}/erase", {})

        assert erased.json()["detail"]["mentions"]["customer_service_records"] == 1
        shown = admin.get(f"/crm/service_records/{ticket['id']}").json()
        assert shown["description"] == f"转介绍人{MARKER}（{MARKER}，{MARKER}）说送货延迟"
        assert shown["version"] == ticket["version"] + 1
        stale = admin.put(f"/crm/service_records/{ticket['id']}", {"version": ticket["version"], "subject": "改"})
        assert stale.status_code == 409

    def test_another_customers_remarks_and_contact_notes_are_blanked_its_identity_kept(
        self, admin: Api, person: dict[str, Any]
    ) -> None:
        other = admin.create_customer(
            customer_name=f"{NAME}太极馆",  # another customer's name: theirs, not a mention
            remarks=f"由{NAME}介绍，电话 138 1111 2222",
            contacts=[{"contact_name": "周芷若", "contact_title": f"{NAME}的徒弟", "remarks": f"{PHONE}转告"}],
        )

        assert admin.post(f"/crm/privacy/customers/{person['id']}/erase", {}).status_code == 200

        shown = admin.get(f"/crm/customers/{other['id']}").json()
        assert (shown["customer_name"], shown["remarks"]) == (f"{NAME}太极馆", f"由{MARKER}介绍，电话 {MARKER}")
        contact = admin.get(f"/crm/customers/{other['id']}").json()["contacts"][0]
        assert (contact["contact_name"], contact["contact_title"]) == ("周芷若", f"{MARKER}的徒弟")

    def test_a_two_character_name_is_blanked_in_the_subjects_records_only(
        self, admin: Api, other: dict[str, Any], session: Session
    ) -> None:
        person = _customer(admin, "王芳", contact_phone=PHONE)
        own = _ticket(admin, person["id"], tags=["王芳"])
        elsewhere = _ticket(admin, other["id"], "王芳芳来电", tags=["王芳"])

        assert admin.post(f"/crm/privacy/customers/{person['id']}/erase", {}).status_code == 200

        assert _stored(session, own).tags == [MARKER]
        kept = _stored(session, elsewhere)
        assert (kept.tags, kept.description) == (["王芳"], "王芳芳来电")  # many people are called 王芳

    def test_another_tenant_is_not_touched(self, admin: Api, outsider: Api, person: dict[str, Any]) -> None:
        theirs = outsider.create_customer(customer_name="别家客户", remarks=f"{NAME} {PHONE}")

        assert admin.post(f"/crm/privacy/customers/{person['id']}/erase", {}).status_code == 200

        assert outsider.get(f"/crm/customers/{theirs['id']}").json()["remarks"] == f"{NAME} {PHONE}"

    def test_the_requests_own_reference_does_not_name_the_person(self, admin: Api, person: dict[str, Any]) -> None:
        erased = admin.post(f"/crm/privacy/customers/{person['id']}/erase", {"reference": f"{NAME}申请删除"})
        assert erased.json()["reference"] == f"{MARKER}申请删除"


class TestErasingAContact:
    def test_the_contacts_phone_goes_from_the_customers_remarks_and_other_records_the_rest_stays(
        self, admin: Api, other: dict[str, Any]
    ) -> None:
        customer = admin.create_customer(
            customer_name="武当派",
            remarks=f"找{NAME}（{PHONE}）或宋远桥（13955556666）",
            contacts=[
                {"contact_name": NAME, "contact_phone": PHONE, "is_primary": True},
                {"contact_name": "宋远桥", "contact_phone": "13955556666"},
            ],
        )
        ticket = _ticket(admin, other["id"], f"{NAME}代为投诉")

        erased = admin.post(f"/crm/privacy/contacts/{customer['contacts'][0]['id']}/erase", {})

        assert erased.status_code == 200, erased.text
        assert (
            admin.get(f"/crm/customers/{customer['id']}").json()["remarks"]
            == f"找{MARKER}（{MARKER}）或宋远桥（13955556666）"
        )
        assert admin.get(f"/crm/service_records/{ticket['id']}").json()["description"] == f"{MARKER}代为投诉"


class TestSavedViewNames:
    def test_a_blanked_name_its_owner_already_uses_gets_a_number(self, admin: Api, person: dict[str, Any]) -> None:
        def view(name: str) -> int:
            made = admin.post("/crm/saved_views", {"page": "customers", "name": name, "definition": {"filters": {}}})
            assert made.status_code == 201, made.text
            return int(made.json()["id"])

        ids = [view(f"{MARKER}的客户"), view(f"{NAME}的客户"), view(f"{PHONE}的客户")]

        erased = admin.post(f"/crm/privacy/customers/{person['id']}/erase", {})

        assert erased.status_code == 200, erased.text
        names = {v["id"]: v["name"] for v in admin.get("/crm/saved_views", params={"page": "customers"}).json()}
        assert [names[i] for i in ids] == [f"{MARKER}的客户", f"{MARKER}的客户 (2)", f"{MARKER}的客户 (3)"]


class TestAuditRecordsNamingTwoPeople:
    def test_each_erasure_redacts_its_own_person_from_a_shared_record(
        self, admin: Api, person: dict[str, Any], session: Session
    ) -> None:
        second = _customer(admin, "殷素素", contact_phone="13644445555")
        exported = admin.get("/crm/customers/export", params={"keyword": NAME, "tag": "殷素素的客户"})
        assert exported.status_code == 200

        assert admin.post(f"/crm/privacy/customers/{person['id']}/erase", {}).status_code == 200
        again = admin.post(f"/crm/privacy/customers/{second['id']}/erase", {})

        assert again.status_code == 200, again.text
        export = session.scalars(
            select(AuditLog).where(AuditLog.tenant_id == admin.user.tenant_id, AuditLog.action == "customer.export")
        ).one()
        assert export.detail is not None
        assert (export.detail["filters"]["keyword"], export.detail["filters"]["tag"]) == (MARKER, f"{MARKER}的客户")
        assert export.redacted_at is not None
