"""The authorisation matrix, generated from the OpenAPI spec: every operation × every role ×
{own record, same region, other region, other tenant, deleted}.

A forbidden cell must not answer 2xx and an allowed one must; an operation missing from
OPERATIONS (a new endpoint nobody classified) fails the test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from crm.auth.permissions import ROLE_PERMISSIONS, ROLE_SCOPES, Permission
from crm.auth.tokens import issue_token
from crm.kit.actor import DataScope
from crm.kit.clock import business_today
from crm.kit.regions import Region
from crm.models import ChurnWarning, SavedView, User
from crm.models.enums import Role
from tests.factories import PASSWORD, Api, make_tenant, make_user, mobile

DECIDERS = frozenset({Role.ADMIN, Role.SALES_MANAGER})
# The service statistics: analysts and managers (analytics.read), and service staff for their own desk.
STATISTICS_READERS = frozenset(
    role
    for role, granted in ROLE_PERMISSIONS.items()
    if granted & {Permission.ANALYTICS_READ, Permission.TICKET_HANDLE}
)
ADDRESS = {"address_type": "home", "province": "江苏", "city": "南京市", "detailed_address": "中山路1号"}


@dataclass(frozen=True)
class Rule:
    permission: Permission | None  # None: any signed-in user
    body: dict[str, Any] | None = None
    record: bool = True  # the path names a customer (or its contact/address)
    roles: frozenset[Role] | None = None  # when set, exactly the roles that succeed
    deleted: bool = False  # also reaches soft-deleted customers (data-subject requests do)
    files: dict[str, tuple[str, bytes, str]] | None = None  # a multipart upload instead of a JSON body
    query: dict[str, str] | None = None  # required query parameters


# Every operation of the API and what it needs. Public operations are listed with None.
OPERATIONS: dict[tuple[str, str], Rule | None] = {
    ("POST", "/api/v1/auth/login"): None,
    ("GET", "/api/v1/auth/me"): Rule(None, record=False),
    ("POST", "/api/v1/auth/logout"): Rule(None, record=False),
    ("POST", "/api/v1/auth/password"): Rule(
        None, {"current_password": PASSWORD, "new_password": "矩阵里的新密码-2026"}, record=False
    ),
    ("GET", "/api/v1/crm/audit_logs"): Rule(Permission.AUDIT_READ, record=False),
    ("GET", "/api/v1/crm/customers"): Rule(Permission.CUSTOMER_READ, record=False),
    ("GET", "/api/v1/crm/customers/search"): Rule(Permission.CUSTOMER_READ, record=False),
    ("GET", "/api/v1/crm/customers/export"): Rule(Permission.CUSTOMER_EXPORT, record=False),
    ("POST", "/api/v1/crm/customers"): Rule(
        Permission.CUSTOMER_CREATE, {"customer_name": "矩阵新客户", "customer_type": "individual"}, record=False
    ),
    ("GET", "/api/v1/crm/customers/{customer_id}"): Rule(Permission.CUSTOMER_READ),
    ("PUT", "/api/v1/crm/customers/{customer_id}"): Rule(Permission.CUSTOMER_UPDATE, {"version": 1, "remarks": "x"}),
    ("DELETE", "/api/v1/crm/customers/{customer_id}"): Rule(Permission.CUSTOMER_DELETE),
    ("PUT", "/api/v1/crm/customers/{customer_id}/level"): Rule(
        Permission.CUSTOMER_LEVEL, {"level": "B", "reason": "矩阵"}
    ),
    ("GET", "/api/v1/crm/customers/{customer_id}/level_history"): Rule(Permission.CUSTOMER_READ),
    ("POST", "/api/v1/crm/customers/{customer_id}/level/release"): Rule(Permission.CUSTOMER_LEVEL, {"reason": "矩阵"}),
    ("PUT", "/api/v1/crm/customers/{customer_id}/assign_sales"): Rule(Permission.CUSTOMER_ASSIGN, {}),
    ("GET", "/api/v1/crm/customers/{customer_id}/contacts"): Rule(Permission.CUSTOMER_READ),
    ("POST", "/api/v1/crm/customers/{customer_id}/contacts"): Rule(Permission.CONTACT_WRITE, {"contact_name": "新"}),
    ("PUT", "/api/v1/crm/contacts/{contact_id}"): Rule(Permission.CONTACT_WRITE, {"version": 1, "contact_title": "x"}),
    ("DELETE", "/api/v1/crm/contacts/{contact_id}"): Rule(Permission.CONTACT_WRITE),
    ("POST", "/api/v1/crm/contacts/{contact_id}/reveal"): Rule(Permission.PII_UNMASK, {"field": "contact_phone"}),
    ("GET", "/api/v1/crm/customers/{customer_id}/addresses"): Rule(Permission.CUSTOMER_READ),
    ("POST", "/api/v1/crm/customers/{customer_id}/addresses"): Rule(Permission.CONTACT_WRITE, ADDRESS),
    ("PUT", "/api/v1/crm/addresses/{address_id}"): Rule(
        Permission.CONTACT_WRITE, {"version": 1, "postal_code": "210000"}
    ),
    ("DELETE", "/api/v1/crm/addresses/{address_id}"): Rule(Permission.CONTACT_WRITE),
    ("POST", "/api/v1/crm/addresses/{address_id}/reveal"): Rule(Permission.PII_UNMASK, {"field": "detailed_address"}),
    # The approval in these paths was asked by a sales rep of 华东, the matrix user's region.
    ("GET", "/api/v1/crm/approvals"): Rule(None, record=False),
    ("GET", "/api/v1/crm/approvals/{approval_id}"): Rule(None, record=False, roles=DECIDERS),
    ("POST", "/api/v1/crm/approvals/{approval_id}/approve"): Rule(None, {"note": "同意"}, record=False, roles=DECIDERS),
    ("POST", "/api/v1/crm/approvals/{approval_id}/reject"): Rule(None, {}, record=False, roles=DECIDERS),
    # Only the requester of an approved export downloads it: nobody, for this pending delete.
    ("GET", "/api/v1/crm/approvals/{approval_id}/download"): Rule(None, record=False, roles=frozenset()),
    ("POST", "/api/v1/crm/privacy/customers/{customer_id}/access"): Rule(Permission.PRIVACY_MANAGE, {}, deleted=True),
    ("POST", "/api/v1/crm/privacy/contacts/{contact_id}/access"): Rule(Permission.PRIVACY_MANAGE, {}, deleted=True),
    ("POST", "/api/v1/crm/privacy/customers/{customer_id}/erase"): Rule(Permission.PRIVACY_MANAGE, {}, deleted=True),
    ("POST", "/api/v1/crm/privacy/contacts/{contact_id}/erase"): Rule(Permission.PRIVACY_MANAGE, {}, deleted=True),
    ("GET", "/api/v1/crm/privacy/requests"): Rule(Permission.PRIVACY_MANAGE, record=False),
    ("GET", "/api/v1/crm/customers/{customer_id}/interactions"): Rule(Permission.CUSTOMER_READ),
    ("POST", "/api/v1/crm/customers/{customer_id}/interactions"): Rule(
        Permission.INTERACTION_WRITE,
        {"interaction_type": "call", "interaction_direction": "outbound", "subject": "矩阵"},
    ),
    # Each record's interaction was logged for the record's owner (the matrix user on "own").
    ("PUT", "/api/v1/crm/interactions/{interaction_id}"): Rule(
        Permission.INTERACTION_WRITE,
        {"version": 2, "outcome": "successful"},  # 2: after its attachment
    ),
    ("POST", "/api/v1/crm/interactions/{interaction_id}/attachments"): Rule(
        Permission.INTERACTION_WRITE, files={"file": ("纪要.txt", "会议纪要".encode(), "text/plain")}
    ),
    ("GET", "/api/v1/crm/interactions/{interaction_id}/attachments/{attachment_id}"): Rule(Permission.CUSTOMER_READ),
    ("GET", "/api/v1/crm/interactions/pending_follow_up"): Rule(Permission.CUSTOMER_READ, record=False),
    ("GET", "/api/v1/crm/customers/{customer_id}/timeline"): Rule(Permission.CUSTOMER_READ),
    ("GET", "/api/v1/crm/notifications"): Rule(None, record=False),
    ("POST", "/api/v1/crm/notifications/read"): Rule(None, {}, record=False),
    # Each record has one open ticket (version 1); POST opens one for the "own" record.
    ("GET", "/api/v1/crm/service_records"): Rule(Permission.CUSTOMER_READ, record=False),
    ("POST", "/api/v1/crm/service_records"): Rule(
        Permission.TICKET_CREATE,
        {"service_type": "consultation", "subject": "矩阵", "description": "咨询"},
        record=False,
    ),
    ("GET", "/api/v1/crm/service_records/{ticket_id}"): Rule(Permission.CUSTOMER_READ),
    ("GET", "/api/v1/crm/service_records/statistics"): Rule(None, record=False, roles=STATISTICS_READERS),
    ("GET", "/api/v1/crm/users/service_staff"): Rule(Permission.TICKET_ASSIGN, record=False),
    # The order system's feed names the "own" record's customer.
    ("POST", "/api/v1/crm/orders"): Rule(
        Permission.ORDER_WRITE,
        {"order_no": "SO-MATRIX", "status": "paid", "order_date": "2026-11-01T10:00:00", "amount": "100.00"},
        record=False,
    ),
    ("GET", "/api/v1/crm/customers/{customer_id}/orders"): Rule(Permission.CUSTOMER_READ),
    ("POST", "/api/v1/crm/customers/{customer_id}/receivables"): Rule(
        Permission.ORDER_WRITE, {"reference": "INV-MATRIX", "amount_due": "100.00", "due_date": "2026-12-31"}
    ),
    ("GET", "/api/v1/crm/customers/{customer_id}/receivables"): Rule(Permission.FINANCE_READ),
    ("GET", "/api/v1/crm/customers/{customer_id}/value_analysis"): Rule(Permission.CUSTOMER_READ),
    ("GET", "/api/v1/crm/customers/{customer_id}/behavior_analysis"): Rule(Permission.CUSTOMER_READ),
    ("POST", "/api/v1/crm/customers/{customer_id}/value_analysis/refresh"): Rule(Permission.CUSTOMER_UPDATE),
    ("GET", "/api/v1/crm/analytics/dashboard"): Rule(Permission.ANALYTICS_READ, record=False),
    ("GET", "/api/v1/crm/churn_warnings"): Rule(Permission.CUSTOMER_READ, record=False),
    ("GET", "/api/v1/crm/churn_warnings/summary"): Rule(Permission.CUSTOMER_READ, record=False),
    ("GET", "/api/v1/crm/churn_warnings/{warning_id}"): Rule(Permission.CUSTOMER_READ),
    ("POST", "/api/v1/crm/churn_warnings/{warning_id}/actions"): Rule(
        Permission.INTERACTION_WRITE, {"action_type": "call", "content": "电话回访"}
    ),
    ("PUT", "/api/v1/crm/churn_warnings/{warning_id}/outcome"): Rule(
        Permission.INTERACTION_WRITE, {"outcome": "retained", "version": 1}
    ),
    ("GET", "/api/v1/crm/churn_model"): Rule(Permission.CUSTOMER_READ, record=False),
    ("POST", "/api/v1/crm/churn_model/train"): Rule(Permission.SETTINGS_MANAGE, record=False),
    # The customer's survey link: no sign-in; tests/service_desk/test_surveys.py covers it.
    ("GET", "/api/v1/public/surveys/{token}"): None,
    ("POST", "/api/v1/public/surveys/{token}"): None,
    ("PUT", "/api/v1/crm/service_records/{ticket_id}"): Rule(
        Permission.TICKET_HANDLE, {"version": 1, "priority": "high"}
    ),
    ("PUT", "/api/v1/crm/service_records/{ticket_id}/assign"): Rule(Permission.TICKET_ASSIGN, {"version": 1}),
    ("PUT", "/api/v1/crm/service_records/{ticket_id}/start"): Rule(Permission.TICKET_HANDLE, {"version": 1}),
    ("PUT", "/api/v1/crm/service_records/{ticket_id}/cancel"): Rule(
        Permission.TICKET_HANDLE, {"version": 1, "reason": "重复"}
    ),
    ("PUT", "/api/v1/crm/service_records/{ticket_id}/escalate"): Rule(
        Permission.TICKET_HANDLE, {"version": 1, "reason": "客户投诉"}
    ),
    # From open, resolve, close and reopen are 409 for everyone: the status tests cover them.
    ("PUT", "/api/v1/crm/service_records/{ticket_id}/resolve"): Rule(
        Permission.TICKET_HANDLE, {"version": 1, "resolution": "x"}, roles=frozenset()
    ),
    ("PUT", "/api/v1/crm/service_records/{ticket_id}/close"): Rule(
        Permission.TICKET_HANDLE, {"version": 1}, roles=frozenset()
    ),
    ("PUT", "/api/v1/crm/service_records/{ticket_id}/reopen"): Rule(
        Permission.TICKET_HANDLE, {"version": 1, "reason": "x"}, roles=frozenset()
    ),
    ("GET", "/api/v1/crm/users"): Rule(Permission.USER_MANAGE, record=False),
    ("POST", "/api/v1/crm/users"): Rule(
        Permission.USER_MANAGE,
        {"username": "matrix.new", "password": "matrix-password-1", "role": "sales"},
        record=False,
    ),
    ("PUT", "/api/v1/crm/users/{user_id}"): Rule(Permission.USER_MANAGE, {"display_name": "矩阵改名"}, record=False),
    ("GET", "/api/v1/crm/users/sales_owners"): Rule(Permission.CUSTOMER_ASSIGN, record=False),
    ("GET", "/api/v1/crm/settings"): Rule(Permission.SETTINGS_MANAGE, record=False),
    ("PUT", "/api/v1/crm/settings"): Rule(Permission.SETTINGS_MANAGE, {"brand_name": "矩阵品牌"}, record=False),
    ("PUT", "/api/v1/crm/customers/{customer_id}/legal_hold"): Rule(
        Permission.PRIVACY_MANAGE, {"legal_hold": True, "reason": "诉讼保全"}, deleted=True
    ),
    # Saved views are their owner's alone: the path names the matrix user's own view of customers.
    ("GET", "/api/v1/crm/saved_views"): Rule(Permission.CUSTOMER_READ, record=False, query={"page": "customers"}),
    ("POST", "/api/v1/crm/saved_views"): Rule(
        Permission.CUSTOMER_READ, {"page": "customers", "name": "矩阵新视图"}, record=False
    ),
    ("PUT", "/api/v1/crm/saved_views/{view_id}"): Rule(
        Permission.CUSTOMER_READ, {"name": "矩阵改名", "version": 1}, record=False
    ),
    ("DELETE", "/api/v1/crm/saved_views/{view_id}"): Rule(Permission.CUSTOMER_READ, record=False),
}
TARGETS = ("own", "same_region", "other_region", "other_tenant", "deleted")


def test_every_operation_of_the_spec_is_in_the_matrix(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    operations = {(m.upper(), path) for path, ops in spec["paths"].items() for m in ops}
    assert operations == set(OPERATIONS)


def _visible(role: Role, user: User, target: str, *, deleted: bool = False) -> bool:
    if target == "other_tenant" or (target == "deleted" and not deleted):
        return False
    scope = ROLE_SCOPES[role]
    if scope == DataScope.TENANT:
        return True
    if scope == DataScope.REGION:
        return target in ("own", "same_region")
    return target == "own"  # OWN and SERVICE: the record is theirs


@pytest.mark.parametrize("role", list(Role))
def test_each_role_gets_exactly_what_the_matrix_allows(
    role: Role, client: TestClient, session: Session, connection: Connection
) -> None:
    tenant = make_tenant(session)
    # Tickets stay where the test puts them: automatic assignment would hand them to agents.
    tenant.settings = {"assignment": {"enabled": False}}
    session.commit()
    user = make_user(session, tenant, role, region=Region.EAST)
    owner_east = make_user(session, tenant, Role.SALES, region=Region.EAST)
    owner_south = make_user(session, tenant, Role.SALES, region=Region.SOUTH)
    agent = make_user(session, tenant, Role.SERVICE_AGENT)
    admin = Api(client, make_user(session, tenant, Role.ADMIN))
    outsider = Api(client, make_user(session, make_tenant(session), Role.ADMIN))

    def customer(api: Api, province: str, staff: User | None = None, **owners: Any) -> dict[str, Any]:
        made = api.create_customer(
            province=province,
            contacts=[{"contact_name": "联系人", "contact_phone": mobile(len(owners) + 7)}],
            addresses=[ADDRESS],
            **owners,
        )
        logged = api.post(
            f"/crm/customers/{made['id']}/interactions",
            {"interaction_type": "visit", "interaction_direction": "outbound", "subject": "拜访"}
            | ({"staff_id": staff.id} if staff else {}),
        ).json()
        attached = api.post(
            f"/crm/interactions/{logged['id']}/attachments", files={"file": ("a.txt", b"notes", "text/plain")}
        ).json()
        ticket = api.post(
            "/crm/service_records",
            {"customer_id": made["id"], "service_type": "complaint", "subject": "投诉", "description": "送货延迟"},
        ).json()
        # A churn warning in work on the customer, as the nightly job would have opened it.
        warning = ChurnWarning(
            tenant_id=api.user.tenant_id, customer_id=made["id"], risk_level="low", rule="quiet", reason="低风险",
            status="open", owner_id=owners.get("assigned_sales_id"), strategy="回访", due_date=business_today(),
            detected_date=business_today(), risk_changed_date=business_today(),
        )  # fmt: skip
        session.add(warning)
        session.commit()
        return {
            **made, "interaction_id": logged["id"], "attachment_id": attached["id"], "ticket_id": ticket["id"],
            "warning_id": warning.id,
        }  # fmt: skip

    own_owners = {"assigned_sales_id": user.id} if role in (Role.SALES, Role.SALES_MANAGER) else {}
    if role == Role.SERVICE_AGENT:
        own_owners = {"assigned_service_id": user.id}
    records = {
        "own": customer(admin, "江苏", user, **own_owners),
        "same_region": customer(admin, "浙江", owner_east, assigned_sales_id=owner_east.id),
        "other_region": customer(admin, "广东", owner_south, assigned_sales_id=owner_south.id),
        "other_tenant": customer(outsider, "江苏"),
        "deleted": customer(admin, "江苏", user, **own_owners),
    }
    view = SavedView(tenant_id=tenant.id, user_id=user.id, page="customers", name="矩阵视图", definition={})
    session.add(view)
    session.commit()
    admin.delete(f"/crm/customers/{records['deleted']['id']}")
    asked = Api(client, owner_east).delete(f"/crm/customers/{records['same_region']['id']}")
    approval_id = asked.json()["id"]

    failures = []
    for (method, path), rule in OPERATIONS.items():
        if rule is None:
            continue
        allowed_by_role = rule.permission is None or rule.permission in ROLE_PERMISSIONS[role]
        for target in TARGETS if rule.record else ("-",):
            record = records.get(target, records["own"])
            url = path.format(
                customer_id=record["id"],
                contact_id=record["contacts"][0]["id"],
                address_id=record["addresses"][0]["id"],
                approval_id=approval_id,
                user_id=owner_east.id,
                interaction_id=record["interaction_id"],
                ticket_id=record["ticket_id"],
                attachment_id=record["attachment_id"],
                warning_id=record["warning_id"],
                view_id=view.id,
            )
            body = rule.body
            if body == {} and "assign_sales" in path:  # to a sales rep of the tenant
                body = {"assigned_sales_id": owner_east.id}
            if path.endswith("/assign"):  # to a service agent of the tenant
                body = {**(body or {}), "assigned_staff_id": agent.id}
            if path.endswith(("/service_records", "/crm/orders")) and method == "POST":
                body = {**(body or {}), "customer_id": records["own"]["id"]}
            token, _ = issue_token(user.id, tenant.id)  # a fresh token: logout revokes only its own
            nested = connection.begin_nested()  # every cell starts from the same data
            try:
                headers = {"Authorization": f"Bearer {token}"}
                if rule.files:
                    response = client.request(method, url, files=rule.files, headers=headers, params=rule.query)
                else:
                    response = client.request(method, url, json=body, headers=headers, params=rule.query)
            finally:
                nested.rollback()
            allowed = allowed_by_role and (not rule.record or _visible(role, user, target, deleted=rule.deleted))
            if rule.roles is not None:
                allowed = role in rule.roles
            ok = 200 <= response.status_code < 300
            if ok != allowed:
                failures.append(f"{method} {path} as {role.value} on {target}: {response.status_code}")
    assert failures == []
