"""The actor of a request comes from its token and a per-process cache: no statement for it on
every request, and a change made on one API process reaches the others within seconds."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from crm.auth.tokens import issue_token
from crm.kit.crypto import Keyring
from crm.models.enums import Role
from tests.factories import Api, make_tenant, make_user
from tests.live import api_process
from tests.sqlcapture import captured_sql


class TestOneProcess:
    def test_a_request_reads_neither_user_nor_tenant_once_its_actor_is_known(self, admin: Api, engine: Engine) -> None:
        assert admin.get("/crm/customers").status_code == 200  # the actor is read once
        with captured_sql(engine) as statements:
            assert admin.get("/crm/customers").status_code == 200
        assert statements
        assert not [sql for sql, _ in statements if "FROM users" in sql or "FROM tenants" in sql]

    def test_a_change_committed_here_takes_effect_on_the_next_request(self, admin: Api, sales_a: Api) -> None:
        assert sales_a.get("/crm/customers").status_code == 200
        changed = admin.put(f"/crm/users/{sales_a.user.id}", {"is_active": False})
        assert changed.status_code == 200, changed.text
        assert sales_a.get("/crm/customers").status_code == 401


@pytest.mark.postgresql_only
class TestOtherProcesses:
    """Two API processes on one database: what one changes, the other learns within its refresh."""

    REFRESH = 1.0

    def _wait_for_401(self, url: str, token: str) -> float:
        started = time.monotonic()
        while time.monotonic() - started < 15:
            if httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code == 401:
                return time.monotonic() - started
            time.sleep(0.1)
        raise AssertionError("the other process still accepts the token after 15 s")

    def test_a_sign_out_and_a_new_password_reach_the_other_process(
        self, engine: Engine, test_keys: Keyring, tmp_path: Path, committed: sessionmaker[Session]
    ) -> None:
        with committed() as session:
            tenant = make_tenant(session)
            admin = make_user(session, tenant, Role.ADMIN)
            rep = make_user(session, tenant, Role.SALES)
            admin_token = issue_token(admin.id, tenant.id)[0]
            signed_out, changed = issue_token(rep.id, tenant.id)[0], issue_token(rep.id, tenant.id)[0]
        url = engine.url.render_as_string(hide_password=False)
        env = {"CRM_AUTH_REFRESH_SECONDS": str(self.REFRESH)}
        with (
            api_process(url, test_keys, tmp_path, **env) as first,
            api_process(url, test_keys, tmp_path, **env) as second,
        ):
            for base in (first, second):  # both processes have the rep's actor cached
                for token in (signed_out, changed):
                    me = httpx.get(f"{base}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
                    assert me.status_code == 200
            out = httpx.post(f"{first}/api/v1/auth/logout", headers={"Authorization": f"Bearer {signed_out}"})
            assert out.status_code == 204
            assert self._wait_for_401(f"{second}/api/v1/auth/me", signed_out) < self.REFRESH + 3
            reset = httpx.put(
                f"{first}/api/v1/crm/users/{rep.id}",
                json={"password": "a-brand-new-password-2026"},
                headers={"Authorization": f"Bearer {admin_token}"},
            )
            assert reset.status_code == 200, reset.text
            assert self._wait_for_401(f"{second}/api/v1/auth/me", changed) < self.REFRESH + 3
