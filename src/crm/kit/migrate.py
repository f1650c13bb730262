"""Alembic, driven from code: one migration chain for SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(url: str | None = None, *, connection: Connection | None = None) -> None:
    command.upgrade(alembic_config(url, connection), "head")


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def is_up_to_date(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()


# What the application's own database user may do on PostgreSQL, when the tables belong to
# another user (the one `crm db upgrade` runs as): read and write the data, never change the
# schema, and of the audit trail only read and append (redaction goes through the owner's
# function, which can only blank personal values).
APPLICATION_GRANTS = """
GRANT USAGE ON SCHEMA public TO {role};
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};
REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON audit_logs FROM {role};
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM {role};
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role};
GRANT EXECUTE ON FUNCTION crm_redact_audit_log(bigint, jsonb, jsonb), crm_analyze(text) TO {role};
"""


def grant_application(engine: Engine, role: str) -> None:
    """Give the application's database user (``role``) its privileges on the current schema."""
    with engine.begin() as conn:
        quoted = conn.dialect.identifier_preparer.quote(role)
        conn.exec_driver_sql(APPLICATION_GRANTS.format(role=quoted))


def owns_audit_trail(engine: Engine) -> bool:
    """Whether this connection's user owns the audit trail (and so could alter it) on PostgreSQL."""
    if engine.dialect.name != "postgresql":
        return False
    with engine.connect() as conn:
        owner = conn.exec_driver_sql(
            "SELECT pg_get_userbyid(relowner) = current_user FROM pg_class "
            "WHERE relname = 'audit_logs' AND relkind = 'r' AND pg_table_is_visible(oid)"
        ).scalar()
    return bool(owner)
