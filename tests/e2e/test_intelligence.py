"""Orders, value analysis and rule-based grading on the customer 360 page, end to end in Chinese.

Against the real server with demo data (conftest.py), whose load ran the order feed, the value
analysis and the regrade: an administrator sees a customer's orders with cost and margin, their
items and which ones are not spend, and the value analysis as cards and a chart; a sales rep sees
amounts but neither cost nor margin, and “无权限查看” for money figures; a level set by hand is
marked as such and handed back to the rules, and the history names each change's source.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Demo, Pages, Server

RELEASE_REASON = "特殊价格协议已结束，恢复按规则定级（端到端测试）"


def _orders(client: httpx.Client, customer_id: int, **params: Any) -> int:
    answer = client.get(f"/crm/customers/{customer_id}/orders", params={"page_size": 1, **params})
    answer.raise_for_status()
    return int(answer.json()["total"])


@pytest.fixture(scope="session")
def buyer(server: Server, demo: Demo) -> dict[str, Any]:
    """A customer with orders, some of them cancelled, that the other scenarios leave alone."""
    used = {demo.own_customer["id"], demo.other_customer["id"], demo.approval_customer_id}
    with server.api("admin") as admin:
        customers = admin.get("/crm/customers", params={"page_size": 100, "sort": "-customer_code"}).json()["items"]
        return next(c for c in customers if c["id"] not in used and _orders(admin, c["id"], status=["cancelled"]) > 0)


@pytest.fixture(scope="session")
def own_buyer(server: Server, demo: Demo) -> dict[str, Any]:
    """One of sales.east1's customers with orders."""
    with server.api("sales.east1") as sales:
        own = sales.get("/crm/customers", params={"page_size": 100, "sort": "customer_code"}).json()["items"]
        return next(c for c in own if c["id"] != demo.approval_customer_id and _orders(sales, c["id"]) > 0)


@pytest.fixture(scope="session")
def graded(server: Server, demo: Demo, buyer: dict[str, Any]) -> dict[str, Any]:
    """A customer below A (downgrading an A may need approval) whose level the rules set."""
    used = {demo.own_customer["id"], demo.other_customer["id"], demo.approval_customer_id, buyer["id"]}
    with server.api("admin") as admin:
        customers = admin.get("/crm/customers", params={"page_size": 100, "sort": "customer_code"}).json()["items"]
        return next(c for c in customers if c["id"] not in used and c["customer_level"] in ("C", "D"))


class TestOrders:
    def test_an_administrator_sees_orders_with_cost_items_and_what_is_not_spend(
        self, ui: Pages, page: Page, buyer: dict[str, Any]
    ) -> None:
        ui.signed_in("admin", f"/customers/{buyer['id']}")
        page.get_by_role("tab", name="订单").click()
        table = page.get_by_test_id("orders-table")
        # An order's row, not a row of the items table unfolded under it.
        rows = table.locator("tbody tr.el-table__row").filter(has=page.get_by_test_id("order-status"))
        expect(rows.first).to_be_visible()
        expect(table.locator("thead")).to_contain_text("成本")
        expect(table.locator("thead")).to_contain_text("毛利")
        expect(rows.first.get_by_test_id("order-amount")).to_have_text(re.compile(r"^¥[\d,]+\.\d\d$"))
        # The items unfold under their order: product codes and categories.
        rows.first.locator(".el-table__expand-icon").click()
        items = table.get_by_test_id("order-items").first
        expect(items).to_be_visible()
        expect(items).to_contain_text("产品编码")
        expect(items.locator("tbody tr").first).to_contain_text(re.compile(r"[A-Z]{2}-[A-Z0-9]+"))
        ui.screenshot("customer-orders")
        # Cancelled orders only: each is marked as not counted as spend.
        page.get_by_test_id("order-status-filter").click()
        page.get_by_role("option", name="已取消").click()
        page.keyboard.press("Escape")
        # The list reloads with the filter; until it has, the old rows are still on screen.
        expect(rows.filter(has_not=page.get_by_test_id("order-not-spend"))).to_have_count(0)
        expect(rows.first).to_be_visible()
        for row in rows.all():
            expect(row.get_by_test_id("order-status")).to_have_text("已取消")
            expect(row.get_by_test_id("order-not-spend")).to_have_text("不计入消费")

    def test_a_sales_rep_sees_orders_without_any_money_figure(
        self, ui: Pages, page: Page, own_buyer: dict[str, Any]
    ) -> None:
        ui.signed_in("sales.east1", f"/customers/{own_buyer['id']}?tab=orders")
        table = page.get_by_test_id("orders-table")
        rows = table.locator("tbody tr.el-table__row")
        expect(rows.first.get_by_test_id("order-status")).to_be_visible()
        expect(table.get_by_test_id("order-amount")).to_have_count(0)
        expect(table.locator("thead")).not_to_contain_text("金额")
        expect(table.locator("thead")).not_to_contain_text("成本")
        expect(table.locator("thead")).not_to_contain_text("毛利")
        expect(table.get_by_test_id("order-cost")).to_have_count(0)
        # Money in the value analysis is withheld, not shown as 0; counts are not money.
        page.get_by_role("tab", name="价值分析").click()
        cards = page.get_by_test_id("value-cards")
        expect(cards.get_by_test_id("value-annual_spend")).to_contain_text("无权限查看")
        expect(cards.get_by_test_id("value-customer_lifetime_value")).to_contain_text("无权限查看")
        expect(cards.get_by_test_id("value-total_orders")).not_to_contain_text("无权限查看")
        expect(page.get_by_test_id("value-chart-no-access")).to_be_visible()


class TestValueAnalysis:
    def test_cards_and_the_history_chart_then_a_refresh(self, ui: Pages, page: Page, buyer: dict[str, Any]) -> None:
        ui.signed_in("admin", f"/customers/{buyer['id']}")
        page.get_by_role("tab", name="价值分析").click()
        cards = page.get_by_test_id("value-cards")
        expect(cards).to_be_visible()
        for label in ("订单总数", "消费总额", "平均订单金额", "近12个月消费", "预测12个月价值", "客户终身价值",
                      "利润率", "订单频次", "满意度", "投诉次数", "转介绍", "服务成本", "最近下单"):  # fmt: skip
            expect(cards).to_contain_text(label)
        expect(cards.get_by_test_id("value-total_amount")).to_contain_text("¥")
        expect(cards).not_to_contain_text("无权限查看")
        chart = page.get_by_test_id("value-chart")
        expect(chart.locator("canvas")).to_be_visible()
        chart.scroll_into_view_if_needed()
        ui.screenshot("value-analysis")
        page.get_by_test_id("value-refresh").click()
        expect(page.get_by_text("价值分析已更新")).to_be_visible()
        expect(cards).to_be_visible()

    def test_a_new_customer_has_no_analysis_until_refreshed(self, ui: Pages, page: Page, server: Server) -> None:
        with server.api("admin") as admin:
            created = admin.post(
                "/crm/customers", json={"customer_name": "端到端价值分析新客户有限公司", "customer_type": "enterprise"}
            )
            assert created.status_code == 201, created.text
            customer = created.json()
            fed = admin.post(
                "/crm/orders",
                json={
                    "order_no": f"E2E-VALUE-{customer['id']}",
                    "customer_id": customer["id"],
                    "status": "paid",
                    "order_date": "2026-01-15T10:00:00+08:00",
                    "amount": "12800.00",
                    "items": [{"product_code": "SV-MA200", "category": "服务", "quantity": 1, "amount": "12800.00"}],
                },
            )
            assert fed.status_code == 200, fed.text
        ui.signed_in("admin", f"/customers/{customer['id']}?tab=value")
        expect(page.get_by_test_id("value-empty")).to_contain_text("暂无价值分析")
        page.get_by_test_id("value-refresh").click()
        expect(page.get_by_text("价值分析已更新")).to_be_visible()
        cards = page.get_by_test_id("value-cards")
        expect(cards.get_by_test_id("value-total_orders")).to_contain_text("1")
        expect(cards.get_by_test_id("value-total_amount")).to_contain_text("¥12,800.00")
        page.get_by_role("tab", name="订单").click()
        expect(page.get_by_test_id("orders-table").locator("tbody tr.el-table__row")).to_have_count(1)
        expect(page.get_by_test_id("order-status").first).to_have_text("已付款")


class TestRuleBasedLevels:
    def test_a_level_set_by_hand_is_marked_and_handed_back_to_the_rules(
        self, ui: Pages, page: Page, graded: dict[str, Any]
    ) -> None:
        new_level = "B"
        ui.signed_in("admin", f"/customers/{graded['id']}")
        expect(page.get_by_test_id("customer-name")).to_have_text(graded["customer_name"])
        expect(page.get_by_test_id("manual-level")).to_have_count(0)
        page.get_by_role("button", name="调整等级").click()
        dialog = page.get_by_role("dialog", name="调整客户等级")
        dialog.get_by_text(f"{new_level} 级", exact=True).click()
        dialog.get_by_label("调整原因").fill("签订年度框架协议，手动定为 B 级（端到端测试）")
        dialog.get_by_role("button", name="保存").click()
        expect(page.get_by_test_id("customer-level")).to_have_text(f"{new_level} 级")
        expect(page.get_by_test_id("manual-level")).to_have_text("手动定级（规则不调整）")

        page.get_by_test_id("release-level").click()
        release = page.get_by_role("dialog", name="恢复按规则定级")
        release.get_by_test_id("release-submit").click()
        expect(release.get_by_text("请填写调整原因")).to_be_visible()  # a reason is required
        release.get_by_label("恢复原因").fill(RELEASE_REASON)
        release.get_by_test_id("release-submit").click()
        expect(page.get_by_text("已恢复按规则定级")).to_be_visible()
        expect(page.get_by_test_id("manual-level")).to_have_count(0)
        expect(page.get_by_test_id("release-level")).to_have_count(0)

        page.get_by_role("tab", name="等级历史").click()
        history = page.get_by_test_id("level-history")
        expect(history.get_by_text(RELEASE_REASON)).to_be_visible()
        sources = history.get_by_test_id("level-source")
        expect(sources.first).to_have_text("恢复")
        expect(sources.nth(1)).to_have_text("手动")
        expect(sources.last).to_have_text("创建")
        ui.screenshot("level-history-sources")

    def test_the_rules_show_as_the_source_of_the_nightly_regrade(self, ui: Pages, page: Page, server: Server) -> None:
        with server.api("admin") as admin:
            customers = admin.get("/crm/customers", params={"page_size": 100, "sort": "customer_code"}).json()["items"]
            regraded = next(
                c
                for c in customers
                if any(
                    e["source"] == "rule" for e in admin.get(f"/crm/customers/{c['id']}/level_history").json()["items"]
                )
            )
        ui.signed_in("admin", f"/customers/{regraded['id']}?tab=history")
        history = page.get_by_test_id("level-history")
        expect(history.get_by_test_id("level-source").filter(has_text="规则").first).to_be_visible()
        expect(history).to_contain_text("按规则定级")
