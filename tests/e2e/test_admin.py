"""Administration and the analytics dashboard end to end, in Chinese (see conftest.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Pages, Server


class TestUsers:
    def test_admin_creates_a_user_after_fixing_the_servers_validation_error(self, ui: Pages, page: Page) -> None:
        ui.signed_in("admin")
        menu = page.get_by_role("navigation")
        menu.get_by_text("系统管理").click()
        menu.get_by_text("用户与角色").click()
        expect(page).to_have_url(re.compile(r"/admin/users$"))
        table = page.get_by_test_id("user-table")
        expect(table.get_by_text("sales.east1", exact=True)).to_be_visible()
        ui.screenshot("admin-users")

        page.get_by_test_id("new-user").click()
        dialog = page.get_by_test_id("user-dialog")
        dialog.locator("#u-username").fill("e2e.newrep")
        dialog.locator("#u-name").fill("端到端新人")
        dialog.locator("#u-password").fill("short-pass")  # 10 characters: the server wants 12
        page.get_by_test_id("save-user").click()
        password = dialog.locator(".el-form-item", has=page.locator("#u-password"))
        expect(password.locator(".el-form-item__error")).to_contain_text("12")
        ui.screenshot("admin-user-error")

        dialog.locator("#u-password").fill("a-long-enough-password")
        page.get_by_test_id("save-user").click()
        expect(dialog).to_be_hidden()
        expect(table.get_by_text("e2e.newrep", exact=True)).to_be_visible()

        # Disabling asks first.
        row = table.locator(".el-table__row", has_text="e2e.newrep")
        row.get_by_role("button", name="停用").click()
        box = page.get_by_role("dialog", name="请确认")
        expect(box).to_contain_text("端到端新人")
        box.get_by_role("button", name="停用").click()
        expect(row).to_contain_text("已停用")


@pytest.fixture
def grading_restored(server: Server) -> Iterator[None]:
    """The scenario changes a grading threshold of the shared demo tenant: put it back after."""
    with server.api("admin") as admin:
        before = admin.get("/crm/settings").json()["grading"]
        yield
        assert admin.put("/crm/settings", json={"grading": before}).status_code == 200


class TestBusinessRules:
    @pytest.mark.usefixtures("grading_restored")
    def test_admin_changes_a_grading_threshold_and_sees_it_after_reload(self, ui: Pages, page: Page) -> None:
        ui.signed_in("admin", "/admin/rules")
        threshold = page.locator("#g-c_spend")
        expect(threshold).to_have_value("50,000.00")
        # Above B's threshold: the server refuses, and says why.
        threshold.fill("300000")
        page.get_by_test_id("save-tab").click()
        expect(page.get_by_test_id("section-error")).to_be_visible()
        threshold.fill("60000")
        expect(threshold).to_have_value("60,000")
        page.get_by_test_id("save-tab").click()
        expect(page.get_by_text("客户分级阈值已保存")).to_be_visible()
        expect(threshold).to_have_value("60,000.00")
        page.reload()
        expect(page.locator("#g-c_spend")).to_have_value("60,000.00")
        ui.screenshot("admin-rules")

    def test_each_tab_opens_with_the_tenants_values(self, ui: Pages, page: Page) -> None:
        ui.signed_in("admin", "/admin/rules")
        page.get_by_test_id("tab-calendar").click()
        expect(page.get_by_label("周一")).to_be_checked()
        expect(page.get_by_label("周日")).not_to_be_checked()
        page.get_by_test_id("tab-masking").click()
        expect(page.get_by_text("联系电话")).to_be_visible()
        expect(page.get_by_test_id("save-tab")).to_be_disabled()


@pytest.fixture
def assignment_restored(server: Server) -> Iterator[None]:
    with server.api("admin") as admin:
        before = admin.get("/crm/settings").json()["assignment"]
        yield
        assert admin.put("/crm/settings", json={"assignment": before}).status_code == 200


class TestRegionsAndTeams:
    @pytest.mark.usefixtures("assignment_restored")
    def test_admin_sees_who_belongs_and_sets_a_regions_service_team(
        self, ui: Pages, page: Page, server: Server
    ) -> None:
        ui.signed_in("admin", "/admin/regions")
        east = page.get_by_test_id("region-table").locator(".el-table__row", has_text="华东").first
        expect(east).to_contain_text("销售")
        expect(page.get_by_test_id("team-客服一组")).to_contain_text("客服专员")
        ui.screenshot("admin-regions")
        page.get_by_test_id("region-team-华东").click()
        page.locator(".el-select-dropdown__item:visible", has_text="客服一组").first.click()
        page.get_by_test_id("save-region-teams").click()
        expect(page.get_by_text("分配规则已保存")).to_be_visible()
        with server.api("admin") as admin:
            assert admin.get("/crm/settings").json()["assignment"]["region_teams"]["华东"] == "客服一组"


class TestDashboard:
    def test_a_manager_sees_the_charts_with_the_apis_level_counts(self, ui: Pages, page: Page, server: Server) -> None:
        with server.api("manager.east") as manager:
            answer = manager.get("/crm/analytics/dashboard")
            assert answer.status_code == 200, answer.text
            levels = {row["level"]: row["count"] for row in answer.json()["by_level"]}
        ui.signed_in("manager.east")
        page.get_by_role("navigation").get_by_text("数据分析").click()
        expect(page).to_have_url(re.compile(r"/analytics$"))
        expect(page.get_by_text("客户等级分布（当前）")).to_be_visible()
        expect(page.locator("canvas")).to_have_count(6)  # with the churn-risk chart
        for level, count in levels.items():
            expect(page.get_by_test_id(f"level-count-{level}")).to_contain_text(str(count))
        expect(page.get_by_test_id("total-customers")).to_contain_text(str(sum(levels.values())))
        ui.screenshot("analytics")

    def test_a_region_filters_the_service_and_churn_figures_too(self, ui: Pages, page: Page, server: Server) -> None:
        # The dashboard's default period: the last 12 business months, Beijing time, the end excluded.
        today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
        first = (today.year * 12 + today.month - 1) - 11
        period = {
            "created_from": f"{first // 12:04d}-{first % 12 + 1:02d}-01T00:00:00+08:00",
            "created_to": f"{(first + 12) // 12:04d}-{(first + 12) % 12 + 1:02d}-01T00:00:00+08:00",
        }
        with server.api("admin") as admin:

            def figures(**region: str) -> tuple[int, dict[str, int]]:
                stats = admin.get("/crm/service_records/statistics", params=period | region).json()
                summary = admin.get("/crm/churn_warnings/summary", params=region).json()
                return stats["overall"]["tickets"], {row["risk_level"]: row["count"] for row in summary["active"]}

            everywhere, south = figures(), figures(region="华南")
        # The demo has tickets and warnings outside 华南 too, so the filtered figures differ.
        assert everywhere[0] > south[0]
        assert everywhere[1] != south[1]
        ui.signed_in("admin", "/analytics")
        tickets = page.get_by_test_id("tickets").locator(".el-statistic__number")
        expect(tickets).to_have_text(f"{everywhere[0]:,}")
        page.get_by_test_id("region").click()
        page.get_by_role("option", name="华南").click()
        page.get_by_role("button", name="查询").click()
        expect(tickets).to_have_text(f"{south[0]:,}")
        for risk, count in south[1].items():
            expect(page.get_by_test_id(f"churn-{risk}").locator("strong")).to_have_text(str(count))
        expect(page.get_by_text("不按区域筛选")).to_have_count(0)


class TestAdminMenu:
    def test_a_sales_rep_sees_no_administration(self, ui: Pages, page: Page) -> None:
        ui.signed_in("sales.east1")
        menu = page.get_by_role("navigation")
        expect(menu.get_by_text("客户管理")).to_be_visible()
        expect(menu.get_by_text("系统管理")).to_have_count(0)
        expect(menu.get_by_text("数据分析")).to_have_count(0)  # no analytics.read
        ui.open("/admin/rules")
        expect(page).to_have_url(re.compile(r"/forbidden$"))
        ui.open("/analytics")
        expect(page).to_have_url(re.compile(r"/forbidden$"))
        ui.open("/service-desk")
        expect(page.get_by_test_id("ticket-table")).to_be_visible()
        expect(page.get_by_role("button", name="服务统计")).to_have_count(0)
