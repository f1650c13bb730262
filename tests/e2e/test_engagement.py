"""Interactions, follow-ups, the service desk and the satisfaction survey, end to end in Chinese.

Against the real server with demo data (conftest.py): a sales rep logs a visit and sees it on
the customer's timeline and in the workbench's follow-ups; a ticket is opened, assigned, started
and resolved through its page (with a stale version answered by the conflict message); the
queue shows SLA states from the URL's filters; a customer answers the survey without signing in.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Demo, Pages, Server

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="session")
def customer(server: Server, demo: Demo) -> dict[str, Any]:
    """One of sales.east1's customers with contacts that the other scenarios leave alone."""
    with server.api("sales.east1") as sales:
        own = sales.get("/crm/customers", params={"page_size": 100, "sort": "-customer_code"}).json()["items"]
        used = {demo.own_customer["id"], demo.approval_customer_id}
        return next(c for c in own if c["id"] not in used and sales.get(f"/crm/customers/{c['id']}/contacts").json())


def pick_datetime(page: Page, field_id: str, when: datetime) -> None:
    """Type a date and time into an Element Plus date-time picker and confirm it."""
    field = page.locator(f"#{field_id}")
    field.click()
    field.fill(when.strftime("%Y-%m-%d %H:%M"))
    field.press("Enter")


class TestInteractions:
    def test_a_logged_visit_shows_on_the_timeline_and_as_a_follow_up_to_mark_done(
        self, ui: Pages, page: Page, customer: dict[str, Any], tmp_path: Any
    ) -> None:
        subject = "上门拜访：演示新版本（端到端测试）"
        next_action = "发送正式报价（端到端测试）"
        ui.signed_in("sales.east1", f"/customers/{customer['id']}?tab=interactions")
        expect(page.get_by_test_id("last-contact")).to_be_visible()
        page.get_by_test_id("log-interaction").click()
        dialog = page.get_by_role("dialog", name="记录互动")
        dialog.get_by_text("拜访", exact=True).click()
        dialog.get_by_label("主题").fill(subject)
        dialog.get_by_label("内容").fill("客户对新版本很感兴趣，希望下周收到报价。")
        dialog.get_by_label("时长（分钟）").fill("90")
        dialog.get_by_label("下一步行动").fill(next_action)
        tomorrow = (datetime.now(SHANGHAI) + timedelta(days=1)).replace(hour=10, minute=30)
        pick_datetime(page, "interaction-next-date", tomorrow)
        ui.screenshot("log-interaction")
        dialog.get_by_test_id("interaction-save").click()
        expect(page.get_by_text("互动已记录")).to_be_visible()
        expect(page.get_by_test_id("interactions-table")).to_contain_text(subject)
        # Recording it moved the header's last contact to today.
        expect(page.get_by_test_id("last-contact")).to_contain_text(datetime.now(SHANGHAI).strftime("%Y-%m-%d"))

        # An attachment on it, listed for download.
        note = tmp_path / "拜访纪要.txt"
        note.write_text("拜访纪要：客户关注交付周期。", encoding="utf-8")
        row = page.get_by_test_id("interactions-table").locator("tbody tr", has_text=subject)
        with page.expect_file_chooser() as chooser:
            row.get_by_test_id("upload-attachment").click()
        chooser.value.set_files(str(note))
        expect(page.get_by_text("附件“拜访纪要.txt”已上传")).to_be_visible()
        with page.expect_download() as download:
            row.get_by_role("button", name="下载 拜访纪要.txt").click()
        assert download.value.suggested_filename == "拜访纪要.txt"

        page.get_by_role("tab", name="时间线").click()
        # Newest first: the visit comes before the demo's six months of history.
        entry = page.get_by_test_id("timeline").locator(".el-timeline-item[data-kind='interaction']").first
        expect(entry).to_contain_text(subject)
        expect(entry).to_contain_text(next_action)
        ui.screenshot("customer-timeline")

        ui.open("/workbench")
        upcoming = page.get_by_test_id("follow-ups-upcoming")
        item = upcoming.get_by_test_id("follow-up").filter(has_text=next_action)
        expect(item).to_contain_text(customer["customer_name"])
        expect(item).to_contain_text("明天 10:30")
        expect(page.get_by_test_id("follow-ups-overdue").get_by_test_id("follow-up").first).to_contain_text("逾期")
        ui.screenshot("workbench-follow-ups")
        item.get_by_role("button", name=f"将“{next_action}”标为已完成").click()
        expect(page.get_by_text("跟进已完成")).to_be_visible()
        expect(upcoming.get_by_test_id("follow-up").filter(has_text=next_action)).to_have_count(0)


class TestServiceDesk:
    def test_a_ticket_is_opened_assigned_started_and_resolved(
        self, ui: Pages, page: Page, server: Server, customer: dict[str, Any]
    ) -> None:
        subject = "设备无法联网（端到端测试）"
        ui.signed_in("admin", f"/customers/{customer['id']}?tab=tickets")
        page.get_by_test_id("new-customer-ticket").click()
        dialog = page.get_by_role("dialog", name="新建工单")
        dialog.get_by_test_id("ticket-type").click()
        page.get_by_role("option", name="技术支持").click()
        dialog.get_by_text("高", exact=True).click()
        dialog.get_by_label("标题").fill(subject)
        dialog.get_by_label("问题描述").fill("客户反馈办公室设备今天上午起无法联网。")
        dialog.get_by_test_id("ticket-save").click()
        expect(page).to_have_url(re.compile(r"/service-desk/\d+$"))
        ticket_id = int(page.url.rsplit("/", 1)[1])
        expect(page.get_by_test_id("ticket-subject")).to_contain_text(subject)
        expect(page.get_by_test_id("ticket-status")).to_contain_text("待处理")
        expect(page.get_by_test_id("ticket-sla")).to_contain_text("响应")

        # Assign it to an agent picked by name, with their load shown.
        with server.api("admin") as admin:
            staff = admin.get("/crm/users/service_staff").json()
        agent = next(s for s in staff if s["role"] == "service_agent" and s["display_name"])
        page.get_by_test_id("ticket-assign").click()
        action = page.get_by_test_id("ticket-action-dialog")
        action.get_by_test_id("assignee-select").click()
        option = page.get_by_role("option").filter(has_text=agent["display_name"])
        expect(option).to_contain_text("负载")
        option.click()
        action.get_by_test_id("ticket-action-submit").click()
        expect(page.get_by_text(f"已分配给 {agent['display_name']}")).to_be_visible()
        expect(page.get_by_test_id("ticket-assignee")).to_have_text(agent["display_name"])

        page.get_by_test_id("ticket-start").click()
        page.get_by_role("dialog").get_by_role("button", name="开始处理").click()
        expect(page.get_by_test_id("ticket-status")).to_contain_text("处理中")

        # Someone else escalates it meanwhile: resolving with the old version is refused, then works.
        with server.api("admin") as admin:
            current = admin.get(f"/crm/service_records/{ticket_id}").json()
            escalated = admin.put(
                f"/crm/service_records/{ticket_id}/escalate",
                json={"version": current["version"], "reason": "重点客户（他人操作）"},
            )
            assert escalated.status_code == 200, escalated.text
        page.get_by_test_id("ticket-resolve").click()
        action.get_by_label("解决方案").fill("已远程重置路由器配置，客户确认恢复联网。")
        action.get_by_test_id("ticket-action-submit").click()
        expect(page.get_by_test_id("ticket-refusal")).to_contain_text("该工单已被他人修改")
        expect(page.get_by_text("重点客户（他人操作）")).to_be_visible()

        page.get_by_test_id("ticket-resolve").click()
        action.get_by_label("解决方案").fill("已远程重置路由器配置，客户确认恢复联网。")
        action.get_by_test_id("ticket-action-submit").click()
        expect(page.get_by_text("工单已解决")).to_be_visible()
        expect(page.get_by_test_id("ticket-status")).to_contain_text("已解决")
        expect(page.get_by_test_id("ticket-resolution")).to_contain_text("已远程重置路由器配置")
        expect(page.get_by_test_id("ticket-satisfaction")).to_contain_text("待客户评价")
        ui.screenshot("ticket")

        # The customer's tickets and timeline show it resolved.
        ui.open(f"/customers/{customer['id']}?tab=tickets")
        row = page.get_by_test_id("customer-tickets").locator("tbody tr", has_text=subject)
        expect(row).to_contain_text("已解决")

    def test_the_queue_shows_sla_states_and_keeps_its_filters_in_the_url(self, ui: Pages, page: Page) -> None:
        ui.signed_in("service.manager", "/service-desk?size=100")
        table = page.get_by_test_id("ticket-table")
        expect(table.locator("tbody tr").first).to_be_visible()
        badges = table.locator(".sla-badge")
        for state in ("ok", "at_risk", "breached", "met"):
            expect(table.locator(f".sla-badge[data-sla='{state}']").first).to_be_visible()
        expect(badges.filter(has_text="已超时").first).to_contain_text("超时")
        ui.screenshot("service-desk")

        page.get_by_test_id("filter-sla").click()
        page.get_by_role("option", name="已超时").click()
        expect(page).to_have_url(re.compile(r"sla=breached"))
        expect(table.locator("tbody tr").first).to_be_visible()
        for state in table.locator(".sla-badge").evaluate_all("els => els.map(e => e.dataset.sla)"):
            assert state == "breached"

        page.get_by_test_id("queue-view").get_by_text("看板").click()
        expect(page).to_have_url(re.compile(r"sla=breached.*view=kanban|view=kanban.*sla=breached"))
        board = page.get_by_test_id("ticket-kanban")
        expect(board.get_by_test_id("kanban-open")).to_be_visible()
        expect(board.get_by_test_id("kanban-in_progress")).to_be_visible()

        ui.open("/service-desk?view=kanban")
        expect(board.get_by_test_id("kanban-closed").locator("a").first).to_be_visible()
        ui.screenshot("service-desk-kanban")
        page.get_by_role("button", name="服务统计").click()
        expect(page.get_by_test_id("stats-sla")).to_contain_text("%")
        expect(page.get_by_test_id("service-stats").locator("canvas")).to_be_visible()
        ui.screenshot("service-stats")

    def test_the_queue_names_customers_and_assignees_from_the_tickets(
        self, ui: Pages, page: Page, server: Server
    ) -> None:
        with server.api("service.agent1") as agent:
            tickets = agent.get("/crm/service_records", params={"page_size": 100}).json()["items"]
        assigned = next(t for t in tickets if t["assigned_staff_name"])
        ui.signed_in("service.agent1", "/service-desk?size=100")
        table = page.get_by_test_id("ticket-table")
        expect(table.get_by_test_id("ticket-customer").first).to_be_visible()
        for name in {t["customer_name"] for t in tickets}:
            expect(table.get_by_test_id("ticket-customer").filter(has_text=name).first).to_be_visible()
        expect(table).to_contain_text(assigned["customer_code"])
        expect(table).not_to_contain_text("用户 #")


class TestNotifications:
    def test_the_bell_lists_notifications_and_marks_them_read(self, ui: Pages, page: Page) -> None:
        ui.signed_in("sales.east1")
        badge = page.get_by_test_id("notification-badge").locator("sup")
        expect(badge).to_be_visible()
        page.get_by_test_id("notification-bell").click()
        expect(page.get_by_test_id("notification-list")).to_contain_text("跟进到期")
        page.get_by_role("button", name="全部标为已读").click()
        expect(page.get_by_text("已全部标为已读")).to_be_visible()
        expect(badge).to_be_hidden()


class TestSurvey:
    def test_a_customer_rates_the_service_without_signing_in_once(self, ui: Pages, page: Page, server: Server) -> None:
        with server.api("admin") as admin:
            resolved = admin.get("/crm/service_records", params={"status": ["resolved"], "page_size": 100}).json()
        ticket = next(t for t in resolved["items"] if t["survey"] and t["survey"]["status"] == "pending")
        # The link staff copy from the ticket page: the API's /survey/<token> as it is.
        token = ticket["survey"]["url"].rsplit("/survey/", 1)[1]
        path = f"/survey/{token}"
        page.set_viewport_size({"width": 390, "height": 844})  # a phone
        ui.open(path)
        survey = page.get_by_test_id("survey")
        expect(survey).to_contain_text(ticket["subject"])
        survey.get_by_role("button", name="提交评价").click()
        expect(survey.get_by_text("请选择评分")).to_be_visible()
        survey.locator(".el-rate__item").nth(3).click()
        survey.get_by_label("意见与建议（选填）").fill("响应很快，谢谢！")
        ui.screenshot("survey")
        survey.get_by_role("button", name="提交评价").click()
        expect(page.get_by_test_id("survey-thanks")).to_contain_text("感谢您的评价")
        # Links sent earlier carried the token in the query: they still open the same survey.
        ui.open(f"/survey?token={token}")
        expect(page.get_by_test_id("survey-answered")).to_contain_text("您已提交过评价")
        with server.api("admin") as admin:
            rated = admin.get(f"/crm/service_records/{ticket['id']}").json()
        assert rated["satisfaction_rating"] == 4
        assert rated["satisfaction_feedback"] == "响应很快，谢谢！"
