"""Request and response shapes of customers, contacts and addresses.

Write schemas forbid unknown fields and never carry server-owned fields (id, tenant_id,
created_by, …). Updates apply only the fields that were sent; ``version`` is the
optimistic-locking precondition, not a value the client can set.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from crm.kit.clock import business_today
from crm.kit.pagination import PagedQuery
from crm.kit.phones import normalise_phone
from crm.kit.regions import Region, normalise_province
from crm.kit.validation import MAX_ID, BoundedDate, reject_unstorable_text
from crm.models.enums import (
    AddressType,
    CompanySize,
    ContactStatus,
    CreditRating,
    CustomerLevel,
    CustomerStatus,
    CustomerType,
)

# ---------------------------------------------------------------- field types


def _phone(value: str | None) -> str | None:
    if value is None:
        return None
    normalised = normalise_phone(value)
    if normalised is None:
        raise PydanticCustomError("phone_invalid", "Not a valid mainland China mobile or landline number")
    return normalised


def _province(value: str | None) -> str | None:
    if value is None:
        return None
    normalised = normalise_province(value)
    if normalised is None:
        raise PydanticCustomError("province_unknown", "Unknown province: {value}", {"value": value})
    return normalised


def _not_null(value: Any) -> Any:
    if value is None:
        raise PydanticCustomError("missing", "This field cannot be cleared")
    return value


def _lower(value: str | None) -> str | None:
    return value.lower() if value else value


def _dedupe(tags: list[str] | None) -> list[str] | None:
    return list(dict.fromkeys(tags)) if tags is not None else None


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


Text = Annotated[str, StringConstraints(strip_whitespace=True)]
Name100 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Name50 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
Short20 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
Optional50 = Annotated[
    Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] | None, BeforeValidator(_blank_to_none)
]
Optional20 = Annotated[
    Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)] | None, BeforeValidator(_blank_to_none)
]
Remarks = Annotated[str, StringConstraints(max_length=2000)] | None
Phone = Annotated[
    Annotated[str, StringConstraints(max_length=40)] | None,
    BeforeValidator(_blank_to_none),
    AfterValidator(_phone),
    Field(description="Mainland China mobile or landline; stored normalised (13812345678, 010-12345678)"),
]
Email = Annotated[EmailStr | None, BeforeValidator(_blank_to_none), AfterValidator(_lower)]
Province = Annotated[
    Annotated[str, StringConstraints(max_length=20)] | None,
    BeforeValidator(_blank_to_none),
    AfterValidator(_province),
    Field(description="Provincial-level division; 广东 and 广东省 both become 广东省"),
]
PostalCode = Annotated[Annotated[str, StringConstraints(pattern=r"^\d{6}$")] | None, BeforeValidator(_blank_to_none)]
DetailedAddress = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30)]
Tags = Annotated[list[Tag], Field(max_length=30), AfterValidator(_dedupe)]
Money = Annotated[Decimal, Field(ge=0, max_digits=15, decimal_places=2)]
CustomerCode = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")
]
Version = Annotated[int, Field(ge=1, le=2**31 - 1, description="The version you read; a stale one answers 409")]


class WriteModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    _storable = field_validator("*", mode="before")(reject_unstorable_text)


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _birthday_not_future(value: date | None) -> date | None:
    if value is not None and value > business_today():
        raise PydanticCustomError("value_error", "birthday is in the future", {"error": "birthday is in the future"})
    return value


Birthday = Annotated[BoundedDate | None, AfterValidator(_birthday_not_future)]

# ---------------------------------------------------------------- contacts


class ContactCreate(WriteModel):
    contact_name: Name50
    contact_title: Optional50 = None
    contact_phone: Phone = None
    contact_email: Email = None
    contact_wechat: Optional50 = None
    is_primary: bool = False
    is_decision_maker: bool = False
    contact_status: ContactStatus = ContactStatus.ACTIVE
    birthday: Birthday = None
    preferences: dict[str, Any] | None = None
    remarks: Remarks = None

    @field_validator("contact_email")
    @classmethod
    def _email_fits(cls, value: str | None) -> str | None:
        if value is not None and len(value) > 100:
            raise PydanticCustomError("string_too_long", "At most 100 characters", {"max_length": 100})
        return value


class ContactUpdate(WriteModel):
    version: Version
    contact_name: Annotated[Name50 | None, AfterValidator(_not_null)] = None
    contact_title: Optional50 = None
    contact_phone: Phone = None
    contact_email: Email = None
    contact_wechat: Optional50 = None
    is_primary: Annotated[bool | None, AfterValidator(_not_null)] = None
    is_decision_maker: Annotated[bool | None, AfterValidator(_not_null)] = None
    contact_status: Annotated[ContactStatus | None, AfterValidator(_not_null)] = None
    birthday: Birthday = None
    preferences: dict[str, Any] | None = None
    remarks: Remarks = None


class Contact(ReadModel):
    id: int
    customer_id: int
    contact_name: str
    contact_title: str | None
    contact_phone: str | None
    contact_email: str | None
    contact_wechat: str | None
    is_primary: bool
    is_decision_maker: bool
    contact_status: ContactStatus
    birthday: Annotated[str | None, BeforeValidator(lambda v: v.isoformat() if isinstance(v, date) else v)] = Field(
        description="YYYY-MM-DD; shown masked as ****-MM-DD (reveal for the year)"
    )
    preferences: dict[str, Any] | None
    remarks: str | None
    version: int
    created_at: datetime
    updated_at: datetime


# ---------------------------------------------------------------- addresses


class AddressCreate(WriteModel):
    address_type: AddressType
    province: Annotated[Province, AfterValidator(_not_null)]
    city: Short20
    district: Optional20 = None
    detailed_address: DetailedAddress
    postal_code: PostalCode = None
    is_default: bool = False
    contact_name: Optional50 = None
    contact_phone: Phone = None


class AddressUpdate(WriteModel):
    version: Version
    address_type: Annotated[AddressType | None, AfterValidator(_not_null)] = None
    province: Annotated[Province, AfterValidator(_not_null)] = None
    city: Annotated[Short20 | None, AfterValidator(_not_null)] = None
    district: Optional20 = None
    detailed_address: Annotated[DetailedAddress | None, AfterValidator(_not_null)] = None
    postal_code: PostalCode = None
    is_default: Annotated[bool | None, AfterValidator(_not_null)] = None
    contact_name: Optional50 = None
    contact_phone: Phone = None


class Address(ReadModel):
    id: int
    customer_id: int
    address_type: AddressType
    province: str
    city: str
    district: str | None
    detailed_address: str
    postal_code: str | None
    is_default: bool
    contact_name: str | None
    contact_phone: str | None
    version: int
    created_at: datetime
    updated_at: datetime


# ---------------------------------------------------------------- customers


class CustomerCreate(WriteModel):
    customer_code: CustomerCode | None = Field(default=None, description="Generated (C00000001…) when omitted")
    customer_name: Name100
    customer_type: CustomerType
    customer_level: CustomerLevel = CustomerLevel.D
    customer_status: CustomerStatus = CustomerStatus.ACTIVE
    industry: Optional50 = None
    company_size: CompanySize | None = None
    annual_revenue: Money | None = None
    credit_rating: CreditRating | None = None
    source: Optional50 = None
    acquisition_date: BoundedDate | None = None
    assigned_sales_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    assigned_service_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    referred_by: int | None = Field(default=None, ge=1, le=MAX_ID, description="The customer who referred this one")
    tags: Tags = Field(default_factory=list)
    remarks: Remarks = None
    province: Province = None
    city: Optional20 = None
    region: Region | None = Field(default=None, description="Derived from the province when omitted")
    contacts: list[ContactCreate] = Field(default_factory=list, max_length=20)
    addresses: list[AddressCreate] = Field(default_factory=list, max_length=20)


class CustomerUpdate(WriteModel):
    version: Version
    customer_name: Annotated[Name100 | None, AfterValidator(_not_null)] = None
    customer_type: Annotated[CustomerType | None, AfterValidator(_not_null)] = None
    customer_status: Annotated[CustomerStatus | None, AfterValidator(_not_null)] = None
    industry: Optional50 = None
    company_size: CompanySize | None = None
    annual_revenue: Money | None = None
    credit_rating: CreditRating | None = None
    source: Optional50 = None
    acquisition_date: BoundedDate | None = None
    assigned_service_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    referred_by: int | None = Field(default=None, ge=1, le=MAX_ID, description="The customer who referred this one")
    tags: Annotated[Tags | None, AfterValidator(_not_null)] = None
    remarks: Remarks = None
    province: Province = None
    city: Optional20 = None
    region: Region | None = Field(default=None, description="null re-derives the region from the province")


class Customer(ReadModel):
    id: int
    customer_code: str
    customer_name: str
    customer_type: CustomerType
    customer_level: CustomerLevel
    customer_status: CustomerStatus
    industry: str | None
    company_size: CompanySize | None
    annual_revenue: Decimal | None
    credit_rating: CreditRating | None
    source: str | None
    acquisition_date: date | None
    last_contact_date: datetime | None
    assigned_sales_id: int | None
    assigned_service_id: int | None
    referred_by: int | None
    tags: list[str]
    remarks: str | None
    province: str | None
    city: str | None
    region: Region | None
    created_by: int
    updated_by: int | None
    created_at: datetime
    updated_at: datetime
    version: int


class CustomerDetail(Customer):
    contacts: list[Contact]
    addresses: list[Address]
    lifecycle_stage: str | None = Field(
        default=None, description="prospect, new, active, at_risk, churned or won_back (latest analysis)"
    )
    churn_risk: str | None = Field(default=None, description="high, medium or low by the rules; null: none")
    churn_probability: Decimal | None = Field(default=None, description="From the churn model, once trained")
    payment_terms_days: int | None = Field(default=None, description="Days to pay the credit rating earns (finance)")
    payment_terms: str | None = Field(default=None, description="e.g. 月结 30 天 or 款到发货 (finance)")


class LevelChange(WriteModel):
    level: CustomerLevel
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    version: Version | None = None


class LevelRelease(WriteModel):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class SalesAssignment(WriteModel):
    assigned_sales_id: int = Field(ge=1, le=MAX_ID)
    version: Version | None = None


class LevelHistoryEntry(ReadModel):
    id: int
    customer_id: int
    old_level: CustomerLevel | None
    new_level: CustomerLevel
    reason: str
    source: str
    changed_by: int | None
    changed_by_name: str | None
    changed_at: datetime


SortField = Literal[
    "created_at",
    "-created_at",
    "updated_at",
    "-updated_at",
    "customer_name",
    "-customer_name",
    "customer_code",
    "-customer_code",
    "customer_level",
    "-customer_level",
    "acquisition_date",
    "-acquisition_date",
    "last_contact_date",
    "-last_contact_date",
    "annual_revenue",
    "-annual_revenue",
    "relevance",
]


class CustomerFilters(PagedQuery):
    """Filters shared by the customer list and search."""

    _storable = field_validator("*", mode="before")(reject_unstorable_text)

    keyword: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = Field(
        default=None, description="Name, code, contact name, phone (or its last 4 digits), e-mail"
    )
    level: list[CustomerLevel] | None = None
    status: list[CustomerStatus] | None = None
    type: CustomerType | None = None
    industry: Annotated[str, StringConstraints(max_length=50)] | None = None
    source: Annotated[str, StringConstraints(max_length=50)] | None = None
    tag: Annotated[str, StringConstraints(max_length=30)] | None = None
    province: Annotated[str, StringConstraints(max_length=20)] | None = None
    region: Region | None = None
    assigned_sales_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    acquired_from: BoundedDate | None = Field(default=None, description="Acquisition date, inclusive")
    acquired_to: BoundedDate | None = Field(default=None, description="Acquisition date, inclusive")
    credit_rating: list[CreditRating] | None = Field(default=None, description="Finance permission")
    annual_revenue_min: Money | None = Field(default=None, description="Inclusive; finance permission")
    annual_revenue_max: Money | None = Field(default=None, description="Inclusive; finance permission")
    sort: SortField | None = Field(
        default=None,
        description="Field, `-` for descending; default relevance with a keyword, else -created_at. "
        "annual_revenue needs the finance permission",
    )

    @field_validator("acquired_to")
    @classmethod
    def _range_in_order(cls, value: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("acquired_from")
        if value is not None and start is not None and start > value:
            raise PydanticCustomError("date_range", "The start date must not be after the end date")
        return value


class ContactReveal(WriteModel):
    field: Literal["contact_phone", "contact_email", "contact_wechat", "birthday"]


class AddressReveal(WriteModel):
    field: Literal["detailed_address", "contact_phone"]


class Revealed(BaseModel):
    """One personal value in clear; asking for it is recorded in the audit trail."""

    field: str
    value: str | None
