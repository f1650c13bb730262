"""Keyword search over CJK and Latin text, served by an index on both databases.

PostgreSQL's trigram indexes cannot answer one- or two-character queries, which are the
normal case in Chinese (华为, 张). So, as Elasticsearch's CJK analyzer does, every indexed
text is broken into tokens stored beside the row (crm.models.CustomerSearch) and indexed
(GIN over text[] on PostgreSQL):

* runs of CJK characters give each character (unigram) and each adjacent pair (bigram);
* runs of letters and digits give each prefix of the word (edge n-grams), so a name or
  code can be found by its beginning;
* exact keys (the customer code) give an ``=`` token, and the first characters of the name
  ``^`` tokens: these rank exact matches first and name prefixes second;
* phones and e-mails are personal data, stored encrypted (crm.kit.crypto), so they never
  appear here in clear: they give ``#`` tokens, keyed HMACs (blind indexes) of the whole
  phone, of a landline's local number, of the phone's last four digits and of the whole
  e-mail. A dump of the index reveals no number; a search for a full phone, its last four
  digits or a full e-mail still finds the row. Searching by a phone's or e-mail's
  beginning is not offered: it would need the clear value indexed.

A query is broken the same way (CJK runs into bigrams, or the single character; Latin
words whole) and a row matches when it holds every query token. Bigrams of a run of three
or more characters do not prove adjacency, so for those the row's plain text must also
contain the run: the index narrows, the substring check confirms.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Literal

from sqlalchemy import ColumnElement, SQLColumnExpression, Text, and_, cast, false, func, literal, or_, true
from sqlalchemy.dialects.postgresql import ARRAY

from crm.kit.crypto import blind
from crm.kit.phones import normalise_phone

MAX_PREFIX = 24
# Names are indexed by their first characters too (``^`` tokens), so that "name starts with
# the keyword" is answered by the index when a broad keyword has many matches.
NAME_PREFIX = 8

# Every CJK ideograph: Extension A, the unified and the compatibility blocks of the BMP, and
# the whole of planes 2 and 3, which Unicode reserves for ideographs (Extensions B to I, the
# compatibility supplement, and the extensions still to come). tests/kit/test_search.py checks
# this against every ideograph that unicodedata names.
IDEOGRAPHS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff"
_CJK = (
    IDEOGRAPHS + "\u3040-\u30ff\uac00-\ud7af"  # kana and hangul, so Japanese and Korean names work too
)
_RUN = re.compile(rf"([{_CJK}]+)|([0-9a-z]+)")


def normalise_text(text: str) -> str:
    """NFKC (full-width → half-width) and lower case: the form both index and query use."""
    return unicodedata.normalize("NFKC", text).lower()


def _prefix_key(text: str) -> str:
    # Tokens never hold spaces (SQLite keeps them space-delimited), so blanks become ␣.
    return "\u2423".join(normalise_text(text).split())


def _cjk_tokens(run: str) -> list[str]:
    return list(run) + [run[i : i + 2] for i in range(len(run) - 1)]


def _word_prefixes(word: str) -> list[str]:
    return [word[:n] for n in range(1, min(len(word), MAX_PREFIX) + 1)]


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _blind_token(purpose: str, value: str) -> str:
    # 64 bits of the HMAC: collisions among one tenant's phones are negligible, and the
    # row's own values are checked when it is shown anyway.
    return "#" + blind(f"search.{purpose}", value)[:16]


def phone_token(phone: str) -> str:
    return _blind_token("phone", _digits(phone))


def last4_token(digits: str) -> str:
    return _blind_token("last4", digits[-4:])


def email_token(email: str) -> str:
    return _blind_token("email", normalise_text(email).strip())


def index_tokens(
    texts: Iterable[str],
    *,
    phones: Iterable[str] = (),
    emails: Iterable[str] = (),
    exact: Iterable[str] = (),
    name: str | None = None,
) -> list[str]:
    """Tokens to store for a row: ``texts`` in clear, ``phones`` (normalised) and ``emails`` blinded."""
    tokens: set[str] = set()
    if name:
        head = _prefix_key(name)
        tokens.update("^" + head[:n] for n in range(1, min(len(head), NAME_PREFIX) + 1))
    for text in texts:
        for cjk, word in _RUN.findall(normalise_text(text)):
            tokens.update(_cjk_tokens(cjk) if cjk else _word_prefixes(word))
    for phone in phones:
        tokens.add(phone_token(phone))
        if "-" in phone:  # a landline is found by its local number too
            tokens.add(phone_token(phone.split("-", 1)[1]))
        tokens.add(last4_token(_digits(phone)))
    tokens.update(email_token(email) for email in emails)
    for key in exact:
        tokens.add("=" + normalise_text(key).strip())
    return sorted(t for t in tokens if t)


def query_tokens(keyword: str) -> list[str]:
    """Tokens a row must all hold to match ``keyword``."""
    tokens: set[str] = set()
    for cjk, word in _RUN.findall(normalise_text(keyword)):
        if cjk:
            tokens.update([cjk] if len(cjk) == 1 else [cjk[i : i + 2] for i in range(len(cjk) - 1)])
        else:
            tokens.add(word[:MAX_PREFIX])
    return sorted(tokens)


def name_prefix_clause(
    tokens_column: SQLColumnExpression[list[str]],
    name_column: SQLColumnExpression[str],
    keyword: str,
    dialect: str,
) -> ColumnElement[bool]:
    """The row's name starts with ``keyword`` (index-served through the ``^`` tokens)."""
    normalised = normalise_text(keyword).strip()
    clause = has_tokens(tokens_column, ["^" + _prefix_key(keyword)[:NAME_PREFIX]], dialect)
    if len(normalised) > NAME_PREFIX:
        clause = and_(clause, func.lower(name_column).startswith(normalised, autoescape=True))
    return clause


def search_text(texts: Iterable[str]) -> str:
    """The row's plain text, normalised, for the confirming substring check."""
    return " | ".join(normalise_text(t) for t in texts if t)


def personal_lookup(keyword: str) -> Literal["phone", "email"] | None:
    """Whether ``keyword`` looks a row up by a whole phone or e-mail (through their blind tokens)."""
    text = normalise_text(keyword).strip()
    # A phone typed with spaces, hyphens or +86 is still a whole phone.
    if len(_digits(text)) >= 7 and not any(ch.isalpha() for ch in text):
        return "phone"
    return "email" if "@" in text else None


def exact_key(keyword: str) -> str:
    """The token of an exact match: a whole phone or e-mail (blinded), else the code."""
    text = normalise_text(keyword).strip()
    lookup = personal_lookup(text)
    if lookup == "phone":
        return phone_token(normalise_phone(text) or _digits(text))
    if lookup == "email":
        return email_token(text)
    return "=" + text


def has_tokens(column: SQLColumnExpression[list[str]], tokens: list[str], dialect: str) -> ColumnElement[bool]:
    """The row's token list holds every one of ``tokens`` (index-served on PostgreSQL)."""
    if not tokens:
        return true()
    if dialect == "postgresql":
        return cast(column, ARRAY(Text)).contains(cast(literal(tokens, ARRAY(Text)), ARRAY(Text)))
    return and_(*[cast(column, Text).contains(f" {t} ", autoescape=True) for t in tokens])


def keyword_clause(
    tokens_column: SQLColumnExpression[list[str]],
    text_column: SQLColumnExpression[str],
    keyword: str,
    dialect: str,
) -> ColumnElement[bool]:
    """Rows whose text matches ``keyword`` (exact keys are looked up separately, see exact_key).

    A CJK run of one or two characters is matched exactly by its token; a longer run's
    bigrams do not prove the characters are adjacent, so its text is confirmed as well.
    Latin words and digits match word prefixes (and a phone's last four digits).
    """
    normalised = normalise_text(keyword).strip()
    tokens = query_tokens(normalised)
    if not tokens:  # only punctuation: nothing but an exact key can match
        return false()
    long_runs = [cjk for cjk, _ in _RUN.findall(normalised) if len(cjk) > 2]
    clause = and_(
        has_tokens(tokens_column, tokens, dialect),
        *[text_column.contains(run, autoescape=True) for run in long_runs],
    )
    if len(normalised) == 4 and normalised.isdigit():  # also the last four digits of a phone
        clause = or_(clause, has_tokens(tokens_column, [last4_token(normalised)], dialect))
    return clause
