"""Contacts and addresses: validation, normalisation, one primary contact, one default per type."""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.models import CustomerContact
from tests.factories import Api, mobile


def _contacts(api: Api, customer_id: int) -> dict[str, dict]:
    return {c["contact_name"]: c for c in api.get(f"/crm/customers/{customer_id}/contacts").json()}


class TestContacts:
    def test_the_first_contact_becomes_primary(self, admin: Api) -> None:
        customer = admin.create_customer()
        response = admin.post(f"/crm/customers/{customer['id']}/contacts", {"contact_name": "周一"})
        assert response.status_code == 201
        assert response.json()["is_primary"] is True

    def test_a_new_primary_contact_takes_over_in_the_same_transaction(self, admin: Api, session: Session) -> None:
        customer = admin.create_customer(contacts=[{"contact_name": "周一"}, {"contact_name": "吴二"}])
        admin.post(f"/crm/customers/{customer['id']}/contacts", {"contact_name": "郑三", "is_primary": True})
        contacts = _contacts(admin, customer["id"])
        assert [n for n, c in contacts.items() if c["is_primary"]] == ["郑三"]
        wu = contacts["吴二"]
        admin.put(f"/crm/contacts/{wu['id']}", {"version": wu["version"], "is_primary": True})
        assert [n for n, c in _contacts(admin, customer["id"]).items() if c["is_primary"]] == ["吴二"]
        primaries = session.scalar(
            select(func.count()).where(CustomerContact.customer_id == customer["id"], CustomerContact.is_primary)
        )
        assert primaries == 1

    def test_phones_are_validated_and_stored_normalised(self, admin: Api) -> None:
        customer = admin.create_customer()
        ok = admin.post(
            f"/crm/customers/{customer['id']}/contacts", {"contact_name": "王", "contact_phone": "0571 8888 6666"}
        )
        assert ok.json()["contact_phone"] == "0571-****6666"  # shown masked, stored normalised:
        revealed = admin.post(f"/crm/contacts/{ok.json()['id']}/reveal", {"field": "contact_phone"}).json()
        assert revealed["value"] == "0571-88886666"
        bad = admin.post(f"/crm/customers/{customer['id']}/contacts", {"contact_name": "王", "contact_phone": "138"})
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["field"] == "contact_phone"
        assert bad.json()["errors"][0]["message"] == "不是有效的中国大陆手机或固定电话号码"

    def test_emails_are_validated(self, admin: Api) -> None:
        customer = admin.create_customer()
        bad = admin.post(f"/crm/customers/{customer['id']}/contacts", {"contact_name": "王", "contact_email": "王@"})
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["field"] == "contact_email"

    def test_a_contact_update_checks_its_version(self, admin: Api) -> None:
        customer = admin.create_customer(contacts=[{"contact_name": "周一"}])
        contact = customer["contacts"][0]
        first = admin.put(f"/crm/contacts/{contact['id']}", {"version": 1, "contact_title": "总经理"})
        assert first.status_code == 200
        assert first.json()["version"] == 2
        stale = admin.put(f"/crm/contacts/{contact['id']}", {"version": 1, "contact_title": "董事长"})
        assert stale.status_code == 409
        assert _contacts(admin, customer["id"])["周一"]["contact_title"] == "总经理"

    def test_a_deleted_primary_is_succeeded_and_no_longer_searchable(self, admin: Api) -> None:
        customer = admin.create_customer(
            contacts=[{"contact_name": "周一", "contact_phone": mobile(4321)}, {"contact_name": "吴二"}]
        )
        primary = next(c for c in customer["contacts"] if c["is_primary"])
        assert admin.delete(f"/crm/contacts/{primary['id']}").status_code == 204
        remaining = _contacts(admin, customer["id"])
        assert list(remaining) == ["吴二"]
        assert remaining["吴二"]["is_primary"] is True
        assert admin.get("/crm/customers/search", params={"keyword": "4321"}).json()["total"] == 0
        assert admin.put(f"/crm/contacts/{primary['id']}", {"version": 1, "contact_name": "x"}).status_code == 404

    def test_editing_a_contact_does_not_invalidate_the_customer_form(self, admin: Api) -> None:
        customer = admin.create_customer(contacts=[{"contact_name": "周一"}])
        admin.put(f"/crm/contacts/{customer['contacts'][0]['id']}", {"version": 1, "contact_name": "周一一"})
        response = admin.put(f"/crm/customers/{customer['id']}", {"version": 1, "industry": "零售"})
        assert response.status_code == 200


class TestAddresses:
    ADDRESS: ClassVar[dict[str, str]] = {
        "address_type": "shipping",
        "province": "湖北",
        "city": "武汉市",
        "detailed_address": "光谷大道1号",
    }

    def test_one_default_per_type_and_the_first_is_default(self, admin: Api) -> None:
        customer = admin.create_customer()
        path = f"/crm/customers/{customer['id']}/addresses"
        first = admin.post(path, self.ADDRESS).json()
        second = admin.post(path, {**self.ADDRESS, "detailed_address": "光谷大道2号", "is_default": True}).json()
        office = admin.post(path, {**self.ADDRESS, "address_type": "office"}).json()
        listed = {a["id"]: a["is_default"] for a in admin.get(path).json()}
        assert listed == {first["id"]: False, second["id"]: True, office["id"]: True}

    def test_deleting_the_default_promotes_the_oldest_of_its_type(self, admin: Api) -> None:
        customer = admin.create_customer()
        path = f"/crm/customers/{customer['id']}/addresses"
        first = admin.post(path, self.ADDRESS).json()
        second = admin.post(path, {**self.ADDRESS, "is_default": True}).json()
        assert admin.delete(f"/crm/addresses/{second['id']}").status_code == 204
        assert [(a["id"], a["is_default"]) for a in admin.get(path).json()] == [(first["id"], True)]

    def test_address_fields_are_validated(self, admin: Api) -> None:
        customer = admin.create_customer()
        response = admin.post(
            f"/crm/customers/{customer['id']}/addresses",
            {"address_type": "moon", "province": "", "city": "", "detailed_address": "x", "postal_code": "12"},
        )
        assert response.status_code == 422
        fields = {e["field"] for e in response.json()["errors"]}
        assert fields == {"address_type", "province", "city", "postal_code"}

    def test_an_update_changes_only_sent_fields(self, admin: Api) -> None:
        customer = admin.create_customer()
        address = admin.post(f"/crm/customers/{customer['id']}/addresses", self.ADDRESS).json()
        response = admin.put(f"/crm/addresses/{address['id']}", {"version": 1, "postal_code": "430000"})
        assert response.status_code == 200
        body = response.json()
        assert (body["postal_code"], body["city"], body["is_default"], body["version"]) == ("430000", "武汉市", True, 2)
