"""Customers through the HTTP API: the seed's endpoints at the seed's paths."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from crm.models import Customer, CustomerContact, CustomerLevelChange, Tenant
from crm.models.enums import Role
from tests.factories import Api, make_user, mobile


def _errors(response: Any) -> dict[str, str]:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return {e["field"]: e["code"] for e in response.json().get("errors", [])}


class TestCreateCustomer:
    def test_a_new_customer_gets_a_code_defaults_and_the_callers_audit_fields(self, admin: Api) -> None:
        body = admin.create_customer(customer_name="华为技术有限公司", annual_revenue="1234567.89", province="广东")
        assert body["customer_code"].startswith("C")
        assert body["customer_level"] == "D"
        assert body["customer_status"] == "active"
        assert body["annual_revenue"] == "1234567.89"  # money travels as an exact decimal string
        assert body["province"] == "广东省"
        assert body["region"] == "华南"  # derived from the province
        assert body["created_by"] == admin.user.id
        assert body["updated_by"] == admin.user.id
        assert body["version"] == 1
        assert body["tags"] == []

    def test_generated_codes_are_unique_and_a_given_code_is_kept(self, admin: Api) -> None:
        first = admin.create_customer()["customer_code"]
        second = admin.create_customer()["customer_code"]
        assert first != second
        assert admin.create_customer(customer_code="VIP-001")["customer_code"] == "VIP-001"

    def test_a_duplicate_code_answers_409_and_creates_nothing(self, admin: Api, session: Session) -> None:
        admin.create_customer(customer_code="DUP-1")
        before = session.scalar(select(Customer.id).order_by(Customer.id.desc()).limit(1))
        response = admin.post(
            "/crm/customers", {"customer_name": "重复", "customer_type": "individual", "customer_code": "DUP-1"}
        )
        assert response.status_code == 409
        assert response.json()["code"] == "duplicate"
        assert session.scalar(select(Customer.id).order_by(Customer.id.desc()).limit(1)) == before

    def test_the_same_code_may_exist_in_another_tenant(self, admin: Api, outsider: Api) -> None:
        admin.create_customer(customer_code="SHARED-1")
        assert outsider.create_customer(customer_code="SHARED-1")["customer_code"] == "SHARED-1"

    def test_contacts_and_addresses_are_created_with_the_customer(self, admin: Api, session: Session) -> None:
        body = admin.create_customer(
            contacts=[
                {
                    "contact_name": "张伟",
                    "contact_phone": "+86 138 1234 5678",
                    "contact_email": "Zhang.Wei@Example.COM",
                },
                {"contact_name": "李娜", "contact_phone": "010-62345678", "is_primary": True},
            ],
            addresses=[
                {"address_type": "office", "province": "北京", "city": "北京市", "detailed_address": "中关村大街1号"}
            ],
        )
        contacts = {c["contact_name"]: c for c in body["contacts"]}
        assert contacts["张伟"]["contact_phone"] == "138****5678"
        assert contacts["张伟"]["contact_email"] == "z***@example.com"
        stored = session.get(CustomerContact, contacts["张伟"]["id"])
        assert stored is not None
        assert (stored.contact_phone, stored.contact_email) == ("13812345678", "zhang.wei@example.com")
        assert contacts["李娜"]["is_primary"] is True
        assert contacts["张伟"]["is_primary"] is False
        assert body["addresses"][0]["province"] == "北京市"
        assert body["addresses"][0]["is_default"] is True

    def test_the_initial_level_starts_the_level_history(self, admin: Api) -> None:
        customer = admin.create_customer(customer_level="B")
        history = admin.get(f"/crm/customers/{customer['id']}/level_history").json()
        assert [(h["old_level"], h["new_level"], h["source"]) for h in history["items"]] == [(None, "B", "create")]

    def test_a_sales_rep_owns_what_they_create(self, sales_a: Api) -> None:
        assert sales_a.create_customer()["assigned_sales_id"] == sales_a.user.id

    def test_a_sales_rep_cannot_create_a_customer_for_someone_else(self, sales_a: Api, sales_b: Api) -> None:
        response = sales_a.post(
            "/crm/customers",
            {"customer_name": "别人的", "customer_type": "individual", "assigned_sales_id": sales_b.user.id},
        )
        assert response.status_code == 403

    def test_the_owner_must_be_an_active_sales_user_of_the_tenant(self, admin: Api, outsider: Api) -> None:
        for owner in (admin.user.id, outsider.user.id, 999_999):
            response = admin.post(
                "/crm/customers", {"customer_name": "某公司", "customer_type": "enterprise", "assigned_sales_id": owner}
            )
            assert response.status_code == 422
            assert _errors(response) == {"assigned_sales_id": "invalid_assignee"}


class TestValidation:
    def test_each_invalid_field_is_named_with_its_reason(self, admin: Api) -> None:
        response = admin.post(
            "/crm/customers",
            {
                "customer_name": "",
                "customer_type": "company",
                "annual_revenue": "12.345",
                "province": "火星",
                "tags": ["ok", ""],
                "contacts": [{"contact_name": "王五", "contact_phone": "12345", "contact_email": "not-an-email"}],
            },
        )
        assert response.status_code == 422
        assert _errors(response) == {
            "customer_name": "string_too_short",
            "customer_type": "enum",
            "annual_revenue": "decimal_max_places",
            "province": "province_unknown",
            "tags.1": "string_too_short",
            "contacts.0.contact_phone": "phone_invalid",
            "contacts.0.contact_email": "value_error",
        }

    def test_messages_are_chinese_by_default_and_english_on_request(self, admin: Api) -> None:
        body = {"customer_type": "individual"}
        zh = admin.post("/crm/customers", body).json()
        en = admin.post("/crm/customers", body, headers={"Accept-Language": "en-US"}).json()
        assert zh["title"] == "请求参数校验失败"
        assert zh["errors"][0]["message"] == "必填字段"
        assert en["title"] == "The request is invalid"
        assert en["errors"][0]["message"] == "Field required"

    def test_server_owned_fields_cannot_be_sent(self, admin: Api) -> None:
        response = admin.post(
            "/crm/customers",
            {
                "customer_name": "某公司",
                "customer_type": "enterprise",
                "id": 1,
                "tenant_id": 2,
                "created_by": 3,
                "version": 9,
            },
        )
        assert response.status_code == 422
        assert _errors(response) == dict.fromkeys(("id", "tenant_id", "created_by", "version"), "extra_forbidden")

    def test_money_is_never_negative_nor_too_large(self, admin: Api) -> None:
        for amount in ("-1", "10000000000000.00"):
            response = admin.post(
                "/crm/customers", {"customer_name": "某公司", "customer_type": "enterprise", "annual_revenue": amount}
            )
            assert response.status_code == 422, amount

    def test_text_that_postgresql_cannot_store_is_refused(self, admin: Api) -> None:
        response = admin.post("/crm/customers", {"customer_name": "坏\u0000字", "customer_type": "enterprise"})
        assert response.status_code == 422
        assert _errors(response) == {"customer_name": "text_invalid"}

    def test_malformed_json_is_a_422_problem(self, admin: Api) -> None:
        response = admin.client.post(
            "/api/v1/crm/customers", content=b"{not json", headers={**admin.headers, "Content-Type": "application/json"}
        )
        assert response.status_code == 422
        assert response.headers["content-type"].startswith("application/problem+json")


class TestReadCustomer:
    def test_the_profile_includes_contacts_and_addresses(self, admin: Api) -> None:
        created = admin.create_customer(
            contacts=[{"contact_name": "赵六", "contact_phone": mobile(1)}],
            addresses=[
                {"address_type": "billing", "province": "上海", "city": "上海市", "detailed_address": "南京西路1号"}
            ],
        )
        body = admin.get(f"/crm/customers/{created['id']}").json()
        assert [c["contact_name"] for c in body["contacts"]] == ["赵六"]
        assert [a["address_type"] for a in body["addresses"]] == ["billing"]

    def test_an_unknown_id_is_a_404_problem(self, admin: Api) -> None:
        response = admin.get("/crm/customers/987654321")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
        assert response.json()["title"] == "客户不存在"

    def test_ids_beyond_bigint_are_refused_not_crashed(self, admin: Api) -> None:
        assert admin.get(f"/crm/customers/{2**70}").status_code == 422


class TestListCustomers:
    def test_lists_are_paginated_newest_first_with_a_total(self, admin: Api) -> None:
        ids = [admin.create_customer()["id"] for _ in range(5)]
        page1 = admin.get("/crm/customers", params={"page_size": 2}).json()
        page3 = admin.get("/crm/customers", params={"page_size": 2, "page": 3}).json()
        assert page1["total"] == 5
        assert [c["id"] for c in page1["items"]] == ids[::-1][:2]
        assert [c["id"] for c in page3["items"]] == ids[:1]
        assert (page1["page"], page1["page_size"]) == (1, 2)

    def test_the_page_size_is_capped(self, admin: Api) -> None:
        response = admin.get("/crm/customers", params={"page_size": 10_000})
        assert response.status_code == 422
        assert _errors(response) == {"page_size": "less_than_equal"}

    def test_a_sort_order_is_applied_with_a_stable_tiebreak(self, admin: Api) -> None:
        admin.create_customer(customer_name="乙公司", annual_revenue="100")
        admin.create_customer(customer_name="甲公司", annual_revenue="300")
        admin.create_customer(customer_name="丙公司")
        body = admin.get("/crm/customers", params={"sort": "-annual_revenue"}).json()
        assert [c["customer_name"] for c in body["items"]] == ["甲公司", "乙公司", "丙公司"]  # no revenue last

    def test_an_unknown_sort_field_is_rejected(self, admin: Api) -> None:
        response = admin.get("/crm/customers", params={"sort": "password"})
        assert response.status_code == 422
        assert "sort" in _errors(response)


class TestUpdateCustomer:
    def test_only_sent_fields_change_and_the_version_moves_on(self, admin: Api, sales_a: Api) -> None:
        customer = admin.create_customer(industry="制造业", remarks="老客户")
        response = admin.put(f"/crm/customers/{customer['id']}", {"version": 1, "industry": "信息技术"})
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["industry"], body["remarks"], body["version"]) == ("信息技术", "老客户", 2)

    def test_a_stale_version_answers_409_and_changes_nothing(self, admin: Api) -> None:
        customer = admin.create_customer(industry="制造业")
        assert admin.put(f"/crm/customers/{customer['id']}", {"version": 1, "industry": "金融"}).status_code == 200
        stale = admin.put(f"/crm/customers/{customer['id']}", {"version": 1, "industry": "教育"})
        assert stale.status_code == 409
        assert stale.json()["code"] == "version_conflict"
        assert admin.get(f"/crm/customers/{customer['id']}").json()["industry"] == "金融"

    def test_the_version_is_required(self, admin: Api) -> None:
        customer = admin.create_customer()
        response = admin.put(f"/crm/customers/{customer['id']}", {"industry": "金融"})
        assert response.status_code == 422
        assert _errors(response) == {"version": "missing"}

    def test_required_fields_cannot_be_cleared_but_optional_ones_can(self, admin: Api) -> None:
        customer = admin.create_customer(industry="制造业")
        bad = admin.put(f"/crm/customers/{customer['id']}", {"version": 1, "customer_name": None})
        assert _errors(bad) == {"customer_name": "missing"}
        ok = admin.put(f"/crm/customers/{customer['id']}", {"version": 1, "industry": None})
        assert ok.json()["industry"] is None

    def test_changing_the_province_rederives_the_region_unless_it_was_set(self, admin: Api) -> None:
        customer = admin.create_customer(province="浙江")
        moved = admin.put(f"/crm/customers/{customer['id']}", {"version": 1, "province": "四川"}).json()
        assert moved["region"] == "西南"
        pinned = admin.put(f"/crm/customers/{customer['id']}", {"version": 2, "region": "华北"}).json()
        again = admin.put(f"/crm/customers/{customer['id']}", {"version": 3, "province": "广东"}).json()
        assert (pinned["region"], again["region"]) == ("华北", "华北")

    def test_code_level_and_owner_are_not_edited_through_the_profile(self, admin: Api) -> None:
        customer = admin.create_customer()
        response = admin.put(
            f"/crm/customers/{customer['id']}",
            {"version": 1, "customer_code": "X", "customer_level": "A", "assigned_sales_id": 1},
        )
        assert _errors(response) == dict.fromkeys(
            ("customer_code", "customer_level", "assigned_sales_id"), "extra_forbidden"
        )


class TestDeleteCustomer:
    def test_a_deleted_customer_leaves_lists_and_search_but_keeps_its_history(
        self, admin: Api, session: Session
    ) -> None:
        customer = admin.create_customer(customer_name="将被删除的公司")
        assert admin.delete(f"/crm/customers/{customer['id']}").status_code == 204
        assert admin.get(f"/crm/customers/{customer['id']}").status_code == 404
        assert admin.get("/crm/customers").json()["total"] == 0
        assert admin.get("/crm/customers/search", params={"keyword": "删除"}).json()["total"] == 0
        row = session.get(Customer, customer["id"])
        assert row is not None
        assert row.deleted_at is not None
        assert row.deleted_by == admin.user.id
        history = session.scalars(select(CustomerLevelChange).where(CustomerLevelChange.customer_id == customer["id"]))
        assert len(list(history)) == 1

    def test_deleting_twice_answers_404(self, admin: Api) -> None:
        customer = admin.create_customer()
        admin.delete(f"/crm/customers/{customer['id']}")
        assert admin.delete(f"/crm/customers/{customer['id']}").status_code == 404

    def test_a_sales_reps_delete_only_asks_for_approval(self, sales_a: Api) -> None:
        customer = sales_a.create_customer()
        response = sales_a.delete(f"/crm/customers/{customer['id']}")
        assert response.status_code == 202
        assert (response.json()["action"], response.json()["status"]) == ("customer.delete", "pending")
        assert sales_a.get(f"/crm/customers/{customer['id']}").status_code == 200


class TestLevel:
    def test_each_change_is_kept_with_who_when_and_why(self, manager_east: Api, sales_a: Api) -> None:
        customer = sales_a.create_customer(province="江苏")
        response = sales_a.put(f"/crm/customers/{customer['id']}/level", {"level": "B", "reason": "年采购额超过 20 万"})
        assert response.status_code == 200
        assert response.json()["customer_level"] == "B"
        manager_east.put(f"/crm/customers/{customer['id']}/level", {"level": "A", "reason": "战略合作伙伴"})
        history = manager_east.get(f"/crm/customers/{customer['id']}/level_history").json()
        assert history["total"] == 3
        latest, previous, _ = history["items"]
        assert (latest["old_level"], latest["new_level"], latest["reason"]) == ("B", "A", "战略合作伙伴")
        assert latest["changed_by"] == manager_east.user.id
        assert latest["changed_by_name"] == manager_east.user.display_name
        assert (previous["old_level"], previous["new_level"], previous["changed_by"]) == ("D", "B", sales_a.user.id)
        assert latest["changed_at"] >= previous["changed_at"]

    def test_a_reason_is_required(self, admin: Api) -> None:
        customer = admin.create_customer()
        response = admin.put(f"/crm/customers/{customer['id']}/level", {"level": "A", "reason": "  "})
        assert _errors(response) == {"reason": "string_too_short"}

    def test_an_unknown_level_is_rejected(self, admin: Api) -> None:
        customer = admin.create_customer()
        response = admin.put(f"/crm/customers/{customer['id']}/level", {"level": "S", "reason": "x"})
        assert _errors(response) == {"level": "enum"}

    def test_setting_the_same_level_records_nothing(self, admin: Api) -> None:
        customer = admin.create_customer()
        admin.put(f"/crm/customers/{customer['id']}/level", {"level": "D", "reason": "复核"})
        assert admin.get(f"/crm/customers/{customer['id']}/level_history").json()["total"] == 1

    def test_a_stale_version_is_refused(self, admin: Api) -> None:
        customer = admin.create_customer()
        response = admin.put(f"/crm/customers/{customer['id']}/level", {"level": "A", "reason": "x", "version": 7})
        assert response.status_code == 409


class TestAssignSales:
    def test_a_manager_assigns_a_customer_to_an_active_sales_rep(self, admin: Api, sales_a: Api) -> None:
        customer = admin.create_customer()
        response = admin.put(f"/crm/customers/{customer['id']}/assign_sales", {"assigned_sales_id": sales_a.user.id})
        assert response.status_code == 200
        assert response.json()["assigned_sales_id"] == sales_a.user.id
        assert sales_a.get(f"/crm/customers/{customer['id']}").status_code == 200

    def test_only_active_sales_users_of_the_tenant_can_be_assigned(
        self, admin: Api, outsider: Api, session: Session, tenant: Tenant
    ) -> None:
        inactive = make_user(session, tenant, Role.SALES, active=False)
        customer = admin.create_customer()
        for user_id in (admin.user.id, outsider.user.id, inactive.id):
            response = admin.put(f"/crm/customers/{customer['id']}/assign_sales", {"assigned_sales_id": user_id})
            assert response.status_code == 422
            assert _errors(response) == {"assigned_sales_id": "invalid_assignee"}

    def test_a_sales_rep_cannot_reassign(self, sales_a: Api, sales_b: Api) -> None:
        customer = sales_a.create_customer()
        response = sales_a.put(f"/crm/customers/{customer['id']}/assign_sales", {"assigned_sales_id": sales_b.user.id})
        assert response.status_code == 403


class TestQueryCount:
    def test_a_profile_loads_in_the_same_few_queries_however_many_contacts_it_has(
        self, admin: Api, engine: Engine
    ) -> None:
        def queries_for(customer_id: int) -> int:
            statements: list[str] = []

            def record(*args: Any) -> None:
                statements.append(args[2])

            event.listen(engine, "before_cursor_execute", record)
            try:
                assert admin.get(f"/crm/customers/{customer_id}").status_code == 200
            finally:
                event.remove(engine, "before_cursor_execute", record)
            return len(statements)

        address = {"address_type": "office", "province": "上海", "city": "上海市", "detailed_address": "路1号"}
        small = admin.create_customer(contacts=[{"contact_name": "甲"}], addresses=[address])
        large = admin.create_customer(
            contacts=[{"contact_name": f"联系人{n}"} for n in range(10)], addresses=[address] * 6
        )
        # token revocation, user with tenant, customer, contacts, addresses, the latest analysis
        # (lifecycle stage and churn risk), and the test savepoint pair
        assert queries_for(small["id"]) == queries_for(large["id"]) <= 8
