from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from crm.config import settings
from crm.kit.db import make_engine
from crm.models import Base

config = context.config
target_metadata = Base.metadata


def _sqlite_foreign_keys(connection: Connection, *, on: bool) -> None:
    # On the driver's connection, outside any transaction: SQLite ignores the pragma inside one.
    connection.connection.driver_connection.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")  # type: ignore[union-attr]


def run(connection: Connection) -> None:
    # SQLite changes a table's constraints by rebuilding it, and dropping the old copy of a table
    # that other rows refer to fails while foreign keys are enforced: they are checked once,
    # after the migrations and before their commit, instead.
    sqlite = connection.dialect.name == "sqlite" and not connection.in_transaction()
    if sqlite:
        _sqlite_foreign_keys(connection, on=False)
    try:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                if broken:
                    raise RuntimeError(f"the migrations left references to missing rows: {broken[:10]}")
    finally:
        if sqlite:
            _sqlite_foreign_keys(connection, on=True)


def main() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or settings.database_url
    engine = make_engine(url)
    with engine.connect() as conn:
        run(conn)
        conn.commit()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline migrations are not supported; run `crm db upgrade` against a database.")
main()
