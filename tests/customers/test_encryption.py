"""Personal data at rest (§9.3): encrypted columns, blind indexes, key rotation."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from crm.app import create_app
from crm.kit.crypto import (
    Keyring,
    KeyringError,
    email_index,
    key_id_of,
    key_usage,
    phone_index,
    rotate_keys,
    use_keyring,
)
from crm.models import Base, CustomerAddress, CustomerContact
from crm.models.enums import Role
from tests.factories import Api, make_tenant, make_user

PHONE = "13987651234"
LANDLINE = "0755-86013388"
EMAIL = "wang.fang@huaxin.example"
WECHAT = "wx_wangfang88"
STREET = "科技园南区深南大道9988号"


def _customer_with_personal_data(api: Api) -> dict:
    return api.create_customer(
        customer_name="华信科技有限公司",
        contacts=[
            {
                "contact_name": "王芳",
                "contact_phone": PHONE,
                "contact_email": EMAIL,
                "contact_wechat": WECHAT,
                "birthday": "1987-06-05",
                "is_primary": True,
            },
            {"contact_name": "李强", "contact_phone": LANDLINE},
        ],
        addresses=[
            {
                "address_type": "office",
                "province": "广东省",
                "city": "深圳市",
                "detailed_address": STREET,
                "contact_phone": PHONE,
            }
        ],
    )


def _needles() -> list[str]:
    return [PHONE, PHONE[-8:], "86013388", EMAIL, "wang.fang", WECHAT, STREET, "深南大道", "1987-06-05"]


@pytest.fixture
def committed_api(committed: sessionmaker[Session]) -> Iterator[Api]:
    """An admin whose requests really commit, so the bytes on disk can be inspected."""
    with committed() as session:
        user = make_user(session, make_tenant(session), Role.ADMIN)
        session.expunge(user)
    with TestClient(create_app(committed, check_migrations=False), raise_server_exceptions=False) as client:
        yield Api(client, user)


def _dump(engine: Engine) -> str:
    """Every row of every table as the database driver returns it, like a dump would."""
    parts = []
    with engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.exec_driver_sql(f'SELECT * FROM "{table}"'):  # noqa: S608 - reflected names
                parts.append(repr(tuple(row)))
    return "\n".join(parts)


class TestAtRest:
    def test_the_database_holds_no_phone_email_wechat_birthday_or_address_in_clear(
        self, committed_api: Api, engine: Engine
    ) -> None:
        customer = _customer_with_personal_data(committed_api)
        dump = _dump(engine)
        assert "华信科技有限公司" in dump  # the dump did read the new rows
        for needle in _needles():
            assert needle not in dump, needle
        if engine.dialect.name == "sqlite":
            database = Path(str(engine.url.database))
            raw = b"".join(p.read_bytes() for p in (database, Path(f"{database}-wal")) if p.exists())
            for needle in _needles():
                assert needle.encode() not in raw, needle
        shown = committed_api.get(f"/crm/customers/{customer['id']}").json()
        assert shown["contacts"][0]["contact_phone"] == "139****1234"  # readable again through the API

    def test_values_are_tagged_with_their_key_and_bound_to_their_column(
        self, admin: Api, session: Session, test_keys: Keyring
    ) -> None:
        customer = _customer_with_personal_data(admin)
        stored = session.execute(
            text("SELECT contact_phone, contact_email FROM customer_contacts WHERE customer_id = :id AND is_primary"),
            {"id": customer["id"]},
        ).one()
        assert key_id_of(stored.contact_phone) == test_keys.active
        assert stored.contact_phone != test_keys.encrypt(PHONE, "customer_contacts.contact_phone")  # fresh nonce
        with pytest.raises(KeyringError):
            test_keys.decrypt(stored.contact_phone, "customer_contacts.contact_email")


class TestLookup:
    def test_a_phone_its_last_four_digits_and_an_email_still_find_the_customer(self, admin: Api) -> None:
        customer = _customer_with_personal_data(admin)
        for keyword in (PHONE, "139 8765 1234", "1234", LANDLINE, "3388", EMAIL.upper()):
            found = admin.get("/crm/customers/search", params={"keyword": keyword}).json()["items"]
            assert [c["id"] for c in found] == [customer["id"]], keyword

    def test_the_blind_index_finds_contacts_by_phone_and_email(self, admin: Api, session: Session) -> None:
        customer = _customer_with_personal_data(admin)
        by_phone = session.scalars(
            select(CustomerContact.customer_id).where(CustomerContact.phone_index == phone_index(PHONE))
        ).all()
        by_email = session.scalars(
            select(CustomerContact.customer_id).where(
                CustomerContact.email_index == email_index("Wang.Fang@HuaXin.example")
            )
        ).all()
        assert by_phone == by_email == [customer["id"]]

    def test_changing_a_phone_moves_its_blind_index(self, admin: Api) -> None:
        customer = _customer_with_personal_data(admin)
        contact = customer["contacts"][0]
        response = admin.put(
            f"/crm/contacts/{contact['id']}", {"version": contact["version"], "contact_phone": "13700001111"}
        )
        assert response.status_code == 200, response.text
        assert admin.get("/crm/customers/search", params={"keyword": PHONE}).json()["items"] == []
        found = admin.get("/crm/customers/search", params={"keyword": "13700001111"}).json()["items"]
        assert [c["id"] for c in found] == [customer["id"]]


class TestRotation:
    def test_rotation_re_encrypts_every_value_under_the_new_key_and_all_stay_readable(
        self, admin: Api, session: Session, test_keys: Keyring
    ) -> None:
        customer = _customer_with_personal_data(admin)
        rotated = Keyring({**test_keys.keys, "t2": secrets.token_bytes(32)}, "t2", test_keys.blind_key)
        use_keyring(rotated)
        try:
            counts = rotate_keys(session, Base.metadata, batch=1)
            assert counts["customer_contacts"] >= 2
            assert counts["customer_addresses"] >= 1
            assert set(key_usage(session, Base.metadata)) == {"t2"}
            for column in ("contact_phone", "contact_email", "contact_wechat", "birthday"):
                for (value,) in session.execute(
                    text(f"SELECT {column} FROM customer_contacts WHERE {column} IS NOT NULL")  # noqa: S608
                ):
                    assert key_id_of(value) == "t2"
            # The old key can now be retired: everything opens with the new one alone.
            use_keyring(Keyring({"t2": rotated.keys["t2"]}, "t2", test_keys.blind_key))
            session.expire_all()
            addresses = session.scalars(
                select(CustomerAddress).where(CustomerAddress.customer_id == customer["id"])
            ).all()
            assert [a.detailed_address for a in addresses] == [STREET]
            shown = admin.post(f"/crm/contacts/{customer['contacts'][0]['id']}/reveal", {"field": "contact_phone"})
            assert shown.json()["value"] == PHONE
            found = admin.get("/crm/customers/search", params={"keyword": "1234"}).json()["items"]
            assert [c["id"] for c in found] == [customer["id"]]  # the blind index did not change
            assert rotate_keys(session, Base.metadata, batch=100) == {"customer_contacts": 0, "customer_addresses": 0}
        finally:
            use_keyring(test_keys)

    def test_a_value_under_an_unknown_key_is_refused_with_the_key_named(self, test_keys: Keyring) -> None:
        other = Keyring({"old": secrets.token_bytes(32)}, "old", test_keys.blind_key)
        with pytest.raises(KeyringError, match="'old'"):
            test_keys.decrypt(other.encrypt(PHONE, "c"), "c")
