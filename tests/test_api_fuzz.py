"""Schemathesis over the whole OpenAPI spec, authenticated, on both databases.

It generates valid and invalid requests for every operation and fails on any 5xx or any
response (status, content type, headers or body) that breaks the documented schema.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.orm import Session, sessionmaker

from crm.app import create_app
from crm.config import settings as crm_settings
from crm.kit.regions import Region
from crm.models.enums import Role
from tests.factories import Api, auth, make_tenant, make_user, mobile

# One app for the whole module; each test points it at that test's rolled-back transaction.
APP = create_app(sessionmaker(), check_migrations=False)
schema = schemathesis.openapi.from_asgi("/api/openapi.json", APP)


@pytest.fixture
def fuzz_target(
    client: TestClient, session: Session, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    APP.state.session_factory = session_factory
    # Schemathesis sends hundreds of cases to an operation with a wide body (the settings): more
    # than one token may send in a minute. The limit itself is tested in tests/auth.
    monkeypatch.setattr(crm_settings, "api_rate_limit_per_minute", 1_000_000)
    tenant = make_tenant(session)
    admin = make_user(session, tenant, Role.ADMIN)
    sales = make_user(session, tenant, Role.SALES, region=Region.EAST)
    api = Api(client, admin)
    # Some real rows, so that generated ids sometimes hit something.
    for n in range(3):
        api.create_customer(
            assigned_sales_id=sales.id,
            contacts=[{"contact_name": f"联系人{n}", "contact_phone": mobile(n)}],
            addresses=[{"address_type": "office", "province": "上海", "city": "上海市", "detailed_address": "路1号"}],
        )
    return {"headers": auth(admin)}


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_operation_answers_5xx_or_breaks_its_schema(case: Any, fuzz_target: dict[str, Any]) -> None:
    case.call_and_validate(headers=fuzz_target["headers"], checks=CHECKS)
