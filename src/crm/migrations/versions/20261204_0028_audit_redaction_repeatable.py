"""audit records may be redacted by each erasure that finds its person in them

One record can name two people (an export filtered by one, run by a search for the other; a
ticket note quoting another customer's phone): the second person's erasure must be able to
redact it too. The redaction still changes only ``changes`` and ``detail`` and stamps
``redacted_at``, never earlier than the stamp before; every other change is still refused.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-04 09:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNCHANGED = ("id", "tenant_id", "actor_id", "actor_name", "action", "object_type", "object_id", "request_id", "ip",
             "user_agent", "created_at")  # fmt: skip
ONCE = "OLD.redacted_at IS NULL AND NEW.redacted_at IS NOT NULL"
AGAIN = "NEW.redacted_at IS NOT NULL AND (OLD.redacted_at IS NULL OR NEW.redacted_at >= OLD.redacted_at)"


def upgrade() -> None:
    _replace_audit_trigger(AGAIN)


def downgrade() -> None:
    _replace_audit_trigger(ONCE)


def _replace_audit_trigger(stamp: str) -> None:
    redaction = f"{stamp} AND " + " AND ".join(f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}" for c in UNCHANGED)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE OR REPLACE FUNCTION audit_logs_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF {redaction} THEN RETURN NEW; END IF;
                RAISE EXCEPTION 'audit_logs rows cannot be changed';
            END $$;
            """
        )
        return
    op.execute("DROP TRIGGER IF EXISTS audit_logs_no_update")
    op.execute(
        f"""
        CREATE TRIGGER audit_logs_no_update BEFORE UPDATE ON audit_logs
        WHEN NOT ({redaction.replace("IS NOT DISTINCT FROM", "IS")})
        BEGIN SELECT RAISE(ABORT, 'audit_logs rows cannot be changed'); END
        """
    )
