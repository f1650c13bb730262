"""Customer exports: CSV with a BOM and XLSX, masked per caller, audited, limited per day."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crm.auth import actors
from crm.config import settings
from crm.models import AuditLog, Customer
from tests.factories import Api


@pytest.fixture
def customers(sales_a: Api, admin: Api) -> list[dict]:
    made = [
        sales_a.create_customer(
            customer_name=f"导出测试{n}号公司",
            province="江苏",
            tags=["重点客户"],
            contacts=[{"contact_name": f"联系人{n}", "contact_phone": f"1391234{n:04d}"}],
        )
        for n in range(3)
    ]
    return [admin.set_finance(customer, annual_revenue="1000.00") for customer in made]


def _csv_rows(response: object) -> list[list[str]]:
    content = response.content  # type: ignore[attr-defined]
    assert content.startswith("\ufeff".encode())  # Excel reads the Chinese correctly
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def _sheet(response: object) -> Worksheet:
    sheet = load_workbook(io.BytesIO(response.content)).active  # type: ignore[attr-defined]
    assert isinstance(sheet, Worksheet)
    return sheet


FORMULA = '=HYPERLINK("http://x","y")'


# The export's column titles, and the text each shows for the hostile customer.
NEUTRALISED = {
    "客户名称": FORMULA,
    "行业": "＝1+1",
    "客户来源": "+86 转介绍",
    "标签": "-2+3、重点客户",
    "主要联系人": "@SUM(1+1)",
}


@pytest.fixture
def hostile(sales_a: Api, admin: Api) -> dict[str, Any]:
    """A customer whose text fields each start a formula in a spreadsheet."""
    customer = sales_a.create_customer(
        customer_name=FORMULA,
        province="江苏",
        industry="＝1+1",  # full width: NFKC folds it into "="
        source="+86 转介绍",
        tags=["-2+3", "重点客户"],
        contacts=[{"contact_name": "@SUM(1+1)", "contact_phone": "13912340000"}],
    )
    return admin.set_finance(customer, annual_revenue="1000.00")


def _default_rule(monkeypatch: pytest.MonkeyPatch, name: str, value: int) -> None:
    """Change a default export rule; signed-in users' actors, which carry the rules, are read anew."""
    monkeypatch.setattr(settings, name, value)
    actors.cache().clear()


class TestFormulaInjection:
    """Text from the database never runs as a formula in an export; its visible text stays."""

    def _check_xlsx(self, response: object) -> None:
        sheet = _sheet(response)
        header = [c.value for c in sheet[1]]
        row = {title: sheet.cell(2, header.index(title) + 1) for title in header}
        for title, text in NEUTRALISED.items():
            cell = row[title]
            assert (cell.value, cell.data_type, cell.quotePrefix) == (text, "s", True), title
        assert row["客户编码"].quotePrefix is False  # ordinary text is left alone

    def _check_csv(self, response: object) -> None:
        header, *rows = _csv_rows(response)
        shown = dict(zip(header, rows[0], strict=True))
        for title, text in NEUTRALISED.items():
            assert shown[title] == "'" + text, title
        assert not shown["客户编码"].startswith("'")

    def test_xlsx_cells_that_start_a_formula_are_quoted_text_with_their_text_unchanged(
        self, manager_east: Api, hostile: dict[str, Any]
    ) -> None:
        response = manager_east.get("/crm/customers/export", params={"format": "xlsx"})
        assert response.status_code == 200
        self._check_xlsx(response)

    def test_csv_cells_that_start_a_formula_get_a_leading_single_quote(
        self, manager_east: Api, hostile: dict[str, Any]
    ) -> None:
        response = manager_east.get("/crm/customers/export", params={"format": "csv"})
        assert response.status_code == 200
        self._check_csv(response)

    @pytest.mark.parametrize("file_format", ["csv", "xlsx"])
    def test_an_approved_download_is_neutralised_the_same_way(
        self,
        sales_a: Api,
        manager_east: Api,
        hostile: dict[str, Any],
        monkeypatch: pytest.MonkeyPatch,
        file_format: str,
    ) -> None:
        _default_rule(monkeypatch, "export_approval_threshold", 0)
        request = sales_a.get("/crm/customers/export", params={"format": file_format}).json()
        manager_east.post(f"/crm/approvals/{request['id']}/approve", {"note": "核对"})
        response = sales_a.get(f"/crm/approvals/{request['id']}/download")
        assert response.status_code == 200
        if file_format == "xlsx":
            self._check_xlsx(response)
            return
        header, *rows = _csv_rows(response)
        shown = dict(zip(header, rows[0], strict=True))
        assert (shown["客户名称"], shown["主要联系人"]) == ("'" + FORMULA, "'@SUM(1+1)")

    def test_a_negative_amount_stays_a_number_and_is_not_quoted(
        self, manager_east: Api, hostile: dict[str, Any], session: Session
    ) -> None:
        session.execute(update(Customer).where(Customer.id == hostile["id"]).values(annual_revenue=Decimal("-5")))
        session.commit()
        cell = _sheet(manager_east.get("/crm/customers/export", params={"format": "xlsx"})).cell(2, 8)
        assert (cell.value, cell.data_type, cell.quotePrefix) == (-5, "n", False)
        header, *rows = _csv_rows(manager_east.get("/crm/customers/export", params={"format": "csv"}))
        assert dict(zip(header, rows[0], strict=True))["年营业额"] == "-5.00"

    def test_a_control_character_in_a_name_leaves_the_workbook_readable(self, manager_east: Api) -> None:
        manager_east.create_customer(customer_name="控制\x01字符公司", province="江苏")
        response = manager_east.get("/crm/customers/export", params={"format": "xlsx"})
        assert response.status_code == 200
        assert [c.value for c in _sheet(response)[2]][1] == "控制字符公司"


class TestExport:
    def test_csv_holds_the_filtered_customers_masked_and_without_hidden_figures(
        self, sales_a: Api, customers: list[dict]
    ) -> None:
        response = sales_a.get("/crm/customers/export", params={"keyword": "导出测试", "format": "csv"})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert "attachment" in response.headers["content-disposition"]
        header, *rows = _csv_rows(response)
        assert header[:2] == ["客户编码", "客户名称"]
        assert [r[1] for r in rows] == ["导出测试2号公司", "导出测试1号公司", "导出测试0号公司"]
        by_name = dict(zip(header, rows[0], strict=True))
        assert by_name["联系电话"] == "139****0002"
        assert by_name["年营业额"] == ""  # a sales rep has no finance.read
        assert by_name["标签"] == "重点客户"

    def test_xlsx_opens_as_a_workbook(self, manager_east: Api, customers: list[dict]) -> None:
        response = manager_east.get("/crm/customers/export", params={"format": "xlsx"})
        assert response.status_code == 200
        sheet = load_workbook(io.BytesIO(response.content)).active
        assert sheet is not None
        values = list(sheet.values)
        assert values[0][1] == "客户名称"
        assert len(values) == 4
        assert {row[7] for row in values[1:]} == {1000}  # a manager sees revenue, as a number

    def test_an_export_is_audited_with_its_row_count(
        self, sales_a: Api, customers: list[dict], session: Session
    ) -> None:
        sales_a.get("/crm/customers/export", params={"tag": "重点客户"})
        [entry] = session.scalars(select(AuditLog).where(AuditLog.action == "customer.export")).all()
        assert entry.actor_id == sales_a.user.id
        assert entry.detail is not None
        assert (entry.detail["rows"], entry.detail["format"], entry.detail["filters"]["tag"]) == (3, "csv", "重点客户")

    def test_exports_follow_the_callers_scope(self, sales_b: Api, customers: list[dict]) -> None:
        _, *rows = _csv_rows(sales_b.get("/crm/customers/export"))
        assert rows == []

    def test_a_daily_limit_per_user_answers_429(
        self, sales_a: Api, customers: list[dict], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        _default_rule(monkeypatch, "export_daily_limit", 2)
        assert sales_a.get("/crm/customers/export").status_code == 200
        assert sales_a.get("/crm/customers/export").status_code == 200
        third = sales_a.get("/crm/customers/export")
        assert third.status_code == 429
        assert int(third.headers["retry-after"]) > 0

    def test_large_exports_by_sales_roles_need_approval_but_managers_export_directly(
        self, sales_a: Api, manager_east: Api, customers: list[dict], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        _default_rule(monkeypatch, "export_approval_threshold", 2)
        asked = sales_a.get("/crm/customers/export", params={"format": "xlsx", "tag": "重点客户"})
        assert asked.status_code == 202
        request = asked.json()
        assert (request["action"], request["status"], request["customer_id"]) == ("customer.export", "pending", None)
        assert request["payload"]["rows"] == 3
        assert request["region"] == "华东"  # the requester's region: its managers decide
        assert manager_east.get("/crm/customers/export").status_code == 200

    def test_an_approved_export_is_downloaded_once_by_its_requester_with_their_masking(
        self,
        sales_a: Api,
        sales_b: Api,
        manager_east: Api,
        customers: list[dict],
        session: Session,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        _default_rule(monkeypatch, "export_approval_threshold", 2)
        request = sales_a.get("/crm/customers/export", params={"keyword": "导出测试"}).json()
        download = f"/crm/approvals/{request['id']}/download"
        pending = sales_a.get(download)
        assert (pending.status_code, pending.json()["code"]) == (409, "not_ready")
        assert session.scalars(select(AuditLog).where(AuditLog.action == "customer.export")).all() == []

        approved = manager_east.post(f"/crm/approvals/{request['id']}/approve", {"note": "季度回访名单"})
        assert (approved.json()["status"], approved.json()["outcome"]) == ("approved", "ready")
        assert manager_east.get(download).status_code == 403  # only the requester downloads
        assert sales_b.get(download).status_code == 404  # not even visible to another rep

        header, *rows = _csv_rows(sales_a.get(download))
        assert len(rows) == 3
        assert dict(zip(header, rows[0], strict=True))["联系电话"] == "139****0002"
        [entry] = session.scalars(select(AuditLog).where(AuditLog.action == "customer.export")).all()
        assert entry.detail is not None
        assert (entry.actor_id, entry.detail["rows"], entry.detail["approval_id"]) == (
            sales_a.user.id,
            3,
            request["id"],
        )
        again = sales_a.get(download)
        assert (again.status_code, again.json()["code"]) == (409, "not_ready")
        assert sales_a.get(f"/crm/approvals/{request['id']}").json()["outcome"] == "downloaded"

    def test_a_rejected_export_cannot_be_downloaded(
        self, sales_a: Api, manager_east: Api, customers: list[dict], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        _default_rule(monkeypatch, "export_approval_threshold", 2)
        request = sales_a.get("/crm/customers/export").json()
        manager_east.post(f"/crm/approvals/{request['id']}/reject", {"note": "范围过大"})
        refused = sales_a.get(f"/crm/approvals/{request['id']}/download")
        assert (refused.status_code, refused.json()["code"]) == (409, "not_ready")
