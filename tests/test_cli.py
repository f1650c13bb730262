"""The `crm` command, run as an operator would, against a fresh SQLite database."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from crm.app import DatabaseNotMigrated, create_app
from crm.cli import app
from crm.config import settings
from crm.kit import sealed_files
from crm.kit.crypto import decode_key, keyring, use_keyring
from crm.kit.db import make_engine, make_session_factory
from crm.models import Customer, CustomerContact, Tenant, User

runner = CliRunner()


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setattr(settings, "database_url", url)
    return url


def _count(url: str, model: type) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        value = conn.execute(select(func.count()).select_from(model)).scalar_one()
    engine.dispose()
    return int(value)


def test_every_command_has_help() -> None:
    for args in (["--help"], ["serve", "--help"], ["db", "upgrade", "--help"], ["user", "create", "--help"],
                 ["demo", "load", "--help"], ["tenant", "create", "--help"], ["keys", "rotate", "--help"],
                 ["keys", "status", "--help"], ["keys", "generate", "--help"], ["orders", "import", "--help"],
                 ["jobs", "run", "--help"]):  # fmt: skip
        result = runner.invoke(app, args)
        assert result.exit_code == 0, args
        assert "Usage" in result.output


def test_serve_refuses_an_unmigrated_database_and_says_what_to_run(database: str) -> None:
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 1
    assert "crm db upgrade" in result.output


def test_the_app_refuses_to_start_on_an_unmigrated_database(database: str) -> None:
    engine = make_engine(database)
    with (
        pytest.raises(DatabaseNotMigrated, match="crm db upgrade"),
        TestClient(create_app(make_session_factory(engine))),
    ):
        pass
    engine.dispose()


def test_db_upgrade_is_repeatable(database: str) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    with TestClient(create_app(make_session_factory(make_engine(database)))) as client:
        assert client.get("/api/openapi.json").status_code == 200


def test_user_create_makes_a_user_who_can_log_in_and_creates_an_unknown_tenant(database: str) -> None:
    runner.invoke(app, ["db", "upgrade"])
    result = runner.invoke(
        app,
        ["user", "create", "--username", "chen.jing", "--password", "a-long-password-1", "--role", "sales_manager",
         "--region", "华东", "--tenant", "acme"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "tenant acme" in result.output
    with TestClient(create_app(make_session_factory(make_engine(database)))) as client:
        login = client.post("/api/v1/auth/login", data={"username": "chen.jing", "password": "a-long-password-1"})
        assert login.status_code == 200
        me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"})
        assert (me.json()["tenant_code"], me.json()["region"]) == ("acme", "华东")


def test_user_create_lets_two_tenants_use_one_name_and_the_login_tells_them_apart(database: str) -> None:
    runner.invoke(app, ["db", "upgrade"])
    for tenant in ("acme", "beta"):
        result = runner.invoke(
            app,
            ["user", "create", "--username", "zhang.wei", "--password", f"{tenant}-password-1", "--role", "admin",
             "--tenant", tenant],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
    with TestClient(create_app(make_session_factory(make_engine(database)))) as client:
        form = {"username": "zhang.wei", "password": "beta-password-1", "tenant": "beta"}
        login = client.post("/api/v1/auth/login", data=form)
        me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"})
        assert me.json()["tenant_code"] == "beta"


def test_user_create_explains_a_short_password_or_a_duplicate(database: str) -> None:
    runner.invoke(app, ["db", "upgrade"])
    short = runner.invoke(app, ["user", "create", "--username", "a", "--password", "short", "--role", "admin"])
    assert short.exit_code == 1
    assert "password" in short.output
    runner.invoke(app, ["user", "create", "--username", "a", "--password", "long-enough-pass", "--role", "admin"])
    again = runner.invoke(
        app, ["user", "create", "--username", "a", "--password", "long-enough-pass", "--role", "admin"]
    )
    assert again.exit_code == 1
    assert "duplicate" in again.output


def test_demo_load_fills_a_tenant_once(database: str) -> None:
    runner.invoke(app, ["db", "upgrade"])
    result = runner.invoke(app, ["demo", "load", "--customers", "40"])
    assert result.exit_code == 0, result.output
    assert "admin" in result.output
    assert _count(database, Customer) == 40
    assert _count(database, CustomerContact) >= 40
    assert _count(database, User) > 10
    assert _count(database, Tenant) == 1
    again = runner.invoke(app, ["demo", "load", "--if-empty"])
    assert again.exit_code == 0
    assert "admin / crm-demo-2026!" in again.output  # what make run prints each time
    assert _count(database, Customer) == 40


class TestDemoOnlyIntoANewSqliteDatabase:
    """The demo accounts share a published password: `make run` (`--if-empty`) loads them only
    into a new SQLite database, and PostgreSQL gets them only when asked explicitly."""

    def test_if_empty_leaves_a_database_with_users_alone(self, database: str) -> None:
        runner.invoke(app, ["db", "upgrade"])
        made = runner.invoke(
            app, ["user", "create", "--username", "boss", "--password", "a-long-password-1", "--role", "admin"]
        )
        assert made.exit_code == 0, made.output
        result = runner.invoke(app, ["demo", "load", "--if-empty", "--customers", "5"])
        assert result.exit_code == 0, result.output
        assert "already has users" in result.output
        assert "crm-demo-2026!" not in result.output
        assert (_count(database, User), _count(database, Customer)) == (1, 0)

    @pytest.mark.postgresql_only
    def test_postgresql_is_refused_unless_asked_and_make_run_skips_it(
        self, owner_engine: Engine, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        name = f"crm_demo_{secrets.token_hex(4)}"
        server = create_engine(owner_engine.url, isolation_level="AUTOCOMMIT")
        with server.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
        url = owner_engine.url.set(database=name).render_as_string(hide_password=False)
        monkeypatch.setattr(settings, "database_url", url)
        try:
            assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
            refused = runner.invoke(app, ["demo", "load", "--customers", "5"])
            assert refused.exit_code == 1
            assert "--yes-on-postgresql" in refused.output
            assert "演示数据" in refused.output
            skipped = runner.invoke(app, ["demo", "load", "--if-empty", "--customers", "5"])
            assert skipped.exit_code == 0
            assert "--yes-on-postgresql" in skipped.output
            assert _count(url, User) == 0
            asked = runner.invoke(app, ["demo", "load", "--customers", "5", "--yes-on-postgresql"])
            assert asked.exit_code == 0, asked.output
            assert _count(url, Customer) == 5
        finally:
            with server.connect() as conn:
                conn.exec_driver_sql(f"DROP DATABASE {name} WITH (FORCE)")
            server.dispose()


def test_tenant_create_makes_a_tenant_once(database: str) -> None:
    runner.invoke(app, ["db", "upgrade"])
    result = runner.invoke(app, ["tenant", "create", "--code", "acme", "--name", "某某集团"])
    assert result.exit_code == 0, result.output
    assert "acme" in result.output
    again = runner.invoke(app, ["tenant", "create", "--code", "acme"])
    assert again.exit_code == 1
    assert "duplicate" in again.output
    assert runner.invoke(app, ["tenant", "create", "--code", "bad code!"]).exit_code == 1
    assert _count(database, Tenant) == 1


class TestKeys:
    """The embedded install keeps its keys in var/keys.json; `crm keys` rotates them."""

    @pytest.fixture
    def key_file(self, database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
        monkeypatch.setattr(settings, "var_dir", tmp_path / "var")
        monkeypatch.setattr(settings, "attachment_dir", tmp_path / "files")  # beside this installation's keys
        previous = keyring()
        use_keyring(None)
        yield tmp_path / "var" / "keys.json"
        use_keyring(previous)

    def test_the_key_file_is_created_private_and_rotation_keeps_every_value_readable(self, key_file: Path) -> None:
        runner.invoke(app, ["db", "upgrade"])
        assert runner.invoke(app, ["demo", "load", "--customers", "12"]).exit_code == 0
        assert key_file.stat().st_mode & 0o777 == 0o600
        status = runner.invoke(app, ["keys", "status"])
        assert "active key: k1" in status.output
        first = self._phones()

        rotated = runner.invoke(app, ["keys", "rotate", "--batch", "5"])
        assert rotated.exit_code == 0, rotated.output
        assert "customer_contacts" in rotated.output
        assert json.loads(key_file.read_text())["active"] == "k2"
        status = runner.invoke(app, ["keys", "status"])
        assert "active key: k2" in status.output
        assert "no value is encrypted under k1" in status.output
        use_keyring(None)
        assert self._phones() == first

    def test_rotation_moves_attachment_files_onto_the_new_key_and_encrypts_those_stored_in_clear(
        self, key_file: Path, tmp_path: Path
    ) -> None:
        runner.invoke(app, ["db", "upgrade"])
        folder = tmp_path / "files" / "1"
        folder.mkdir(parents=True)
        sealed, clear = folder / ("a" * 32), folder / ("b" * 32)
        with sealed_files.create(sealed, f"attachment:1/{sealed.name}") as out:
            out.write("合同扫描件".encode())
        clear.write_bytes("名片 13812345678".encode())
        before = runner.invoke(app, ["keys", "status"])
        assert "1 attachment files are stored unencrypted" in before.output
        assert "1 files" in before.output

        rotated = runner.invoke(app, ["keys", "rotate"])
        assert rotated.exit_code == 0, rotated.output
        assert "attachment files: 2 re-encrypted" in rotated.output
        assert (sealed_files.key_id(sealed), sealed_files.key_id(clear)) == ("k2", "k2")
        assert b"13812345678" not in clear.read_bytes()
        assert clear.stat().st_mode & 0o777 == 0o600
        assert folder.stat().st_mode & 0o777 == 0o700
        assert b"".join(sealed_files.read(clear, f"attachment:1/{clear.name}")) == "名片 13812345678".encode()
        after = runner.invoke(app, ["keys", "status"])
        assert "no value is encrypted under k1" in after.output
        assert "unencrypted" not in after.output

    def test_rotation_names_a_damaged_attachment_file_fails_and_still_moves_the_others(
        self, key_file: Path, tmp_path: Path
    ) -> None:
        runner.invoke(app, ["db", "upgrade"])
        folder = tmp_path / "files" / "1"
        folder.mkdir(parents=True)
        damaged, whole = folder / ("c" * 32), folder / ("d" * 32)
        for path in (damaged, whole):
            with sealed_files.create(path, f"attachment:1/{path.name}") as out:
                out.write(b"content")
        damaged.write_bytes(damaged.read_bytes()[:12])
        assert "1 attachment files are damaged" in runner.invoke(app, ["keys", "status"]).output
        rotated = runner.invoke(app, ["keys", "rotate"])
        assert rotated.exit_code == 1
        assert damaged.name in rotated.output
        assert sealed_files.key_id(whole) == "k2"

    def test_generate_prints_a_usable_key(self) -> None:
        result = runner.invoke(app, ["keys", "generate"])
        assert len(decode_key(result.output.strip(), "generated")) == 32

    def _phones(self) -> list[str | None]:
        engine = make_engine(settings.database_url)
        with Session(engine) as session:
            phones = list(session.scalars(select(CustomerContact.contact_phone).order_by(CustomerContact.id)))
        engine.dispose()
        assert any(phones)
        return phones
