"""Saved views and the tag filter on the customer list, end to end, in Chinese (see conftest.py)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Pages, Server

USER = "sales.east1"
VIEW = "我的重点客户"
LEVEL_LABEL = {"A": "A 级", "B": "B 级", "C": "C 级", "D": "D 级"}


def _delete_views(server: Server) -> None:
    with server.api(USER) as api:
        for view in api.get("/crm/saved_views", params={"page": "customers"}).json():
            assert api.delete(f"/crm/saved_views/{view['id']}").status_code == 204


@pytest.fixture
def no_views(server: Server) -> Iterator[None]:
    """The rep starts without views and leaves none: a default view would change other scenarios' lists."""
    _delete_views(server)
    yield
    _delete_views(server)


def level_and_tag(server: Server) -> tuple[str, str, int]:
    """A level and a tag that some, but not all, of the rep's customers have together, and how many do."""
    with server.api(USER) as api:
        rows = api.get("/crm/customers", params={"page_size": 100}).json()["items"]
    pairs = Counter((c["customer_level"], tag) for c in rows for tag in c["tags"])
    for (level, tag), count in pairs.most_common():
        if count < len(rows):
            return level, tag, count
    pytest.fail(f"the demo data gives {USER} no customer with a tag")


def pick(page: Page, select_test_id: str | None, label: str, option: str) -> None:
    select = (
        page.get_by_test_id(select_test_id)
        if select_test_id
        else page.locator(".filter-form .el-form-item", has_text=label).locator(".el-select")
    )
    select.click()
    page.locator(".el-select-dropdown:visible .el-select-dropdown__item", has_text=option).first.click()


def expect_only(page: Page, level: str, tag: str, count: int) -> None:
    table = page.get_by_test_id("customer-table")
    expect(page.get_by_test_id("customer-total")).to_contain_text(f"共 {count} 个客户")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(min(count, 20))
    for text in table.locator("tbody tr .level-tag").all_inner_texts():
        assert text == LEVEL_LABEL[level]
    for cells in table.locator("tbody tr .tags-cell").all_inner_texts():
        assert tag in cells


class TestSavedViews:
    def test_a_rep_saves_a_default_view_that_comes_back_then_deletes_it(
        self, ui: Pages, page: Page, server: Server, no_views: None
    ) -> None:
        level, tag, count = level_and_tag(server)
        ui.signed_in(USER, "/customers")
        expect(page.get_by_test_id("customer-table").locator("tbody tr").first).to_be_visible()

        pick(page, None, "客户等级", LEVEL_LABEL[level])
        page.keyboard.press("Escape")
        page.get_by_test_id("tag-filter").click()
        page.keyboard.type(tag)
        page.locator(".el-select-dropdown:visible .el-select-dropdown__item", has_text=tag).first.click()
        expect(page).to_have_url(re.compile(rf"level={level}.*tag="))
        expect_only(page, level, tag, count)

        page.get_by_test_id("saved-views-button").click()
        expect(page.get_by_text("还没有保存的视图")).to_be_visible()
        page.get_by_test_id("saved-view-save").click()
        page.get_by_test_id("saved-view-name").fill(VIEW)
        page.get_by_test_id("saved-view-default").click()
        page.get_by_test_id("saved-view-submit").click()
        expect(page.get_by_text("视图已保存")).to_be_visible()
        expect(page.get_by_test_id("saved-views-button")).to_have_text(VIEW)

        # The same name again: the server's message on the name field, nothing saved.
        page.get_by_test_id("saved-views-button").click()
        page.get_by_test_id("saved-view-save").click()
        page.get_by_test_id("saved-view-name").fill(VIEW)
        page.get_by_test_id("saved-view-submit").click()
        expect(page.locator(".el-form-item__error")).to_have_text(f"视图名称已存在：{VIEW}")
        page.get_by_role("dialog", name="保存当前视图").get_by_role("button", name="取消").click()

        # Opened again without anything in the URL: the default view applies.
        ui.open("/customers")
        expect(page).to_have_url(re.compile(rf"/customers\?level={level}&tag="))
        expect_only(page, level, tag, count)
        expect(page.get_by_test_id("saved-views-button")).to_have_text(VIEW)
        ui.screenshot("saved-views")

        page.get_by_test_id("saved-views-button").click()
        menu = page.locator(".el-dropdown-menu:visible")
        expect(menu.locator(".el-dropdown-menu__item", has_text=VIEW)).to_contain_text("默认")
        page.get_by_test_id("saved-view-manage").click()
        views = page.get_by_test_id("saved-views-table")
        views.get_by_role("button", name="删除").click()
        box = page.locator(".el-message-box")
        expect(box).to_contain_text(f"确定删除视图“{VIEW}”吗？")
        box.get_by_role("button", name="删除").click()
        expect(page.get_by_text("视图已删除")).to_be_visible()
        expect(views).to_contain_text("还没有保存的视图")
        page.get_by_role("dialog", name="管理我的视图").get_by_role("button", name="关闭").first.click()

        ui.open("/customers")
        expect(page.get_by_test_id("customer-table").locator("tbody tr").first).to_be_visible()
        expect(page).to_have_url(re.compile(r"/customers$"))
        expect(page.get_by_test_id("saved-views-button")).to_have_text("视图")
