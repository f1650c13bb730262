"""Plain typed factories for test data; they write through the session like the services do."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crm.auth.passwords import hash_password
from crm.auth.tokens import issue_token
from crm.kit.regions import Region
from crm.models import Tenant, User
from crm.models.enums import Role
from crm.users.service import create_tenant

PASSWORD = "correct-horse-battery"
_counter = itertools.count(1)


@cache
def _password_hash() -> str:
    return hash_password(PASSWORD)  # argon2 is slow on purpose: hash once per test run


def make_tenant(session: Session, code: str | None = None) -> Tenant:
    tenant = create_tenant(session, code or f"t{next(_counter)}", None)
    session.commit()
    return tenant


def make_user(
    session: Session,
    tenant: Tenant,
    role: Role,
    *,
    region: Region | None = None,
    username: str | None = None,
    active: bool = True,
) -> User:
    if region is None and role in (Role.SALES_MANAGER, Role.SERVICE_MANAGER):
        region = Region.EAST
    user = User(
        tenant_id=tenant.id,
        username=username or f"{role.value}{next(_counter)}",
        display_name=f"测试{role.value}",
        password_hash=_password_hash(),
        role=role,
        region=region,
        is_active=active,
    )
    session.add(user)
    session.commit()
    return user


def auth(user: User) -> dict[str, str]:
    token, _ = issue_token(user.id, user.tenant_id, generation=user.token_generation)
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Api:
    """An HTTP client acting as one user."""

    client: TestClient
    user: User

    @property
    def headers(self) -> dict[str, str]:
        return auth(self.user)

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        return {**self.headers, **(extra or {})}

    def get(self, path: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        return self.client.get(f"/api/v1{path}", headers=self._headers(headers), **kw)

    def post(self, path: str, json: Any = None, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        return self.client.post(f"/api/v1{path}", json=json, headers=self._headers(headers), **kw)

    def put(self, path: str, json: Any = None, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        return self.client.put(f"/api/v1{path}", json=json, headers=self._headers(headers), **kw)

    def delete(self, path: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        return self.client.delete(f"/api/v1{path}", headers=self._headers(headers), **kw)

    def create_customer(self, **fields: Any) -> dict[str, Any]:
        body = {"customer_name": f"测试客户{next(_counter)}", "customer_type": "enterprise", **fields}
        response = self.post("/crm/customers", body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def set_finance(self, customer: dict[str, Any], **fields: Any) -> dict[str, Any]:
        """Set finance fields of ``customer`` (as last read); needs finance.write."""
        response = self.put(f"/crm/customers/{customer['id']}", {"version": customer["version"], **fields})
        assert response.status_code == 200, response.text
        return dict(response.json())


def mobile(n: int) -> str:
    """A valid, distinct mainland mobile number."""
    return f"139{n:08d}"


class CountingHasher(PasswordHasher):
    """argon2 as the application uses it, counting the passwords it verifies."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self._lock = threading.Lock()  # requests on several threads verify at once

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        with self._lock:
            self.calls += 1
        return super().verify(hash, password)
