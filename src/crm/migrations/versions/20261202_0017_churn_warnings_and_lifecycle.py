"""churn features, risk and lifecycle stage on value snapshots; churn warnings, retention actions, churn models

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 05:00:00.000000
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from crm.kit.types import JSONType, Money, UTCDateTime

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
RISKS = ("high", "medium", "low")
STATUSES = ("open", "in_progress", "retained", "lost", "cleared")
ACTIONS = ("call", "visit", "wechat", "email", "meeting", "offer", "other")
SNAPSHOT_COLUMNS: tuple[sa.Column[Any], ...] = (
    sa.Column("spend_recent", Money(), nullable=False, server_default="0"),
    sa.Column("spend_previous", Money(), nullable=False, server_default="0"),
    sa.Column("orders_history", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("days_since_interaction", sa.Integer(), nullable=True),
    sa.Column("interactions_90d", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("overdue_amount", Money(), nullable=False, server_default="0"),
    sa.Column("overdue_days", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("churn_risk", sa.String(length=8), nullable=True),
    sa.Column("churn_rule", sa.String(length=32), nullable=True),
    sa.Column("churn_reason", sa.Text(), nullable=True),
    sa.Column("lifecycle_stage", sa.String(length=16), nullable=True),
)


def _enum(values: tuple[str, ...], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True)


def upgrade() -> None:
    for column in SNAPSHOT_COLUMNS:
        op.add_column("customer_value_analysis", column)

    op.create_table(
        "churn_warnings",
        sa.Column("tenant_id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("risk_level", _enum(RISKS, "churn_risk"), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", _enum(STATUSES, "churn_warning_status"), nullable=False),
        sa.Column("owner_id", ID, nullable=True),
        sa.Column("strategy", sa.Text(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("detected_date", sa.Date(), nullable=False),
        sa.Column("risk_changed_date", sa.Date(), nullable=False),
        sa.Column("churn_probability", sa.Numeric(5, 4), nullable=True),
        sa.Column("outcome_note", sa.Text(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("closed_by", ID, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_churn_warnings_tenant_id_tenants")),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_churn_warnings_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_churn_warnings_owner_id_users")),
        sa.ForeignKeyConstraint(["closed_by"], ["users.id"], name=op.f("fk_churn_warnings_closed_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_churn_warnings")),
    )
    active = sa.text("status IN ('open', 'in_progress')")
    op.create_index(
        "uq_churn_warnings_active_customer",
        "churn_warnings",
        ["customer_id"],
        unique=True,
        postgresql_where=active,
        sqlite_where=active,
    )
    op.create_index("ix_churn_warnings_tenant_status", "churn_warnings", ["tenant_id", "status", "risk_level"])
    op.create_index("ix_churn_warnings_owner", "churn_warnings", ["owner_id", "status"])

    op.create_table(
        "retention_actions",
        sa.Column("tenant_id", ID, nullable=False),
        sa.Column("warning_id", ID, nullable=False),
        sa.Column("action_type", _enum(ACTIONS, "retention_action_type"), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("staff_id", ID, nullable=False),
        sa.Column("interaction_id", ID, nullable=True),
        sa.Column("action_date", UTCDateTime(), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_retention_actions_tenant_id_tenants")),
        sa.ForeignKeyConstraint(
            ["warning_id"], ["churn_warnings.id"], name=op.f("fk_retention_actions_warning_id_churn_warnings")
        ),
        sa.ForeignKeyConstraint(["staff_id"], ["users.id"], name=op.f("fk_retention_actions_staff_id_users")),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["customer_interactions.id"],
            name=op.f("fk_retention_actions_interaction_id_customer_interactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_actions")),
    )
    op.create_index("ix_retention_actions_warning", "retention_actions", ["warning_id"])

    op.create_table(
        "churn_models",
        sa.Column("tenant_id", ID, nullable=False),
        sa.Column("trained_at", UTCDateTime(), nullable=False),
        sa.Column("algorithm", sa.String(length=64), nullable=False),
        sa.Column("usable", sa.Boolean(), nullable=False),
        sa.Column("parameters", JSONType, nullable=False),
        sa.Column("metrics", JSONType, nullable=False),
        sa.Column("trained_by", ID, nullable=True),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_churn_models_tenant_id_tenants")),
        sa.ForeignKeyConstraint(["trained_by"], ["users.id"], name=op.f("fk_churn_models_trained_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_churn_models")),
    )
    op.create_index("ix_churn_models_tenant", "churn_models", ["tenant_id", "trained_at"])


def downgrade() -> None:
    op.drop_index("ix_churn_models_tenant", table_name="churn_models")
    op.drop_table("churn_models")
    op.drop_index("ix_retention_actions_warning", table_name="retention_actions")
    op.drop_table("retention_actions")
    op.drop_index("ix_churn_warnings_owner", table_name="churn_warnings")
    op.drop_index("ix_churn_warnings_tenant_status", table_name="churn_warnings")
    op.drop_index("uq_churn_warnings_active_customer", table_name="churn_warnings")
    op.drop_table("churn_warnings")
    with op.batch_alter_table("customer_value_analysis") as batch_op:
        for column in reversed(SNAPSHOT_COLUMNS):
            batch_op.drop_column(column.name)
