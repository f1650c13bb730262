"""Every SQLAlchemy model, importable from one place (Alembic's import point)."""

from crm.kit.db import Base
from crm.kit.tasks import JobRun
from crm.models.analytics import CustomerValueAnalysis
from crm.models.approvals import ApprovalRequest, ApprovalStatus
from crm.models.audit import AuditLog
from crm.models.churn import (
    ACTIVE_WARNING,
    ChurnModel,
    ChurnRisk,
    ChurnWarning,
    LifecycleStage,
    RetentionAction,
    RetentionActionType,
    WarningStatus,
)
from crm.models.customers import (
    Customer,
    CustomerAddress,
    CustomerAssignment,
    CustomerContact,
    CustomerLevelChange,
    CustomerSearch,
)
from crm.models.interactions import (
    CustomerInteraction,
    FileDeletion,
    FollowUpStatus,
    InteractionDirection,
    InteractionOutcome,
    InteractionSource,
    InteractionType,
    Notification,
)
from crm.models.orders import NOT_SPENT, CustomerOrder, CustomerOrderItem, CustomerReceivable, OrderStatus
from crm.models.privacy import DataSubjectRequest, RequestKind, RequestOutcome, SubjectType
from crm.models.saved_views import SavedView, SavedViewPage
from crm.models.security import LoginFailure, RevokedToken
from crm.models.service_desk import Priority, SatisfactionSurvey, ServiceRecord, ServiceType, TicketStatus
from crm.models.tenancy import CodeSequence, RegionMapping, Tenant, User

__all__ = [
    "ACTIVE_WARNING",
    "NOT_SPENT",
    "ApprovalRequest",
    "ApprovalStatus",
    "AuditLog",
    "Base",
    "ChurnModel",
    "ChurnRisk",
    "ChurnWarning",
    "CodeSequence",
    "Customer",
    "CustomerAddress",
    "CustomerAssignment",
    "CustomerContact",
    "CustomerInteraction",
    "CustomerLevelChange",
    "CustomerOrder",
    "CustomerOrderItem",
    "CustomerReceivable",
    "CustomerSearch",
    "CustomerValueAnalysis",
    "DataSubjectRequest",
    "FileDeletion",
    "FollowUpStatus",
    "InteractionDirection",
    "InteractionOutcome",
    "InteractionSource",
    "InteractionType",
    "JobRun",
    "LifecycleStage",
    "LoginFailure",
    "Notification",
    "OrderStatus",
    "Priority",
    "RegionMapping",
    "RequestKind",
    "RequestOutcome",
    "RetentionAction",
    "RetentionActionType",
    "RevokedToken",
    "SatisfactionSurvey",
    "SavedView",
    "SavedViewPage",
    "ServiceRecord",
    "ServiceType",
    "SubjectType",
    "Tenant",
    "TicketStatus",
    "User",
    "WarningStatus",
]
