"""data-subject requests, legal hold, and one-time redaction of audit records

Audit records stay immutable except for one transition: an erasure request redacts the
personal values in ``changes`` and ``detail`` and stamps ``redacted_at``; every other
column, and any later change, is still refused by the trigger.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 07:46:29.079225
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from crm.kit.types import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "data_subject_requests",
        sa.Column("tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("access", "erasure", name="dsr_kind", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column(
            "subject_type",
            sa.Enum("customer", "contact", name="dsr_subject_type", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column(
            "outcome",
            sa.Enum("completed", "refused", name="dsr_outcome", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column(
            "detail", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column("handled_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_data_subject_requests_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(["handled_by"], ["users.id"], name=op.f("fk_data_subject_requests_handled_by_users")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_data_subject_requests_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_subject_requests")),
    )
    with op.batch_alter_table("data_subject_requests", schema=None) as batch_op:
        batch_op.create_index("ix_data_subject_requests_customer", ["customer_id"], unique=False)
        batch_op.create_index("ix_data_subject_requests_tenant_created", ["tenant_id", "created_at"], unique=False)

    # Plain ALTER TABLE … ADD COLUMN on both databases: SQLite must not rebuild these tables,
    # which other tables reference and which keep a trigger.
    op.add_column("audit_logs", sa.Column("redacted_at", UTCDateTime(), nullable=True))
    op.add_column("customers", sa.Column("legal_hold", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("customers", sa.Column("legal_hold_reason", sa.String(length=200), nullable=True))
    op.add_column("customers", sa.Column("anonymised_at", UTCDateTime(), nullable=True))

    _replace_audit_trigger(allow_redaction=True)


def downgrade() -> None:
    _replace_audit_trigger(allow_redaction=False)
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("anonymised_at")
        batch_op.drop_column("legal_hold_reason")
        batch_op.drop_column("legal_hold")

    with op.batch_alter_table("audit_logs", schema=None) as batch_op:
        batch_op.drop_column("redacted_at")

    with op.batch_alter_table("data_subject_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_data_subject_requests_tenant_created")
        batch_op.drop_index("ix_data_subject_requests_customer")

    op.drop_table("data_subject_requests")


UNCHANGED = ("id", "tenant_id", "actor_id", "actor_name", "action", "object_type", "object_id", "request_id", "ip",
             "user_agent", "created_at")  # fmt: skip


def _replace_audit_trigger(*, allow_redaction: bool) -> None:
    redaction = "OLD.redacted_at IS NULL AND NEW.redacted_at IS NOT NULL AND " + " AND ".join(
        f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}" for c in UNCHANGED
    )
    if op.get_bind().dialect.name == "postgresql":
        allowed = f"IF {redaction} THEN RETURN NEW; END IF;" if allow_redaction else ""
        op.execute(
            f"""
            CREATE OR REPLACE FUNCTION audit_logs_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                {allowed}
                RAISE EXCEPTION 'audit_logs rows cannot be changed';
            END $$;
            """
        )
        return
    op.execute("DROP TRIGGER IF EXISTS audit_logs_no_update")
    when = f"WHEN NOT ({redaction.replace('IS NOT DISTINCT FROM', 'IS')})" if allow_redaction else ""
    op.execute(
        f"""
        CREATE TRIGGER audit_logs_no_update BEFORE UPDATE ON audit_logs {when}
        BEGIN SELECT RAISE(ABORT, 'audit_logs rows cannot be changed'); END
        """
    )
