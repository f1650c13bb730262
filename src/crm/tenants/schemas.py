from __future__ import annotations

from copy import copy
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Optional, TypeAlias, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    create_model,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from crm.config import settings
from crm.kit.regions import Region
from crm.kit.validation import BoundedDate, not_null, reject_unstorable_text
from crm.models.enums import CreditRating
from crm.models.service_desk import Priority

ClockTime = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
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


class ServiceCalendar(BaseModel):
    """When the service desk works: SLA clocks run only then (in the tenant's time zone)."""

    model_config = ConfigDict(extra="forbid")

    weekdays: Annotated[list[Annotated[int, Field(ge=0, le=6)]], Field(min_length=1, max_length=7)] = Field(
        default_factory=lambda: [0, 1, 2, 3, 4], description="0 = Monday"
    )
    # Local wall-clock times ("09:00"), not instants: no offset.
    start: ClockTime = "09:00"
    end: ClockTime = "18:00"
    holidays: Annotated[list[BoundedDate], Field(max_length=200)] = Field(default_factory=list, description="Days off")
    workdays: Annotated[list[BoundedDate], Field(max_length=100)] = Field(
        default_factory=list, description="Weekend days worked in exchange for a holiday (调休)"
    )

    @model_validator(mode="after")
    def _a_day_has_hours(self) -> ServiceCalendar:
        if self.start >= self.end:
            raise PydanticCustomError("value_error", "the working day must end after it starts")
        return self


class SlaTarget(BaseModel):
    model_config = ConfigDict(extra="forbid")

    first_response_hours: float = Field(gt=0, le=2000, description="Working hours to the first response")
    resolution_hours: float = Field(gt=0, le=5000, description="Working hours to resolution")


Team = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
DEFAULT_PAYMENT_TERMS = {
    CreditRating.AAA: 90, CreditRating.AA: 60, CreditRating.A: 45, CreditRating.BBB: 30,
    CreditRating.BB: 15, CreditRating.B: 0, CreditRating.C: 0,
}  # fmt: skip
DEFAULT_WEIGHTS = {Priority.URGENT: 4, Priority.HIGH: 3, Priority.MEDIUM: 2, Priority.LOW: 1}


class AssignmentRules(BaseModel):
    """How new tickets find an agent (§5.3): by the customer's service team, priority and workload.

    An agent's workload is the sum of the weights of their open and in-progress tickets; an
    agent takes a ticket only while workload + its weight stays within their capacity (their
    own `service_capacity`, else `max_load`). The customer's own service agent comes first when
    they have room; customers of level A go to `vip_team` when one is set. A ticket nobody has
    room for waits in the queue and is assigned by the scheduled job when someone has.
    """

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    weights: dict[Priority, Annotated[int, Field(ge=1, le=100)]] = Field(
        default_factory=lambda: dict(DEFAULT_WEIGHTS), description="Workload points of a ticket per priority"
    )
    max_load: int = Field(default=24, ge=1, le=10_000, description="Default capacity of an agent, in points")
    vip_team: Team | None = Field(default=None, description="The team that serves level-A customers")
    region_teams: dict[Region, Team] = Field(
        default_factory=dict, description="The service team of customers (by region) who have no service agent"
    )

    @model_validator(mode="after")
    def _every_priority_has_a_weight(self) -> AssignmentRules:
        self.weights = {**DEFAULT_WEIGHTS, **self.weights}
        return self


class ValueRules(BaseModel):
    """What value analysis assumes where the data says nothing (see crm.analytics.value)."""

    model_config = ConfigDict(extra="forbid")

    cost_per_ticket: Decimal = Field(default=Decimal("50.00"), ge=0, le=1_000_000, decimal_places=2)
    cost_per_interaction_minute: Decimal = Field(default=Decimal("2.00"), ge=0, le=100_000, decimal_places=2)
    default_margin: Decimal = Field(
        default=Decimal("0.30"), ge=-1, le=1, decimal_places=4, description="Margin of orders without a cost"
    )
    lifetime_cap_months: int = Field(default=60, ge=1, le=600, description="Longest expected remaining lifetime")
    snapshot_days: int = Field(
        default=90,
        ge=7,
        le=3650,
        description="Daily value snapshots are kept this many days; older ones thin to each customer's last of a month",
    )


Threshold = Annotated[Decimal, Field(ge=0, le=Decimal("1e12"), decimal_places=2)]


class GradingRules(BaseModel):
    """§5.1: a level is reached by annual spend (last 365 days) or potential value (next 12 months)."""

    model_config = ConfigDict(extra="forbid")

    a_spend: Threshold = Decimal("500000")
    a_potential: Threshold = Decimal("1000000")
    b_spend: Threshold = Decimal("200000")
    b_potential: Threshold = Decimal("500000")
    c_spend: Threshold = Decimal("50000")
    c_potential: Threshold = Decimal("200000")

    @model_validator(mode="after")
    def _levels_in_order(self) -> GradingRules:
        if not (
            self.a_spend >= self.b_spend >= self.c_spend and self.a_potential >= self.b_potential >= self.c_potential
        ):
            raise PydanticCustomError("value_error", "thresholds must not rise from A to C")
        return self


Days = Annotated[int, Field(ge=1, le=3650)]
RISKS = ("high", "medium", "low")
DEFAULT_PLAYBOOK = {
    "high": "客户经理三日内上门拜访，了解停购原因，提供专属优惠或定制方案",
    "medium": "一周内电话回访，确认需求变化，推荐适合的产品或活动",
    "low": "两周内通过微信或邮件问候，分享新品与行业资讯",
}
DEFAULT_DUE_DAYS = {"high": 3, "medium": 7, "low": 14}
PLAYBOOK_KEYS = frozenset({*RISKS, *(f"{level}.{risk}" for level in "ABCD" for risk in RISKS)})


def _not_blank(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        raise PydanticCustomError("playbook_empty", "A strategy cannot be empty; send null to remove the entry")
    return value


def _playbook_keys(playbook: dict[str, Any]) -> dict[str, Any]:
    if any(key not in PLAYBOOK_KEYS for key in playbook):
        raise PydanticCustomError("value_error", "playbook keys are a risk or level.risk, e.g. high or A.high")
    return playbook


Strategy = Annotated[
    str, BeforeValidator(_not_blank), StringConstraints(strip_whitespace=True, min_length=1, max_length=500)
]


class ChurnRules(BaseModel):
    """§5.2 churn warning rules, every threshold a setting (see crm.analytics.churn).

    High: no order for ``high_no_order_days`` from a customer with at least
    ``high_min_orders`` orders in the ``high_history_days`` before that; or receivables overdue
    ``overdue_high_days``. Medium: no interaction for ``medium_no_interaction_days`` and spend of
    the last ``spend_window_days`` below the same span before; or receivables overdue
    ``overdue_medium_days``. Low: no interaction for ``low_no_interaction_days``.
    """

    model_config = ConfigDict(extra="forbid")

    high_no_order_days: Days = 90
    high_min_orders: int = Field(default=3, ge=1, le=10_000)
    high_history_days: Days = Field(default=365, description="The span before the quiet days counted for activity")
    medium_no_interaction_days: Days = 60
    spend_window_days: Days = Field(default=90, description="Recent spend is compared with the span before")
    low_no_interaction_days: Days = 30
    overdue_medium_days: Days = 30
    overdue_high_days: Days = 90
    churned_after_days: Days = Field(default=180, description="No order for this long: lifecycle stage churned")
    new_customer_days: Days = Field(default=90, description="First order this recent: lifecycle stage new")
    playbook: dict[str, Strategy] = Field(
        default_factory=lambda: dict(DEFAULT_PLAYBOOK),
        description="Retention strategy by risk ('high') or by level and risk ('A.high', more specific wins)",
    )
    task_due_days: dict[str, Annotated[int, Field(ge=1, le=365)]] = Field(
        default_factory=lambda: dict(DEFAULT_DUE_DAYS), description="Days the owner has for the retention task, by risk"
    )

    @model_validator(mode="after")
    def _consistent(self) -> ChurnRules:
        _playbook_keys(self.playbook)
        if any(key not in RISKS for key in self.task_due_days):
            raise PydanticCustomError("value_error", "task_due_days keys are high, medium or low")
        if self.low_no_interaction_days > self.medium_no_interaction_days:
            raise PydanticCustomError("value_error", "the low-risk quiet days must not exceed the medium-risk ones")
        if self.overdue_medium_days > self.overdue_high_days:
            raise PydanticCustomError("value_error", "the medium-risk overdue days must not exceed the high-risk ones")
        return self

    # (Defaults are filled where read, not by the validator: a validator's assignment would mark
    # the whole playbook as sent in a partial update and put back the defaults over a tenant's own.)
    def strategy(self, level: str, risk: str) -> str:
        return self.playbook.get(f"{level}.{risk}") or self.playbook.get(risk) or DEFAULT_PLAYBOOK[risk]

    def due_days(self, risk: str) -> int:
        return self.task_due_days.get(risk) or DEFAULT_DUE_DAYS[risk]


# Service-level targets in working hours (a working day is 9 hours, 09:00–18:00): urgent 1 h to
# first response and 4 h to resolution, high 4 h / 1 day, medium 1 day / 3 days, low 2 days / 5 days.
DEFAULT_SLA_TARGETS: dict[Priority, tuple[float, float]] = {  # hours to first response, to resolution
    Priority.URGENT: (1, 4),
    Priority.HIGH: (4, 9),
    Priority.MEDIUM: (9, 27),
    Priority.LOW: (18, 45),
}


def _default_sla() -> dict[Priority, SlaTarget]:
    return {p: SlaTarget(first_response_hours=r, resolution_hours=s) for p, (r, s) in DEFAULT_SLA_TARGETS.items()}


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
    service_calendar: ServiceCalendar = Field(default_factory=ServiceCalendar)
    sla: dict[Priority, SlaTarget] = Field(default_factory=_default_sla, description="Targets per ticket priority")
    assignment: AssignmentRules = Field(default_factory=AssignmentRules)
    value: ValueRules = Field(default_factory=ValueRules)
    grading: GradingRules = Field(default_factory=GradingRules)
    churn: ChurnRules = Field(default_factory=ChurnRules)
    survey_valid_days: int = Field(
        default=14, ge=1, le=365, description="How long a satisfaction survey link can be answered"
    )
    payment_terms: dict[CreditRating, Annotated[int, Field(ge=0, le=365)]] = Field(
        default_factory=lambda: dict(DEFAULT_PAYMENT_TERMS),
        description="Days to pay each credit rating earns (0: payment before delivery)",
    )

    @model_validator(mode="after")
    def _every_priority_has_targets(self) -> TenantSettings:
        self.sla = {**_default_sla(), **self.sla}
        self.payment_terms = {**DEFAULT_PAYMENT_TERMS, **self.payment_terms}
        return self


def _patch_of(model: type[BaseModel], **overrides: tuple[Any, Any]) -> type[BaseModel]:
    """``model`` with every field optional and nothing filled in: a partial update of a section.

    The section's own checks across fields (thresholds in order, …) are not run here but on the
    tenant's rules once the change is merged into them, so they judge what will be stored.
    ``overrides`` replace a field's (annotation, FieldInfo) where an update takes other values.
    """
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name in overrides:
            fields[name] = overrides[name]
            continue
        patched = copy(info)
        patched.default, patched.default_factory = None, None
        optional: Any = Optional[info.annotation]  # noqa: UP045 - built at run time from a variable
        nullable = type(None) in get_args(info.annotation)  # (e.g. vip_team: null clears it)
        fields[name] = (optional if nullable else Annotated[optional, AfterValidator(not_null)], patched)
    return create_model(f"{model.__name__}Change", __config__=ConfigDict(extra="forbid"), **fields)


# In an update, null for a key removes the tenant's entry (it then falls back as strategy() reads).
PlaybookChange = Annotated[
    Optional[dict[str, Optional[Strategy]]],  # noqa: UP045 - evaluated at run time by create_model
    AfterValidator(not_null),
    AfterValidator(lambda playbook: _playbook_keys(playbook) if playbook is not None else playbook),
]
PLAYBOOK_CHANGE = (
    "Only the keys sent change. A strategy per risk ('high') or level and risk ('A.high'); null for a key "
    "removes the tenant's entry, so 'A.high' falls back to 'high' and 'high' to the default; empty text is refused"
)

if TYPE_CHECKING:  # (mypy reads the sections; at run time each is its partial variant)
    MaskingChange: TypeAlias = MaskingRules
    CalendarChange: TypeAlias = ServiceCalendar
    AssignmentChange: TypeAlias = AssignmentRules
    ValueChange: TypeAlias = ValueRules
    GradingChange: TypeAlias = GradingRules
    ChurnChange: TypeAlias = ChurnRules
else:
    MaskingChange, CalendarChange = _patch_of(MaskingRules), _patch_of(ServiceCalendar)
    AssignmentChange, ValueChange = _patch_of(AssignmentRules), _patch_of(ValueRules)
    GradingChange = _patch_of(GradingRules)
    ChurnChange = _patch_of(ChurnRules, playbook=(PlaybookChange, Field(default=None, description=PLAYBOOK_CHANGE)))


class TenantSettingsUpdate(BaseModel):
    """Only what is sent changes, key by key inside each section (see crm.tenants.service)."""

    model_config = ConfigDict(extra="forbid")
    _storable = field_validator("*", mode="before")(reject_unstorable_text)

    brand_name: BrandName | None = Field(default=None, description="null clears it")
    masking: Annotated[MaskingChange | None, AfterValidator(not_null)] = None
    export_approval_threshold: Annotated[int | None, AfterValidator(not_null), Field(ge=1, le=10_000_000)] = None
    export_daily_limit: Annotated[int | None, AfterValidator(not_null), Field(ge=1, le=10_000)] = None
    service_calendar: Annotated[CalendarChange | None, AfterValidator(not_null)] = None
    sla: Annotated[dict[Priority, SlaTarget] | None, AfterValidator(not_null)] = Field(
        default=None, description="Only the priorities sent change"
    )
    assignment: Annotated[AssignmentChange | None, AfterValidator(not_null)] = Field(
        default=None, description="Only the keys sent change (weights merge by priority)"
    )
    value: Annotated[ValueChange | None, AfterValidator(not_null)] = None
    grading: Annotated[GradingChange | None, AfterValidator(not_null)] = None
    churn: Annotated[ChurnChange | None, AfterValidator(not_null)] = Field(
        default=None, description="Only the keys sent change (playbook and due days merge key by key)"
    )
    survey_valid_days: Annotated[int | None, AfterValidator(not_null), Field(ge=1, le=365)] = None
    payment_terms: Annotated[
        dict[CreditRating, Annotated[int, Field(ge=0, le=365)]] | None, AfterValidator(not_null)
    ] = Field(default=None, description="Only the ratings sent change")


class TenantSettingsOut(TenantSettings):
    tenant_code: str
    tenant_name: str
