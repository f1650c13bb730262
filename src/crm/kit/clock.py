"""Business dates: timestamps are stored in UTC, but "today" is the tenant's day (Asia/Shanghai)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from crm.config import settings


def business_today(timezone: str | None = None) -> date:
    return datetime.now(ZoneInfo(timezone or settings.default_timezone)).date()
