"""Satisfaction surveys: a one-time, expiring link the customer answers without signing in."""

from __future__ import annotations

import itertools
import time
from datetime import datetime, timedelta
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crm.auth.tokens import issue_token
from crm.kit.db import utcnow
from crm.models import AuditLog, SatisfactionSurvey, Tenant
from crm.models.enums import Role
from tests.factories import Api, make_user


@pytest.fixture
def manager(client: TestClient, session: Session, tenant: Tenant) -> Api:
    tenant.settings = {"brand_name": "精工服务", "assignment": {"enabled": False}}
    session.commit()
    return Api(client, make_user(session, tenant, Role.SERVICE_MANAGER))


def resolved_ticket(api: Api, customer: dict) -> dict:
    ticket = api.post(
        "/crm/service_records",
        {"customer_id": customer["id"], "service_type": "after_sales", "subject": "空调不制冷", "description": "x"},
    ).json()
    ticket = api.put(f"/crm/service_records/{ticket['id']}/start", {"version": ticket["version"]}).json()
    answer = api.put(
        f"/crm/service_records/{ticket['id']}/resolve", {"version": ticket["version"], "resolution": "补充冷媒"}
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def token_of(ticket: dict) -> str:
    return str(ticket["survey"]["url"].rsplit("/survey/", 1)[1])


def public(client: TestClient, token: str, body: dict[str, Any] | None = None) -> Any:
    path = f"/api/v1/public/surveys/{token}"
    return client.get(path) if body is None else client.post(path, json=body)


_addresses = itertools.count(1)


@pytest.fixture
def browser(client: TestClient) -> TestClient:
    """The customer's own browser: no token, and an address of its own (the link is rate limited per address)."""
    return TestClient(client.app, client=(f"198.51.100.{next(_addresses) % 250 + 1}", 40000))


@pytest.fixture
def customer(admin: Api) -> dict:
    return admin.create_customer(customer_name="美的家电专卖店", province="江苏")


class TestTheSurveyLink:
    def test_resolving_a_ticket_issues_a_link_the_customer_opens_without_signing_in(
        self, browser: TestClient, manager: Api, customer: dict
    ) -> None:
        ticket = resolved_ticket(manager, customer)
        survey = ticket["survey"]
        assert survey["status"] == "pending"
        assert survey["url"].startswith("http://")
        assert "/survey/" in survey["url"]
        expires = survey["expires_at"]
        shown = public(browser, token_of(ticket))
        assert shown.status_code == 200
        assert shown.json() == {
            "status": "pending",
            "brand_name": "精工服务",
            "subject": "空调不制冷",
            "resolved_date": ticket["resolved_date"],
            "expires_at": expires,
            "rating": None,
        }

    def test_the_rating_is_stored_on_the_ticket_once(
        self, browser: TestClient, manager: Api, customer: dict, session: Session
    ) -> None:
        ticket = resolved_ticket(manager, customer)
        token = token_of(ticket)
        answered = public(browser, token, {"rating": 4, "feedback": "师傅很专业"})
        assert (answered.status_code, answered.json()["status"], answered.json()["rating"]) == (200, "answered", 4)
        shown = manager.get(f"/crm/service_records/{ticket['id']}").json()
        assert (shown["satisfaction_rating"], shown["satisfaction_feedback"]) == (4, "师傅很专业")
        assert shown["survey"]["status"] == "answered"
        again = public(browser, token, {"rating": 1})
        assert (again.status_code, again.json()["code"]) == (409, "survey_answered")
        assert manager.get(f"/crm/service_records/{ticket['id']}").json()["satisfaction_rating"] == 4
        logged = session.scalars(select(AuditLog).where(AuditLog.action == "service_record.satisfaction")).one()
        assert (logged.actor_id, logged.object_id) == (None, ticket["id"])

    def test_an_expired_link_answers_410_and_stores_nothing(
        self, browser: TestClient, manager: Api, customer: dict, session: Session
    ) -> None:
        ticket = resolved_ticket(manager, customer)
        session.execute(
            update(SatisfactionSurvey)
            .where(SatisfactionSurvey.service_record_id == ticket["id"])
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
        session.commit()
        assert public(browser, token_of(ticket)).json()["status"] == "expired"
        late = public(browser, token_of(ticket), {"rating": 5})
        assert (late.status_code, late.json()["code"]) == (410, "survey_expired")
        assert late.headers["content-type"].startswith("application/problem+json")
        assert manager.get(f"/crm/service_records/{ticket['id']}").json()["satisfaction_rating"] is None

    def test_links_last_as_long_as_the_tenant_says(self, admin: Api, manager: Api, customer: dict) -> None:
        admin.put("/crm/settings", {"survey_valid_days": 3})
        ticket = resolved_ticket(manager, customer)
        lasts = ticket["survey"]["expires_at"]
        resolved = ticket["resolved_date"]
        assert datetime.fromisoformat(lasts) - datetime.fromisoformat(resolved) == pytest.approx(
            timedelta(days=3), abs=timedelta(seconds=2)
        )

    def test_reopening_replaces_the_link_and_the_next_resolution_brings_a_new_one(
        self, browser: TestClient, manager: Api, customer: dict
    ) -> None:
        ticket = resolved_ticket(manager, customer)
        first = token_of(ticket)
        reopened = manager.put(
            f"/crm/service_records/{ticket['id']}/reopen", {"version": ticket["version"], "reason": "又不制冷了"}
        ).json()
        assert public(browser, first).json()["status"] == "expired"
        again = manager.put(
            f"/crm/service_records/{ticket['id']}/resolve", {"version": reopened["version"], "resolution": "更换压缩机"}
        ).json()
        second = token_of(again)
        assert second != first
        assert public(browser, first, {"rating": 2}).status_code == 410
        assert public(browser, second, {"rating": 5}).status_code == 200


class TestRefusals:
    @pytest.mark.parametrize("rating", [0, 6, "好"])
    def test_a_rating_outside_one_to_five_names_the_field(
        self, browser: TestClient, manager: Api, customer: dict, rating: Any
    ) -> None:
        refused = public(browser, token_of(resolved_ticket(manager, customer)), {"rating": rating})
        assert (refused.status_code, refused.json()["errors"][0]["field"]) == (422, "rating")

    def test_forged_or_foreign_tokens_are_not_found(
        self, browser: TestClient, manager: Api, customer: dict, session: Session
    ) -> None:
        token = token_of(resolved_ticket(manager, customer))
        claims = jwt.decode(token, options={"verify_signature": False})
        forged = jwt.encode(claims, "another key that is long enough to sign with", algorithm="HS256")
        access, _ = issue_token(manager.user.id, manager.user.tenant_id)  # a sign-in token is no survey
        for wrong in (forged, access, token[:-4] + "AAAA", "x" * 40):
            assert public(browser, wrong).status_code == 404, wrong
            assert public(browser, wrong, {"rating": 5}).status_code == 404
        survey = session.scalars(select(SatisfactionSurvey)).one()
        assert survey.answered_at is None

    def test_a_survey_token_does_not_sign_anyone_in(self, browser: TestClient, manager: Api, customer: dict) -> None:
        token = token_of(resolved_ticket(manager, customer))
        answer = browser.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401

    def test_the_link_of_an_erased_or_deleted_customer_stops_working(
        self, browser: TestClient, admin: Api, manager: Api, customer: dict
    ) -> None:
        token = token_of(resolved_ticket(manager, customer))
        assert admin.delete(f"/crm/customers/{customer['id']}").status_code == 204
        assert public(browser, token).status_code == 404


def test_one_address_may_try_30_links_a_minute(browser: TestClient, manager: Api, customer: dict) -> None:
    token = token_of(resolved_ticket(manager, customer))
    if time.time() % 60 > 55:  # counts are per clock minute: start in a fresh one
        time.sleep(60 - time.time() % 60)
    answers = [public(browser, token).status_code for _ in range(31)]
    assert answers[:30] == [200] * 30
    assert answers[30] == 429
    assert int(public(browser, token).headers["Retry-After"]) >= 1
