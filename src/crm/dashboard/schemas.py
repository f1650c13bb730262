from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field, model_validator
from pydantic_core import PydanticCustomError

from crm.kit.regions import Region
from crm.kit.validation import BoundedDate
from crm.models.enums import CustomerLevel


class DashboardFilters(BaseModel):
    region: Region | None = Field(default=None, description="Only customers of this region")
    acquired_from: BoundedDate | None = Field(
        default=None, description="New customers acquired from (business date, inclusive)"
    )
    acquired_to: BoundedDate | None = Field(default=None, description="… to (inclusive)")

    @model_validator(mode="after")
    def _a_period_runs_forward(self) -> DashboardFilters:
        if self.acquired_from and self.acquired_to and self.acquired_from > self.acquired_to:
            raise PydanticCustomError("value_error", "acquired_from must not be after acquired_to")
        return self


class LevelCount(BaseModel):
    level: CustomerLevel
    count: int


class RegionCount(BaseModel):
    region: Region | None = Field(description="null: customers without a region (no province)")
    count: int


class MonthCount(BaseModel):
    month: str = Field(description="YYYY-MM, a business month (Asia/Shanghai)")
    count: int


class CustomerDashboard(BaseModel):
    """The customers the caller can see: the current book by level and region, and new ones per month.

    A customer is new in the month of its acquisition date (获客日期), or of the day it was
    entered when that date is missing. The period bounds only ``new_by_month``.
    """

    region: Region | None
    acquired_from: date | None
    acquired_to: date | None
    total: int = Field(description="Customers in the book (all levels)")
    by_level: list[LevelCount] = Field(description="Every level, A to D, zeros included")
    by_region: list[RegionCount] = Field(description="Every region, zeros included; then null when some have none")
    new_total: int = Field(description="New customers in the period")
    new_by_month: list[MonthCount] = Field(description="Every month of the period (or of the data), zeros included")
