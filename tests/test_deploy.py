"""The deployment files under deploy/ are valid and run commands and settings that exist.

No container engine runs here, so the compose file is checked against the Compose
Specification's JSON schema (as vendored by check-jsonschema) and against the CLI and the
settings it names; the systemd units and the image the same way.
"""

from __future__ import annotations

import configparser
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import typer.main
from ruamel.yaml import YAML

from crm.cli import app as cli_app
from crm.config import Settings

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
ROOT = DEPLOY.parent


def crm_commands() -> set[tuple[str, ...]]:
    """Every runnable `crm …` command path, e.g. ("db", "upgrade")."""
    found: set[tuple[str, ...]] = set()

    def walk(command: Any, path: tuple[str, ...]) -> None:
        subcommands = getattr(command, "commands", None)  # a group's
        if subcommands:
            for name, sub in subcommands.items():
                walk(sub, (*path, name))
        else:
            found.add(path)

    walk(typer.main.get_command(cli_app), ())
    return found


def runs_crm_command(argv: list[str]) -> bool:
    """Whether ``argv`` (``crm db upgrade --x``) names a command the CLI has."""
    words = [w for w in argv[1:] if not w.startswith("-")]
    commands = crm_commands()
    return any(tuple(words[:n]) in commands for n in range(1, len(words) + 1))


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = YAML(typ="safe").load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))
    return loaded


def test_the_compose_file_follows_the_compose_specification() -> None:
    checker = Path(sys.executable).with_name("check-jsonschema")
    result = subprocess.run(  # noqa: S603 - the pinned checker on our own file
        [str(checker), "--builtin-schema", "vendor.compose-spec", str(DEPLOY / "docker-compose.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_runs_postgresql_15_redis_7_the_api_a_worker_and_beat(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["postgres"]["image"].split(":")[1].startswith("15")
    assert services["redis"]["image"].split(":")[1].startswith("7")
    assert services["api"]["command"] == ["crm", "serve"]
    assert services["worker"]["command"] == ["crm", "worker"]
    assert services["beat"]["command"] == ["crm", "beat"]
    for name in ("migrate", "api", "worker", "beat"):
        assert runs_crm_command(services[name]["command"]), services[name]["command"]
        assert services[name]["environment"]["CRM_REDIS_URL"].startswith("redis://redis:")
    # Nothing serves or works before the schema is migrated.
    for name in ("api", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_compose_keeps_data_on_volumes_and_the_api_behind_a_proxy(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert any(v.endswith(":/var/lib/postgresql/data") for v in services["postgres"]["volumes"])
    assert any(v.startswith("crm-var:") for v in services["api"]["volumes"])
    # The API is published on the loopback interface only: TLS ends at a reverse proxy.
    assert all(port.startswith("127.0.0.1:") for port in services["api"]["ports"])


def test_the_example_settings_are_real_settings_and_name_two_database_users() -> None:
    known = {f"CRM_{name.upper()}" for name in Settings.model_fields}
    lines = [line for line in (DEPLOY / "crm.env.example").read_text().splitlines() if line and line[0] != "#"]
    values = dict(line.split("=", 1) for line in lines)
    assert set(values) <= known, set(values) - known
    assert {"CRM_DATABASE_URL", "CRM_DATABASE_OWNER_URL", "CRM_SECRET_KEY", "CRM_ENCRYPTION_KEYS"} <= set(values)
    assert "crm_app:" in values["CRM_DATABASE_URL"]
    assert "crm_owner:" in values["CRM_DATABASE_OWNER_URL"]


def test_the_postgres_init_script_creates_the_application_login() -> None:
    script = (DEPLOY / "postgres" / "10-application-user.sh").read_text()
    assert "CREATE ROLE crm_app LOGIN" in script
    assert (DEPLOY / "postgres" / "10-application-user.sh").stat().st_mode & 0o111


@pytest.mark.parametrize("unit", ["crm-api", "crm-worker", "crm-beat"])
def test_each_systemd_unit_runs_a_crm_command_as_an_unprivileged_user(unit: str) -> None:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / "systemd" / f"{unit}.service")
    service = parser["Service"]
    assert service["User"] == "crm"
    assert service["EnvironmentFile"] == "/etc/crm/crm.env"
    for key in ("ExecStartPre", "ExecStart"):
        if key in service:
            argv = service[key].split()
            assert argv[0].endswith("/crm"), argv
            assert runs_crm_command(argv), argv
    assert parser["Install"]["WantedBy"] == "multi-user.target"


def test_the_image_builds_from_files_that_exist_with_the_pinned_tools() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", dockerfile, re.MULTILINE):
        for path in source.split():
            assert (ROOT / path.rstrip("/")).exists(), path
    uv_version = re.search(r"^UV_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert uv_version is not None
    assert f"uv=={uv_version.group(1)}" in dockerfile
    python = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert "FROM python:3.11-" in dockerfile
    assert ">=3.11" in python
