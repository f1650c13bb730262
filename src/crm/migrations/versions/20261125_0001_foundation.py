"""foundation: tenants, users, customers, contacts, addresses

Revision ID: 0001
Revises:
Create Date: 2026-11-25 02:40:51.288924
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from crm.kit.types import Money, TokenList, UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
        sa.UniqueConstraint("code", name=op.f("uq_tenants_code")),
    )
    op.create_table(
        "code_sequences",
        sa.Column("tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("last_value", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_code_sequences_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "name", name=op.f("pk_code_sequences")),
    )
    op.create_table(
        "region_mappings",
        sa.Column("tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("province", sa.String(length=20), nullable=False),
        sa.Column(
            "region",
            sa.Enum(
                "华东",
                "华南",
                "华北",
                "华中",
                "西南",
                "西北",
                "东北",
                name="mapping_region",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_region_mappings_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_region_mappings")),
        sa.UniqueConstraint("tenant_id", "province", name=op.f("uq_region_mappings_tenant_id_province")),
    )
    op.create_table(
        "users",
        sa.Column("tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "admin",
                "sales_manager",
                "sales",
                "service_manager",
                "service_agent",
                "marketer",
                "analyst",
                name="user_role",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "region",
            sa.Enum(
                "华东",
                "华南",
                "华北",
                "华中",
                "西南",
                "西北",
                "东北",
                name="user_region",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column("team", sa.String(length=64), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("last_login_at", UTCDateTime(), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_users_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "customers",
        sa.Column("tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_code", sa.String(length=32), nullable=False),
        sa.Column("customer_name", sa.String(length=100), nullable=False),
        sa.Column(
            "customer_type",
            sa.Enum("individual", "enterprise", name="customer_type", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column(
            "customer_level",
            sa.Enum("A", "B", "C", "D", name="customer_level", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column(
            "customer_status",
            sa.Enum(
                "active", "inactive", "blacklist", name="customer_status", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("industry", sa.String(length=50), nullable=True),
        sa.Column(
            "company_size",
            sa.Enum("small", "medium", "large", name="company_size", native_enum=False, create_constraint=True),
            nullable=True,
        ),
        sa.Column("annual_revenue", Money(), nullable=True),
        sa.Column(
            "credit_rating",
            sa.Enum(
                "AAA", "AA", "A", "BBB", "BB", "B", "C", name="credit_rating", native_enum=False, create_constraint=True
            ),
            nullable=True,
        ),
        sa.Column("source", sa.String(length=50), nullable=True),
        sa.Column("acquisition_date", sa.Date(), nullable=True),
        sa.Column("last_contact_date", UTCDateTime(), nullable=True),
        sa.Column("assigned_sales_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("assigned_service_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "tags", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("remarks", sa.Text(), nullable=True),
        sa.Column("province", sa.String(length=20), nullable=True),
        sa.Column("city", sa.String(length=20), nullable=True),
        sa.Column(
            "region",
            sa.Enum(
                "华东",
                "华南",
                "华北",
                "华中",
                "西南",
                "西北",
                "东北",
                name="customer_region",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column("region_locked", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("updated_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
        sa.Column("deleted_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("search_tokens", TokenList(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["assigned_sales_id"], ["users.id"], name=op.f("fk_customers_assigned_sales_id_users")),
        sa.ForeignKeyConstraint(
            ["assigned_service_id"], ["users.id"], name=op.f("fk_customers_assigned_service_id_users")
        ),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_customers_created_by_users")),
        sa.ForeignKeyConstraint(["deleted_by"], ["users.id"], name=op.f("fk_customers_deleted_by_users")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_customers_tenant_id_tenants")),
        sa.ForeignKeyConstraint(["updated_by"], ["users.id"], name=op.f("fk_customers_updated_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("tenant_id", "customer_code", name=op.f("uq_customers_tenant_id_customer_code")),
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index("ix_customers_acquisition_date", ["acquisition_date"], unique=False)
        batch_op.create_index("ix_customers_assigned_sales_id", ["assigned_sales_id"], unique=False)
        batch_op.create_index("ix_customers_assigned_service_id", ["assigned_service_id"], unique=False)
        batch_op.create_index("ix_customers_tenant_level", ["tenant_id", "customer_level"], unique=False)
        batch_op.create_index("ix_customers_tenant_region", ["tenant_id", "region"], unique=False)
        batch_op.create_index("ix_customers_tenant_status", ["tenant_id", "customer_status"], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        # Keyword search (crm.kit.search) and tag filters are answered from GIN indexes.
        op.create_index(
            "ix_customers_search_tokens",
            "customers",
            ["search_tokens"],
            postgresql_using="gin",
            postgresql_where=sa.text("deleted_at IS NULL"),
            # Without the pending list, searches cost the same right after writes as after
            # a vacuum; customer writes are rare next to searches.
            postgresql_with={"fastupdate": "off"},
        )
        op.create_index("ix_customers_tags", "customers", ["tags"], postgresql_using="gin")

    op.create_table(
        "customer_addresses",
        sa.Column("tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "address_type",
            sa.Enum(
                "billing", "shipping", "office", "home", name="address_type", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("province", sa.String(length=20), nullable=False),
        sa.Column("city", sa.String(length=20), nullable=False),
        sa.Column("district", sa.String(length=20), nullable=True),
        sa.Column("detailed_address", sa.String(length=200), nullable=False),
        sa.Column("postal_code", sa.String(length=10), nullable=True),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("contact_name", sa.String(length=50), nullable=True),
        sa.Column("contact_phone", sa.String(length=15), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_customer_addresses_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_customer_addresses_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_addresses")),
    )
    with op.batch_alter_table("customer_addresses", schema=None) as batch_op:
        batch_op.create_index("ix_customer_addresses_address_type", ["address_type"], unique=False)
        batch_op.create_index("ix_customer_addresses_customer_id", ["customer_id"], unique=False)
        batch_op.create_index(
            "uq_customer_addresses_default",
            ["customer_id", "address_type"],
            unique=True,
            postgresql_where=sa.text("is_default"),
            sqlite_where=sa.text("is_default"),
        )

    op.create_table(
        "customer_assignment_history",
        sa.Column("tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("old_sales_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("new_sales_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("changed_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["changed_by"], ["users.id"], name=op.f("fk_customer_assignment_history_changed_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_customer_assignment_history_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["new_sales_id"], ["users.id"], name=op.f("fk_customer_assignment_history_new_sales_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["old_sales_id"], ["users.id"], name=op.f("fk_customer_assignment_history_old_sales_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_customer_assignment_history_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_assignment_history")),
    )
    with op.batch_alter_table("customer_assignment_history", schema=None) as batch_op:
        batch_op.create_index("ix_customer_assignment_history_customer", ["customer_id", "changed_at"], unique=False)

    op.create_table(
        "customer_contacts",
        sa.Column("tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("contact_name", sa.String(length=50), nullable=False),
        sa.Column("contact_title", sa.String(length=50), nullable=True),
        sa.Column("contact_phone", sa.String(length=15), nullable=True),
        sa.Column("contact_email", sa.String(length=100), nullable=True),
        sa.Column("contact_wechat", sa.String(length=50), nullable=True),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column("is_decision_maker", sa.Boolean(), nullable=False),
        sa.Column(
            "contact_status",
            sa.Enum("active", "inactive", name="contact_status", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("birthday", sa.Date(), nullable=True),
        sa.Column(
            "preferences", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column("remarks", sa.Text(), nullable=True),
        sa.Column("created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("updated_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_customer_contacts_created_by_users")),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_customer_contacts_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_customer_contacts_tenant_id_tenants")),
        sa.ForeignKeyConstraint(["updated_by"], ["users.id"], name=op.f("fk_customer_contacts_updated_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_contacts")),
    )
    with op.batch_alter_table("customer_contacts", schema=None) as batch_op:
        batch_op.create_index("ix_customer_contacts_contact_email", ["contact_email"], unique=False)
        batch_op.create_index("ix_customer_contacts_contact_phone", ["contact_phone"], unique=False)
        batch_op.create_index("ix_customer_contacts_customer_id", ["customer_id"], unique=False)
        batch_op.create_index(
            "uq_customer_contacts_primary",
            ["customer_id"],
            unique=True,
            postgresql_where=sa.text("is_primary AND deleted_at IS NULL"),
            sqlite_where=sa.text("is_primary AND deleted_at IS NULL"),
        )

    op.create_table(
        "customer_level_history",
        sa.Column("tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "old_level",
            sa.Enum("A", "B", "C", "D", name="old_level", native_enum=False, create_constraint=True),
            nullable=True,
        ),
        sa.Column(
            "new_level",
            sa.Enum("A", "B", "C", "D", name="new_level", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("changed_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(["changed_by"], ["users.id"], name=op.f("fk_customer_level_history_changed_by_users")),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_customer_level_history_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_customer_level_history_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_level_history")),
    )
    with op.batch_alter_table("customer_level_history", schema=None) as batch_op:
        batch_op.create_index("ix_customer_level_history_customer", ["customer_id", "changed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("customer_level_history", schema=None) as batch_op:
        batch_op.drop_index("ix_customer_level_history_customer")

    op.drop_table("customer_level_history")
    with op.batch_alter_table("customer_contacts", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_customer_contacts_primary",
            postgresql_where=sa.text("is_primary AND deleted_at IS NULL"),
            sqlite_where=sa.text("is_primary AND deleted_at IS NULL"),
        )
        batch_op.drop_index("ix_customer_contacts_customer_id")
        batch_op.drop_index("ix_customer_contacts_contact_phone")
        batch_op.drop_index("ix_customer_contacts_contact_email")

    op.drop_table("customer_contacts")
    with op.batch_alter_table("customer_assignment_history", schema=None) as batch_op:
        batch_op.drop_index("ix_customer_assignment_history_customer")

    op.drop_table("customer_assignment_history")
    with op.batch_alter_table("customer_addresses", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_customer_addresses_default", postgresql_where=sa.text("is_default"), sqlite_where=sa.text("is_default")
        )
        batch_op.drop_index("ix_customer_addresses_customer_id")
        batch_op.drop_index("ix_customer_addresses_address_type")

    op.drop_table("customer_addresses")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index("ix_customers_tenant_status")
        batch_op.drop_index("ix_customers_tenant_region")
        batch_op.drop_index("ix_customers_tenant_level")
        batch_op.drop_index("ix_customers_assigned_service_id")
        batch_op.drop_index("ix_customers_assigned_sales_id")
        batch_op.drop_index("ix_customers_acquisition_date")

    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_customers_tags", "customers")
        op.drop_index("ix_customers_search_tokens", "customers")
    op.drop_table("customers")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_tenant_id"))

    op.drop_table("users")
    op.drop_table("region_mappings")
    op.drop_table("code_sequences")
    op.drop_table("tenants")
