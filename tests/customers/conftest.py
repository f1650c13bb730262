from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crm.kit.regions import Region
from crm.models import Tenant
from crm.models.enums import Role
from tests.factories import Api, make_tenant, make_user


@pytest.fixture
def manager_east(client: TestClient, session: Session, tenant: Tenant) -> Api:
    return Api(client, make_user(session, tenant, Role.SALES_MANAGER, region=Region.EAST))


@pytest.fixture
def sales_a(client: TestClient, session: Session, tenant: Tenant) -> Api:
    return Api(client, make_user(session, tenant, Role.SALES, region=Region.EAST))


@pytest.fixture
def sales_b(client: TestClient, session: Session, tenant: Tenant) -> Api:
    return Api(client, make_user(session, tenant, Role.SALES, region=Region.EAST))


@pytest.fixture
def outsider(client: TestClient, session: Session) -> Api:
    """The admin of another tenant."""
    return Api(client, make_user(session, make_tenant(session), Role.ADMIN))
