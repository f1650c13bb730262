"""The web UI end to end, in Chinese, against a real server with demo data (see conftest.py)."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Demo, Pages, Server

MASKED_PHONE = re.compile(r"1\d{2}\*{4}\d{4}")
REASON = "年消费超过 20 万，调整等级（端到端测试）"


def customer_row(page: Page, name: str) -> None:
    expect(page.get_by_test_id("customer-table").get_by_role("link", name=name)).to_be_visible()


class TestSignIn:
    def test_signing_in_returns_to_the_page_asked_for(self, ui: Pages, page: Page, demo: Demo) -> None:
        ui.open(f"/customers/{demo.own_customer['id']}")
        expect(page).to_have_url(re.compile(r"/login\?redirect="))
        ui.screenshot("login")
        ui.login("admin")
        expect(page).to_have_url(re.compile(rf"/customers/{demo.own_customer['id']}$"))
        expect(page.get_by_test_id("customer-name")).to_have_text(demo.own_customer["customer_name"])

    def test_an_expired_session_goes_back_to_login_then_to_the_same_page(self, ui: Pages, page: Page) -> None:
        ui.open("/login")
        ui.login("admin")
        expect(page).to_have_url(re.compile(r"/workbench$"))
        # The server no longer accepts the token (expired or revoked): the next call answers 401.
        page.evaluate(
            "() => { const s = JSON.parse(localStorage.getItem('crm.session'));"
            " s.token = 'expired'; localStorage.setItem('crm.session', JSON.stringify(s)) }"
        )
        ui.open("/approvals")
        expect(page).to_have_url(re.compile(r"/login\?redirect=(%2F|/)approvals&reason=expired"))
        expect(page.get_by_text("登录已过期，请重新登录")).to_be_visible()
        ui.login("admin")
        expect(page).to_have_url(re.compile(r"/approvals$"))

    def test_wrong_password_is_refused_with_the_servers_message(self, ui: Pages, page: Page) -> None:
        ui.open("/login")
        page.get_by_label("用户名").fill("analyst")
        page.get_by_label("密码").fill("not the password")
        page.get_by_role("button", name="登录").click()
        expect(page.get_by_role("alert")).to_contain_text("用户名或密码")
        expect(page).to_have_url(re.compile(r"/login"))

    def test_the_menu_follows_the_role_and_english_can_be_chosen(self, ui: Pages, page: Page) -> None:
        ui.signed_in("marketer")
        menu = page.get_by_role("navigation")
        expect(menu.get_by_text("客户管理")).to_be_visible()
        expect(menu.get_by_text("审计日志")).to_have_count(0)
        page.get_by_role("button", name="语言").click()
        page.get_by_role("menuitem", name="English").click()
        expect(menu.get_by_text("Customers")).to_be_visible()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")


class TestWorkbench:
    def test_shows_my_customers_and_the_pending_approvals(self, ui: Pages, page: Page, demo: Demo) -> None:
        ui.signed_in("manager.east")
        expect(page.get_by_role("heading", level=1)).to_contain_text("您好")
        expect(page.get_by_text("我负责的客户")).to_be_visible()
        expect(page.get_by_text("待处理审批")).to_be_visible()
        expect(page.get_by_text("客户等级分布")).to_be_visible()
        expect(page.locator("canvas")).to_be_visible()
        # A manager's follow-ups are the team's, from the demo's interactions.
        expect(page.get_by_text("团队跟进", exact=True)).to_be_visible()
        expect(page.get_by_test_id("follow-ups").get_by_test_id("follow-up").first).to_be_visible()
        ui.screenshot("workbench")


class TestCustomerList:
    def test_search_by_a_two_character_chinese_keyword(self, ui: Pages, page: Page, demo: Demo) -> None:
        ui.signed_in("admin", "/customers")
        table = page.get_by_test_id("customer-table")
        expect(table.locator("tbody tr").first).to_be_visible()
        page.get_by_role("textbox", name="搜索").fill(demo.keyword)
        # Debounced: the URL carries the keyword once the request is made.
        expect(page).to_have_url(re.compile(r"\?q=%E7%A7%91%E6%8A%80"))
        names = table.locator("tbody tr td:nth-child(2) a")
        expect(names.first).to_contain_text(demo.keyword)
        for name in names.all_inner_texts():
            assert demo.keyword in name
        ui.screenshot("customers")

    def test_filters_live_in_the_url(self, ui: Pages, page: Page) -> None:
        ui.signed_in("admin", "/customers?level=A&status=active&sort=-acquisition_date")
        table = page.get_by_test_id("customer-table")
        expect(table.locator("tbody tr").first).to_be_visible()
        for level in table.locator("tbody tr .level-tag").all_inner_texts():
            assert level == "A 级"
        expect(page.get_by_text("清除筛选 (2)")).to_be_visible()

    def test_export_downloads_the_filtered_customers(self, ui: Pages, page: Page) -> None:
        ui.signed_in("admin", "/customers?level=A")
        expect(page.get_by_test_id("customer-table").locator("tbody tr").first).to_be_visible()
        page.get_by_role("button", name="导出").click()
        with page.expect_download() as download:
            page.get_by_role("menuitem", name="导出 Excel").click()
        assert download.value.suggested_filename.endswith(".xlsx")
        expect(page.get_by_text("导出完成")).to_be_visible()

    def test_bulk_assign_refuses_a_non_sales_user_on_the_field_then_assigns(
        self, ui: Pages, page: Page, demo: Demo
    ) -> None:
        ui.signed_in("admin", "/customers?province=%E6%B5%99%E6%B1%9F%E7%9C%81")
        rows = page.get_by_test_id("customer-table").locator("tbody tr")
        expect(rows.first).to_be_visible()
        rows.nth(0).locator(".el-checkbox").click()
        rows.nth(1).locator(".el-checkbox").click()
        expect(page.get_by_text("已选 2 项")).to_be_visible()
        page.get_by_role("button", name="批量分配销售").click()
        dialog = page.get_by_role("dialog", name="批量分配 2 个客户")
        owner = dialog.get_by_label("销售用户 ID")
        owner.fill("1")  # the administrator, who cannot own customers
        dialog.get_by_role("button", name="保存").click()
        expect(dialog.locator(".el-form-item__error")).to_be_visible()
        owner.fill(str(demo.sales_id))
        dialog.get_by_role("button", name="保存").click()
        expect(page.get_by_text("已分配 2 个客户")).to_be_visible()
        expect(rows.nth(0)).to_contain_text(demo.sales_name)  # the owner by name, as the admin may read users


class TestCustomer360:
    def test_shows_contacts_with_masked_phones_and_the_level_history(self, ui: Pages, page: Page, demo: Demo) -> None:
        ui.signed_in("admin", f"/customers/{demo.own_customer['id']}")
        expect(page.get_by_test_id("customer-name")).to_have_text(demo.own_customer["customer_name"])
        contacts = page.get_by_test_id("contacts-table")
        expect(contacts.locator("tbody tr").first).to_be_visible()
        expect(contacts.get_by_test_id("masked-value").first).to_have_text(MASKED_PHONE)
        ui.screenshot("customer-360")
        page.get_by_role("tab", name="等级历史").click()
        expect(page.get_by_test_id("level-history").get_by_text("创建", exact=True)).to_be_visible()

    def test_change_the_level_with_a_reason_and_see_it_in_the_history(self, ui: Pages, page: Page, demo: Demo) -> None:
        customer = demo.other_customer
        new_level = "B" if customer["customer_level"] != "B" else "C"
        ui.signed_in("admin", f"/customers/{customer['id']}")
        page.get_by_role("button", name="调整等级").click()
        dialog = page.get_by_role("dialog", name="调整客户等级")
        dialog.get_by_text(f"{new_level} 级", exact=True).click()
        dialog.get_by_label("调整原因").fill(REASON)
        ui.screenshot("change-level")
        dialog.get_by_role("button", name="保存").click()
        expect(page.get_by_text(f"等级已调整为 {new_level} 级")).to_be_visible()
        expect(page.get_by_test_id("customer-level")).to_have_text(f"{new_level} 级")
        page.get_by_role("tab", name="等级历史").click()
        expect(
            page.get_by_test_id("level-history").get_by_text("年消费超过 20 万，调整等级（端到端测试）")
        ).to_be_visible()

    def test_add_a_contact_and_an_address(self, ui: Pages, page: Page, demo: Demo) -> None:
        ui.signed_in("admin", f"/customers/{demo.other_customer['id']}")
        page.get_by_role("button", name="新增联系人").click()
        dialog = page.get_by_role("dialog", name="新增联系人")
        dialog.get_by_label("姓名").fill("赵六")
        dialog.get_by_label("电话").fill("0755-8888 6666")
        dialog.get_by_role("button", name="保存").click()
        expect(page.get_by_test_id("contacts-table")).to_contain_text("赵六")
        expect(page.get_by_test_id("contacts-table")).to_contain_text("0755-****6666")
        page.get_by_role("tab", name=re.compile("地址")).click()
        page.get_by_role("button", name="新增地址").click()
        dialog = page.get_by_role("dialog", name="新增地址")
        dialog.get_by_label("省 / 市").click()
        page.locator(".el-cascader-node", has_text="浙江省").click()
        page.locator(".el-cascader-node", has_text="杭州市").click()
        dialog.get_by_label("详细地址").fill("文一西路 969 号")
        dialog.get_by_role("button", name="保存").click()
        expect(page.get_by_role("tabpanel")).to_contain_text("浙江省 / 杭州市")

    def test_a_stale_edit_answers_with_the_conflict_message(
        self, ui: Pages, page: Page, server: Server, demo: Demo
    ) -> None:
        customer = demo.other_customer
        ui.signed_in("admin", f"/customers/{customer['id']}/edit")
        expect(page.locator("#f-name")).to_have_value(re.compile(".+"))
        # Someone else saves the customer meanwhile.
        with server.api("admin") as admin:
            current = admin.get(f"/crm/customers/{customer['id']}").json()
            changed = admin.put(
                f"/crm/customers/{customer['id']}", json={"version": current["version"], "remarks": "他人修改"}
            )
            assert changed.status_code == 200, changed.text
        page.locator("#f-remarks").fill("我的修改")
        page.get_by_role("button", name="保存").first.click()
        expect(page.get_by_test_id("conflict")).to_contain_text("已被他人修改")


class TestCustomerForm:
    def test_a_server_validation_error_shows_on_its_field_then_saving_works(self, ui: Pages, page: Page) -> None:
        ui.signed_in("admin", "/customers/new")
        page.locator("#f-name").fill("深圳测试新建科技有限公司")
        page.get_by_label("省 / 市").click()
        page.locator(".el-cascader-node", has_text="广东省").click()
        page.locator(".el-cascader-node", has_text="深圳市").click()
        page.locator("#f-contact-name").fill("王小明")
        page.locator("#f-contact-phone").fill("12345")
        page.get_by_role("button", name="保存").first.click()
        phone = page.locator(".el-form-item", has=page.locator("#f-contact-phone"))
        expect(phone.locator(".el-form-item__error")).to_contain_text("不是有效的中国大陆手机或固定电话号码")
        ui.screenshot("customer-form-error")
        page.locator("#f-contact-phone").fill("138 1234 5678")
        page.get_by_role("button", name="保存").first.click()
        expect(page).to_have_url(re.compile(r"/customers/\d+$"))
        expect(page.get_by_test_id("customer-name")).to_have_text("深圳测试新建科技有限公司")
        expect(page.get_by_text("广东省 / 深圳市")).to_be_visible()
        expect(page.get_by_test_id("contacts-table").get_by_text("138****5678")).to_be_visible()


class TestDataScope:
    def test_a_sales_rep_cannot_open_another_owners_customer(self, ui: Pages, page: Page, demo: Demo) -> None:
        ui.signed_in("sales.east1", f"/customers/{demo.other_customer['id']}")
        expect(page.get_by_test_id("customer-not-found")).to_contain_text("客户不存在或您无权查看")

    def test_a_sales_rep_sees_masked_phones_and_a_manager_reveals_one(
        self, ui: Pages, page: Page, server: Server, demo: Demo, browser: Browser
    ) -> None:
        customer = demo.own_customer
        ui.signed_in("sales.east1", f"/customers/{customer['id']}")
        phone = page.get_by_test_id("contacts-table").get_by_test_id("masked-value").first
        expect(phone).to_have_text(MASKED_PHONE)

        manager = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        try:
            other = Pages(server, manager.new_page())
            other.signed_in("manager.east", f"/customers/{customer['id']}")
            row = other.page.get_by_test_id("contacts-table").locator("tbody tr").first
            masked = row.get_by_test_id("masked-value").first
            expect(masked).to_have_text(MASKED_PHONE)
            row.get_by_role("button", name="查看完整电话").click()
            expect(masked).to_have_text(re.compile(r"^1\d{2} \d{4} \d{4}$"))
            other.screenshot("revealed-phone")
        finally:
            manager.close()


class TestApprovals:
    def test_the_inbox_lists_a_pending_request_and_approving_asks_first(
        self, ui: Pages, page: Page, server: Server, demo: Demo
    ) -> None:
        ui.signed_in("manager.east", "/approvals")
        table = page.get_by_test_id("approvals-table")
        row = table.locator("tbody tr", has=page.get_by_role("link", name=f"#{demo.approval_customer_id}"))
        expect(row).to_contain_text("删除客户")
        expect(row).to_contain_text("待审批")
        ui.screenshot("approvals")
        row.get_by_role("button", name="批准").click()
        box = page.get_by_role("dialog", name="请确认")
        expect(box).to_contain_text("批准后将立即以您的身份执行")
        box.get_by_role("button", name="批准").click()
        expect(page.get_by_text("已批准", exact=True).first).to_be_visible()
        with server.api("admin") as admin:
            assert admin.get(f"/crm/approvals/{demo.pending_approval_id}").json()["status"] == "approved"
            gone = admin.get(f"/crm/customers/{demo.approval_customer_id}")
            assert gone.status_code == httpx.codes.NOT_FOUND


class TestAuditLog:
    def test_an_analyst_reads_the_audit_trail(self, ui: Pages, page: Page) -> None:
        ui.signed_in("analyst", "/audit")
        table = page.get_by_test_id("audit-table")
        expect(table.locator("tbody tr").first).to_be_visible()
        expect(table.get_by_text("auth.login").first).to_be_visible()
        ui.screenshot("audit-log")

    def test_a_sales_rep_is_shown_no_access(self, ui: Pages, page: Page) -> None:
        ui.signed_in("sales.east1", "/audit")
        expect(page.get_by_text("没有权限")).to_be_visible()
