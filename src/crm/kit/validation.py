"""Input checks every schema shares: ids that fit BIGINT, text both databases can store, dates
within the supported years."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Path
from pydantic import AfterValidator, AwareDatetime, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

MAX_ID = 2**63 - 1

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]


def _storable(value: str) -> bool:
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from JSON escapes
        return False
    return True


def reject_unstorable_text(value: Any) -> Any:
    """Refuse NUL characters and lone surrogates, which PostgreSQL cannot store, with a 422."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not _storable(item):
                raise PydanticCustomError("text_invalid", "Text contains characters that cannot be stored")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return value


def not_null(value: Any) -> Any:
    """For optional update fields that may be left out but not cleared (sent as null)."""
    if value is None:
        raise PydanticCustomError("missing", "This field cannot be cleared")
    return value


# The years a date or timestamp from a client may lie in. Any business date fits, and a value
# this far from Python's limits (years 1 and 9999) can be shifted across time zones and by the
# days and years that reports add without overflowing.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2999, 12, 31)


def _within_supported_years(value: date) -> date:
    # A timestamp is judged by its date as written: within the years, its UTC instant is too.
    day = value.date() if isinstance(value, datetime) else value
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise PydanticCustomError(
            "date_out_of_range",
            "Dates must lie between {earliest} and {latest}",
            {"earliest": EARLIEST_DATE.isoformat(), "latest": LATEST_DATE.isoformat()},
        )
    return value


class _SupportedYears:
    """Says the supported years in the OpenAPI schema (``formatMinimum``/``formatMaximum``)."""

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        shown = handler(schema)
        if shown.get("format") == "date-time":
            shown.update(formatMinimum=f"{EARLIEST_DATE}T00:00:00", formatMaximum=f"{LATEST_DATE}T23:59:59")
        else:
            shown.update(formatMinimum=EARLIEST_DATE.isoformat(), formatMaximum=LATEST_DATE.isoformat())
        return shown


# Every date a client sends (filters, birthdays, due dates, holidays).
BoundedDate = Annotated[date, AfterValidator(_within_supported_years), _SupportedYears()]

# A timestamp that must carry its offset (the audit trail's filters).
AwareDateTime = Annotated[AwareDatetime, AfterValidator(_within_supported_years), _SupportedYears()]


def _assume_business_zone(value: datetime) -> datetime:
    if value.tzinfo is None:
        from crm.config import settings  # noqa: PLC0415 - kit modules read settings lazily

        return value.replace(tzinfo=ZoneInfo(settings.default_timezone))
    return value


# A timestamp from a client: without an offset it is read in the business time zone
# (Asia/Shanghai), as a person typing "2026-11-25 14:00" means it.
LocalDateTime = Annotated[
    datetime, AfterValidator(_within_supported_years), AfterValidator(_assume_business_zone), _SupportedYears()
]


def batch_shape(key: str) -> Callable[[Any], str]:
    """The discriminator of a body that is either one item or ``{key: [...]}``.

    Used in a RootModel of ``Annotated[Annotated[One, Tag("tagged-one")] | Annotated[Batch,
    Tag("tagged-batch")], Discriminator(batch_shape("orders"))]`` (FastAPI drops a discriminator
    given on a bare union body): a tagged union, so a mistake is reported once, against the shape
    that was sent, and named as sent (``amount``, or ``orders.3.amount``), since the problem
    handler drops the "tagged-" branch names from error locations.
    """

    def shape(value: Any) -> str:
        return "tagged-batch" if isinstance(value, dict) and key in value else "tagged-one"

    return shape
