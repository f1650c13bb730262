"""Schemathesis over the whole OpenAPI spec, authenticated, on both databases.

It generates valid and invalid requests for every operation and fails on any 5xx or any
response (status, content type, headers or body) that breaks the documented schema. Dates and
timestamps are drawn half the time from the boundaries (Python's first and last day, with the
offsets that push them past its range, and the ends of the supported years).
"""

from __future__ import annotations

from datetime import UTC, timedelta, timezone
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
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

BOUNDARY_DATES = ["0001-01-01", "0001-01-02", "1899-12-31", "1900-01-01", "2999-12-31", "3000-01-01", "9999-12-31"]
BOUNDARY_TIMES = [
    f"{day}T{clock}{offset}"
    for day in BOUNDARY_DATES
    for clock in ("00:00:00", "23:59:59")
    for offset in ("", "Z", "+14:00", "-12:00")
]
OFFSETS = st.sampled_from(
    [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=14)), timezone(-timedelta(hours=12))]
)
schemathesis.openapi.format("date", st.one_of(st.sampled_from(BOUNDARY_DATES), st.dates().map(lambda d: d.isoformat())))
schemathesis.openapi.format(
    "date-time",
    st.one_of(st.sampled_from(BOUNDARY_TIMES), st.datetimes(timezones=OFFSETS).map(lambda t: t.isoformat())),
)

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
