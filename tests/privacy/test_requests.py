"""Data-subject requests (§9.3): access, erasure everywhere, legal hold, the record of each."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Connection, inspect, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from crm.interactions.notifications import send_follow_up_reminders
from crm.jobs import run_job
from crm.kit.crypto import email_index, phone_index
from crm.models import AuditLog, Base, CustomerContact
from crm.privacy.service import ERASURE_COVERAGE
from tests.factories import Api

NAME = "欧阳娜娜"
COMPANY = "欧阳娜娜设计工作室"
PHONE = "13698761234"
EMAIL = "ouyang.nana@studio.example"
OTHER_PHONE = "13511112222"


@pytest.fixture
def subject(admin: Api, sales_a: Api, attachment_storage: Path) -> dict:
    """A customer with contacts, an address, a level change and an export naming them."""
    customer = sales_a.create_customer(
        customer_name=COMPANY,
        customer_type="individual",
        province="浙江",
        remarks=f"{NAME}喜欢电话联系",
        contacts=[
            {"contact_name": NAME, "contact_phone": PHONE, "contact_email": EMAIL, "birthday": "1990-02-03"},
            {"contact_name": "欧阳助理", "contact_phone": OTHER_PHONE},
        ],
        addresses=[
            {
                "address_type": "home",
                "province": "浙江",
                "city": "杭州市",
                "detailed_address": "西湖区文三路100号",
                "contact_name": NAME,
                "contact_phone": PHONE,
            }
        ],
    )
    logged = sales_a.post(
        f"/crm/customers/{customer['id']}/interactions",
        {
            "interaction_type": "call",
            "interaction_direction": "outbound",
            "subject": f"致电{NAME}",
            "content": f"{NAME}（{PHONE}，{EMAIL}）确认下单",
            "next_action": f"给{NAME}寄样品",
            "next_action_date": "2026-01-05T10:00:00+08:00",
            "contact_id": customer["contacts"][0]["id"],
        },
    ).json()
    card = sales_a.post(
        f"/crm/interactions/{logged['id']}/attachments",
        files={"file": ("名片.txt", f"{NAME} {PHONE}".encode(), "text/plain")},
    ).json()
    card_file = next(attachment_storage.rglob(card["id"]))
    admin.put(f"/crm/customers/{customer['id']}/level", {"level": "B", "reason": f"{NAME}追加订单"})
    admin.put(f"/crm/customers/{customer['id']}", {"version": 2, "customer_name": COMPANY + "（杭州）"})
    assert sales_a.get("/crm/customers/export", params={"keyword": COMPANY}).status_code == 200
    return {**customer, "card_file": card_file}


def _everything(connection: Connection) -> str:
    """Every row of every table, as stored; JSON may hold Chinese \\u-escaped, so both forms are searched."""
    rows = []
    for table in inspect(connection).get_table_names():
        rows += [repr(tuple(r)) for r in connection.exec_driver_sql(f'SELECT * FROM "{table}"')]  # noqa: S608
    return "\n".join(rows)


def _found(dump: str, needle: str) -> bool:
    escaped = json.dumps(needle)[1:-1]
    return needle in dump or escaped in dump or escaped.replace("\\", "\\\\") in dump


def test_erasure_has_decided_what_to_do_with_every_table() -> None:
    assert set(ERASURE_COVERAGE) == set(Base.metadata.tables)


class TestErasure:
    def test_erasure_leaves_no_phone_email_or_name_in_any_table_index_or_file(
        self,
        admin: Api,
        subject: dict,
        connection: Connection,
        session: Session,
        session_factory: sessionmaker[Session],
    ) -> None:
        send_follow_up_reminders(session)  # a notification naming the customer
        session.commit()
        dump = _everything(connection)
        assert _found(dump, NAME)  # the search below can see what is there
        response = admin.post(f"/crm/privacy/customers/{subject['id']}/erase", {"reference": "PIPL-2026-017"})
        assert response.status_code == 200, response.text
        request = response.json()
        assert (request["kind"], request["outcome"], request["reference"]) == ("erasure", "completed", "PIPL-2026-017")
        assert request["detail"]["rows"]["customer_contacts"] == 2
        assert request["detail"]["rows"]["customer_interactions"] == 1
        assert subject["card_file"].exists()  # until the erasure has committed
        assert run_job(session_factory, "purge_files") >= 1
        assert not subject["card_file"].exists()

        dump = _everything(connection)
        for needle in (NAME, COMPANY, PHONE, EMAIL, OTHER_PHONE, "欧阳助理", "文三路", "1990-02-03"):
            assert not _found(dump, needle), needle
        for keyword in (NAME, PHONE, "1234", EMAIL, subject["customer_code"]):
            assert admin.get("/crm/customers/search", params={"keyword": keyword}).json()["items"] == [], keyword
        indexed = session.scalars(
            select(CustomerContact.id).where(
                (CustomerContact.phone_index == phone_index(PHONE))
                | (CustomerContact.email_index == email_index(EMAIL))
            )
        ).all()
        assert indexed == []

    def test_aggregates_and_the_fact_of_what_happened_stay(self, admin: Api, subject: dict, session: Session) -> None:
        admin.post(f"/crm/privacy/customers/{subject['id']}/erase", {})
        row = session.execute(
            text("SELECT customer_level, province, anonymised_at, deleted_at FROM customers WHERE id = :id"),
            {"id": subject["id"]},
        ).one()
        assert row.customer_level == "B"
        assert row.province == "浙江省"
        assert row.anonymised_at is not None
        assert row.deleted_at is not None
        trail = session.scalars(
            select(AuditLog)
            .where(
                AuditLog.tenant_id == admin.user.tenant_id,
                AuditLog.object_type == "customer",
                AuditLog.object_id == subject["id"],
            )
            .order_by(AuditLog.id)
        ).all()
        actions = [a.action for a in trail]
        assert actions[:3] == ["customer.create", "customer.level", "customer.update"]
        assert actions[-1] == "privacy.erasure"
        redacted = [a for a in trail if a.redacted_at is not None]
        assert {a.action for a in redacted} >= {"customer.create", "customer.update"}
        update = next(a for a in trail if a.action == "customer.update")
        assert update.changes == {"customer_name": {"before": "［已删除］", "after": "［已删除］"}}

    def test_erasing_a_contact_keeps_the_customer_and_its_other_contacts(
        self, admin: Api, subject: dict, connection: Connection
    ) -> None:
        contact = next(c for c in subject["contacts"] if c["contact_name"] == NAME)
        response = admin.post(f"/crm/privacy/contacts/{contact['id']}/erase", {})
        assert response.status_code == 200, response.text
        assert response.json()["subject_type"] == "contact"
        profile = admin.get(f"/crm/customers/{subject['id']}").json()
        assert [c["contact_name"] for c in profile["contacts"]] == ["欧阳助理"]
        assert profile["addresses"][0]["contact_name"] is None
        assert [
            c["id"] for c in admin.get("/crm/customers/search", params={"keyword": OTHER_PHONE}).json()["items"]
        ] == [subject["id"]]
        assert admin.get("/crm/customers/search", params={"keyword": PHONE}).json()["items"] == []
        dump = _everything(connection)
        assert not _found(dump, PHONE)
        assert not _found(dump, EMAIL)

    def test_erasing_twice_answers_409(self, admin: Api, subject: dict) -> None:
        admin.post(f"/crm/privacy/customers/{subject['id']}/erase", {})
        again = admin.post(f"/crm/privacy/customers/{subject['id']}/erase", {})
        assert (again.status_code, again.json()["code"]) == (409, "already_erased")


class TestSavedViews:
    """A keyword typed into a saved filter is free text that may name the person: it goes, the view stays."""

    def view(self, api: Api, name: str, **filters: object) -> dict:
        made = api.post("/crm/saved_views", {"page": "customers", "name": name, "definition": {"filters": filters}})
        assert made.status_code == 201, made.text
        return dict(made.json())

    def test_erasure_removes_keywords_naming_the_customer_from_every_users_views(
        self, admin: Api, sales_a: Api, outsider: Api, subject: dict
    ) -> None:
        by_name = self.view(sales_a, "按姓名", keyword=NAME, level=["B"])
        by_company = self.view(admin, "按公司", keyword=f"{COMPANY}（杭州）")
        by_phone = self.view(admin, "按电话", keyword="136-9876-1234")
        by_email = self.view(sales_a, "按邮箱", keyword=EMAIL.upper())
        other = self.view(sales_a, "其他客户", keyword="华信集团", region="华东")
        too_short = self.view(admin, "姓氏", keyword="欧阳")  # two characters name many people
        elsewhere = self.view(outsider, "别的租户", keyword=NAME)

        erased = admin.post(f"/crm/privacy/customers/{subject['id']}/erase", {})
        assert erased.status_code == 200, erased.text
        assert erased.json()["detail"]["rows"]["saved_views"] == 4

        def stored(api: Api) -> dict[int, dict]:
            return {v["id"]: v for v in api.get("/crm/saved_views", params={"page": "customers"}).json()}

        views = stored(sales_a) | stored(admin)
        for view in (by_name, by_company, by_phone, by_email):
            after = views[view["id"]]
            assert "keyword" not in after["definition"]["filters"], view["name"]
            assert (after["name"], after["version"]) == (view["name"], view["version"] + 1)
        assert views[by_name["id"]]["definition"]["filters"] == {"level": ["B"]}  # the rest of the view stays
        assert views[other["id"]]["definition"]["filters"] == {"keyword": "华信集团", "region": "华东"}
        assert views[too_short["id"]]["definition"]["filters"] == {"keyword": "欧阳"}
        assert stored(outsider)[elsewhere["id"]]["definition"]["filters"] == {"keyword": NAME}

    def test_erasing_a_contact_removes_only_keywords_naming_that_contact(
        self, admin: Api, sales_a: Api, subject: dict
    ) -> None:
        assistant = self.view(sales_a, "助理", keyword=OTHER_PHONE)
        company = self.view(sales_a, "公司", keyword="设计工作室")
        contact_id = subject["contacts"][1]["id"]  # 欧阳助理, OTHER_PHONE
        erased = admin.post(f"/crm/privacy/contacts/{contact_id}/erase", {})
        assert erased.status_code == 200, erased.text
        assert erased.json()["detail"]["rows"]["saved_views"] == 1
        views = {v["id"]: v for v in sales_a.get("/crm/saved_views", params={"page": "customers"}).json()}
        assert views[assistant["id"]]["definition"]["filters"] == {}
        assert views[company["id"]]["definition"]["filters"] == {"keyword": "设计工作室"}


class TestLegalHold:
    def test_a_hold_refuses_erasure_with_its_reason_and_the_refusal_is_recorded(
        self, admin: Api, subject: dict, connection: Connection
    ) -> None:
        held = admin.put(
            f"/crm/customers/{subject['id']}/legal_hold", {"legal_hold": True, "reason": "诉讼保全 2026-民-118"}
        )
        assert held.json()["legal_hold"] is True
        refused = admin.post(f"/crm/privacy/customers/{subject['id']}/erase", {"reference": "REQ-9"})
        assert refused.status_code == 409
        assert refused.json()["code"] == "legal_hold"
        assert "诉讼保全 2026-民-118" in refused.json()["detail"]
        contact = subject["contacts"][0]
        assert admin.post(f"/crm/privacy/contacts/{contact['id']}/erase", {}).status_code == 409
        revealed = admin.post(f"/crm/contacts/{contact['id']}/reveal", {"field": "contact_phone"}).json()
        assert revealed["value"] == PHONE  # nothing was erased
        requests = admin.get("/crm/privacy/requests", params={"customer_id": subject["id"]}).json()["items"]
        assert [(r["outcome"], r["subject_type"]) for r in requests] == [
            ("refused", "contact"),
            ("refused", "customer"),
        ]
        assert requests[1]["reason"] == "legal_hold: 诉讼保全 2026-民-118"

        admin.put(f"/crm/customers/{subject['id']}/legal_hold", {"legal_hold": False})
        assert admin.post(f"/crm/privacy/customers/{subject['id']}/erase", {}).status_code == 200

    def test_placing_a_hold_needs_a_reason(self, admin: Api, subject: dict) -> None:
        response = admin.put(f"/crm/customers/{subject['id']}/legal_hold", {"legal_hold": True})
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "reason"


class TestAccess:
    def test_access_returns_everything_held_in_clear_and_is_recorded(self, admin: Api, subject: dict) -> None:
        order = {"order_no": "SAR-O1", "customer_id": subject["id"], "status": "paid",
                 "order_date": "2026-11-20T10:00:00", "amount": "990.00"}  # fmt: skip
        assert admin.post("/crm/orders", order).status_code == 200
        assert admin.post(f"/crm/customers/{subject['id']}/value_analysis/refresh").status_code == 200
        response = admin.post(f"/crm/privacy/customers/{subject['id']}/access", {"reference": "SAR-1"})
        assert response.status_code == 200, response.text
        body = response.json()
        data = body["data"]
        assert data["customer"]["customer_name"] == COMPANY + "（杭州）"
        assert {c["contact_phone"] for c in data["contacts"]} == {PHONE, OTHER_PHONE}
        assert data["contacts"][0]["contact_email"] == EMAIL
        assert data["addresses"][0]["detailed_address"] == "西湖区文三路100号"
        assert [h["reason"] for h in data["level_history"]][-1] == f"{NAME}追加订单"
        assert "customer.update" in [a["action"] for a in data["activity"]]
        assert [o["order_no"] for o in data["orders"]] == ["SAR-O1"]
        assert data["value_analysis"][0]["total_amount"] == "990.00"  # profiling results are theirs too
        assert body["request"]["kind"] == "access"
        listed = admin.get("/crm/privacy/requests", params={"kind": "access"}).json()["items"]
        assert [r["id"] for r in listed] == [body["request"]["id"]]

    def test_a_contacts_access_holds_only_that_contact(self, admin: Api, subject: dict) -> None:
        contact = subject["contacts"][1]
        data = admin.post(f"/crm/privacy/contacts/{contact['id']}/access", {}).json()["data"]
        assert data["contact"]["contact_phone"] == OTHER_PHONE
        assert data["customer"]["customer_code"] == subject["customer_code"]

    def test_only_admins_handle_data_subject_requests(self, manager_east: Api, subject: dict) -> None:
        for path in ("access", "erase"):
            response = manager_east.post(f"/crm/privacy/customers/{subject['id']}/{path}", {})
            assert response.status_code == 403


class TestAuditStaysImmutable:
    def test_a_redaction_cannot_rewrite_who_did_what(self, admin: Api, subject: dict, connection: Connection) -> None:
        entry = connection.execute(text("SELECT id FROM audit_logs ORDER BY id LIMIT 1")).scalar_one()
        nested = connection.begin_nested()
        # SQLite by its trigger, PostgreSQL already by the application's privileges (tests/audit/test_seal.py).
        with pytest.raises(DBAPIError, match=r"cannot be changed|permission denied"):
            connection.execute(
                text("UPDATE audit_logs SET action = 'x', redacted_at = created_at WHERE id = :id"), {"id": entry}
            )
        nested.rollback()
        nested = connection.begin_nested()
        with pytest.raises(DBAPIError, match=r"cannot be changed|permission denied"):
            connection.execute(text("UPDATE audit_logs SET changes = NULL WHERE id = :id"), {"id": entry})
        nested.rollback()
