"""The customer aggregate: profile (§3.1), contacts (§3.2), addresses (§3.3) and their history."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from crm.kit.crypto import EncryptedDate, EncryptedText, email_index, phone_index
from crm.kit.db import Base, IdMixin, TimestampMixin, utcnow
from crm.kit.regions import Region
from crm.kit.types import BigIntId, JSONType, Money, TokenList, UTCDateTime
from crm.models.enums import (
    AddressType,
    CompanySize,
    ContactStatus,
    CreditRating,
    CustomerLevel,
    CustomerStatus,
    CustomerType,
    db_enum,
)


class Customer(IdMixin, TimestampMixin, Base):
    __tablename__ = "customers"
    __table_args__ = (
        UniqueConstraint("tenant_id", "customer_code"),
        Index("ix_customers_tenant_level", "tenant_id", "customer_level"),
        Index("ix_customers_assigned_sales_id", "assigned_sales_id"),
        Index("ix_customers_assigned_service_id", "assigned_service_id"),
        Index("ix_customers_acquisition_date", "acquisition_date"),
        Index("ix_customers_tenant_region", "tenant_id", "region"),
        Index("ix_customers_tenant_status", "tenant_id", "customer_status"),
        Index("ix_customers_referred_by", "referred_by", postgresql_where=text("referred_by IS NOT NULL")),
        # What whole-book figures read of every live customer (the dashboard's levels, regions and
        # months; the visibility check of warnings and tickets): answered by index-only scans
        # of this narrow index instead of passes over the wide customer rows.
        Index(
            "ix_customers_live_book",
            "tenant_id",
            "id",
            "customer_level",
            "region",
            "assigned_sales_id",
            "assigned_service_id",
            "acquisition_date",
            "created_at",
            postgresql_where=text("deleted_at IS NULL"),
            sqlite_where=text("deleted_at IS NULL"),
        ),
        # The few deleted customers: tenant-wide figures over warnings and tickets leave their rows
        # out by an anti-join against this (see crm.customers.scope.customer_is_live).
        Index(
            "ix_customers_deleted",
            "tenant_id",
            "id",
            postgresql_where=text("deleted_at IS NOT NULL"),
            sqlite_where=text("deleted_at IS NOT NULL"),
        ),
    )

    tenant_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("tenants.id"))
    customer_code: Mapped[str] = mapped_column(String(32))
    customer_name: Mapped[str] = mapped_column(String(100))
    customer_type: Mapped[CustomerType] = mapped_column(db_enum(CustomerType, "customer_type"))
    customer_level: Mapped[CustomerLevel] = mapped_column(
        db_enum(CustomerLevel, "customer_level"), default=CustomerLevel.D
    )
    customer_status: Mapped[CustomerStatus] = mapped_column(
        db_enum(CustomerStatus, "customer_status"), default=CustomerStatus.ACTIVE
    )
    industry: Mapped[str | None] = mapped_column(String(50))
    company_size: Mapped[CompanySize | None] = mapped_column(db_enum(CompanySize, "company_size"))
    annual_revenue: Mapped[Decimal | None] = mapped_column(Money)
    credit_rating: Mapped[CreditRating | None] = mapped_column(db_enum(CreditRating, "credit_rating"))
    source: Mapped[str | None] = mapped_column(String(50))
    acquisition_date: Mapped[date | None] = mapped_column(Date)
    last_contact_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assigned_sales_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("users.id"))
    assigned_service_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("users.id"))
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    remarks: Mapped[str | None] = mapped_column(Text)
    province: Mapped[str | None] = mapped_column(String(20))
    city: Mapped[str | None] = mapped_column(String(20))
    region: Mapped[Region | None] = mapped_column(db_enum(Region, "customer_region"))
    # The customer who recommended this one (转介绍): value analysis counts referrals.
    referred_by: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("customers.id"))
    # The region was set by a person rather than derived from the province.
    region_locked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_by: Mapped[int] = mapped_column(BigIntId, ForeignKey("users.id"))
    updated_by: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_by: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("users.id"))
    # A legal hold (litigation, tax audit) keeps the data: erasure requests are refused while set.
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    legal_hold_reason: Mapped[str | None] = mapped_column(String(200))
    # Set when the person's data was erased on request; the row stays for aggregates.
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    contacts: Mapped[list[CustomerContact]] = relationship(
        primaryjoin=lambda: and_(Customer.id == CustomerContact.customer_id, CustomerContact.deleted_at.is_(None)),
        order_by=lambda: (CustomerContact.is_primary.desc(), CustomerContact.id),
        viewonly=True,
        lazy="raise",
    )
    addresses: Mapped[list[CustomerAddress]] = relationship(
        order_by=lambda: (CustomerAddress.address_type, CustomerAddress.is_default.desc(), CustomerAddress.id),
        viewonly=True,
        lazy="raise",
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - read once by the declarative mapper


class CustomerSearch(Base):
    """A customer's search data over its profile and live contacts (see crm.kit.search), kept
    in a row of its own: written by the service when the name or the contacts change, read
    only inside SQL.

    On the customer's row, other updates of a customer (the nightly regrade of its level, its
    last contact date) wrote the ~50 tokens into their GIN index again: an update that changes
    an indexed column, or finds no room on the row's page, writes a new entry in every index of
    the row. That was four fifths of the regrade's time.
    """

    __tablename__ = "customer_search"

    customer_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    search_tokens: Mapped[list[str]] = mapped_column(TokenList, default=list)
    search_text: Mapped[str] = mapped_column(Text, default="")


class CustomerContact(IdMixin, TimestampMixin, Base):
    __tablename__ = "customer_contacts"
    __table_args__ = (
        Index("ix_customer_contacts_customer_id", "customer_id"),
        # Exact lookup and duplicate detection by phone or e-mail go through blind indexes.
        Index("ix_customer_contacts_phone_index", "tenant_id", "phone_index"),
        Index("ix_customer_contacts_email_index", "tenant_id", "email_index"),
        # At most one primary contact per customer, also under concurrent writers.
        Index(
            "uq_customer_contacts_primary",
            "customer_id",
            unique=True,
            postgresql_where=text("is_primary AND deleted_at IS NULL"),
            sqlite_where=text("is_primary AND deleted_at IS NULL"),
        ),
    )

    tenant_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("tenants.id"))
    customer_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("customers.id"))
    contact_name: Mapped[str] = mapped_column(String(50))
    contact_title: Mapped[str | None] = mapped_column(String(50))
    # Personal data is stored encrypted (crm.kit.crypto); never compare these columns in SQL.
    contact_phone: Mapped[str | None] = mapped_column(EncryptedText("customer_contacts.contact_phone"))
    contact_email: Mapped[str | None] = mapped_column(EncryptedText("customer_contacts.contact_email"))
    contact_wechat: Mapped[str | None] = mapped_column(EncryptedText("customer_contacts.contact_wechat"))
    phone_index: Mapped[str | None] = mapped_column(String(32))
    email_index: Mapped[str | None] = mapped_column(String(32))
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    is_decision_maker: Mapped[bool] = mapped_column(Boolean, default=False)
    contact_status: Mapped[ContactStatus] = mapped_column(
        db_enum(ContactStatus, "contact_status"), default=ContactStatus.ACTIVE
    )
    birthday: Mapped[date | None] = mapped_column(EncryptedDate("customer_contacts.birthday"))
    preferences: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    remarks: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("users.id"))
    updated_by: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - read once by the declarative mapper

    @validates("contact_phone")
    def _index_phone(self, _key: str, value: str | None) -> str | None:
        self.phone_index = phone_index(value)
        return value

    @validates("contact_email")
    def _index_email(self, _key: str, value: str | None) -> str | None:
        self.email_index = email_index(value)
        return value


class CustomerAddress(IdMixin, TimestampMixin, Base):
    __tablename__ = "customer_addresses"
    __table_args__ = (
        Index("ix_customer_addresses_customer_id", "customer_id"),
        Index("ix_customer_addresses_address_type", "address_type"),
        # At most one default address per customer and address type.
        Index(
            "uq_customer_addresses_default",
            "customer_id",
            "address_type",
            unique=True,
            postgresql_where=text("is_default"),
            sqlite_where=text("is_default"),
        ),
    )

    tenant_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("tenants.id"))
    customer_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("customers.id"))
    address_type: Mapped[AddressType] = mapped_column(db_enum(AddressType, "address_type"))
    province: Mapped[str] = mapped_column(String(20))
    city: Mapped[str] = mapped_column(String(20))
    district: Mapped[str | None] = mapped_column(String(20))
    detailed_address: Mapped[str] = mapped_column(EncryptedText("customer_addresses.detailed_address"))
    postal_code: Mapped[str | None] = mapped_column(String(10))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    contact_name: Mapped[str | None] = mapped_column(String(50))
    contact_phone: Mapped[str | None] = mapped_column(EncryptedText("customer_addresses.contact_phone"))
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - read once by the declarative mapper


class CustomerLevelChange(IdMixin, Base):
    """Every change of a customer's level: who, when, why, and from which source."""

    __tablename__ = "customer_level_history"
    __table_args__ = (Index("ix_customer_level_history_customer", "customer_id", "changed_at"),)

    tenant_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("tenants.id"))
    customer_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("customers.id"))
    old_level: Mapped[CustomerLevel | None] = mapped_column(db_enum(CustomerLevel, "old_level"))
    new_level: Mapped[CustomerLevel] = mapped_column(db_enum(CustomerLevel, "new_level"))
    reason: Mapped[str] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(20), default="manual")
    changed_by: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CustomerAssignment(IdMixin, Base):
    """Every change of a customer's sales owner."""

    __tablename__ = "customer_assignment_history"
    __table_args__ = (Index("ix_customer_assignment_history_customer", "customer_id", "changed_at"),)

    tenant_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("tenants.id"))
    customer_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("customers.id"))
    old_sales_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("users.id"))
    new_sales_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("users.id"))
    changed_by: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
