"""Dates and timestamps from clients: every date and date-time input of the API refuses what
lies outside the supported years with a 422 naming the field, and accepts the range's ends."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crm.app import create_app
from crm.kit.clock import business_today
from crm.kit.validation import EARLIEST_DATE, LATEST_DATE
from crm.models import ChurnWarning, Tenant
from tests.factories import Api

# The ends of what Python's date and datetime hold, with the offsets that push their UTC instant
# past them, and the values just outside the supported years.
BOUNDARY_DATES = ["0001-01-01", "9999-12-31", "1899-12-31", "3000-01-01"]
BOUNDARY_TIMES = [
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00",
    "9999-12-31T23:59:59-12:00",
    "9999-12-31T23:59:59",
    "1899-12-31T23:59:59+00:00",
    "3000-01-01T00:00:00+00:00",
]


@dataclass(frozen=True)
class Input:
    """One date or date-time input: how to send a value in it, and the field the 422 names."""

    name: str
    kind: str  # "date" or "date-time"
    send: Callable[[Api, dict[str, Any], str], Any]
    field: str
    aware: bool = False  # only values with an offset are meaningful (others are refused anyway)


def query(path: str, name: str) -> Callable[[Api, dict[str, Any], str], Any]:
    return lambda api, records, value: api.get(path.format(**records), params={name: value})


def body(method: str, path: str, make: Callable[[dict[str, Any], str], dict[str, Any]]) -> Callable[..., Any]:
    def send(api: Api, records: dict[str, Any], value: str) -> Any:
        call = api.post if method == "POST" else api.put
        return call(path.format(**records), make(records, value))

    return send


def order(records: dict[str, Any], **fields: str) -> dict[str, Any]:
    return {"order_no": "SO-BOUNDS", "customer_id": records["customer_id"], "status": "paid",
            "order_date": "2026-11-01T10:00:00", "amount": "100.00", **fields}  # fmt: skip


INTERACTION = {"interaction_type": "call", "interaction_direction": "outbound", "subject": "回访"}

INPUTS = [
    Input("customers acquired_from", "date", query("/crm/customers", "acquired_from"), "acquired_from"),
    Input("customers acquired_to", "date", query("/crm/customers", "acquired_to"), "acquired_to"),
    Input("search acquired_from", "date", query("/crm/customers/search", "acquired_from"), "acquired_from"),
    Input("export acquired_to", "date", query("/crm/customers/export", "acquired_to"), "acquired_to"),
    Input("dashboard acquired_from", "date", query("/crm/analytics/dashboard", "acquired_from"), "acquired_from"),
    Input("dashboard acquired_to", "date", query("/crm/analytics/dashboard", "acquired_to"), "acquired_to"),
    Input("orders ordered_from", "date", query("/crm/customers/{customer_id}/orders", "ordered_from"), "ordered_from"),
    Input("orders ordered_to", "date", query("/crm/customers/{customer_id}/orders", "ordered_to"), "ordered_to"),
    Input("interactions since", "date-time", query("/crm/customers/{customer_id}/interactions", "since"), "since"),
    Input("interactions until", "date-time", query("/crm/customers/{customer_id}/interactions", "until"), "until"),
    Input("tickets created_from", "date-time", query("/crm/service_records", "created_from"), "created_from"),
    Input("tickets created_to", "date-time", query("/crm/service_records", "created_to"), "created_to"),
    Input(
        "statistics created_from",
        "date-time",
        query("/crm/service_records/statistics", "created_from"),
        "created_from",
    ),
    Input("statistics created_to", "date-time", query("/crm/service_records/statistics", "created_to"), "created_to"),
    Input("audit since", "date-time", query("/crm/audit_logs", "since"), "since", aware=True),
    Input("audit until", "date-time", query("/crm/audit_logs", "until"), "until", aware=True),
    Input(
        "new customer acquisition_date",
        "date",
        body(
            "POST",
            "/crm/customers",
            lambda r, v: {"customer_name": "边界客户", "customer_type": "enterprise", "acquisition_date": v},
        ),
        "acquisition_date",
    ),
    Input(
        "new customer's contact birthday",
        "date",
        body(
            "POST",
            "/crm/customers",
            lambda r, v: {
                "customer_name": "边界客户",
                "customer_type": "enterprise",
                "contacts": [{"contact_name": "联系人", "birthday": v}],
            },
        ),
        "contacts.0.birthday",
    ),
    Input(
        "customer update acquisition_date",
        "date",
        body("PUT", "/crm/customers/{customer_id}", lambda r, v: {"version": 1, "acquisition_date": v}),
        "acquisition_date",
    ),
    Input(
        "new contact birthday",
        "date",
        body("POST", "/crm/customers/{customer_id}/contacts", lambda r, v: {"contact_name": "新", "birthday": v}),
        "birthday",
    ),
    Input(
        "contact update birthday",
        "date",
        body("PUT", "/crm/contacts/{contact_id}", lambda r, v: {"version": 1, "birthday": v}),
        "birthday",
    ),
    Input(
        "new interaction interaction_date",
        "date-time",
        body("POST", "/crm/customers/{customer_id}/interactions", lambda r, v: {**INTERACTION, "interaction_date": v}),
        "interaction_date",
    ),
    Input(
        "new interaction next_action_date",
        "date-time",
        body("POST", "/crm/customers/{customer_id}/interactions", lambda r, v: {**INTERACTION, "next_action_date": v}),
        "next_action_date",
    ),
    Input(
        "interaction update interaction_date",
        "date-time",
        body("PUT", "/crm/interactions/{interaction_id}", lambda r, v: {"version": 1, "interaction_date": v}),
        "interaction_date",
    ),
    Input(
        "interaction update next_action_date",
        "date-time",
        body("PUT", "/crm/interactions/{interaction_id}", lambda r, v: {"version": 1, "next_action_date": v}),
        "next_action_date",
    ),
    Input(
        "order order_date", "date-time", body("POST", "/crm/orders", lambda r, v: order(r, order_date=v)), "order_date"
    ),
    Input(
        "order source_updated_at",
        "date-time",
        body("POST", "/crm/orders", lambda r, v: order(r, source_updated_at=v)),
        "source_updated_at",
    ),
    Input(
        "batch order_date",
        "date-time",
        body("POST", "/crm/orders", lambda r, v: {"orders": [order(r, order_date=v)]}),
        "orders.0.order_date",
    ),
    Input(
        "receivable due_date",
        "date",
        body(
            "POST",
            "/crm/customers/{customer_id}/receivables",
            lambda r, v: {"reference": "INV-BOUNDS", "amount_due": "10.00", "due_date": v},
        ),
        "due_date",
    ),
    Input(
        "retention action_date",
        "date-time",
        body(
            "POST",
            "/crm/churn_warnings/{warning_id}/actions",
            lambda r, v: {"action_type": "call", "content": "回访", "action_date": v},
        ),
        "action_date",
    ),
    Input(
        "calendar holidays",
        "date",
        body("PUT", "/crm/settings", lambda r, v: {"service_calendar": {"holidays": [v]}}),
        "service_calendar.holidays.0",
    ),
    Input(
        "calendar workdays",
        "date",
        body("PUT", "/crm/settings", lambda r, v: {"service_calendar": {"workdays": [v]}}),
        "service_calendar.workdays.0",
    ),
]


@pytest.fixture
def records(admin: Api, session: Session, tenant: Tenant) -> dict[str, Any]:
    customer = admin.create_customer(contacts=[{"contact_name": "联系人"}])
    interaction = admin.post(f"/crm/customers/{customer['id']}/interactions", INTERACTION)
    assert interaction.status_code == 201, interaction.text
    warning = ChurnWarning(
        tenant_id=tenant.id, customer_id=customer["id"], risk_level="low", rule="quiet", reason="低风险",
        status="open", strategy="回访", due_date=business_today(), detected_date=business_today(),
        risk_changed_date=business_today(),
    )  # fmt: skip
    session.add(warning)
    session.commit()
    return {
        "customer_id": customer["id"],
        "contact_id": customer["contacts"][0]["id"],
        "interaction_id": interaction.json()["id"],
        "warning_id": warning.id,
    }


def values_for(kind: str) -> list[str]:
    return BOUNDARY_DATES if kind == "date" else BOUNDARY_TIMES


def named(answer: Any) -> list[str]:
    return [error["field"] for error in answer.json().get("errors", [])]


class TestDatesOutsideTheSupportedYears:
    @pytest.mark.parametrize("given", INPUTS, ids=[i.name for i in INPUTS])
    def test_are_refused_with_the_field_named(self, given: Input, admin: Api, records: dict[str, Any]) -> None:
        wrong = []
        for value in values_for(given.kind):
            answer = given.send(admin, records, value)
            if answer.status_code != 422 or given.field not in named(answer):
                wrong.append((value, answer.status_code, answer.text[:300]))
        assert wrong == []

    def test_the_message_says_which_years_are_supported_in_chinese_and_english(
        self, admin: Api, records: dict[str, Any], client: TestClient
    ) -> None:
        path = f"/crm/customers/{records['customer_id']}/orders"
        zh = admin.get(path, params={"ordered_to": "9999-12-31"}).json()["errors"][0]
        en = admin.get(path, params={"ordered_to": "9999-12-31"}, headers={"Accept-Language": "en"}).json()["errors"]
        assert (zh["code"], en[0]["code"]) == ("date_out_of_range", "date_out_of_range")
        assert zh["message"] == f"日期须在 {EARLIEST_DATE} 至 {LATEST_DATE} 之间"
        assert en[0]["message"] == f"Dates must lie between {EARLIEST_DATE} and {LATEST_DATE}"


class TestDatesAtTheEndsOfTheSupportedYears:
    def test_filters_from_the_first_to_the_last_supported_day_find_everything(
        self, admin: Api, records: dict[str, Any]
    ) -> None:
        sent = admin.post("/crm/orders", order(records))
        assert sent.status_code == 200, sent.text
        first, last = EARLIEST_DATE.isoformat(), LATEST_DATE.isoformat()
        orders = admin.get(
            f"/crm/customers/{records['customer_id']}/orders", params={"ordered_from": first, "ordered_to": last}
        )
        assert (orders.status_code, orders.json()["total"]) == (200, 1)
        timeline = f"/crm/customers/{records['customer_id']}/interactions"
        logged = admin.get(timeline, params={"since": f"{first}T00:00:00+14:00", "until": f"{last}T23:59:59-12:00"})
        assert (logged.status_code, logged.json()["total"]) == (200, 2)  # the call and the order's note
        audited = admin.get("/crm/audit_logs", params={"since": f"{first}T00:00:00+14:00"})
        assert audited.status_code == 200, audited.text
        for path in ("/crm/service_records", "/crm/service_records/statistics"):
            answer = admin.get(path, params={"created_from": f"{first}T00:00:00", "created_to": f"{last}T23:59:59"})
            assert answer.status_code == 200, answer.text

    def test_an_order_and_a_due_date_on_the_last_supported_day_are_stored(
        self, admin: Api, records: dict[str, Any]
    ) -> None:
        last = LATEST_DATE.isoformat()
        sent = admin.post("/crm/orders", order(records, order_date=f"{last}T23:59:59+14:00"))
        assert sent.status_code == 200, sent.text
        owed = admin.post(
            f"/crm/customers/{records['customer_id']}/receivables",
            {"reference": "INV-LAST", "amount_due": "10.00", "due_date": last},
        )
        assert owed.status_code == 200, owed.text
        assert owed.json()["receivables"][0]["due_date"] == last


def date_inputs(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every date and date-time a client sends (query parameters and request bodies) with its schema."""
    components = spec["components"]["schemas"]

    def walk(schema: Any, where: str, seen: frozenset[str]) -> Iterator[tuple[str, dict[str, Any]]]:
        if not isinstance(schema, dict):
            return
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name not in seen:
                yield from walk(components[name], where, seen | {name})
            return
        if schema.get("format") in ("date", "date-time"):
            yield where, schema
        for key in ("anyOf", "oneOf", "allOf"):
            for option in schema.get(key, []):
                yield from walk(option, where, seen)
        for name, child in schema.get("properties", {}).items():
            yield from walk(child, f"{where}.{name}", seen)
        yield from walk(schema.get("items"), f"{where}[]", seen)
        yield from walk(schema.get("additionalProperties"), f"{where}{{}}", seen)

    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                yield from walk(parameter["schema"], f"{method.upper()} {path} {parameter['name']}", frozenset())
            for content in operation.get("requestBody", {}).get("content", {}).values():
                yield from walk(content["schema"], f"{method.upper()} {path} body", frozenset())


class TestEveryDateInput:
    def test_is_bounded_to_the_supported_years_and_says_so_in_the_openapi_schema(self) -> None:
        # A new date field with a plain `date` or `datetime` type fails here: use crm.kit.validation's types.
        found = list(date_inputs(create_app(check_migrations=False, run_jobs=False).openapi()))
        assert len(found) >= len(INPUTS)
        unbounded = [
            where
            for where, schema in found
            if not str(schema.get("formatMinimum", "")).startswith(EARLIEST_DATE.isoformat())
            or not str(schema.get("formatMaximum", "")).startswith(LATEST_DATE.isoformat())
        ]
        assert unbounded == []
