"""The dashboard's customer figures, counted by hand on a small book of customers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from crm.kit.regions import Region
from crm.models import Customer, Tenant
from crm.models.enums import Role
from tests.factories import Api, make_user

URL = "/crm/analytics/dashboard"

# The admin's book (province → region):
#   A  上海 (华东)  acquired 2026-09-30
#   B  江苏 (华东)  acquired 2026-10-01
#   B  广东 (华南)  acquired 2026-10-31
#   C  no province  no acquisition date, entered 2026-10-31 17:00 UTC = 2026-11-01 in Shanghai
# and a sales rep's own two (华东): D acquired 2026-11-15, C acquired 2025-12-31.
ENTERED = datetime(2026, 10, 31, 17, 0, tzinfo=UTC)


def _figures(answer: Any) -> tuple[dict[str, int], dict[str | None, int], dict[str, int]]:
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return (
        {row["level"]: row["count"] for row in body["by_level"]},
        {row["region"]: row["count"] for row in body["by_region"]},
        {row["month"]: row["count"] for row in body["new_by_month"]},
    )


@pytest.fixture
def book(admin: Api, sales_a: Api, session: Session) -> None:
    admin.create_customer(customer_level="A", province="上海市", acquisition_date="2026-09-30")
    admin.create_customer(customer_level="B", province="江苏省", acquisition_date="2026-10-01")
    admin.create_customer(customer_level="B", province="广东省", acquisition_date="2026-10-31")
    undated = admin.create_customer(customer_level="C")
    session.execute(update(Customer).where(Customer.id == undated["id"]).values(created_at=ENTERED))
    session.commit()
    sales_a.create_customer(customer_level="D", province="浙江省", acquisition_date="2026-11-15")
    sales_a.create_customer(customer_level="C", province="浙江省", acquisition_date="2025-12-31")


@pytest.mark.usefixtures("book")
class TestCounts:
    def test_the_book_by_level_and_region_with_zeros(self, admin: Api) -> None:
        levels, regions, _ = _figures(admin.get(URL))
        assert levels == {"A": 1, "B": 2, "C": 2, "D": 1}
        assert regions == {"华东": 4, "华南": 1, "华北": 0, "华中": 0, "西南": 0, "西北": 0, "东北": 0, None: 1}
        assert admin.get(URL).json()["total"] == 6

    def test_new_customers_per_business_month_of_the_period(self, admin: Api) -> None:
        answer = admin.get(URL, params={"acquired_from": "2026-08-01", "acquired_to": "2026-11-30"})
        _, _, months = _figures(answer)
        # The undated customer counts in November: the day it was entered, in Shanghai.
        assert months == {"2026-08": 0, "2026-09": 1, "2026-10": 2, "2026-11": 2}
        assert answer.json()["new_total"] == 5

    def test_the_period_bounds_are_inclusive_business_dates(self, admin: Api) -> None:
        _, _, months = _figures(admin.get(URL, params={"acquired_from": "2026-10-01", "acquired_to": "2026-10-31"}))
        assert months == {"2026-10": 2}
        _, _, months = _figures(admin.get(URL, params={"acquired_from": "2026-11-01", "acquired_to": "2026-11-01"}))
        assert months == {"2026-11": 1}

    def test_without_a_period_the_months_span_the_data(self, admin: Api) -> None:
        _, _, months = _figures(admin.get(URL))
        assert next(iter(months)) == "2025-12"
        assert list(months)[-1] == "2026-11"
        assert len(months) == 12
        assert sum(months.values()) == 6
        assert months["2026-01"] == 0

    def test_a_region_narrows_every_figure(self, admin: Api) -> None:
        levels, regions, months = _figures(admin.get(URL, params={"region": "华东"}))
        assert levels == {"A": 1, "B": 1, "C": 1, "D": 1}
        assert regions["华东"] == 4
        assert regions["华南"] == 0
        assert None not in regions
        assert sum(months.values()) == 4

    def test_deleted_customers_are_not_counted(self, admin: Api) -> None:
        first = admin.get("/crm/customers", params={"level": "A"}).json()["items"][0]
        assert admin.delete(f"/crm/customers/{first['id']}").status_code == 204
        levels, _, _ = _figures(admin.get(URL))
        assert levels["A"] == 0


@pytest.mark.usefixtures("book")
class TestPermission:
    """The dashboard needs analytics.read: managers, analysts and admins, not sales reps or service agents."""

    def test_a_sales_rep_is_refused_with_a_403_problem(self, sales_a: Api) -> None:
        for url in (URL, "/crm/service_records/statistics"):
            answer = sales_a.get(url, headers={"Accept-Language": "zh-CN"})
            assert answer.status_code == 403, url
            assert answer.headers["content-type"].startswith("application/problem+json")
            assert answer.json()["status"] == 403

    def test_a_service_agent_is_refused_the_dashboard_but_keeps_the_desks_statistics(
        self, client: TestClient, session: Session, tenant: Tenant
    ) -> None:
        agent = Api(client, make_user(session, tenant, Role.SERVICE_AGENT))
        assert agent.get(URL).status_code == 403
        assert agent.get("/crm/service_records/statistics").status_code == 200

    @pytest.mark.parametrize("role", [Role.SALES_MANAGER, Role.SERVICE_MANAGER, Role.ANALYST, Role.ADMIN])
    def test_managers_analysts_and_admins_see_it(
        self, client: TestClient, session: Session, tenant: Tenant, role: Role
    ) -> None:
        reader = Api(client, make_user(session, tenant, role, region=Region.EAST))
        assert reader.get(URL).status_code == 200
        assert reader.get("/crm/service_records/statistics").status_code == 200


@pytest.mark.usefixtures("book")
class TestScope:
    def test_a_manager_counts_their_region(self, manager_east: Api) -> None:
        _, regions, _ = _figures(manager_east.get(URL))
        assert regions == {"华东": 4, "华南": 0, "华北": 0, "华中": 0, "西南": 0, "西北": 0, "东北": 0}

    def test_another_tenant_sees_nothing(self, outsider: Api) -> None:
        assert outsider.get(URL).json()["total"] == 0


class TestValidation:
    @pytest.mark.parametrize(
        "params",
        [
            {"acquired_from": "2026-13-01"},
            {"acquired_to": "yesterday"},
            {"acquired_from": "2026-11-02", "acquired_to": "2026-11-01"},
            {"region": "火星"},
        ],
    )
    def test_a_bad_query_value_is_a_422_problem(self, admin: Api, params: dict[str, str]) -> None:
        answer = admin.get(URL, params=params)
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["errors"]

    def test_signing_in_is_required(self, admin: Api) -> None:
        assert admin.client.get(f"/api/v1{URL}").status_code == 401
