"""Masked personal data and hidden financial figures (§9.1), on every response type."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.models import AuditLog, Tenant
from crm.models.enums import Role
from tests.factories import Api, make_user


@pytest.fixture
def customer(sales_a: Api, admin: Api) -> dict:
    made = sales_a.create_customer(
        customer_name="隐私测试公司",
        province="江苏",
        contacts=[
            {
                "contact_name": "周杰",
                "contact_phone": "13812341234",
                "contact_email": "zhoujie@example.com",
                "contact_wechat": "zhoujie_wx",
                "birthday": "1985-07-09",
            }
        ],
        addresses=[
            {
                "address_type": "office",
                "province": "江苏",
                "city": "南京市",
                "detailed_address": "中山路100号8楼801室",
                "contact_phone": "02584561234",
            }
        ],
    )
    admin.set_finance(made, annual_revenue="8800000.00", credit_rating="AA")
    return made


@pytest.fixture
def marketer(client: TestClient, session: Session, tenant: Tenant) -> Api:
    return Api(client, make_user(session, tenant, Role.MARKETER))


class TestMasking:
    def test_profiles_and_nested_lists_show_personal_data_masked(self, sales_a: Api, customer: dict) -> None:
        detail = sales_a.get(f"/crm/customers/{customer['id']}").json()
        contacts = sales_a.get(f"/crm/customers/{customer['id']}/contacts").json()
        addresses = sales_a.get(f"/crm/customers/{customer['id']}/addresses").json()
        for contact in (detail["contacts"][0], contacts[0], customer["contacts"][0]):
            assert contact["contact_phone"] == "138****1234"
            assert contact["contact_email"] == "z***@example.com"
            assert contact["contact_wechat"] == "z***"
            assert contact["birthday"] == "****-07-09"
        for address in (detail["addresses"][0], addresses[0]):
            assert address["contact_phone"] == "025-****1234"
            assert "100号" not in address["detailed_address"]

    def test_write_responses_are_masked_too(self, sales_a: Api, customer: dict) -> None:
        contact = customer["contacts"][0]
        updated = sales_a.put(f"/crm/contacts/{contact['id']}", {"version": 1, "contact_phone": "13900009999"}).json()
        assert updated["contact_phone"] == "139****9999"


class TestReveal:
    def test_a_permitted_user_reveals_one_value_and_the_reveal_is_audited(
        self, sales_a: Api, session: Session, customer: dict
    ) -> None:
        contact = customer["contacts"][0]
        response = sales_a.post(f"/crm/contacts/{contact['id']}/reveal", {"field": "contact_phone"})
        assert response.json() == {"field": "contact_phone", "value": "13812341234"}
        address = customer["addresses"][0]
        revealed = sales_a.post(f"/crm/addresses/{address['id']}/reveal", {"field": "detailed_address"}).json()
        assert revealed["value"] == "中山路100号8楼801室"
        entries = session.scalars(select(AuditLog).where(AuditLog.action == "pii.reveal")).all()
        assert [(e.actor_id, e.object_type, e.detail["field"]) for e in entries] == [
            (sales_a.user.id, "contact", "contact_phone"),
            (sales_a.user.id, "address", "detailed_address"),
        ]
        assert "13812341234" not in str([e.detail for e in entries])

    def test_roles_without_pii_unmask_cannot_reveal(self, marketer: Api, customer: dict) -> None:
        contact = customer["contacts"][0]
        assert marketer.post(f"/crm/contacts/{contact['id']}/reveal", {"field": "contact_phone"}).status_code == 403

    def test_nobody_reveals_outside_their_scope(self, sales_b: Api, customer: dict) -> None:
        contact = customer["contacts"][0]
        assert sales_b.post(f"/crm/contacts/{contact['id']}/reveal", {"field": "contact_phone"}).status_code == 404

    def test_only_personal_fields_can_be_revealed(self, sales_a: Api, customer: dict) -> None:
        contact = customer["contacts"][0]
        response = sales_a.post(f"/crm/contacts/{contact['id']}/reveal", {"field": "contact_name"})
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "field"


class TestFinancialFields:
    def test_roles_without_finance_read_get_no_financial_figures_anywhere(
        self, sales_a: Api, marketer: Api, customer: dict
    ) -> None:
        for api in (sales_a, marketer):
            responses = [
                api.get(f"/crm/customers/{customer['id']}").json(),
                api.get("/crm/customers").json()["items"][0],
                api.get("/crm/customers/search", params={"keyword": "隐私"}).json()["items"][0],
            ]
            for body in responses:
                assert (body["annual_revenue"], body["credit_rating"]) == (None, None)
        assert customer["annual_revenue"] is None  # the creating sales rep's own response

    def test_managers_analysts_and_admins_see_them(
        self, client: TestClient, session: Session, tenant: Tenant, manager_east: Api, admin: Api, customer: dict
    ) -> None:
        analyst = Api(client, make_user(session, tenant, Role.ANALYST))
        for api in (manager_east, admin, analyst):
            body = api.get(f"/crm/customers/{customer['id']}").json()
            assert (body["annual_revenue"], body["credit_rating"]) == ("8800000.00", "AA")


def _version(api: Api, customer: dict) -> int:
    return int(api.get(f"/crm/customers/{customer['id']}").json()["version"])


class TestSortingAndFilteringByHiddenFields:
    """Ordering or narrowing the list by a field ranks customers by a value the caller cannot see."""

    def test_roles_without_finance_read_may_not_sort_by_annual_revenue(
        self, sales_a: Api, marketer: Api, customer: dict
    ) -> None:
        for api in (sales_a, marketer):
            for path in ("/crm/customers", "/crm/customers/search", "/crm/customers/export"):
                for sort in ("annual_revenue", "-annual_revenue"):
                    response = api.get(path, params={"sort": sort, "keyword": "隐私"})
                    assert response.status_code == 403, (path, sort, response.text)
                    body = response.json()
                    assert (body["code"], body["title"]) == (
                        "field_read_denied",
                        "无权查看“年营业额”，因此不能按它排序或筛选",
                    )
                    assert (body["errors"][0]["field"], body["errors"][0]["location"]) == ("sort", "query")

    @pytest.mark.parametrize(
        "params", [{"credit_rating": "AA"}, {"annual_revenue_min": "1"}, {"annual_revenue_max": "99999999"}]
    )
    def test_nor_filter_by_a_finance_field(self, marketer: Api, customer: dict, params: dict[str, str]) -> None:
        for path in ("/crm/customers", "/crm/customers/export"):
            response = marketer.get(path, params=params)
            assert response.status_code == 403, response.text
            assert response.json()["errors"][0]["field"] == next(iter(params))

    def test_finance_readers_sort_and_filter_by_them(
        self, manager_east: Api, finance: Api, sales_a: Api, customer: dict
    ) -> None:
        sales_a.create_customer(customer_name="隐私测试其他公司", province="江苏")
        for api in (manager_east, finance):
            ids = [c["id"] for c in api.get("/crm/customers", params={"sort": "-annual_revenue"}).json()["items"]]
            assert ids[0] == customer["id"]  # customers without a revenue come last
            for params, found in [
                ({"credit_rating": ["AA", "AAA"]}, [customer["id"]]),
                ({"credit_rating": "C"}, []),
                ({"annual_revenue_min": "8800000.00"}, [customer["id"]]),
                ({"annual_revenue_min": "8800000.01"}, []),
                ({"annual_revenue_max": "8800000.00", "keyword": "隐私"}, [customer["id"]]),
            ]:
                items = api.get("/crm/customers", params=params).json()["items"]
                assert [c["id"] for c in items] == found, params


class TestWritingFinanceFields:
    """Writing a field needs the permission to read it; finance fields need finance.write too."""

    @pytest.mark.parametrize(("field", "value"), [("credit_rating", "AAA"), ("annual_revenue", "1.00")])
    def test_a_sales_rep_cannot_set_a_finance_field_of_their_own_customer(
        self, sales_a: Api, admin: Api, customer: dict, field: str, value: str
    ) -> None:
        response = sales_a.put(
            f"/crm/customers/{customer['id']}", {"version": _version(sales_a, customer), field: value}
        )
        assert response.status_code == 403, response.text
        body = response.json()
        assert (body["code"], body["errors"][0]["field"]) == ("field_write_denied", field)
        shown = admin.get(f"/crm/customers/{customer['id']}").json()
        assert (shown["credit_rating"], shown["annual_revenue"], shown["payment_terms_days"]) == (
            "AA",
            "8800000.00",
            60,
        )

    def test_the_value_it_already_has_is_refused_too_so_a_write_tells_nothing(
        self, sales_a: Api, customer: dict
    ) -> None:
        response = sales_a.put(
            f"/crm/customers/{customer['id']}", {"version": _version(sales_a, customer), "credit_rating": "AA"}
        )
        assert response.status_code == 403
        english = sales_a.put(
            f"/crm/customers/{customer['id']}",
            {"version": _version(sales_a, customer), "credit_rating": "AA"},
            headers={"Accept-Language": "en"},
        ).json()
        assert english["title"] == "You are not allowed to change credit rating"

    def test_nor_with_a_blacklisting_that_would_go_to_approval(self, sales_a: Api, customer: dict) -> None:
        response = sales_a.put(
            f"/crm/customers/{customer['id']}",
            {"version": _version(sales_a, customer), "customer_status": "blacklist", "credit_rating": "C"},
        )
        assert response.status_code == 403
        assert sales_a.get("/crm/approvals").json()["items"] == []

    def test_nor_create_a_customer_with_them(self, sales_a: Api) -> None:
        response = sales_a.post(
            "/crm/customers", {"customer_name": "自评AAA公司", "customer_type": "enterprise", "credit_rating": "AAA"}
        )
        assert (response.status_code, response.json()["errors"][0]["field"]) == (403, "credit_rating")
        assert sales_a.get("/crm/customers", params={"keyword": "自评"}).json()["items"] == []

    def test_a_sales_reps_edit_that_leaves_them_out_still_works(self, sales_a: Api, customer: dict) -> None:
        response = sales_a.put(
            f"/crm/customers/{customer['id']}", {"version": _version(sales_a, customer), "remarks": "月底回访"}
        )
        assert response.status_code == 200, response.text
        assert response.json()["remarks"] == "月底回访"

    def test_a_sales_manager_reads_them_but_cannot_write_them(self, manager_east: Api, customer: dict) -> None:
        response = manager_east.put(
            f"/crm/customers/{customer['id']}", {"version": _version(manager_east, customer), "annual_revenue": None}
        )
        assert (response.status_code, response.json()["errors"][0]["field"]) == (403, "annual_revenue")

    def test_finance_sets_the_credit_rating_and_the_payment_terms_follow(self, finance: Api, customer: dict) -> None:
        response = finance.put(
            f"/crm/customers/{customer['id']}", {"version": _version(finance, customer), "credit_rating": "AAA"}
        )
        assert response.status_code == 200, response.text
        assert (response.json()["credit_rating"], response.json()["payment_terms_days"]) == ("AAA", 90)

    def test_finance_changes_no_other_field(self, finance: Api, customer: dict) -> None:
        response = finance.put(
            f"/crm/customers/{customer['id']}",
            {"version": _version(finance, customer), "credit_rating": "A", "customer_name": "改名"},
        )
        assert (response.status_code, response.json()["errors"][0]["field"]) == (403, "customer_name")
