"""Enumerations of the seed's ENUM columns, stored as their values."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import Enum


class CustomerType(StrEnum):
    INDIVIDUAL = "individual"
    ENTERPRISE = "enterprise"


class CustomerLevel(StrEnum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"


class CustomerStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    BLACKLIST = "blacklist"


class CompanySize(StrEnum):
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


class CreditRating(StrEnum):
    AAA = "AAA"
    AA = "AA"
    A = "A"
    BBB = "BBB"
    BB = "BB"
    B = "B"
    C = "C"


class ContactStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


class AddressType(StrEnum):
    BILLING = "billing"
    SHIPPING = "shipping"
    OFFICE = "office"
    HOME = "home"


class Role(StrEnum):
    ADMIN = "admin"
    SALES_MANAGER = "sales_manager"
    SALES = "sales"
    SERVICE_MANAGER = "service_manager"
    SERVICE_AGENT = "service_agent"
    MARKETER = "marketer"
    ANALYST = "analyst"
    FINANCE = "finance"


def db_enum(enum: type[StrEnum], name: str) -> Enum:
    """A VARCHAR with a CHECK constraint on both databases, storing the enum's values."""
    kwargs: dict[str, Any] = {
        "name": name,
        "native_enum": False,
        "create_constraint": True,
        "length": max(len(m.value) for m in enum),
        "values_callable": lambda e: [m.value for m in e],
        "validate_strings": True,
    }
    return Enum(enum, **kwargs)
