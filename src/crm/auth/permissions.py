"""The permission matrix: what each role may do, and which customers it sees.

Checked on the server for every endpoint (see ``require`` in crm.auth.dependencies);
data scope is applied by the repositories (crm.kit.repository).
"""

from __future__ import annotations

from enum import StrEnum

from crm.kit.actor import DataScope
from crm.models.enums import Role


class Permission(StrEnum):
    CUSTOMER_READ = "customer.read"
    CUSTOMER_CREATE = "customer.create"
    CUSTOMER_UPDATE = "customer.update"
    CUSTOMER_DELETE = "customer.delete"
    CUSTOMER_LEVEL = "customer.level"
    CUSTOMER_ASSIGN = "customer.assign"
    CONTACT_WRITE = "contact.write"
    USER_MANAGE = "user.manage"
    AUDIT_READ = "audit.read"
    FINANCE_READ = "finance.read"  # annual revenue, credit rating and every money figure (amounts, spend, value)
    CUSTOMER_EXPORT = "customer.export"
    APPROVAL_DECIDE = "approval.decide"
    PII_UNMASK = "pii.unmask"  # reveal one masked phone, e-mail, … at a time (audited)
    PRIVACY_MANAGE = "privacy.manage"  # data-subject access and erasure, legal hold
    SETTINGS_MANAGE = "settings.manage"  # the tenant's settings: brand, masking, limits
    INTERACTION_WRITE = "interaction.write"  # record calls, visits, … and their follow-ups
    TICKET_CREATE = "ticket.create"  # open a service ticket for a customer one can see
    TICKET_HANDLE = "ticket.handle"  # work tickets: start, edit, resolve, close, reopen, cancel, escalate
    TICKET_ASSIGN = "ticket.assign"  # give a ticket to a service agent
    ORDER_WRITE = "order.write"  # the order and receivables feeds (the order system's and finance's account)
    ANALYTICS_READ = "analytics.read"  # the analytics dashboard and the service statistics (managers, analysts)
    FINANCE_WRITE = "finance.write"  # set annual revenue and credit rating (credit decides payment terms)


_SALES_WORK = {
    Permission.CUSTOMER_READ,
    Permission.CUSTOMER_CREATE,
    Permission.CUSTOMER_UPDATE,
    Permission.CUSTOMER_LEVEL,
    Permission.CONTACT_WRITE,
    Permission.PII_UNMASK,  # reps call their customers
    Permission.CUSTOMER_EXPORT,
    Permission.INTERACTION_WRITE,
    Permission.TICKET_CREATE,
}

_SERVICE_WORK = {
    Permission.CUSTOMER_READ,
    Permission.CONTACT_WRITE,
    Permission.PII_UNMASK,
    Permission.CUSTOMER_EXPORT,
    Permission.INTERACTION_WRITE,
    Permission.TICKET_CREATE,
    Permission.TICKET_HANDLE,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.SALES_MANAGER: frozenset(
        _SALES_WORK
        | {
            Permission.CUSTOMER_DELETE,
            Permission.CUSTOMER_ASSIGN,
            Permission.FINANCE_READ,
            Permission.APPROVAL_DECIDE,
            Permission.ANALYTICS_READ,
        }
    ),
    Role.SALES: frozenset(_SALES_WORK | {Permission.CUSTOMER_DELETE}),  # deleting is asked, not done
    Role.SERVICE_MANAGER: frozenset(_SERVICE_WORK | {Permission.TICKET_ASSIGN, Permission.ANALYTICS_READ}),
    Role.SERVICE_AGENT: frozenset(_SERVICE_WORK),
    Role.MARKETER: frozenset({Permission.CUSTOMER_READ, Permission.CUSTOMER_EXPORT}),
    Role.ANALYST: frozenset(
        {
            Permission.CUSTOMER_READ,
            Permission.AUDIT_READ,
            Permission.FINANCE_READ,
            Permission.CUSTOMER_EXPORT,
            Permission.ANALYTICS_READ,
        }
    ),
    # Finance keeps the credit rating and revenue of every customer, and may be the receivables feed.
    Role.FINANCE: frozenset(
        {
            Permission.CUSTOMER_READ,
            Permission.FINANCE_READ,
            Permission.FINANCE_WRITE,
            Permission.CUSTOMER_EXPORT,
            Permission.ORDER_WRITE,
        }
    ),
}

ROLE_SCOPES: dict[Role, DataScope] = {
    Role.ADMIN: DataScope.TENANT,
    Role.ANALYST: DataScope.TENANT,
    Role.MARKETER: DataScope.TENANT,
    Role.SALES_MANAGER: DataScope.REGION,
    Role.SERVICE_MANAGER: DataScope.REGION,
    Role.SALES: DataScope.OWN,
    Role.SERVICE_AGENT: DataScope.SERVICE,
    Role.FINANCE: DataScope.TENANT,
}

# Roles that can own customers as their sales representative.
SALES_OWNER_ROLES = frozenset({Role.SALES, Role.SALES_MANAGER})
