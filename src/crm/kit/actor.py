"""Who is acting: the authenticated user as the query layer and services see them."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from crm.config import settings

# Personal fields shown masked to everyone unless the tenant's masking rules say otherwise.
MASKABLE_FIELDS = frozenset({"contact_phone", "contact_email", "contact_wechat", "birthday", "detailed_address"})


class DataScope(StrEnum):
    """Which customers a user may see; applied in one place, the repositories."""

    OWN = "own"  # customers assigned to the user as sales owner
    SERVICE = "service"  # customers assigned to the user as service owner
    REGION = "region"  # customers of the user's sales region(s)
    TEAM = "team"  # customers served by a member of the user's service team
    TENANT = "tenant"  # every customer of the tenant


@dataclass(frozen=True)
class TenantPolicy:
    """The tenant's own rules, read on every request (see crm.tenants)."""

    brand_name: str | None = None
    masked_fields: frozenset[str] = MASKABLE_FIELDS
    export_approval_threshold: int = field(default_factory=lambda: settings.export_approval_threshold)
    export_daily_limit: int = field(default_factory=lambda: settings.export_daily_limit)
    timezone: str = "Asia/Shanghai"  # whose calendar "today" and "overdue" follow
    payment_terms: tuple[tuple[str, int], ...] = ()  # days to pay by credit rating (§6.3)


@dataclass(frozen=True)
class Actor:
    id: int
    tenant_id: int
    username: str
    role: str
    data_scope: DataScope
    permissions: frozenset[str]
    regions: tuple[str, ...] = ()
    team: str | None = None
    display_name: str = ""
    policy: TenantPolicy = field(default_factory=TenantPolicy)

    def can(self, permission: str) -> bool:
        return permission in self.permissions
