"""ticket durations for statistics, satisfaction surveys, service agents' capacity

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 00:40:34.638337
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crm.kit.types import UTCDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _seconds_between(later: str, earlier: str) -> str:
    if op.get_context().dialect.name == "sqlite":
        return f"CAST(ROUND((julianday({later}) - julianday({earlier})) * 86400) AS INTEGER)"
    return f"CAST(ROUND(EXTRACT(EPOCH FROM {later} - {earlier})) AS INTEGER)"


def upgrade() -> None:
    op.create_table(
        "satisfaction_surveys",
        sa.Column("tenant_id", ID, nullable=False),
        sa.Column("service_record_id", ID, nullable=False),
        sa.Column("token_id", sa.String(length=32), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
        sa.Column("superseded_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["service_record_id"],
            ["customer_service_records.id"],
            name=op.f("fk_satisfaction_surveys_service_record_id_customer_service_records"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_satisfaction_surveys_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_satisfaction_surveys")),
        sa.UniqueConstraint("token_id", name=op.f("uq_satisfaction_surveys_token_id")),
    )
    op.create_index("ix_satisfaction_surveys_ticket", "satisfaction_surveys", ["service_record_id"])
    # Plain ADD COLUMN: SQLite must not rebuild tables that others reference.
    op.add_column("customer_service_records", sa.Column("first_response_seconds", sa.Integer(), nullable=True))
    op.add_column("customer_service_records", sa.Column("resolution_seconds", sa.Integer(), nullable=True))
    op.add_column("users", sa.Column("service_capacity", sa.Integer(), nullable=True))
    # Tickets answered and resolved before this revision get their durations from their dates.
    # The SQL is built from this file's own column names only.
    for target, stamp in (("first_response_seconds", "first_response_date"), ("resolution_seconds", "resolved_date")):
        op.execute(
            f"UPDATE customer_service_records SET {target} = {_seconds_between(stamp, 'created_date')} "  # noqa: S608
            f"WHERE {stamp} IS NOT NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("service_capacity")
    with op.batch_alter_table("customer_service_records") as batch_op:
        batch_op.drop_column("resolution_seconds")
        batch_op.drop_column("first_response_seconds")
    op.drop_index("ix_satisfaction_surveys_ticket", table_name="satisfaction_surveys")
    op.drop_table("satisfaction_surveys")
