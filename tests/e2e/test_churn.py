"""Churn warnings end to end, in Chinese (see conftest.py): workbench, the 流失预警 page, 360, rules, dashboard."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Pages, Server

RISK = {"high": "高风险", "medium": "中风险", "low": "低风险"}
STAGE = {
    "prospect": "潜在",
    "new": "新客户",
    "active": "活跃",
    "at_risk": "有流失风险",
    "churned": "已流失",
    "won_back": "已挽回",
}


def rep_with_open_warning(server: Server) -> tuple[str, dict[str, Any]]:
    """A sales rep (sales.east1 if they have one) and the first of their warnings the card shows, still open."""
    with server.api("admin") as admin:
        users = admin.get("/crm/users", params={"role": "sales", "page_size": 100}).json()["items"]
        reps = sorted(users, key=lambda u: (u["username"] != "sales.east1", u["username"]))
        for user in reps:
            answer = admin.get(
                "/crm/churn_warnings", params={"owner_id": user["id"], "status": "active", "page_size": 5}
            )
            assert answer.status_code == 200, answer.text
            for warning in answer.json()["items"]:
                if warning["status"] == "open":
                    return user["username"], warning
    pytest.fail("the demo data has no open churn warning owned by a sales rep")


class TestRetention:
    def test_a_rep_follows_a_warning_up_from_the_workbench_to_retained(
        self, ui: Pages, page: Page, server: Server
    ) -> None:
        username, warning = rep_with_open_warning(server)
        name = warning["customer_name"]
        ui.signed_in(username)
        card = page.get_by_test_id("churn-card")
        expect(card).to_contain_text("流失预警")
        expect(card.get_by_test_id(f"churn-count-{warning['risk_level']}")).not_to_have_text(re.compile(r"^\s*0"))
        expect(card.get_by_text(name)).to_be_visible()

        card.get_by_test_id("churn-card-all").click()
        expect(page).to_have_url(re.compile(r"/churn-warnings\?owner=me$"))
        expect(page.get_by_test_id("churn-model")).to_contain_text(re.compile(r"ROC AUC|仅按规则"))
        expect(page.get_by_test_id("train-model")).to_have_count(0)  # a rep may not train the model
        table = page.get_by_test_id("warning-table")
        row = table.locator(".el-table__row", has_text=name).first
        expect(row.locator(f"[data-risk='{warning['risk_level']}']")).to_have_text(RISK[warning["risk_level"]])
        expect(row).to_contain_text(warning["strategy"])
        expect(row.get_by_test_id("row-status")).to_have_text("待跟进")
        ui.screenshot("churn-warnings")

        row.get_by_test_id("open-warning").click()
        drawer = page.get_by_test_id("warning-drawer")
        expect(drawer.get_by_test_id("drawer-customer")).to_have_text(name)
        expect(drawer).to_contain_text(warning["reason"])
        drawer.get_by_test_id("action-type").get_by_text("电话", exact=True).click()
        note = f"电话回访{warning['id']}：客户确认下月恢复订货"
        drawer.locator("#action-content").fill(note)
        drawer.get_by_test_id("add-action").click()
        expect(page.get_by_text("挽回行动已记录")).to_be_visible()
        expect(drawer.get_by_test_id("warning-status")).to_have_text("跟进中")
        expect(drawer.get_by_test_id("warning-actions")).to_contain_text(note)
        expect(drawer.get_by_test_id("warning-actions")).to_contain_text("电话")
        # The author by name (a rep may not list users: the name comes with the warning).
        with server.api(username) as rep:
            me = rep.get("/auth/me").json()["display_name"]
            assert rep.get("/crm/users").status_code == 403
        expect(drawer.get_by_test_id("action-staff").last).to_have_text(me)
        expect(row.get_by_test_id("row-status")).to_have_text("跟进中")
        ui.screenshot("churn-warning-detail")

        # The action is also an interaction on the customer's timeline.
        ui.open(f"/customers/{warning['customer_id']}?tab=timeline")
        # (The timeline shows the interaction's subject, which names the retention action.)
        entry = page.get_by_role("listitem").filter(has_text="流失挽回").first
        expect(entry).to_contain_text("电话")

        ui.open(f"/churn-warnings?warning={warning['id']}")
        drawer = page.get_by_test_id("warning-drawer")
        drawer.get_by_test_id("open-outcome").click()
        dialog = page.get_by_test_id("outcome-dialog")
        dialog.get_by_text("已挽回", exact=True).click()
        dialog.locator("#outcome-note").fill("恢复合作")
        dialog.get_by_test_id("save-outcome").click()
        expect(page.get_by_text("结果已登记：已挽回")).to_be_visible()
        expect(drawer.get_by_test_id("warning-status")).to_have_text("已挽回")
        expect(drawer.get_by_test_id("action-form")).to_have_count(0)
        with server.api(username) as rep:
            stored = rep.get(f"/crm/churn_warnings/{warning['id']}").json()
        assert stored["status"] == "retained"
        assert [a["action_type"] for a in stored["actions"]] == ["call"]

    def test_an_admin_sees_the_model_line_and_trains_the_model(self, ui: Pages, page: Page) -> None:
        ui.signed_in("admin")
        page.get_by_role("navigation").get_by_text("流失预警").click()
        expect(page).to_have_url(re.compile(r"/churn-warnings$"))
        expect(page.get_by_test_id("warning-table").locator(".el-table__row").first).to_be_visible()
        page.get_by_test_id("train-model").click()
        expect(page.get_by_text("模型已训练")).to_be_visible(timeout=60_000)
        expect(page.get_by_test_id("churn-model")).to_contain_text(re.compile(r"ROC AUC|仅按规则"))


class TestCustomer360:
    def test_a_customer_with_a_warning_shows_the_stage_the_risk_and_the_strategy(
        self, ui: Pages, page: Page, server: Server
    ) -> None:
        with server.api("admin") as admin:
            warning = admin.get("/crm/churn_warnings", params={"risk_level": "high", "page_size": 1}).json()["items"][0]
            customer = admin.get(f"/crm/customers/{warning['customer_id']}").json()
        ui.signed_in("admin", f"/customers/{customer['id']}")
        expect(page.get_by_test_id("customer-name")).to_have_text(customer["customer_name"])
        expect(page.get_by_test_id("lifecycle-stage")).to_have_text(f"客户阶段：{STAGE[customer['lifecycle_stage']]}")
        expect(page.get_by_test_id("churn-risk")).to_contain_text(f"流失风险：{RISK[customer['churn_risk']]}")
        if customer.get("churn_probability") is not None:
            expect(page.get_by_test_id("churn-risk")).to_contain_text("%")
        if customer.get("payment_terms"):
            expect(page.get_by_test_id("payment-terms")).to_have_text(customer["payment_terms"])
        notice = page.get_by_test_id("churn-notice")
        expect(notice).to_contain_text(warning["strategy"])
        ui.screenshot("customer-360-churn")

        page.get_by_role("tab", name="行为分析").click()
        expect(page.get_by_test_id("rfm-segment")).not_to_be_empty()
        expect(page.get_by_test_id("behavior-periods")).to_contain_text("近 90 天")

        notice.get_by_test_id("churn-notice-link").click()
        expect(page).to_have_url(re.compile(rf"/churn-warnings\?warning={warning['id']}$"))
        expect(page.get_by_test_id("warning-drawer").get_by_test_id("drawer-customer")).to_have_text(
            customer["customer_name"]
        )


@pytest.fixture
def churn_restored(server: Server) -> Iterator[None]:
    """The scenario changes a churn threshold of the shared demo tenant: put it back after."""
    with server.api("admin") as admin:
        before = admin.get("/crm/settings").json()["churn"]
        yield
        assert admin.put("/crm/settings", json={"churn": before}).status_code == 200


class TestChurnRules:
    @pytest.mark.usefixtures("churn_restored")
    def test_admin_changes_a_churn_threshold_and_sees_it_after_reload(self, ui: Pages, page: Page) -> None:
        ui.signed_in("admin", "/admin/rules")
        page.get_by_test_id("tab-churn").click()
        low = page.get_by_test_id("churn-low_no_interaction_days").locator("input")
        expect(low).to_have_value("30")
        # Longer than the medium-risk quiet days: the server refuses, and says why.
        low.fill("90")
        low.blur()
        page.get_by_test_id("save-tab").click()
        expect(page.get_by_test_id("section-error")).to_contain_text("low-risk")
        low.fill("45")
        low.blur()
        page.get_by_test_id("save-tab").click()
        expect(page.get_by_text("流失预警规则已保存")).to_be_visible()
        page.reload()
        page.get_by_test_id("tab-churn").click()
        expect(page.get_by_test_id("churn-low_no_interaction_days").locator("input")).to_have_value("45")
        expect(page.get_by_test_id("churn-playbook-high")).to_be_visible()

    def test_admin_deletes_a_level_strategy_after_confirming(self, ui: Pages, page: Page, server: Server) -> None:
        with server.api("admin") as admin:
            sent = admin.put("/crm/settings", json={"churn": {"playbook": {"B.medium": "区域经理电话回访"}}})
            assert sent.status_code == 200, sent.text
            try:
                ui.signed_in("admin", "/admin/rules")
                page.get_by_test_id("tab-churn").click()
                expect(page.get_by_test_id("churn-playbook-B.medium")).to_have_value("区域经理电话回访")
                expect(page.get_by_test_id("churn-playbook-remove-C.medium")).to_have_count(0)  # nothing saved there
                remove = page.get_by_test_id("churn-playbook-remove-B.medium")
                remove.click()
                box = page.locator(".el-message-box")
                expect(box).to_contain_text("确定删除 B 类客户「中风险」的挽回策略吗？")
                box.get_by_role("button", name="取消").click()
                assert "B.medium" in admin.get("/crm/settings").json()["churn"]["playbook"]  # cancelled: kept
                remove.click()
                box.get_by_role("button", name="删除").click()
                expect(page.get_by_text("挽回策略已删除")).to_be_visible()
                expect(page.get_by_test_id("churn-playbook-B.medium")).to_have_value("")
                expect(remove).to_have_count(0)
                assert "B.medium" not in admin.get("/crm/settings").json()["churn"]["playbook"]
            finally:
                admin.put("/crm/settings", json={"churn": {"playbook": {"B.medium": None}}})


class TestDashboard:
    def test_the_dashboard_shows_the_churn_risk_distribution(self, ui: Pages, page: Page, server: Server) -> None:
        with server.api("manager.east") as manager:
            summary = manager.get("/crm/churn_warnings/summary").json()
        ui.signed_in("manager.east", "/analytics")
        chart = page.get_by_test_id("churn-chart")
        expect(chart).to_contain_text("流失风险分布")
        expect(chart.locator("canvas")).to_have_count(1)
        for row in summary["active"]:
            expect(chart.get_by_test_id(f"churn-{row['risk_level']}")).to_contain_text(str(row["count"]))
        expect(chart.get_by_test_id("churn-retained")).to_contain_text(str(summary["retained_90d"]))
        expect(chart.get_by_test_id("churn-lost")).to_contain_text(str(summary["lost_90d"]))
