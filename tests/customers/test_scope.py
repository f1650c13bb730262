"""Data scope and tenant isolation: a customer outside the caller's scope does not exist for them."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crm.kit.regions import Region
from crm.models import Tenant
from crm.models.enums import Role
from tests.factories import Api, make_user, mobile


@pytest.fixture
def others_customer(sales_b: Api) -> dict:
    return sales_b.create_customer(
        customer_name="别人的客户有限公司",
        province="浙江",
        contacts=[{"contact_name": "钱七", "contact_phone": mobile(7), "contact_email": "qian@example.com"}],
        addresses=[{"address_type": "office", "province": "浙江", "city": "杭州市", "detailed_address": "文三路1号"}],
    )


def _nested_paths(customer: dict) -> list[tuple[str, str, dict | None]]:
    cid = customer["id"]
    contact = customer["contacts"][0]
    address = customer["addresses"][0]
    return [
        ("GET", f"/crm/customers/{cid}", None),
        ("PUT", f"/crm/customers/{cid}", {"version": 1, "industry": "金融"}),
        ("DELETE", f"/crm/customers/{cid}", None),
        ("PUT", f"/crm/customers/{cid}/level", {"level": "A", "reason": "越权"}),
        ("GET", f"/crm/customers/{cid}/level_history", None),
        ("GET", f"/crm/customers/{cid}/contacts", None),
        ("POST", f"/crm/customers/{cid}/contacts", {"contact_name": "入侵者"}),
        ("PUT", f"/crm/contacts/{contact['id']}", {"version": 1, "contact_name": "改名"}),
        ("DELETE", f"/crm/contacts/{contact['id']}", None),
        ("GET", f"/crm/customers/{cid}/addresses", None),
        (
            "POST",
            f"/crm/customers/{cid}/addresses",
            {"address_type": "home", "province": "浙江", "city": "杭州市", "detailed_address": "x"},
        ),
        ("PUT", f"/crm/addresses/{address['id']}", {"version": 1, "city": "宁波市"}),
        ("DELETE", f"/crm/addresses/{address['id']}", None),
    ]


def _call(api: Api, method: str, path: str, body: dict | None) -> int:
    return int(api.client.request(method, f"/api/v1{path}", json=body, headers=api.headers).status_code)


MISSING = {"id": 2**62, "contacts": [{"id": 2**62}], "addresses": [{"id": 2**62}]}


class TestSalesRepScope:
    def test_a_sales_rep_can_neither_read_edit_delete_nor_reach_nested_records_of_anothers_customer(
        self, sales_a: Api, others_customer: dict
    ) -> None:
        for (method, path, body), (_, missing_path, _) in zip(
            _nested_paths(others_customer), _nested_paths(MISSING), strict=True
        ):
            status = _call(sales_a, method, path, body)
            # Exactly like a missing record.
            assert status == _call(sales_a, method, missing_path, body) == 404, (method, path)

    def test_a_sales_rep_cannot_find_anothers_customer(self, sales_a: Api, others_customer: dict) -> None:
        for keyword in ("别人", "钱七", "0007", "qian@example.com", others_customer["customer_code"]):
            assert sales_a.get("/crm/customers/search", params={"keyword": keyword}).json()["total"] == 0, keyword
        assert sales_a.get("/crm/customers").json()["total"] == 0

    def test_the_owner_still_sees_it_everywhere(self, sales_b: Api, others_customer: dict) -> None:
        assert sales_b.get(f"/crm/customers/{others_customer['id']}").status_code == 200
        assert sales_b.get("/crm/customers/search", params={"keyword": "别人"}).json()["total"] == 1

    def test_a_reassigned_customer_moves_out_of_the_old_owners_scope(
        self, admin: Api, sales_a: Api, sales_b: Api, others_customer: dict
    ) -> None:
        admin.put(f"/crm/customers/{others_customer['id']}/assign_sales", {"assigned_sales_id": sales_a.user.id})
        assert sales_a.get(f"/crm/customers/{others_customer['id']}").status_code == 200
        assert sales_b.get(f"/crm/customers/{others_customer['id']}").status_code == 404


class TestManagerScope:
    def test_a_sales_manager_sees_the_customers_of_their_region_only(
        self, client: TestClient, session: Session, tenant: Tenant, admin: Api, manager_east: Api
    ) -> None:
        east = admin.create_customer(province="江苏")
        south = admin.create_customer(province="广东")
        assert manager_east.get(f"/crm/customers/{east['id']}").status_code == 200
        assert manager_east.get(f"/crm/customers/{south['id']}").status_code == 404
        listed = {c["id"] for c in manager_east.get("/crm/customers").json()["items"]}
        assert listed == {east["id"]}
        south_manager = Api(client, make_user(session, tenant, Role.SALES_MANAGER, region=Region.SOUTH))
        assert south_manager.get(f"/crm/customers/{south['id']}").status_code == 200

    def test_admin_and_analyst_see_the_whole_tenant(
        self, client: TestClient, session: Session, tenant: Tenant, sales_b: Api, others_customer: dict
    ) -> None:
        analyst = Api(client, make_user(session, tenant, Role.ANALYST))
        assert analyst.get(f"/crm/customers/{others_customer['id']}").status_code == 200
        assert analyst.get("/crm/customers").json()["total"] == 1

    def test_an_analyst_reads_but_cannot_write(
        self, client: TestClient, session: Session, tenant: Tenant, others_customer: dict
    ) -> None:
        analyst = Api(client, make_user(session, tenant, Role.ANALYST))
        response = analyst.put(f"/crm/customers/{others_customer['id']}", {"version": 1, "industry": "x"})
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
        assert analyst.post("/crm/customers", {"customer_name": "x", "customer_type": "individual"}).status_code == 403

    def test_a_service_agent_sees_the_customers_they_serve(
        self, client: TestClient, session: Session, tenant: Tenant, admin: Api
    ) -> None:
        agent = Api(client, make_user(session, tenant, Role.SERVICE_AGENT))
        served = admin.create_customer(assigned_service_id=agent.user.id)
        other = admin.create_customer()
        assert agent.get(f"/crm/customers/{served['id']}").status_code == 200
        assert agent.get(f"/crm/customers/{other['id']}").status_code == 404


class TestTenantIsolation:
    def test_another_tenants_ids_answer_404_on_every_route(self, outsider: Api, others_customer: dict) -> None:
        for method, path, body in _nested_paths(others_customer):
            assert _call(outsider, method, path, body) == 404, (method, path)

    def test_search_and_lists_never_cross_tenants(self, outsider: Api, others_customer: dict) -> None:
        assert outsider.get("/crm/customers/search", params={"keyword": "别人"}).json()["total"] == 0
        assert outsider.get("/crm/customers").json()["total"] == 0

    def test_a_deleted_customers_nested_records_are_gone_too(self, admin: Api, others_customer: dict) -> None:
        admin.delete(f"/crm/customers/{others_customer['id']}")
        for method, path, body in _nested_paths(others_customer):
            assert _call(admin, method, path, body) == 404, (method, path)


class TestCreatingInScope:
    def test_a_managers_customer_without_a_province_lands_in_their_region(self, manager_east: Api) -> None:
        created = manager_east.create_customer()
        assert created["region"] == "华东"
        assert manager_east.get(f"/crm/customers/{created['id']}").status_code == 200

    def test_a_manager_cannot_create_a_customer_they_would_not_see(self, manager_east: Api) -> None:
        response = manager_east.post(
            "/crm/customers", {"customer_name": "广州某公司", "customer_type": "enterprise", "province": "广东"}
        )
        assert response.status_code == 422
        assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [("province", "region_outside_scope")]
        assert response.json()["errors"][0]["message"] == "只能在您负责的大区（华东）创建客户"
        assert manager_east.get("/crm/customers").json()["total"] == 0
