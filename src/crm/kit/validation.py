"""Input checks every schema shares: ids that fit BIGINT, text both databases can store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Path
from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

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


def _assume_business_zone(value: datetime) -> datetime:
    if value.tzinfo is None:
        from crm.config import settings  # noqa: PLC0415 - kit modules read settings lazily

        return value.replace(tzinfo=ZoneInfo(settings.default_timezone))
    return value


# A timestamp from a client: without an offset it is read in the business time zone
# (Asia/Shanghai), as a person typing "2026-11-25 14:00" means it.
LocalDateTime = Annotated[datetime, AfterValidator(_assume_business_zone)]


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
