"""Login, the signed-in user, and the token every /api/v1/crm route requires."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.auth import passwords
from crm.auth.tokens import issue_token
from crm.config import settings
from crm.kit.regions import Region
from crm.models import AuditLog, Tenant
from crm.models.enums import Role
from tests.factories import PASSWORD, CountingHasher, auth, make_tenant, make_user


def _login(client: TestClient, username: str, password: str) -> object:
    return client.post("/api/v1/auth/login", data={"username": username, "password": password})


class TestLogin:
    def test_correct_credentials_give_an_expiring_bearer_token(
        self, client: TestClient, session: Session, tenant: Tenant
    ) -> None:
        user = make_user(session, tenant, Role.SALES, region=Region.EAST, username="li.lei")
        response = _login(client, "li.lei", PASSWORD)
        assert response.status_code == 200
        body = response.json()
        assert body["token_type"] == "bearer"
        assert 0 < body["expires_in"] <= settings.access_token_minutes * 60
        claims = jwt.decode(body["access_token"], settings.signing_key, algorithms=["HS256"], issuer="crm")
        assert int(claims["sub"]) == user.id

    @pytest.mark.parametrize("username", ["li.lei", "nobody"])
    def test_a_wrong_password_or_unknown_user_get_the_same_401(
        self, client: TestClient, session: Session, tenant: Tenant, username: str
    ) -> None:
        make_user(session, tenant, Role.SALES, username="li.lei")
        response = _login(client, username, "wrong-password-123")
        assert response.status_code == 401
        assert response.json()["code"] == "invalid_credentials"
        assert response.json()["title"] == "用户名或密码错误"
        assert response.headers["www-authenticate"] == "Bearer"

    def test_a_disabled_account_cannot_log_in(self, client: TestClient, session: Session, tenant: Tenant) -> None:
        make_user(session, tenant, Role.SALES, username="gone", active=False)
        response = _login(client, "gone", PASSWORD)
        assert response.status_code == 401
        assert response.json()["code"] == "user_inactive"

    def test_missing_form_fields_are_named(self, client: TestClient) -> None:
        response = client.post("/api/v1/auth/login", data={"username": "x"})
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == ["password"]


class TestTenantCode:
    """User names are unique within a tenant; the login names the tenant when the name alone is ambiguous."""

    def test_a_name_two_tenants_use_signs_in_to_the_tenant_named(
        self, client: TestClient, session: Session, tenant: Tenant
    ) -> None:
        other = make_tenant(session)
        make_user(session, tenant, Role.SALES, username="zhang.wei")
        make_user(session, other, Role.ADMIN, username="zhang.wei")
        for named in (tenant, other):
            login = client.post(
                "/api/v1/auth/login", data={"username": "zhang.wei", "password": PASSWORD, "tenant": named.code}
            )
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
            assert client.get("/api/v1/auth/me", headers=headers).json()["tenant_code"] == named.code

    def test_without_a_tenant_code_a_name_two_tenants_use_is_refused_like_an_unknown_one(
        self, client: TestClient, session: Session, tenant: Tenant
    ) -> None:
        make_user(session, tenant, Role.SALES, username="li.na")
        make_user(session, make_tenant(session), Role.SALES, username="li.na")
        ambiguous = _login(client, "li.na", PASSWORD)
        unknown = _login(client, "nobody.at.all", PASSWORD)
        assert (ambiguous.status_code, ambiguous.json()["code"]) == (401, "invalid_credentials")
        assert ambiguous.json() | {"instance": None} == unknown.json() | {"instance": None}

    def test_a_name_only_one_tenant_uses_needs_no_tenant_code(
        self, client: TestClient, session: Session, tenant: Tenant
    ) -> None:
        make_user(session, tenant, Role.SALES, username="wang.fang")
        make_user(session, make_tenant(session), Role.SALES, username="wang.fang2")
        assert _login(client, "wang.fang", PASSWORD).status_code == 200

    @pytest.mark.parametrize("code", ["another", "no-such-tenant"])
    def test_a_wrong_or_unknown_tenant_code_is_refused_like_a_wrong_password(
        self, client: TestClient, session: Session, tenant: Tenant, code: str
    ) -> None:
        make_user(session, tenant, Role.SALES, username="zhao.lei")
        make_tenant(session, "another")
        login = client.post("/api/v1/auth/login", data={"username": "zhao.lei", "password": PASSWORD, "tenant": code})
        assert (login.status_code, login.json()["code"]) == (401, "invalid_credentials")

    def test_a_blank_tenant_code_counts_as_none(self, client: TestClient, session: Session, tenant: Tenant) -> None:
        make_user(session, tenant, Role.SALES, username="sun.li")
        data = {"username": "sun.li", "password": PASSWORD, "tenant": "  "}
        assert client.post("/api/v1/auth/login", data=data).status_code == 200

    def test_a_tenant_code_too_long_is_a_422_naming_it(self, client: TestClient) -> None:
        data = {"username": "x", "password": "whatever-long", "tenant": "t" * 33}
        response = client.post("/api/v1/auth/login", data=data)
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == ["tenant"]


class TestMe:
    def test_me_describes_the_user_their_tenant_and_scope(
        self, client: TestClient, session: Session, tenant: Tenant
    ) -> None:
        make_user(session, tenant, Role.SALES_MANAGER, region=Region.SOUTH, username="wang.fang")
        token = _login(client, "wang.fang", PASSWORD).json()["access_token"]
        body = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).json()
        assert (body["username"], body["role"], body["region"]) == ("wang.fang", "sales_manager", "华南")
        assert (body["tenant_code"], body["data_scope"]) == (tenant.code, "region")
        assert "customer.assign" in body["permissions"]


class TestTokens:
    PROTECTED: ClassVar[list[str]] = [
        "/api/v1/auth/me",
        "/api/v1/crm/customers",
        "/api/v1/crm/customers/search",
        "/api/v1/crm/customers/1",
    ]

    @pytest.mark.parametrize("path", PROTECTED)
    def test_every_crm_route_needs_a_token(self, client: TestClient, path: str) -> None:
        response = client.get(path)
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("application/problem+json")

    def test_an_expired_token_is_refused(self, client: TestClient, session: Session, tenant: Tenant) -> None:
        user = make_user(session, tenant, Role.ADMIN)
        now = datetime.now(UTC)
        token = jwt.encode(
            {"sub": str(user.id), "tid": tenant.id, "iat": int((now - timedelta(hours=2)).timestamp()),
             "exp": int((now - timedelta(hours=1)).timestamp()), "iss": "crm", "jti": "x"},
            settings.signing_key,
            algorithm="HS256",
        )  # fmt: skip
        assert client.get("/api/v1/crm/customers", headers={"Authorization": f"Bearer {token}"}).status_code == 401

    def test_a_token_signed_with_another_key_is_refused(
        self, client: TestClient, session: Session, tenant: Tenant
    ) -> None:
        user = make_user(session, tenant, Role.ADMIN)
        forged = jwt.encode(
            {"sub": str(user.id), "tid": tenant.id, "iat": 0, "exp": 2**31, "iss": "crm", "jti": "x"},
            "not-the-signing-key-used-by-this-server",
            algorithm="HS256",
        )
        assert client.get("/api/v1/crm/customers", headers={"Authorization": f"Bearer {forged}"}).status_code == 401

    def test_a_disabled_users_token_stops_working(self, client: TestClient, session: Session, tenant: Tenant) -> None:
        user = make_user(session, tenant, Role.ADMIN)
        token, _ = issue_token(user.id, tenant.id)
        user.is_active = False
        session.commit()
        response = client.get("/api/v1/crm/customers", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
        assert response.json()["code"] == "user_inactive"

    def test_a_token_issued_without_a_generation_works_until_the_users_first_change(
        self, client: TestClient, session: Session, tenant: Tenant
    ) -> None:
        user = make_user(session, tenant, Role.ADMIN)
        now = datetime.now(UTC)
        token = jwt.encode(
            {"sub": str(user.id), "tid": tenant.id, "iat": int(now.timestamp()),
             "exp": int((now + timedelta(hours=1)).timestamp()), "iss": "crm", "jti": "before-generations"},
            settings.signing_key,
            algorithm="HS256",
        )  # fmt: skip
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
        user.token_generation += 1
        session.commit()
        assert client.get("/api/v1/auth/me", headers=headers).json()["code"] == "token_revoked"

    def test_a_token_cannot_be_replayed_into_another_tenant(
        self, client: TestClient, session: Session, tenant: Tenant
    ) -> None:
        user = make_user(session, tenant, Role.ADMIN)
        other = make_tenant(session)
        token, _ = issue_token(user.id, other.id)
        assert client.get("/api/v1/crm/customers", headers={"Authorization": f"Bearer {token}"}).status_code == 401


class TestLoginInput:
    def test_text_the_database_cannot_store_is_a_422_naming_the_field(self, client: TestClient) -> None:
        response = client.post("/api/v1/auth/login", data={"username": "a\x00b", "password": "whatever-long"})
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == ["username"]


def _from(client: TestClient, ip: str) -> TestClient:
    """The same application, called from another address."""
    return TestClient(client.app, client=(ip, 50000), raise_server_exceptions=False)


class TestThrottling:
    def test_five_failures_lock_the_account_from_that_address_with_retry_after(
        self, client: TestClient, session: Session, tenant: Tenant
    ) -> None:
        make_user(session, tenant, Role.SALES, username="target")
        for _ in range(5):
            assert _login(client, "target", "wrong-password-x").status_code == 401
        locked = _login(client, "target", PASSWORD)  # even the right password waits
        assert locked.status_code == 429
        assert locked.json()["code"] == "rate_limited"
        assert 0 < int(locked.headers["retry-after"]) <= 15 * 60

    def test_five_failures_for_one_account_leave_others_behind_that_address_and_that_account_elsewhere_alone(
        self, client: TestClient, session: Session, tenant: Tenant
    ) -> None:
        make_user(session, tenant, Role.SALES, username="typo.prone")
        make_user(session, tenant, Role.SALES, username="colleague")
        office, home = _from(client, "10.0.0.1"), _from(client, "10.0.0.2")
        for _ in range(5):
            assert _login(office, "typo.prone", "wrong-password-x").status_code == 401
        assert _login(office, "typo.prone", PASSWORD).status_code == 429
        assert _login(office, "colleague", PASSWORD).status_code == 200
        assert _login(home, "typo.prone", PASSWORD).status_code == 200

    def test_failures_for_many_accounts_lock_the_address_at_its_own_higher_limit(
        self, client: TestClient, session: Session, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(settings, "login_max_failures_per_address", 6)
        make_user(session, tenant, Role.SALES, username="bystander")
        sprayer = _from(client, "10.0.0.3")
        for n in range(6):
            assert _login(sprayer, f"guess{n}", "wrong-password-x").status_code == 401
        assert _login(sprayer, "bystander", PASSWORD).status_code == 429
        assert _login(_from(client, "10.0.0.4"), "bystander", PASSWORD).status_code == 200

    def test_failures_for_one_account_from_many_addresses_lock_the_account_at_its_limit(
        self, client: TestClient, session: Session, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(settings, "login_max_failures_per_account", 6)
        make_user(session, tenant, Role.SALES, username="much.wanted")
        make_user(session, tenant, Role.SALES, username="unbothered")
        for n in range(6):
            assert _login(_from(client, f"10.0.1.{n}"), "much.wanted", "wrong-password-x").status_code == 401
        fresh_address = _from(client, "10.0.1.99")
        assert _login(fresh_address, "much.wanted", PASSWORD).status_code == 429
        assert _login(fresh_address, "unbothered", PASSWORD).status_code == 200

    def test_spaces_around_the_name_count_against_the_same_account(
        self, client: TestClient, session: Session, tenant: Tenant
    ) -> None:
        make_user(session, tenant, Role.SALES, username="padded")
        make_user(session, tenant, Role.SALES, username="neighbour")
        for name in ("padded", " padded", "padded ", "\tpadded", " padded "):
            assert _login(client, name, "wrong-password-x").status_code == 401
        assert _login(client, "padded", PASSWORD).status_code == 429
        assert _login(client, "neighbour", PASSWORD).status_code == 200  # the account is locked, not the address

    def test_no_password_is_checked_while_locked(
        self, client: TestClient, session: Session, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        make_user(session, tenant, Role.SALES, username="locked.out")
        for _ in range(5):
            _login(client, "locked.out", "wrong-password-x")
        checked = CountingHasher()
        monkeypatch.setattr(passwords, "_hasher", checked)
        assert _login(client, "locked.out", PASSWORD).status_code == 429
        assert _login(client, "locked.out", "wrong-password-x").status_code == 429
        assert checked.calls == 0

    def test_the_failure_that_locks_an_account_is_audited(
        self, client: TestClient, session: Session, tenant: Tenant
    ) -> None:
        user = make_user(session, tenant, Role.SALES, username="audited")
        for _ in range(4):
            _login(client, "audited", "wrong-password-x")
        assert session.scalars(select(AuditLog).where(AuditLog.action == "auth.lockout")).all() == []
        _login(client, "audited", "wrong-password-x")
        [entry] = session.scalars(select(AuditLog).where(AuditLog.action == "auth.lockout")).all()
        assert (entry.tenant_id, entry.ip) == (user.tenant_id, "testclient")
        assert entry.detail == {"username": "audited", "scope": "account_address", "minutes": 15}

    def test_a_success_before_the_limit_clears_the_accounts_count(
        self, client: TestClient, session: Session, tenant: Tenant
    ) -> None:
        make_user(session, tenant, Role.SALES, username="forgetful")
        for _ in range(3):
            _login(client, "forgetful", "wrong-password-x")
        assert _login(client, "forgetful", PASSWORD).status_code == 200
        for _ in range(3):
            _login(client, "forgetful", "wrong-password-x")
        assert _login(client, "forgetful", PASSWORD).status_code == 200


class TestChangingOnesOwnPassword:
    NEW = "a-brand-new-password-2026"

    def _change(self, client: TestClient, headers: dict[str, str], current: str, new: str) -> Any:
        return client.post(
            "/api/v1/auth/password", json={"current_password": current, "new_password": new}, headers=headers
        )

    def _bearer(self, response: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def test_a_new_password_ends_every_session_but_the_answer_carries_a_token_for_this_one(
        self, client: TestClient, session: Session, tenant: Tenant
    ) -> None:
        make_user(session, tenant, Role.SALES, username="changer")
        here, elsewhere = (self._bearer(_login(client, "changer", PASSWORD)) for _ in range(2))
        changed = self._change(client, here, PASSWORD, self.NEW)
        assert changed.status_code == 200, changed.text
        for old in (here, elsewhere):
            assert client.get("/api/v1/auth/me", headers=old).json()["code"] == "token_revoked"
        assert client.get("/api/v1/auth/me", headers=self._bearer(changed)).status_code == 200
        assert _login(client, "changer", PASSWORD).status_code == 401
        assert _login(client, "changer", self.NEW).status_code == 200

    def test_a_wrong_current_password_is_a_422_naming_it_and_counts_as_a_failed_sign_in(
        self, client: TestClient, session: Session, tenant: Tenant
    ) -> None:
        make_user(session, tenant, Role.SALES, username="token.thief")
        headers = self._bearer(_login(client, "token.thief", PASSWORD))
        for _ in range(5):
            wrong = self._change(client, headers, "a-guessed-password", self.NEW)
            assert wrong.status_code == 422
            assert [(e["field"], e["code"]) for e in wrong.json()["errors"]] == [
                ("current_password", "password_incorrect")
            ]
        assert self._change(client, headers, PASSWORD, self.NEW).status_code == 429
        assert _login(client, "token.thief", PASSWORD).status_code == 429

    @pytest.mark.parametrize(("new", "code"), [("short", "string_too_short"), (PASSWORD, "password_unchanged")])
    def test_the_new_password_must_be_long_enough_and_new(
        self, client: TestClient, session: Session, tenant: Tenant, new: str, code: str
    ) -> None:
        user = make_user(session, tenant, Role.SALES)
        response = self._change(client, auth(user), PASSWORD, new)
        assert response.status_code == 422
        assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [("new_password", code)]

    def test_the_change_is_audited_without_the_password(
        self, client: TestClient, session: Session, tenant: Tenant
    ) -> None:
        user = make_user(session, tenant, Role.SALES)
        self._change(client, auth(user), PASSWORD, self.NEW)
        entries = session.scalars(select(AuditLog).where(AuditLog.object_id == user.id)).all()
        assert {(e.action, e.actor_id) for e in entries} == {
            ("user.password_change", user.id),
            ("user.tokens_revoked", user.id),
        }
        assert all(self.NEW not in str((e.changes, e.detail)) for e in entries)


class TestLogout:
    def test_logout_revokes_the_token_at_once(self, client: TestClient, session: Session, tenant: Tenant) -> None:
        make_user(session, tenant, Role.ADMIN, username="leaving")
        token = _login(client, "leaving", PASSWORD).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
        assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
        after = client.get("/api/v1/auth/me", headers=headers)
        assert after.status_code == 401
        assert after.json()["code"] == "token_revoked"
        fresh = _login(client, "leaving", PASSWORD).json()["access_token"]
        assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200


class TestHardening:
    def test_responses_carry_security_headers(self, client: TestClient) -> None:
        response = client.get("/api/v1/auth/me")
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert "default-src 'none'" in response.headers["content-security-policy"]

    def test_an_oversized_body_is_refused_with_413(self, client: TestClient, session: Session, tenant: Tenant) -> None:
        token, _ = issue_token(make_user(session, tenant, Role.ADMIN).id, tenant.id)
        response = client.post(
            "/api/v1/crm/customers",
            content=b'{"customer_name": "' + b"x" * 2_000_000 + b'"}',
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        assert response.status_code == 413
        assert response.json()["code"] == "body_too_large"
