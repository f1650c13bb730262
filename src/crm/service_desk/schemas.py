from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from crm.kit.pagination import PagedQuery
from crm.kit.regions import Region
from crm.kit.validation import MAX_ID, LocalDateTime, not_null, reject_unstorable_text
from crm.models.enums import Role
from crm.models.service_desk import Priority, ServiceType, TicketStatus
from crm.service_desk.sla import SlaState
from crm.service_desk.surveys import SurveyStatus

Subject = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30)]
Version = Annotated[int, Field(ge=1, le=2**31 - 1, description="The version you read; a stale one answers 409")]


class TicketSurvey(BaseModel):
    status: SurveyStatus = Field(description="pending, answered or expired (or replaced by a newer one)")
    expires_at: datetime
    answered_at: datetime | None
    url: str = Field(description="The one-time link to send to the customer (no sign-in needed)")


class ServiceRecord(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    customer_id: int
    customer_code: str | None = None
    customer_name: str | None = Field(default=None, description="Shown to whoever works the ticket")
    contact_id: int | None
    service_type: ServiceType
    priority: Priority
    status: TicketStatus
    subject: str
    description: str
    resolution: str | None
    assigned_staff_id: int | None
    assigned_staff_name: str | None = None
    created_date: datetime
    first_response_date: datetime | None
    resolved_date: datetime | None
    closed_date: datetime | None
    cancelled_date: datetime | None
    satisfaction_rating: int | None
    satisfaction_feedback: str | None
    escalated: bool
    escalation_reason: str | None
    tags: list[str]
    reopened_count: int
    first_response_due: datetime | None
    resolution_due: datetime | None
    first_response_sla: SlaState | None = Field(default=None, description="ok, at_risk, breached, or met")
    resolution_sla: SlaState | None = None
    first_response_seconds: int | None
    resolution_seconds: int | None
    survey: TicketSurvey | None = Field(default=None, description="The latest satisfaction survey, once resolved")
    version: int
    created_at: datetime
    updated_at: datetime


class _Write(BaseModel):
    model_config = ConfigDict(extra="forbid")
    _storable = field_validator("*", mode="before")(reject_unstorable_text)


class ServiceRecordCreate(_Write):
    customer_id: int = Field(ge=1, le=MAX_ID)
    contact_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="A contact of the same customer")
    service_type: ServiceType
    priority: Priority = Priority.MEDIUM
    subject: Subject
    description: Description
    tags: Annotated[list[Tag], Field(max_length=20)] = Field(default_factory=list)
    assigned_staff_id: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="Service managers and admins may assign at once"
    )


class ServiceRecordUpdate(_Write):
    version: Version
    contact_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    service_type: Annotated[ServiceType | None, AfterValidator(not_null)] = None
    priority: Annotated[Priority | None, AfterValidator(not_null)] = None
    subject: Annotated[Subject | None, AfterValidator(not_null)] = None
    description: Annotated[Description | None, AfterValidator(not_null)] = None
    tags: Annotated[list[Tag] | None, AfterValidator(not_null), Field(max_length=20)] = None


class Assign(_Write):
    version: Version
    assigned_staff_id: int = Field(ge=1, le=MAX_ID)


class Resolve(_Write):
    version: Version
    resolution: Description


class Transition(_Write):
    """start, close, reopen or cancel; reopening and cancelling say why."""

    version: Version
    reason: Reason | None = None


class Escalate(_Write):
    version: Version
    reason: Reason


class ServiceRecordFilters(PagedQuery):
    status: list[TicketStatus] | None = None
    priority: list[Priority] | None = None
    service_type: ServiceType | None = None
    assigned_staff_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    unassigned: bool | None = None
    customer_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    escalated: bool | None = None
    sla_state: SlaState | None = Field(default=None, description="ok, at_risk or breached (active tickets)")
    created_from: LocalDateTime | None = None
    created_to: LocalDateTime | None = None


# ---------------------------------------------------------------- satisfaction surveys (public)


class PublicSurvey(BaseModel):
    """What the customer sees on the survey page: no personal data, nothing internal."""

    status: SurveyStatus
    brand_name: str
    subject: str
    resolved_date: datetime | None
    expires_at: datetime
    rating: int | None = Field(default=None, description="The rating given, once answered")


class SurveyAnswer(_Write):
    rating: int = Field(ge=1, le=5, description="1 (very unsatisfied) to 5 (very satisfied)")
    feedback: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None


# ---------------------------------------------------------------- statistics


class StatsGroupBy(StrEnum):
    AGENT = "agent"
    TEAM = "team"
    SERVICE_TYPE = "service_type"
    PRIORITY = "priority"
    MONTH = "month"


class StatisticsFilters(BaseModel):
    created_from: LocalDateTime | None = Field(default=None, description="Tickets created from (inclusive)")
    created_to: LocalDateTime | None = Field(default=None, description="… to (exclusive)")
    group_by: StatsGroupBy | None = None
    service_type: ServiceType | None = None
    priority: Priority | None = None
    assigned_staff_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    team: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] | None = None
    region: Region | None = Field(default=None, description="Only tickets of customers in this sales region")


class DurationFigures(BaseModel):
    count: int = 0
    average_minutes: float | None = None
    p90_minutes: float | None = None


class SlaFigures(BaseModel):
    first_response_met: int = 0
    first_response_measured: int = 0
    first_response_rate: float | None = Field(default=None, description="met / measured, 0–1")
    resolution_met: int = 0
    resolution_measured: int = 0
    resolution_rate: float | None = None


class SatisfactionFigures(BaseModel):
    count: int = 0
    average: float | None = None
    distribution: dict[str, int] = Field(
        default_factory=lambda: {str(r): 0 for r in range(1, 6)}, description="Tickets per rating, 1–5"
    )


class TicketFigures(BaseModel):
    tickets: int = 0
    active: int = 0
    resolved: int = 0
    escalated: int = 0
    complaints: int = 0
    first_response: DurationFigures = Field(default_factory=DurationFigures)
    resolution: DurationFigures = Field(default_factory=DurationFigures)
    sla: SlaFigures = Field(default_factory=SlaFigures)
    satisfaction: SatisfactionFigures = Field(default_factory=SatisfactionFigures)


class StatisticsGroup(TicketFigures):
    key: str = Field(description="The agent's id, team, type, priority or YYYY-MM; `none` for no value")
    label: str


class ServiceStatistics(BaseModel):
    group_by: StatsGroupBy | None
    created_from: datetime | None
    created_to: datetime | None
    overall: TicketFigures
    groups: list[StatisticsGroup]


# ---------------------------------------------------------------- who tickets can go to


class ServiceStaff(BaseModel):
    """A service agent or manager with their open work, for the assignee picker."""

    id: int
    display_name: str
    role: Role
    region: Region | None
    team: str | None
    open_tickets: int
    load: int = Field(description="Priority-weighted open work")
    capacity: int
