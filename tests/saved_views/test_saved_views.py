"""Saved views of the customer list: private to their owner, checked against the list's filters."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.models import SavedView
from crm.saved_views.pages import CUSTOMER_COLUMNS
from crm.saved_views.schemas import MAX_VIEWS_PER_PAGE
from tests.factories import Api

URL = "/crm/saved_views"


def _view(api: Api, name: str = "A级客户", **fields: Any) -> dict[str, Any]:
    body = {
        "page": "customers",
        "name": name,
        "definition": {"filters": {"level": ["A"]}, "sort": "-created_at", "columns": ["customer_code"]},
        **fields,
    }
    response = api.post(URL, body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _list(api: Api) -> list[dict[str, Any]]:
    response = api.get(URL, params={"page": "customers"})
    assert response.status_code == 200, response.text
    return list(response.json())


def _errors(response: Any) -> dict[str, str]:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return {e["field"]: e["code"] for e in response.json().get("errors", [])}


class TestManagingViews:
    def test_a_view_is_created_listed_updated_and_deleted(self, sales_a: Api) -> None:
        made = _view(
            sales_a,
            name="  华东重点  ",
            definition={
                "filters": {"level": ["A", "B"], "tag": "重点", "keyword": " 华为 "},
                "sort": "-annual_revenue",
                "columns": ["customer_code", "tags", "customer_code"],
                "page_size": 50,
            },
        )
        assert made["name"] == "华东重点"
        assert made["page"] == "customers"
        assert made["is_default"] is False
        assert made["version"] == 1
        assert made["definition"] == {
            "filters": {"level": ["A", "B"], "tag": "重点", "keyword": "华为"},
            "sort": "-annual_revenue",
            "columns": ["customer_code", "tags"],
            "page_size": 50,
        }
        assert [v["id"] for v in _list(sales_a)] == [made["id"]]

        renamed = sales_a.put(f"{URL}/{made['id']}", {"name": "重点客户", "version": 1})
        assert renamed.status_code == 200, renamed.text
        assert renamed.json()["name"] == "重点客户"
        assert renamed.json()["definition"] == made["definition"]  # left out, kept
        assert renamed.json()["version"] == 2

        replaced = sales_a.put(
            f"{URL}/{made['id']}", {"definition": {"filters": {"status": ["active"]}}, "version": 2}
        ).json()
        empty = {"sort": None, "columns": [], "page_size": None}
        assert replaced["definition"] == {"filters": {"status": ["active"]}, **empty}

        assert sales_a.delete(f"{URL}/{made['id']}").status_code == 204
        assert _list(sales_a) == []
        assert sales_a.delete(f"{URL}/{made['id']}").status_code == 404

    def test_the_default_comes_first_then_by_name(self, sales_a: Api) -> None:
        _view(sales_a, name="乙")
        _view(sales_a, name="甲")
        _view(sales_a, name="默认", is_default=True)
        names = [v["name"] for v in _list(sales_a)]
        assert names[0] == "默认"
        assert names[1:] == sorted(names[1:])

    def test_a_filter_the_list_takes_as_a_query_works_when_the_view_is_applied(self, sales_a: Api) -> None:
        sales_a.create_customer(customer_level="A", tags=["重点"], assigned_sales_id=sales_a.user.id)
        sales_a.create_customer(customer_level="B", tags=["重点"], assigned_sales_id=sales_a.user.id)
        filters = _view(sales_a, definition={"filters": {"level": ["A"], "tag": "重点"}})["definition"]["filters"]
        page = sales_a.get("/crm/customers", params=filters).json()
        assert [c["customer_level"] for c in page["items"]] == ["A"]


class TestPrivacy:
    def test_another_user_of_the_same_tenant_neither_sees_nor_changes_the_view(
        self, sales_a: Api, sales_b: Api, manager_east: Api
    ) -> None:
        made = _view(sales_a)
        for other in (sales_b, manager_east):
            assert _list(other) == []
            assert other.put(f"{URL}/{made['id']}", {"name": "偷看", "version": 1}).status_code == 404
            assert other.delete(f"{URL}/{made['id']}").status_code == 404
        assert _list(sales_a)[0]["name"] == "A级客户"

    def test_the_admin_of_another_tenant_gets_404(self, sales_a: Api, outsider: Api) -> None:
        made = _view(sales_a)
        assert outsider.put(f"{URL}/{made['id']}", {"name": "x", "version": 1}).status_code == 404
        assert _list(outsider) == []

    def test_two_users_may_use_the_same_name_and_each_have_a_default(self, sales_a: Api, sales_b: Api) -> None:
        _view(sales_a, name="我的客户", is_default=True)
        _view(sales_b, name="我的客户", is_default=True)
        assert _list(sales_a)[0]["is_default"] is True
        assert _list(sales_b)[0]["is_default"] is True


class TestDefault:
    def test_a_new_default_replaces_the_previous_one(self, sales_a: Api, session: Session) -> None:
        first = _view(sales_a, name="一", is_default=True)
        second = _view(sales_a, name="二", is_default=True)
        views = {v["id"]: v for v in _list(sales_a)}
        assert views[second["id"]]["is_default"] is True
        assert views[first["id"]]["is_default"] is False
        assert views[first["id"]]["version"] == 2  # changed, so a stale edit of it is refused

        third = _view(sales_a, name="三")
        switched = sales_a.put(f"{URL}/{third['id']}", {"is_default": True, "version": 1})
        assert switched.status_code == 200, switched.text
        defaults = session.scalars(
            select(SavedView.id).where(SavedView.user_id == sales_a.user.id, SavedView.is_default.is_(True))
        ).all()
        assert defaults == [third["id"]]
        assert _list(sales_a)[0]["id"] == third["id"]

    def test_unsetting_the_default_leaves_none(self, sales_a: Api) -> None:
        made = _view(sales_a, is_default=True)
        unset = sales_a.put(f"{URL}/{made['id']}", {"is_default": False, "version": 1})
        assert unset.json()["is_default"] is False
        assert not any(v["is_default"] for v in _list(sales_a))

    def test_saving_the_default_again_as_default_changes_nothing_else(self, sales_a: Api) -> None:
        made = _view(sales_a, is_default=True)
        again = sales_a.put(f"{URL}/{made['id']}", {"is_default": True, "name": "新名", "version": 1})
        assert again.status_code == 200, again.text
        assert again.json()["is_default"] is True


class TestRefused:
    def test_a_duplicate_name_is_409_with_a_message_in_both_languages(self, sales_a: Api) -> None:
        _view(sales_a, name="重点")
        response = sales_a.post(URL, {"page": "customers", "name": " 重点 "})
        assert response.status_code == 409
        assert response.json()["code"] == "duplicate"
        assert response.json()["title"] == "视图名称已存在：重点"
        english = sales_a.post(URL, {"page": "customers", "name": "重点"}, headers={"Accept-Language": "en"})
        assert english.json()["title"] == "View name already exists: 重点"
        assert len(_list(sales_a)) == 1

    def test_renaming_to_a_taken_name_is_409(self, sales_a: Api) -> None:
        _view(sales_a, name="甲")
        other = _view(sales_a, name="乙")
        response = sales_a.put(f"{URL}/{other['id']}", {"name": "甲", "version": 1})
        assert response.status_code == 409
        assert response.json()["code"] == "duplicate"

    def test_an_invalid_filter_value_names_the_field(self, sales_a: Api) -> None:
        response = sales_a.post(URL, {"page": "customers", "name": "x", "definition": {"filters": {"level": ["Z"]}}})
        assert response.status_code == 422
        assert _errors(response) == {"definition.filters.level.0": "enum"}

        response = sales_a.post(URL, {"page": "customers", "name": "x", "definition": {"filters": {"level": "A"}}})
        assert response.status_code == 422
        assert set(_errors(response)) == {"definition.filters.level"}

        dates = {"acquired_from": "2026-02-01", "acquired_to": "2026-01-01"}
        response = sales_a.post(URL, {"page": "customers", "name": "x", "definition": {"filters": dates}})
        assert _errors(response) == {"definition.filters.acquired_to": "date_range"}

    def test_an_unknown_filter_or_one_kept_elsewhere_is_refused(self, sales_a: Api) -> None:
        for key in ("colour", "page", "page_size", "sort"):
            body = {"page": "customers", "name": "x", "definition": {"filters": {key: "1"}}}
            response = sales_a.post(URL, body)
            assert response.status_code == 422
            assert _errors(response) == {f"definition.filters.{key}": "extra_forbidden"}

    def test_an_unknown_column_or_sort_is_refused(self, sales_a: Api) -> None:
        body = {"page": "customers", "name": "x", "definition": {"columns": ["tags", "password"], "sort": "-salary"}}
        response = sales_a.post(URL, body, headers={"Accept-Language": "en"})
        assert response.status_code == 422
        assert _errors(response) == {"definition.columns.1": "column_unknown", "definition.sort": "sort_unknown"}
        messages = {e["field"]: e["message"] for e in response.json()["errors"]}
        assert messages["definition.columns.1"].startswith("Unknown column; one of customer_code")

    def test_a_bad_update_definition_changes_nothing(self, sales_a: Api) -> None:
        made = _view(sales_a)
        response = sales_a.put(f"{URL}/{made['id']}", {"definition": {"filters": {"region": "火星"}}, "version": 1})
        assert response.status_code == 422
        assert set(_errors(response)) == {"definition.filters.region"}
        assert _list(sales_a)[0]["definition"] == made["definition"]

    def test_an_empty_or_long_name_or_a_null_is_422(self, sales_a: Api) -> None:
        assert _errors(sales_a.post(URL, {"page": "customers", "name": "   "})) == {"name": "string_too_short"}
        assert _errors(sales_a.post(URL, {"page": "customers", "name": "长" * 51})) == {"name": "string_too_long"}
        assert _errors(sales_a.post(URL, {"page": "orders", "name": "x"})) == {"page": "enum"}
        made = _view(sales_a)
        assert _errors(sales_a.put(f"{URL}/{made['id']}", {"name": None, "version": 1})) == {"name": "missing"}
        assert "version" in _errors(sales_a.put(f"{URL}/{made['id']}", {"name": "y"}))

    def test_a_stale_version_is_409(self, sales_a: Api) -> None:
        made = _view(sales_a)
        assert sales_a.put(f"{URL}/{made['id']}", {"name": "新", "version": 1}).status_code == 200
        stale = sales_a.put(f"{URL}/{made['id']}", {"name": "旧", "version": 1})
        assert stale.status_code == 409
        assert stale.json()["code"] == "version_conflict"

    def test_at_most_50_views_per_user_and_page(self, sales_a: Api, sales_b: Api, session: Session) -> None:
        for n in range(MAX_VIEWS_PER_PAGE):
            session.add(
                SavedView(
                    tenant_id=sales_a.user.tenant_id, user_id=sales_a.user.id, page="customers", name=f"视图{n}",
                    definition={"filters": {}, "sort": None, "columns": [], "page_size": None}, is_default=False,
                )
            )  # fmt: skip
        session.commit()
        response = sales_a.post(URL, {"page": "customers", "name": "再来一个"})
        assert response.status_code == 422
        assert _errors(response) == {"page": "views_limit"}
        assert len(_list(sales_a)) == MAX_VIEWS_PER_PAGE
        _view(sales_b)  # the limit is per user


def test_the_column_keys_match_the_web_uis(repo_root: Path) -> None:
    source = (repo_root / "web/src/utils/columns.ts").read_text(encoding="utf-8")
    block = re.search(r"CUSTOMER_COLUMNS = \[(.*?)\] as const", source, re.S)
    assert block is not None
    assert tuple(re.findall(r"'([a-z_]+)'", block.group(1))) == CUSTOMER_COLUMNS
