"""The field-level cells of the authorisation matrix: for every role and every finance or personal
field, whether a read shows it in clear, whether sorting or filtering by it is allowed, and whether a
write of it is accepted. Generated from ROLE_PERMISSIONS and the fields of crm.auth.fields, so a new
role is covered at once and a new field fails until it is classified here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crm.auth import fields
from crm.auth.permissions import ROLE_PERMISSIONS, Permission
from crm.kit.regions import Region
from crm.models.enums import Role
from tests.factories import Api, make_tenant, make_user


@dataclass(frozen=True)
class Cell:
    read: Permission  # to see the value in clear
    write: Permission  # besides ``read``, to set it
    value: Any  # a value to write
    clear: str  # the value the record holds, as a clear read shows it
    query: dict[str, str] | None = None  # a list request that orders or narrows by the field


FIELDS: dict[str, Cell] = {
    "annual_revenue": Cell(
        Permission.FINANCE_READ, Permission.FINANCE_WRITE, "1.00", "8800000.00", {"sort": "-annual_revenue"}
    ),
    "credit_rating": Cell(Permission.FINANCE_READ, Permission.FINANCE_WRITE, "AAA", "AA", {"credit_rating": "AA"}),
    "contact_phone": Cell(Permission.PII_UNMASK, Permission.CONTACT_WRITE, "13900009999", "13812341234"),
    "contact_email": Cell(Permission.PII_UNMASK, Permission.CONTACT_WRITE, "new@example.com", "zhou@example.com"),
    "contact_wechat": Cell(Permission.PII_UNMASK, Permission.CONTACT_WRITE, "new_wx", "zhou_wx"),
    "birthday": Cell(Permission.PII_UNMASK, Permission.CONTACT_WRITE, "1990-01-02", "1985-07-09"),
    "detailed_address": Cell(Permission.PII_UNMASK, Permission.CONTACT_WRITE, "新街口2号", "中山路100号8楼801室"),
}
ADDRESS_FIELDS = frozenset({"detailed_address"})


def test_every_finance_and_personal_field_is_in_the_matrix() -> None:
    assert set(FIELDS) == set(fields.FINANCE_FIELDS) | set(fields.PERSONAL_FIELDS)
    assert {f: (c.read, c.write) for f, c in FIELDS.items()} == {f: (fields.READ[f], fields.WRITE[f]) for f in FIELDS}


@pytest.mark.parametrize("role", list(Role))
def test_no_role_can_write_a_field_it_cannot_read(role: Role) -> None:
    granted = ROLE_PERMISSIONS[role]
    assert [f for f, c in FIELDS.items() if c.write in granted and c.read not in granted] == []


@pytest.mark.parametrize("role", list(Role))
def test_roles_that_read_the_audit_trail_may_see_what_it_records(role: Role) -> None:
    # The trail keeps finance fields' before and after values in clear.
    if Permission.AUDIT_READ in ROLE_PERMISSIONS[role]:
        assert Permission.FINANCE_READ in ROLE_PERMISSIONS[role]


@pytest.mark.parametrize("role", list(Role))
def test_each_role_reads_sorts_and_writes_exactly_the_fields_the_matrix_allows(
    role: Role, client: TestClient, session: Session
) -> None:
    tenant = make_tenant(session)
    user = make_user(session, tenant, role, region=Region.EAST)
    admin = Api(client, make_user(session, tenant, Role.ADMIN))
    api = Api(client, user)
    owners: dict[str, int] = {}
    if role in (Role.SALES, Role.SALES_MANAGER):
        owners["assigned_sales_id"] = user.id
    if role == Role.SERVICE_AGENT:
        owners["assigned_service_id"] = user.id
    customer = admin.create_customer(
        customer_name="字段矩阵公司",
        province="江苏",
        annual_revenue="8800000.00",
        credit_rating="AA",
        contacts=[
            {
                "contact_name": "周",
                "contact_phone": "13812341234",
                "contact_email": "zhou@example.com",
                "contact_wechat": "zhou_wx",
                "birthday": "1985-07-09",
            }
        ],
        addresses=[
            {"address_type": "office", "province": "江苏", "city": "南京市", "detailed_address": "中山路100号8楼801室"}
        ],
        **owners,
    )
    contact, address = customer["contacts"][0], customer["addresses"][0]
    granted = ROLE_PERMISSIONS[role]

    def shown(field: str) -> Any:
        """The value in clear as the role gets it: in the profile, or by revealing it."""
        if field in fields.FINANCE_FIELDS:
            return api.get(f"/crm/customers/{customer['id']}").json()[field]
        row = ("addresses", address) if field in ADDRESS_FIELDS else ("contacts", contact)
        revealed = api.post(f"/crm/{row[0]}/{row[1]['id']}/reveal", {"field": field})
        return revealed.json()["value"] if revealed.status_code == 200 else None

    def written(field: str, value: Any) -> int:
        if field in fields.FINANCE_FIELDS:
            path, version = f"/crm/customers/{customer['id']}", admin.get(f"/crm/customers/{customer['id']}")
        elif field in ADDRESS_FIELDS:
            path, version = f"/crm/addresses/{address['id']}", admin.get(f"/crm/customers/{customer['id']}/addresses")
        else:
            path, version = f"/crm/contacts/{contact['id']}", admin.get(f"/crm/customers/{customer['id']}/contacts")
        current = version.json()
        current = current[0] if isinstance(current, list) else current
        return int(api.put(path, {"version": current["version"], field: value}).status_code)

    failures = []
    for field, cell in FIELDS.items():
        reads = cell.read in granted
        writes = reads and cell.write in granted
        if (shown(field) == cell.clear) != reads:
            failures.append(f"{role.value} reads {field}: expected {reads}")
        if cell.query is not None:
            status = api.get("/crm/customers", params=cell.query).status_code
            if (status == 200) != reads:
                failures.append(f"{role.value} sorts or filters by {field}: {status}")
        status = written(field, cell.value)
        if (200 <= status < 300) != writes:
            failures.append(f"{role.value} writes {field}: {status}")
    assert failures == []
