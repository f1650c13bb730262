"""Per-tenant settings: brand name, masking rules, export limits; admin only and audited."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.models import AuditLog
from tests.factories import Api, mobile


class TestSettings:
    def test_defaults_until_an_admin_changes_them(self, admin: Api) -> None:
        body = admin.get("/crm/settings").json()
        assert body["brand_name"] is None
        assert all(body["masking"].values())
        assert (body["export_approval_threshold"], body["export_daily_limit"]) == (1000, 20)

    def test_a_change_keeps_the_other_settings_and_is_audited(self, admin: Api, session: Session) -> None:
        response = admin.put("/crm/settings", {"brand_name": "华信集团 CRM"})
        assert response.status_code == 200, response.text
        admin.put("/crm/settings", {"export_daily_limit": 5})
        body = admin.get("/crm/settings").json()
        assert (body["brand_name"], body["export_daily_limit"]) == ("华信集团 CRM", 5)
        assert admin.get("/auth/me").json()["brand_name"] == "华信集团 CRM"
        entries = session.scalars(
            select(AuditLog)
            .where(AuditLog.action == "tenant.settings", AuditLog.tenant_id == admin.user.tenant_id)
            .order_by(AuditLog.id)
        ).all()
        assert [e.changes for e in entries] == [
            {"brand_name": {"before": None, "after": "华信集团 CRM"}},
            {"export_daily_limit": {"before": 20, "after": 5}},
        ]

    def test_invalid_settings_name_the_field(self, admin: Api) -> None:
        for body, field in (
            ({"export_approval_threshold": 0}, "export_approval_threshold"),
            ({"masking": {"contact_fax": False}}, "masking.contact_fax"),
            ({"colour": "red"}, "colour"),
        ):
            response = admin.put("/crm/settings", body)
            assert response.status_code == 422, body
            assert response.json()["errors"][0]["field"] == field

    def test_only_admins_read_or_change_settings(self, manager_east: Api, sales_a: Api) -> None:
        for api in (manager_east, sales_a):
            assert api.get("/crm/settings").status_code == 403
            assert api.put("/crm/settings", {"brand_name": "x"}).status_code == 403

    def test_each_tenant_has_its_own(self, admin: Api, outsider: Api) -> None:
        admin.put("/crm/settings", {"brand_name": "甲公司"})
        assert outsider.get("/crm/settings").json()["brand_name"] is None


class TestRulesApply:
    def test_a_field_the_tenant_does_not_mask_is_shown_in_clear(self, admin: Api, sales_a: Api) -> None:
        customer = sales_a.create_customer(
            contacts=[{"contact_name": "甲", "contact_phone": mobile(4321), "contact_email": "jia@example.com"}]
        )
        admin.put("/crm/settings", {"masking": {"contact_email": False}})
        admin.put("/crm/settings", {"masking": {"contact_wechat": False}})  # the e-mail rule stays
        [contact] = sales_a.get(f"/crm/customers/{customer['id']}").json()["contacts"]
        assert contact["contact_email"] == "jia@example.com"
        assert contact["contact_phone"] == "139****4321"  # still masked

    def test_the_tenants_threshold_sends_exports_to_approval(self, admin: Api, sales_a: Api) -> None:
        for _ in range(3):
            sales_a.create_customer()
        assert sales_a.get("/crm/customers/export").status_code == 200
        admin.put("/crm/settings", {"export_approval_threshold": 2})
        assert sales_a.get("/crm/customers/export").status_code == 202
