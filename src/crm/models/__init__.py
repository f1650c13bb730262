"""Every SQLAlchemy model, importable from one place (Alembic's import point)."""

from crm.kit.db import Base
from crm.models.approvals import ApprovalRequest, ApprovalStatus
from crm.models.audit import AuditLog
from crm.models.customers import (
    Customer,
    CustomerAddress,
    CustomerAssignment,
    CustomerContact,
    CustomerLevelChange,
)
from crm.models.privacy import DataSubjectRequest, RequestKind, RequestOutcome, SubjectType
from crm.models.security import LoginFailure, RevokedToken
from crm.models.tenancy import CodeSequence, RegionMapping, Tenant, User

__all__ = [
    "ApprovalRequest",
    "ApprovalStatus",
    "AuditLog",
    "Base",
    "CodeSequence",
    "Customer",
    "CustomerAddress",
    "CustomerAssignment",
    "CustomerContact",
    "CustomerLevelChange",
    "DataSubjectRequest",
    "LoginFailure",
    "RegionMapping",
    "RequestKind",
    "RequestOutcome",
    "RevokedToken",
    "SubjectType",
    "Tenant",
    "User",
]
