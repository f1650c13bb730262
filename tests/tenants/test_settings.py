"""Per-tenant settings: brand name, masking rules, export limits; admin only and audited."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.models import AuditLog, Tenant
from crm.tenants.schemas import DEFAULT_PLAYBOOK
from crm.tenants.service import settings_of
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


class TestPartialSections:
    """Sending part of a section changes only what was sent; the tenant's other rules stay."""

    def test_one_assignment_rule_keeps_the_tenants_weights(self, admin: Api) -> None:
        assert admin.put("/crm/settings", {"assignment": {"weights": {"urgent": 9}}}).status_code == 200
        assert admin.put("/crm/settings", {"assignment": {"max_load": 30}}).status_code == 200
        rules = admin.get("/crm/settings").json()["assignment"]
        assert (rules["max_load"], rules["weights"]["urgent"], rules["weights"]["low"]) == (30, 9, 1)

    def test_a_rule_that_may_be_empty_is_cleared_by_null_and_others_refuse_null(self, admin: Api) -> None:
        assert admin.put("/crm/settings", {"assignment": {"vip_team": "VIP组"}}).status_code == 200
        assert admin.put("/crm/settings", {"assignment": {"vip_team": None}}).status_code == 200
        assert admin.get("/crm/settings").json()["assignment"]["vip_team"] is None
        refused = admin.put("/crm/settings", {"assignment": {"max_load": None}})
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == "assignment.max_load"

    def test_one_churn_threshold_keeps_the_tenants_playbook(self, admin: Api) -> None:
        own = {"playbook": {"high": "总经理亲自拜访"}, "task_due_days": {"high": 2}}
        assert admin.put("/crm/settings", {"churn": own}).status_code == 200
        assert admin.put("/crm/settings", {"churn": {"high_no_order_days": 120}}).status_code == 200
        rules = admin.get("/crm/settings").json()["churn"]
        assert (rules["high_no_order_days"], rules["playbook"]["high"], rules["task_due_days"]["high"]) == (
            120, "总经理亲自拜访", 2,
        )  # fmt: skip
        assert rules["playbook"]["low"].startswith("两周内")

    def test_null_removes_a_playbook_entry_and_the_strategy_falls_back(
        self, admin: Api, tenant: Tenant, session: Session
    ) -> None:
        sent = {"churn": {"playbook": {"A.high": "总经理亲自拜访", "B.low": "微信问候"}}}
        assert admin.put("/crm/settings", sent).status_code == 200
        session.refresh(tenant)
        assert settings_of(tenant).churn.strategy("A", "high") == "总经理亲自拜访"
        removed = admin.put("/crm/settings", {"churn": {"playbook": {"A.high": None, "high": None}}})
        assert removed.status_code == 200, removed.text
        playbook = admin.get("/crm/settings").json()["churn"]["playbook"]
        assert ("A.high" in playbook, "high" in playbook, playbook["B.low"]) == (False, False, "微信问候")
        session.refresh(tenant)
        rules = settings_of(tenant).churn
        assert rules.strategy("A", "high") == DEFAULT_PLAYBOOK["high"]
        assert rules.strategy("B", "low") == "微信问候"
        # Removing what is not there changes nothing; a key that is no risk is still refused.
        assert admin.put("/crm/settings", {"churn": {"playbook": {"C.medium": None}}}).status_code == 200
        unknown = admin.put("/crm/settings", {"churn": {"playbook": {"E.high": None}}})
        assert (unknown.status_code, unknown.json()["errors"][0]["field"]) == (422, "churn.playbook")

    def test_an_empty_strategy_is_refused_naming_the_entry(self, admin: Api) -> None:
        for text in ("", "   "):
            refused = admin.put(
                "/crm/settings", {"churn": {"playbook": {"A.high": text}}}, headers={"Accept-Language": "zh-CN"}
            )
            assert refused.status_code == 422, text
            assert refused.headers["content-type"].startswith("application/problem+json")
            [error] = refused.json()["errors"]
            assert (error["field"], error["code"]) == ("churn.playbook.A.high", "playbook_empty")
            assert "null" in error["message"]
        assert "A.high" not in admin.get("/crm/settings").json()["churn"]["playbook"]
        refused = admin.put("/crm/settings", {"churn": {"playbook": None}})
        assert (refused.status_code, refused.json()["errors"][0]["field"]) == (422, "churn.playbook")

    def test_one_grading_threshold_is_checked_against_the_tenants_others(self, admin: Api) -> None:
        assert admin.put("/crm/settings", {"grading": {"c_spend": "10000", "b_spend": "20000"}}).status_code == 200
        # b_spend 15,000 alone is valid against the tenant's C of 10,000 (not against the default 50,000).
        assert admin.put("/crm/settings", {"grading": {"b_spend": "15000"}}).status_code == 200
        assert Decimal(admin.get("/crm/settings").json()["grading"]["b_spend"]) == Decimal(15000)

    def test_a_change_that_breaks_the_merged_rules_is_a_422_naming_the_section(self, admin: Api) -> None:
        refused = admin.put("/crm/settings", {"grading": {"c_spend": "400000"}})  # C above the tenant's B
        assert refused.status_code == 422
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["errors"][0]["field"] == "grading"
        assert Decimal(admin.get("/crm/settings").json()["grading"]["c_spend"]) == 50000  # nothing stored
