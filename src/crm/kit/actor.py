"""Who is acting: the authenticated user as the query layer and services see them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DataScope(StrEnum):
    """Which customers a user may see; applied in one place, the repositories."""

    OWN = "own"  # customers assigned to the user as sales owner
    SERVICE = "service"  # customers assigned to the user as service owner
    REGION = "region"  # customers of the user's sales region(s)
    TENANT = "tenant"  # every customer of the tenant


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

    def can(self, permission: str) -> bool:
        return permission in self.permissions
