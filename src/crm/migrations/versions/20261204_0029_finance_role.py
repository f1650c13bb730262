"""users.role accepts finance: the role that keeps credit ratings and annual revenue

The role column is a VARCHAR with a CHECK constraint listing the roles. PostgreSQL replaces
the constraint. SQLite cannot alter a constraint, and rebuilding ``users`` is not possible
while other tables' rows refer to it (dropping it would orphan them); a CHECK that accepts
more values changes nothing stored, so the table's definition is edited in place, as SQLite's
documentation describes for loosening a CHECK (lang_altertable, "simpler procedure").

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-04 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONSTRAINT = "ck_users_user_role"
BEFORE = ("admin", "sales_manager", "sales", "service_manager", "service_agent", "marketer", "analyst")
AFTER = (*BEFORE, "finance")


def _check(roles: tuple[str, ...]) -> str:
    return "role IN (" + ", ".join(f"'{role}'" for role in roles) + ")"


def _replace_check(old: tuple[str, ...], new: tuple[str, ...]) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.execute(f"ALTER TABLE users DROP CONSTRAINT {CONSTRAINT}")
        op.execute(f"ALTER TABLE users ADD CONSTRAINT {CONSTRAINT} CHECK ({_check(new)})")
        return
    definition = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'users'").scalar()
    if definition is None or _check(old) not in definition:
        raise RuntimeError(f"users.role: the CHECK constraint is not the expected {_check(old)}")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.execute(
        sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = 'users'"),
        {"sql": definition.replace(_check(old), _check(new))},
    )
    # A new schema version makes every connection read the changed definition.
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def upgrade() -> None:
    _replace_check(BEFORE, AFTER)


def downgrade() -> None:
    held = op.get_bind().execute(sa.text("SELECT count(*) FROM users WHERE role = 'finance'")).scalar_one()
    if held:
        raise RuntimeError(f"{held} user(s) have the finance role: give them another role before downgrading")
    _replace_check(AFTER, BEFORE)
