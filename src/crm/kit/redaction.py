"""A person's identifiers (names, phones, e-mails, WeChat ids) found and blanked in free text.

One regular expression matches every identifier in the ways people write it: a mobile as
13811112222, 138 1111 2222, 138-1111-2222 or +86 13811112222 (full-width digits too), a
landline with or without its area code's brackets, an e-mail in any letter case. The same
expression is read by Python and by the database (``crm.kit.dialects.regexp_replace_all``),
so a column rewritten in SQL and a JSON value rewritten here are blanked alike. LIKE patterns
that every match satisfies find the candidate rows first, so the expression only runs on rows
that may mention the person.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, SQLColumnExpression, Text, cast, false, or_

from crm.kit.phones import normalise_phone, phone_digits

MARKER = "［已删除］"

_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_SEPARATOR = "[ .-]?"
# +86, 0086, 86 or (+86) before a number, as people copy it from a business card.
_COUNTRY = r"(?:\(?(?:\+|00)?86\)?[ .-]?)?"
_LIKE_ESCAPE = "/"


def _digits(run: str) -> str:
    """Each digit as itself or its full-width form (typed with a Chinese input method)."""
    return "".join(f"[{d}{d.translate(_FULL_WIDTH)}]" for d in run)


def _like(text: str) -> str:
    return "".join(_LIKE_ESCAPE + ch if ch in "%_" + _LIKE_ESCAPE else ch for ch in text)


def _phone(raw: str) -> tuple[str, list[str]]:
    """The expression for a phone in its written forms, and LIKE patterns that contain them all."""
    phone = normalise_phone(raw) or raw
    digits = phone_digits(phone)
    if len(digits) == 11 and digits.startswith("1"):  # a mobile: 3-4-4, as it is read aloud
        groups = [digits[:3], digits[3:7], digits[7:]]
        expression = _COUNTRY + _SEPARATOR.join(_digits(g) for g in groups)
    elif "-" in phone and digits.startswith("0"):  # a landline: area code with its trunk 0, local number
        area, local = phone.split("-", 1)
        half = len(local) // 2
        groups = [area[1:], local[:half], local[half:]]
        local_number = _digits(groups[1]) + _SEPARATOR + _digits(groups[2])
        expression = _COUNTRY + r"\(?0?" + _digits(groups[0]) + r"\)?" + _SEPARATOR + local_number
    else:
        return re.escape(raw), [f"%{_like(raw)}%"]
    likes = ["%" + "%".join(groups) + "%", "%" + "%".join(g.translate(_FULL_WIDTH) for g in groups) + "%"]
    return f"(?<![0-9０-９]){expression}(?![0-9０-９])", likes


@dataclass(frozen=True)
class Needles:
    """The identifiers of one person, to find and blank wherever they are written."""

    pattern: str
    likes: tuple[str, ...]
    _compiled: re.Pattern[str] = field(repr=False, compare=False)

    def __bool__(self) -> bool:
        return bool(self.likes)

    def sub(self, text: str) -> str:
        """``text`` with every identifier replaced by the marker, the rest kept."""
        return self._compiled.sub(MARKER, text) if self.likes else text

    def found_in(self, text: str) -> bool:
        return bool(self.likes) and self._compiled.search(text) is not None

    def value(self, value: Any) -> Any:
        """A JSON value with every string (keys too) blanked where it names the person; a number
        that is one of their phones becomes the marker."""
        if isinstance(value, str):
            return self.sub(value)
        if isinstance(value, dict):
            return {self.sub(k): self.value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, int) and not isinstance(value, bool) and self._compiled.fullmatch(str(value)):
            return MARKER
        return value

    def mentioned(self, column: SQLColumnExpression[Any], *, json_text: bool = False) -> ColumnElement[bool]:
        """A condition true for every row whose ``column`` may hold an identifier (a candidate:
        the expression decides). ``json_text`` for a JSON column read as its text, which may hold
        non-ASCII characters \\u-escaped."""
        target = cast(column, Text) if json_text else column
        likes = set(self.likes)
        if json_text:
            likes |= {json.dumps(p)[1:-1] for p in self.likes}
        return or_(false(), *(target.ilike(p, escape=_LIKE_ESCAPE) for p in sorted(likes)))


def needles(texts: Iterable[str | None] = (), phones: Iterable[str | None] = ()) -> Needles:
    """The identifiers of one person: texts written as they are (names, e-mails, WeChat ids, an
    address; in any letter case) and phones (in every written form)."""
    parts: dict[str, tuple[int, list[str]]] = {}
    for text in set(texts):
        if text and text.strip() and text != MARKER:
            parts[re.escape(text)] = (len(text), [f"%{_like(text)}%"])
    for raw in phones:
        if raw and phone_digits(raw):
            expression, phone_likes = _phone(raw)
            parts[expression] = (len(phone_digits(raw)), phone_likes)
    # The longest first: a company name is blanked whole, not only the person's name inside it
    # (Python takes the first alternative that matches, PostgreSQL the longest).
    ordered = sorted(parts, key=lambda expression: (-parts[expression][0], expression))
    pattern = "|".join(ordered)
    likes = tuple(like for expression in ordered for like in parts[expression][1])
    return Needles(pattern, likes, re.compile(pattern or "(?!)", re.IGNORECASE))
