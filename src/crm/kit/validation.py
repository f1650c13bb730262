"""Input checks every schema shares: ids that fit BIGINT, text both databases can store."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path
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
