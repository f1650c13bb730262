"""Keyword search and filters; on PostgreSQL the keyword is answered from the GIN index."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, insert, text
from sqlalchemy.orm import Session

from crm.config import settings
from crm.customers import repository
from crm.kit import search
from crm.kit.db import utcnow
from crm.models import Customer, CustomerSearch, Tenant
from crm.models.enums import Role
from tests.factories import Api, make_user, mobile
from tests.sqlcapture import captured_sql, explain_all


def _names(api: Api, **params: Any) -> list[str]:
    response = api.get("/crm/customers/search", params=params)
    assert response.status_code == 200, response.text
    return [c["customer_name"] for c in response.json()["items"]]


@pytest.fixture
def companies(admin: Api) -> dict[str, dict]:
    made = {}
    for name, contact, phone, email in [
        ("华为技术有限公司", "任正", mobile(11112222), "ren@huawei.example"),
        ("北京华联商厦", "张伟", mobile(33334444), None),
        ("深圳市腾讯计算机系统有限公司", "马化", "0755-86013388", "pony@qq.example"),
        ("上海为技软件", "李为", None, None),
    ]:
        made[name] = admin.create_customer(
            customer_name=name,
            contacts=[{"contact_name": contact, "contact_phone": phone, "contact_email": email}],
        )
    return made


class TestKeyword:
    def test_a_two_character_chinese_keyword_finds_its_customers(self, admin: Api, companies: dict) -> None:
        assert _names(admin, keyword="华为") == ["华为技术有限公司"]

    def test_a_single_character_finds_every_customer_containing_it(self, admin: Api, companies: dict) -> None:
        assert set(_names(admin, keyword="华")) == {"华为技术有限公司", "北京华联商厦"}

    def test_longer_chinese_keywords_must_appear_as_written(self, admin: Api, companies: dict) -> None:
        assert _names(admin, keyword="为技术") == ["华为技术有限公司"]
        assert _names(admin, keyword="华技") == []  # characters present, but not adjacent

    def test_contact_names_phones_last_four_digits_and_emails_are_searched(self, admin: Api, companies: dict) -> None:
        assert _names(admin, keyword="张伟") == ["北京华联商厦"]
        assert _names(admin, keyword=mobile(33334444)) == ["北京华联商厦"]
        assert _names(admin, keyword="4444") == ["北京华联商厦"]
        assert _names(admin, keyword="3388") == ["深圳市腾讯计算机系统有限公司"]
        assert _names(admin, keyword="0755-86013388") == ["深圳市腾讯计算机系统有限公司"]
        assert _names(admin, keyword="86013388") == ["深圳市腾讯计算机系统有限公司"]  # a landline's local number
        assert _names(admin, keyword="Pony@QQ.example") == ["深圳市腾讯计算机系统有限公司"]

    def test_phones_and_emails_are_found_only_whole_because_they_are_indexed_blind(
        self, admin: Api, companies: dict
    ) -> None:
        assert _names(admin, keyword="PONY") == []
        assert _names(admin, keyword=mobile(33334444)[:7]) == []

    def test_the_customer_code_is_searched(self, admin: Api, companies: dict) -> None:
        code = companies["北京华联商厦"]["customer_code"]
        assert _names(admin, keyword=code) == ["北京华联商厦"]
        assert _names(admin, keyword=code.lower()) == ["北京华联商厦"]

    def test_exact_code_ranks_first_then_name_prefix_then_other_matches(self, admin: Api) -> None:
        admin.create_customer(customer_name="Big ACME Corp")
        admin.create_customer(customer_name="ACME Trading")
        admin.create_customer(customer_name="某贸易公司", customer_code="ACME")
        assert _names(admin, keyword="acme") == ["某贸易公司", "ACME Trading", "Big ACME Corp"]

    def test_an_exact_phone_ranks_before_name_matches(self, admin: Api) -> None:
        phone = mobile(55556666)
        admin.create_customer(customer_name=f"{phone}号店")
        admin.create_customer(customer_name="某公司", contacts=[{"contact_name": "甲", "contact_phone": phone}])
        assert _names(admin, keyword=phone) == ["某公司", f"{phone}号店"]

    def test_wildcards_and_punctuation_match_literally(self, admin: Api, companies: dict) -> None:
        assert _names(admin, keyword="%") == []
        assert _names(admin, keyword="_") == []
        assert _names(admin, keyword="!!!") == []

    def test_rare_characters_of_cjk_extensions_beyond_the_bmp_are_searched(self, admin: Api) -> None:
        admin.create_customer(customer_name="𠀀𪚥贸易有限公司")
        admin.create_customer(customer_name="𪚥记餐饮")
        assert set(_names(admin, keyword="𪚥")) == {"𠀀𪚥贸易有限公司", "𪚥记餐饮"}
        assert _names(admin, keyword="𠀀𪚥贸易") == ["𠀀𪚥贸易有限公司"]
        assert _names(admin, keyword="𪚥贸") == ["𠀀𪚥贸易有限公司"]

    def test_full_width_and_case_do_not_matter(self, admin: Api, companies: dict) -> None:
        assert _names(admin, keyword="ＲＥＮ＠ＨＵＡＷＥＩ．ＥＸＡＭＰＬＥ") == ["华为技术有限公司"]
        assert _names(admin, keyword="ＲＥＮ") == []  # contact names are words; e-mails are only whole

    def test_a_renamed_customer_is_found_by_its_new_name(self, admin: Api, companies: dict) -> None:
        customer = companies["上海为技软件"]
        admin.put(f"/crm/customers/{customer['id']}", {"version": 1, "customer_name": "上海新名字软件"})
        assert _names(admin, keyword="新名") == ["上海新名字软件"]
        assert _names(admin, keyword="为技软") == []

    def test_a_new_contact_makes_the_customer_findable_by_it(self, admin: Api, companies: dict) -> None:
        customer = companies["上海为技软件"]
        admin.post(
            f"/crm/customers/{customer['id']}/contacts", {"contact_name": "欧阳娜娜", "contact_phone": mobile(98765)}
        )
        assert _names(admin, keyword="欧阳") == ["上海为技软件"]
        assert _names(admin, keyword="8765") == ["上海为技软件"]


class TestLookupsThatWouldConfirmAMaskedValue:
    """A whole phone or e-mail as the keyword confirms a value the list shows masked (139****4444 has
    10,000 candidates): roles that cannot reveal personal data may not look customers up that way."""

    @pytest.fixture(params=[Role.MARKETER, Role.ANALYST])
    def reader(self, request: pytest.FixtureRequest, client: TestClient, session: Session, tenant: Tenant) -> Api:
        return Api(client, make_user(session, tenant, request.param))

    @pytest.mark.parametrize(
        "keyword", [mobile(33334444), "+86 139 3333 4444", "0755-86013388", "86013388", "Pony@QQ.example"]
    )
    def test_a_role_that_cannot_reveal_is_refused_a_whole_phone_or_email(
        self, reader: Api, companies: dict, keyword: str
    ) -> None:
        for path in ("/crm/customers", "/crm/customers/search", "/crm/customers/export"):
            response = reader.get(path, params={"keyword": keyword})
            assert response.status_code == 403, (path, response.text)
            body = response.json()
            assert body["code"] == "pii_search_denied"
            assert (body["errors"][0]["field"], body["errors"][0]["location"]) == ("keyword", "query")

    def test_the_last_four_digits_stay_open_because_every_masked_phone_shows_them(
        self, reader: Api, companies: dict
    ) -> None:
        assert _names(reader, keyword="4444") == ["北京华联商厦"]
        shown = reader.get(f"/crm/customers/{companies['北京华联商厦']['id']}").json()["contacts"][0]
        assert shown["contact_phone"] == "139****4444"

    def test_names_and_codes_stay_open(self, reader: Api, companies: dict) -> None:
        assert _names(reader, keyword="张伟") == ["北京华联商厦"]
        assert _names(reader, keyword=companies["北京华联商厦"]["customer_code"]) == ["北京华联商厦"]

    def test_roles_that_may_reveal_find_customers_by_phone_and_email(self, admin: Api, companies: dict) -> None:
        assert _names(admin, keyword=mobile(33334444)) == ["北京华联商厦"]
        assert _names(admin, keyword="pony@qq.example") == ["深圳市腾讯计算机系统有限公司"]


class TestFilters:
    def test_filters_combine_with_each_other_and_the_keyword(self, admin: Api, sales_a: Api) -> None:
        admin.create_customer(
            customer_name="华东甲",
            customer_level="A",
            province="江苏",
            industry="制造业",
            tags=["重点客户"],
            acquisition_date="2025-03-01",
            assigned_sales_id=sales_a.user.id,
        )
        admin.create_customer(
            customer_name="华东乙", customer_level="B", province="江苏", industry="金融", acquisition_date="2024-01-01"
        )
        admin.create_customer(
            customer_name="华南丙",
            customer_level="A",
            province="广东",
            customer_type="individual",
            customer_status="inactive",
            tags=["重点客户", "VIP"],
        )
        assert set(_names(admin, level="A")) == {"华东甲", "华南丙"}
        assert set(_names(admin, level=["A", "B"], province="江苏")) == {"华东甲", "华东乙"}
        assert _names(admin, status="inactive") == ["华南丙"]
        assert _names(admin, type="individual") == ["华南丙"]
        assert _names(admin, industry="金融") == ["华东乙"]
        assert set(_names(admin, tag="重点客户")) == {"华东甲", "华南丙"}
        assert _names(admin, tag="VIP") == ["华南丙"]
        assert _names(admin, region="华南") == ["华南丙"]
        assert _names(admin, assigned_sales_id=sales_a.user.id) == ["华东甲"]
        assert _names(admin, acquired_from="2025-01-01", acquired_to="2025-12-31") == ["华东甲"]
        assert _names(admin, keyword="华东", level="B") == ["华东乙"]
        assert _names(admin, keyword="华", tag="VIP", status="inactive") == ["华南丙"]

    def test_the_list_endpoint_takes_the_same_filters(self, admin: Api) -> None:
        admin.create_customer(customer_name="甲", customer_level="A")
        admin.create_customer(customer_name="乙", customer_level="C")
        body = admin.get("/crm/customers", params={"level": "C"}).json()
        assert [c["customer_name"] for c in body["items"]] == ["乙"]

    def test_a_reversed_date_range_names_the_field(self, admin: Api) -> None:
        response = admin.get(
            "/crm/customers/search", params={"acquired_from": "2025-02-01", "acquired_to": "2025-01-01"}
        )
        assert response.status_code == 422
        assert [(e["field"], e["location"], e["code"]) for e in response.json()["errors"]] == [
            ("acquired_to", "query", "date_range")
        ]

    def test_an_unknown_level_names_the_field(self, admin: Api) -> None:
        response = admin.get("/crm/customers/search", params={"level": "Z"})
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"].startswith("level")


@pytest.mark.postgresql_only
class TestIndexUse:
    @pytest.fixture
    def connection(self, owner_engine: Engine) -> Iterator[Connection]:
        """As the tables' owner: only the owner may ANALYZE them, which these plans need."""
        with owner_engine.connect() as conn:
            outer = conn.begin()
            yield conn
            outer.rollback()

    @pytest.fixture
    def crowded(self, admin: Api, companies: dict, session: Session) -> None:
        """Enough other customers that a sequential scan would be the wrong plan."""
        rows, names = [], []
        for i in range(5000):
            name = f"填充贸易{i}号"
            names.append(name)
            rows.append(
                {
                    "tenant_id": admin.user.tenant_id,
                    "customer_code": f"F{i:07d}",
                    "customer_name": name,
                    "customer_type": "enterprise",
                    "customer_level": "D",
                    "customer_status": "active",
                    "tags": [],
                    "created_by": admin.user.id,
                    "version": 1,
                    "created_at": utcnow(),
                    "updated_at": utcnow(),
                }
            )
        ids = session.scalars(insert(Customer).returning(Customer.id, sort_by_parameter_order=True), rows).all()
        session.execute(
            insert(CustomerSearch),
            [
                {
                    "customer_id": customer_id,
                    "search_tokens": search.index_tokens([name, f"F{i:07d}"]),
                    "search_text": search.search_text([name]),
                }
                for i, (customer_id, name) in enumerate(zip(ids, names, strict=True))
            ],
        )
        session.execute(text("ANALYZE customers"))
        session.execute(text("ANALYZE customer_search"))

    @pytest.mark.parametrize("keyword", ["华为", "华", "4444", "ren@huawei.example", "华为技术", "填充"])
    def test_postgresql_answers_keywords_from_the_gin_index(
        self, admin: Api, crowded: None, session: Session, owner_engine: Engine, keyword: str
    ) -> None:
        with captured_sql(owner_engine) as statements:
            assert _names(admin, keyword=keyword)
        plans = explain_all(session.connection(), statements, keep=lambda sql: "search_tokens" in sql)
        assert plans
        for statement, plan in plans:
            assert "Seq Scan on customers" not in plan, f"{statement}\n{plan}"
            assert "Seq Scan on customer_search" not in plan, f"{statement}\n{plan}"
        assert any("ix_customer_search_tokens" in plan for _, plan in plans)


class TestBroadKeywords:
    """Past the ranking limit, answers stay cheap: exact matches first, then newest first."""

    @pytest.fixture
    def small_limits(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(settings, "search_rank_limit", 3)

    def test_a_broad_keyword_lists_exact_matches_first_then_the_newest(self, admin: Api, small_limits: None) -> None:
        made = [admin.create_customer(customer_name=f"科技{n}号公司") for n in range(6)]
        exact = admin.create_customer(customer_name="老客户", customer_code="KJ")
        body = admin.get("/crm/customers/search", params={"keyword": "kj", "page_size": 2}).json()
        assert [c["customer_name"] for c in body["items"]] == ["老客户"]
        body = admin.get("/crm/customers/search", params={"keyword": "科技", "page_size": 4}).json()
        assert (body["total"], body["total_exact"]) == (3, False)
        assert [c["id"] for c in body["items"]] == [c["id"] for c in made[::-1][:4]]
        page2 = admin.get("/crm/customers/search", params={"keyword": "科技", "page_size": 4, "page": 2}).json()
        assert [c["id"] for c in page2["items"]] == [c["id"] for c in made[::-1][4:]]
        assert exact["id"] not in {c["id"] for c in body["items"] + page2["items"]}

    def test_names_starting_with_a_broad_keyword_come_before_other_matches(
        self, admin: Api, small_limits: None
    ) -> None:
        inside = [admin.create_customer(customer_name=f"深圳科技{n}") for n in range(3)]
        starting = [admin.create_customer(customer_name=f"科技先锋{n}") for n in range(2)]
        inside += [admin.create_customer(customer_name=f"北京科技{n}") for n in range(3)]
        body = admin.get("/crm/customers/search", params={"keyword": "科技", "page_size": 4}).json()
        expected = [c["id"] for c in starting[::-1] + inside[::-1]]
        assert [c["id"] for c in body["items"]] == expected[:4]
        page2 = admin.get("/crm/customers/search", params={"keyword": "科技", "page_size": 4, "page": 2}).json()
        assert [c["id"] for c in page2["items"]] == expected[4:]

    def test_many_names_starting_with_the_keyword_are_paged_newest_first(self, admin: Api, small_limits: None) -> None:
        starting = [admin.create_customer(customer_name=f"科技先锋{n}") for n in range(6)]
        admin.create_customer(customer_name="北京科技")
        body = admin.get("/crm/customers/search", params={"keyword": "科技", "page_size": 5}).json()
        assert [c["id"] for c in body["items"]] == [c["id"] for c in starting[::-1][:5]]

    def test_an_exact_match_leads_even_among_many_matches(self, admin: Api, small_limits: None) -> None:
        for n in range(5):
            admin.create_customer(customer_name=f"ACME {n}")
        target = admin.create_customer(customer_name="某公司", customer_code="ACME")
        for n in range(5):
            admin.create_customer(customer_name=f"ACME later {n}")
        body = admin.get("/crm/customers/search", params={"keyword": "acme"}).json()
        assert body["items"][0]["id"] == target["id"]
        assert body["total_exact"] is False

    def test_old_matches_behind_many_newer_customers_are_still_found_in_order(
        self, admin: Api, small_limits: None, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(repository, "MIN_WINDOW", 2)  # so that windows of ids must grow
        old = [admin.create_customer(customer_name=f"旧展会客户{n}") for n in range(5)]
        for n in range(12):
            admin.create_customer(customer_name=f"新客户{n}")
        body = admin.get("/crm/customers/search", params={"keyword": "展会", "page_size": 3}).json()
        assert body["total_exact"] is False
        assert [c["id"] for c in body["items"]] == [c["id"] for c in old[::-1][:3]]
        page2 = admin.get("/crm/customers/search", params={"keyword": "展会", "page_size": 3, "page": 2}).json()
        assert [c["id"] for c in page2["items"]] == [c["id"] for c in old[::-1][3:]]

    def test_few_matches_are_counted_exactly(self, admin: Api, small_limits: None) -> None:
        admin.create_customer(customer_name="唯一的公司")
        body = admin.get("/crm/customers/search", params={"keyword": "唯一"}).json()
        assert (body["total"], body["total_exact"]) == (1, True)

    def test_long_lists_count_a_few_pages_ahead_and_exactly_on_request(self, admin: Api) -> None:
        for _ in range(13):
            admin.create_customer()

        def total(**params: object) -> tuple[int, bool, int]:
            body = admin.get("/crm/customers", params={"page_size": 2, **params}).json()
            return body["total"], body["total_exact"], len(body["items"])

        assert total(page=1) == (10, False, 2)  # five pages past the first: "10+"
        assert total(page=5) == (13, True, 2)  # the end is within five pages
        assert total(page=7) == (13, True, 1)  # the last page tells the total by itself
        assert total(page=1, exact_total=True) == (13, True, 2)

    def test_a_sorted_keyword_search_uses_the_sort(self, admin: Api) -> None:
        admin.create_customer(customer_name="华甲", annual_revenue="10")
        admin.create_customer(customer_name="华乙", annual_revenue="30")
        assert _names(admin, keyword="华", sort="-annual_revenue") == ["华乙", "华甲"]
