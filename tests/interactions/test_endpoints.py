"""Interactions, follow-ups, reminders, notifications, attachments and the timeline."""

from __future__ import annotations

import secrets
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm.config import settings
from crm.interactions.notifications import send_follow_up_reminders
from crm.jobs import run_job
from crm.kit import sealed_files
from crm.kit.clock import business_today
from crm.kit.crypto import Keyring, use_keyring
from crm.models import AuditLog
from tests.factories import Api, mobile

ZONE = ZoneInfo("Asia/Shanghai")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
CARD = "客户名片：张伟 13812345678\n".encode() * 50


def _local(day_offset: int, hour: int = 12, minute: int = 0) -> str:
    day = business_today() + timedelta(days=day_offset)
    return datetime.combine(day, time(hour, minute), tzinfo=ZONE).isoformat()


def _log(api: Api, customer: dict, **fields: Any) -> dict:
    body = {"interaction_type": "call", "interaction_direction": "outbound", "subject": "电话回访", **fields}
    response = api.post(f"/crm/customers/{customer['id']}/interactions", body)
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.fixture
def customer(sales_a: Api) -> dict:
    return sales_a.create_customer(
        customer_name="杭州云栖科技",
        province="浙江",
        contacts=[{"contact_name": "陈静", "contact_phone": mobile(2468)}],
    )


class TestRecording:
    def test_recording_an_interaction_moves_the_customers_last_contact_date(self, sales_a: Api, customer: dict) -> None:
        assert sales_a.get(f"/crm/customers/{customer['id']}").json()["last_contact_date"] is None
        when = _local(-1, 15, 30)[:16]  # "2026-11-24T15:30": a local time without an offset
        logged = _log(sales_a, customer, interaction_date=when, contact_id=customer["contacts"][0]["id"])
        assert (logged["staff_id"], logged["follow_up_status"]) == (sales_a.user.id, "none")
        shown = sales_a.get(f"/crm/customers/{customer['id']}").json()["last_contact_date"]
        assert datetime.fromisoformat(shown) == datetime.fromisoformat(when).replace(tzinfo=ZONE)
        _log(sales_a, customer, interaction_date=_local(-3))  # an older one does not move it back
        assert sales_a.get(f"/crm/customers/{customer['id']}").json()["last_contact_date"] == shown

    def test_the_contact_must_belong_to_the_customer(self, sales_a: Api, customer: dict) -> None:
        other = sales_a.create_customer(contacts=[{"contact_name": "别人"}])
        body = {"interaction_type": "visit", "interaction_direction": "outbound", "subject": "拜访"}
        response = sales_a.post(
            f"/crm/customers/{customer['id']}/interactions", {**body, "contact_id": other["contacts"][0]["id"]}
        )
        assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "contact_id")

    def test_an_interaction_cannot_be_far_in_the_future(self, sales_a: Api, customer: dict) -> None:
        body = {
            "interaction_type": "call",
            "interaction_direction": "inbound",
            "subject": "x",
            "interaction_date": _local(5),
        }
        response = sales_a.post(f"/crm/customers/{customer['id']}/interactions", body)
        assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "interaction_date")

    def test_others_cannot_see_or_add_to_a_customer_outside_their_scope(self, sales_b: Api, customer: dict) -> None:
        assert sales_b.get(f"/crm/customers/{customer['id']}/interactions").status_code == 404
        body = {"interaction_type": "call", "interaction_direction": "inbound", "subject": "x"}
        assert sales_b.post(f"/crm/customers/{customer['id']}/interactions", body).status_code == 404

    def test_lists_are_newest_first_and_writes_are_audited(
        self, sales_a: Api, customer: dict, session: Session
    ) -> None:
        first = _log(sales_a, customer, interaction_date=_local(-2), subject="第一次")
        second = _log(sales_a, customer, interaction_date=_local(-1), subject="第二次")
        listed = sales_a.get(f"/crm/customers/{customer['id']}/interactions").json()
        assert [i["id"] for i in listed["items"]] == [second["id"], first["id"]]
        updated = sales_a.put(f"/crm/interactions/{first['id']}", {"version": 1, "outcome": "successful"})
        assert updated.json()["outcome"] == "successful"
        stale = sales_a.put(f"/crm/interactions/{first['id']}", {"version": 1, "outcome": "failed"})
        assert stale.status_code == 409
        actions = session.scalars(
            select(AuditLog.action).where(AuditLog.object_type == "interaction").order_by(AuditLog.id)
        ).all()
        assert actions == ["interaction.create", "interaction.create", "interaction.update"]


class TestFollowUps:
    def test_pending_follow_ups_are_grouped_overdue_today_and_upcoming(self, sales_a: Api, customer: dict) -> None:
        overdue = _log(sales_a, customer, next_action="发报价", next_action_date=_local(-1))
        today = _log(sales_a, customer, next_action="确认合同", next_action_date=_local(0, 0, 1))
        upcoming = _log(sales_a, customer, next_action="回访", next_action_date=_local(3))
        _log(sales_a, customer, next_action="季度回访", next_action_date=_local(30))  # beyond 7 days
        _log(sales_a, customer)  # no follow-up planned
        groups = sales_a.get("/crm/interactions/pending_follow_up").json()
        assert [f["interaction_id"] for f in groups["overdue"]] == [overdue["id"]]
        assert [f["interaction_id"] for f in groups["today"]] == [today["id"]]
        assert [f["interaction_id"] for f in groups["upcoming"]] == [upcoming["id"]]
        entry = groups["overdue"][0]
        assert entry["customer"]["customer_name"] == "杭州云栖科技"
        wide = sales_a.get("/crm/interactions/pending_follow_up", params={"days": 60}).json()
        assert len(wide["upcoming"]) == 2

    def test_done_follow_ups_leave_the_list_and_rescheduled_ones_move(self, sales_a: Api, customer: dict) -> None:
        a = _log(sales_a, customer, next_action_date=_local(-1))
        b = _log(sales_a, customer, next_action_date=_local(-2))
        done = sales_a.put(f"/crm/interactions/{a['id']}", {"version": 1, "follow_up_status": "done"}).json()
        assert done["follow_up_status"] == "done"
        assert done["follow_up_done_at"] is not None
        sales_a.put(f"/crm/interactions/{b['id']}", {"version": 1, "next_action_date": _local(2)})
        groups = sales_a.get("/crm/interactions/pending_follow_up").json()
        assert groups["overdue"] == []
        assert [f["interaction_id"] for f in groups["upcoming"]] == [b["id"]]

    def test_marking_done_without_a_follow_up_is_refused(self, sales_a: Api, customer: dict) -> None:
        plain = _log(sales_a, customer)
        response = sales_a.put(f"/crm/interactions/{plain['id']}", {"version": 1, "follow_up_status": "done"})
        assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "follow_up_status")

    def test_a_manager_sees_the_teams_follow_ups_a_colleague_does_not(
        self, sales_a: Api, sales_b: Api, manager_east: Api, customer: dict
    ) -> None:
        mine = _log(sales_a, customer, next_action_date=_local(1))
        assert sales_b.get("/crm/interactions/pending_follow_up").json()["upcoming"] == []
        team = manager_east.get("/crm/interactions/pending_follow_up").json()["upcoming"]
        assert [f["interaction_id"] for f in team] == [mine["id"]]
        one = manager_east.get("/crm/interactions/pending_follow_up", params={"staff_id": sales_b.user.id}).json()
        assert one["upcoming"] == []

    def test_contacts_in_follow_ups_are_masked(self, sales_a: Api, customer: dict) -> None:
        _log(sales_a, customer, contact_id=customer["contacts"][0]["id"], next_action_date=_local(-1))
        [entry] = sales_a.get("/crm/interactions/pending_follow_up").json()["overdue"]
        assert entry["contact"]["contact_phone"] == "139****2468"


class TestReminders:
    def test_the_owner_is_reminded_once_when_a_follow_up_falls_due(
        self, sales_a: Api, customer: dict, session: Session, session_factory: sessionmaker[Session]
    ) -> None:
        due = _log(sales_a, customer, next_action="发报价单", next_action_date=_local(-1))
        _log(sales_a, customer, next_action_date=_local(2))  # not due yet
        assert run_job(session_factory, "reminders") >= 1
        assert send_follow_up_reminders(session) == 0  # a rerun sends nothing new
        inbox = sales_a.get("/crm/notifications", params={"unread": True}).json()
        mine = [n for n in inbox["items"] if n["object_id"] == due["id"]]
        assert len(mine) == 1
        assert (mine[0]["kind"], mine[0]["title"], mine[0]["body"]) == (
            "follow_up_due",
            "跟进到期：杭州云栖科技",
            "发报价单",
        )
        marked = sales_a.post("/crm/notifications/read", {"ids": [mine[0]["id"]]}).json()
        assert marked["marked"] == 1
        assert sales_a.get("/crm/notifications", params={"unread": True}).json()["total"] == inbox["total"] - 1

    def test_a_rescheduled_follow_up_is_reminded_again(self, sales_a: Api, customer: dict, session: Session) -> None:
        due = _log(sales_a, customer, next_action_date=_local(-2))
        assert send_follow_up_reminders(session) == 1
        sales_a.put(f"/crm/interactions/{due['id']}", {"version": 1, "next_action_date": _local(-1)})
        assert send_follow_up_reminders(session) == 1

    def test_nobody_reads_another_users_notifications(
        self, sales_a: Api, sales_b: Api, customer: dict, session: Session
    ) -> None:
        _log(sales_a, customer, next_action_date=_local(-1))
        send_follow_up_reminders(session)
        assert sales_b.get("/crm/notifications").json()["items"] == []
        theirs = sales_a.get("/crm/notifications").json()["items"][0]["id"]
        assert sales_b.post("/crm/notifications/read", {"ids": [theirs]}).json()["marked"] == 0


class TestTimeline:
    def test_interactions_level_changes_and_assignments_in_one_stream_newest_first(
        self, admin: Api, sales_a: Api, sales_b: Api, customer: dict
    ) -> None:
        call = _log(sales_a, customer, interaction_date=_local(-1))
        admin.put(f"/crm/customers/{customer['id']}/level", {"level": "B", "reason": "年度采购增加"})
        admin.put(f"/crm/customers/{customer['id']}/assign_sales", {"assigned_sales_id": sales_b.user.id})
        stream = admin.get(f"/crm/customers/{customer['id']}/timeline").json()
        # then the owner and level set at creation; the call, logged as of yesterday, comes last
        kinds = [e["kind"] for e in stream]
        assert kinds[:2] == ["assignment", "level_change"]
        assert sorted(kinds[2:4]) == ["assignment", "level_change"]
        assert kinds[4:] == ["interaction"]
        times = [e["occurred_at"] for e in stream]
        assert times == sorted(times, reverse=True)
        assert stream[1]["detail"]["reason"] == "年度采购增加"
        assert stream[-1]["id"] == call["id"]
        pages = [
            admin.get(f"/crm/customers/{customer['id']}/timeline", params={"page": n, "page_size": 2}).json()
            for n in (1, 2, 3)
        ]
        assert [e["id"] for page in pages for e in page] == [e["id"] for e in stream]
        only = admin.get(f"/crm/customers/{customer['id']}/timeline", params={"kinds": ["interaction"]}).json()
        assert [e["kind"] for e in only] == ["interaction"]


class TestAttachments:
    @pytest.fixture(autouse=True)
    def storage(self, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(settings, "attachment_dir", tmp_path / "attachments")

    def test_an_uploaded_file_is_listed_with_the_interaction_and_downloads_intact(
        self, sales_a: Api, customer: dict
    ) -> None:
        logged = _log(sales_a, customer)
        response = sales_a.post(
            f"/crm/interactions/{logged['id']}/attachments", files={"file": ("现场照片.png", PNG, "image/png")}
        )
        assert response.status_code == 201, response.text
        attachment = response.json()
        assert (attachment["file_name"], attachment["size_bytes"]) == ("现场照片.png", len(PNG))
        listed = sales_a.get(f"/crm/customers/{customer['id']}/interactions").json()["items"][0]
        assert [a["id"] for a in listed["attachments"]] == [attachment["id"]]
        download = sales_a.get(f"/crm/interactions/{logged['id']}/attachments/{attachment['id']}")
        assert (download.status_code, download.content) == (200, PNG)

    def test_a_file_that_is_not_what_it_claims_is_refused(self, sales_a: Api, customer: dict) -> None:
        logged = _log(sales_a, customer)
        fake = sales_a.post(
            f"/crm/interactions/{logged['id']}/attachments", files={"file": ("a.png", b"MZ\x90\x00", "image/png")}
        )
        assert (fake.status_code, fake.json()["errors"][0]["code"]) == (422, "type_mismatch")
        exe = sales_a.post(
            f"/crm/interactions/{logged['id']}/attachments",
            files={"file": ("a.exe", b"MZ\x90\x00", "application/x-msdownload")},
        )
        assert (exe.status_code, exe.json()["errors"][0]["code"]) == (422, "type_not_allowed")

    def test_a_file_over_the_limit_is_refused_and_leaves_nothing(
        self, sales_a: Api, customer: dict, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
    ) -> None:
        monkeypatch.setattr(settings, "attachment_max_bytes", 100)
        logged = _log(sales_a, customer)
        big = sales_a.post(
            f"/crm/interactions/{logged['id']}/attachments", files={"file": ("big.png", PNG * 3, "image/png")}
        )
        assert (big.status_code, big.json()["errors"][0]["code"]) == (422, "too_large")
        stored = tmp_path / "attachments"
        assert not stored.exists() or not any(p.is_file() for p in stored.rglob("*"))
        assert sales_a.get(f"/crm/customers/{customer['id']}/interactions").json()["items"][0]["attachments"] == []

    def _upload(self, api: Api, customer: dict, content: bytes = CARD) -> tuple[str, Path]:
        """The download URL of a new text attachment, and its file on disk."""
        logged = _log(api, customer)
        attachment = api.post(
            f"/crm/interactions/{logged['id']}/attachments", files={"file": ("名片.txt", content, "text/plain")}
        ).json()
        [stored] = settings.attachment_dir.rglob(attachment["id"])
        return f"/crm/interactions/{logged['id']}/attachments/{attachment['id']}", stored

    def test_a_stored_file_is_encrypted_private_and_downloads_as_it_was_uploaded(
        self, sales_a: Api, customer: dict
    ) -> None:
        url, stored = self._upload(sales_a, customer)
        on_disk = stored.read_bytes()
        assert "张伟".encode() not in on_disk
        assert b"13812345678" not in on_disk
        assert stored.stat().st_mode & 0o777 == 0o600
        assert stored.parent.stat().st_mode & 0o777 == 0o700
        assert settings.attachment_dir.stat().st_mode & 0o777 == 0o700
        download = sales_a.get(url)
        assert (download.status_code, download.content) == (200, CARD)
        assert download.headers["content-disposition"] == "attachment; filename*=utf-8''%E5%90%8D%E7%89%87.txt"
        assert download.headers["content-length"] == str(len(CARD))

    def test_a_file_stored_in_clear_by_an_earlier_version_still_downloads(self, sales_a: Api, customer: dict) -> None:
        url, stored = self._upload(sales_a, customer)
        stored.write_bytes(CARD)
        download = sales_a.get(url)
        assert (download.status_code, download.content) == (200, CARD)

    def test_a_file_stored_under_an_old_key_still_downloads_after_rotation(
        self, sales_a: Api, customer: dict, test_keys: Keyring
    ) -> None:
        old_url, old_file = self._upload(sales_a, customer)
        use_keyring(Keyring({**test_keys.keys, "t2": secrets.token_bytes(32)}, "t2", test_keys.blind_key))
        try:
            new_url, new_file = self._upload(sales_a, customer, b"after rotation")
            assert (sealed_files.key_id(old_file), sealed_files.key_id(new_file)) == ("t1", "t2")
            assert sales_a.get(old_url).content == CARD
            assert sales_a.get(new_url).content == b"after rotation"
        finally:
            use_keyring(test_keys)

    def test_an_altered_file_is_refused_with_409_and_a_clear_message(self, sales_a: Api, customer: dict) -> None:
        url, stored = self._upload(sales_a, customer)
        data = bytearray(stored.read_bytes())
        data[-20] ^= 0x01
        stored.write_bytes(bytes(data))
        refused = sales_a.get(url)
        assert refused.status_code == 409
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["code"] == "attachment_unreadable"
        assert "篡改" in refused.json()["title"]

    def test_a_file_copied_over_another_attachment_is_refused(self, sales_a: Api, customer: dict) -> None:
        url, stored = self._upload(sales_a, customer)
        _, other = self._upload(sales_a, customer, b"another file")
        stored.write_bytes(other.read_bytes())
        assert sales_a.get(url).json()["code"] == "attachment_unreadable"

    def test_others_cannot_download(self, sales_a: Api, sales_b: Api, customer: dict) -> None:
        logged = _log(sales_a, customer)
        attachment = sales_a.post(
            f"/crm/interactions/{logged['id']}/attachments", files={"file": ("n.txt", "备注".encode(), "text/plain")}
        ).json()
        assert sales_b.get(f"/crm/interactions/{logged['id']}/attachments/{attachment['id']}").status_code == 404
