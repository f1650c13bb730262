"""Two people saving the same customer at once: exactly one wins, the other gets a 409."""

from __future__ import annotations

import threading

from sqlalchemy.orm import Session, sessionmaker

from crm.auth.accounts import actor_for
from crm.customers import schemas, service
from crm.kit.db import unit_of_work
from crm.kit.errors import Conflict
from crm.models.enums import Role
from tests.factories import make_tenant, make_user


def test_concurrent_updates_with_the_same_version_let_exactly_one_through(committed: sessionmaker[Session]) -> None:
    with committed() as session:
        tenant = make_tenant(session)
        admin = make_user(session, tenant, Role.ADMIN)
        actor = actor_for(admin)
        customer = service.create_customer(
            session, actor, schemas.CustomerCreate(customer_name="并发测试公司", customer_type="enterprise")
        )
        session.commit()

    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def save(industry: str) -> None:
        barrier.wait()
        try:
            for s in unit_of_work(committed):
                service.update_customer(s, actor, customer.id, schemas.CustomerUpdate(version=1, industry=industry))
            outcomes.append("saved")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=save, args=(name,)) for name in ("金融", "教育")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["conflict", "saved"]
    with committed() as session:
        final = service.get_customer(session, actor, customer.id)
        assert final.version == 2
        assert final.industry in {"金融", "教育"}
