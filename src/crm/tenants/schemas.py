from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from crm.config import settings
from crm.kit.validation import not_null, reject_unstorable_text

BrandName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class MaskingRules(BaseModel):
    """Which personal fields are shown masked (true) to everyone who reads the customer.

    Masked values can still be revealed one at a time by roles with `pii.unmask`, audited.
    Unmasking a field shows it in clear in every response and export of the tenant.
    """

    model_config = ConfigDict(extra="forbid")

    contact_phone: bool = True
    contact_email: bool = True
    contact_wechat: bool = True
    birthday: bool = True
    detailed_address: bool = True


class TenantSettings(BaseModel):
    """The tenant's own rules; anything not set falls back to the installation's defaults."""

    model_config = ConfigDict(extra="ignore")

    brand_name: BrandName | None = Field(default=None, description="Shown in the UI instead of the tenant name")
    masking: MaskingRules = Field(default_factory=MaskingRules)
    export_approval_threshold: int = Field(
        default_factory=lambda: settings.export_approval_threshold,
        ge=1,
        le=10_000_000,
        description="Exports of more rows than this by sales, service and marketing roles need approval",
    )
    export_daily_limit: int = Field(
        default_factory=lambda: settings.export_daily_limit, ge=1, le=10_000, description="Exports per user per day"
    )


class TenantSettingsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    _storable = field_validator("*", mode="before")(reject_unstorable_text)

    brand_name: BrandName | None = Field(default=None, description="null clears it")
    masking: Annotated[MaskingRules | None, AfterValidator(not_null)] = None
    export_approval_threshold: Annotated[int | None, AfterValidator(not_null), Field(ge=1, le=10_000_000)] = None
    export_daily_limit: Annotated[int | None, AfterValidator(not_null), Field(ge=1, le=10_000)] = None


class TenantSettingsOut(TenantSettings):
    tenant_code: str
    tenant_name: str
