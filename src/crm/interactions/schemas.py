from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from crm.config import settings
from crm.kit.pagination import PagedQuery
from crm.kit.validation import MAX_ID, LocalDateTime, not_null, reject_unstorable_text
from crm.models import FollowUpStatus, InteractionDirection, InteractionOutcome, InteractionSource, InteractionType

Subject = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Content = Annotated[str, StringConstraints(max_length=20_000)]
NextAction = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Minutes = Annotated[int, Field(ge=0, le=24 * 60)]
Version = Annotated[int, Field(ge=1, le=2**31 - 1, description="The version you read; a stale one answers 409")]


class Attachment(BaseModel):
    id: str
    file_name: str
    content_type: str
    size_bytes: int
    uploaded_at: datetime


class Interaction(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    customer_id: int
    contact_id: int | None
    interaction_type: InteractionType
    interaction_direction: InteractionDirection
    subject: str
    content: str | None
    interaction_date: datetime
    duration_minutes: int | None
    outcome: InteractionOutcome | None
    next_action: str | None
    next_action_date: datetime | None
    follow_up_status: FollowUpStatus
    source: InteractionSource = Field(description="staff, or order (written by the order feed)")
    follow_up_done_at: datetime | None
    staff_id: int
    attachments: list[Attachment]
    version: int
    created_at: datetime
    updated_at: datetime


class InteractionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    _storable = field_validator("*", mode="before")(reject_unstorable_text)

    contact_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="A contact of the same customer")
    interaction_type: InteractionType
    interaction_direction: InteractionDirection
    subject: Subject
    content: Content | None = None
    interaction_date: LocalDateTime | None = Field(default=None, description="When it happened; default now")
    duration_minutes: Minutes | None = None
    outcome: InteractionOutcome | None = None
    next_action: NextAction | None = None
    next_action_date: LocalDateTime | None = Field(default=None, description="When to follow up; makes it pending")
    staff_id: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="Who did it (default you; managers may record for their team)"
    )


class InteractionUpdate(BaseModel):
    """Only the fields sent change. `follow_up_status: done` marks the follow-up done;
    a new `next_action_date` reschedules it."""

    model_config = ConfigDict(extra="forbid")
    _storable = field_validator("*", mode="before")(reject_unstorable_text)

    version: Version
    contact_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    interaction_type: Annotated[InteractionType | None, AfterValidator(not_null)] = None
    interaction_direction: Annotated[InteractionDirection | None, AfterValidator(not_null)] = None
    subject: Annotated[Subject | None, AfterValidator(not_null)] = None
    content: Content | None = None
    interaction_date: Annotated[LocalDateTime | None, AfterValidator(not_null)] = None
    duration_minutes: Minutes | None = None
    outcome: InteractionOutcome | None = None
    next_action: NextAction | None = None
    next_action_date: LocalDateTime | None = None
    follow_up_status: Annotated[FollowUpStatus | None, AfterValidator(not_null)] = None


class InteractionFilters(PagedQuery):
    interaction_type: InteractionType | None = None
    staff_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    since: LocalDateTime | None = None
    until: LocalDateTime | None = None


class FollowUpCustomer(BaseModel):
    id: int
    customer_code: str
    customer_name: str
    customer_level: str


class FollowUpContact(BaseModel):
    id: int
    contact_name: str
    contact_phone: str | None = Field(description="Masked as in every response")


class FollowUp(BaseModel):
    interaction_id: int
    subject: str
    next_action: str | None
    next_action_date: datetime
    staff_id: int
    version: int
    customer: FollowUpCustomer
    contact: FollowUpContact | None


class PendingFollowUps(BaseModel):
    """The caller's (a manager's: their team's) open follow-ups, by business day in the tenant's zone."""

    overdue: list[FollowUp]
    today: list[FollowUp]
    upcoming: list[FollowUp]
    truncated: bool = Field(description="More follow-ups exist than were listed in a group")


class FollowUpQuery(BaseModel):
    staff_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="Managers: one member of the team")
    days: int = Field(default=7, ge=1, le=90, description="How far ahead 'upcoming' reaches")
    limit: int = Field(default=50, ge=1, le=200, description="At most this many per group")


class Notification(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    title: str
    body: str | None
    object_type: str | None
    object_id: int | None
    customer_id: int | None
    read_at: datetime | None
    created_at: datetime


class NotificationFilters(PagedQuery):
    unread: bool | None = None


class MarkRead(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: Annotated[list[Annotated[int, Field(ge=1, le=MAX_ID)]], Field(max_length=500)] | None = Field(
        default=None, description="These notifications; omit to mark all of yours read"
    )


class TimelineEntry(BaseModel):
    kind: Literal["interaction", "service_record", "level_change", "assignment"]
    id: int
    occurred_at: datetime
    title: str
    actor_id: int | None
    detail: dict[str, Any]


class TimelineQuery(BaseModel):
    kinds: list[Literal["interaction", "service_record", "level_change", "assignment"]] | None = None
    page: int = Field(default=1, ge=1, le=1000)
    page_size: int = Field(default=settings.default_page_size, ge=1, le=settings.max_page_size)
