from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm.kit.db import Base, IdMixin, TimestampMixin
from crm.kit.regions import Region
from crm.kit.types import BigIntId, JSONType, UTCDateTime
from crm.models.enums import Role, db_enum


class Tenant(IdMixin, TimestampMixin, Base):
    __tablename__ = "tenants"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The tenant's own rules (crm.tenants.schemas.TenantSettings); {} means the defaults.
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, server_default="{}")


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"
    # Unique within the tenant: two companies may both have a zhang.wei. A login names the
    # tenant when the name alone is ambiguous.
    __table_args__ = (UniqueConstraint("tenant_id", "username"),)

    tenant_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("tenants.id"), index=True)
    username: Mapped[str] = mapped_column(String(64), index=True)  # a login without a tenant code
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(db_enum(Role, "user_role"))
    region: Mapped[Region | None] = mapped_column(db_enum(Region, "user_region"), nullable=True)
    team: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Regions a user also covers beyond their own (a manager standing in for a colleague).
    extra_regions: Mapped[list[str]] = mapped_column(JSONType, default=list, server_default="[]")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # How much open ticket work (priority-weighted) a service agent takes on before automatic
    # assignment passes them over; None means the tenant's default (settings.assignment.max_load).
    service_capacity: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Raised when the password, the role or the account's state changes. Tokens carry the value
    # they were issued under, so older ones stop working at once, on every worker.
    token_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class RegionMapping(IdMixin, Base):
    """Per-tenant province → sales region; seeded from the national default."""

    __tablename__ = "region_mappings"
    __table_args__ = (UniqueConstraint("tenant_id", "province"),)

    tenant_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("tenants.id"))
    province: Mapped[str] = mapped_column(String(20))
    region: Mapped[Region] = mapped_column(db_enum(Region, "mapping_region"))


class CodeSequence(Base):
    """Per-tenant counters for generated business codes (customer_code, …)."""

    __tablename__ = "code_sequences"

    tenant_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("tenants.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_value: Mapped[int] = mapped_column(BigIntId, default=0)
