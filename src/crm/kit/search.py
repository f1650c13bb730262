"""Keyword search over CJK and Latin text, served by an index on both databases.

PostgreSQL's trigram indexes cannot answer one- or two-character queries, which are the
normal case in Chinese (华为, 张). So, as Elasticsearch's CJK analyzer does, every indexed
text is broken into tokens stored with the row and indexed (GIN over text[] on PostgreSQL):

* runs of CJK characters give each character (unigram) and each adjacent pair (bigram);
* runs of letters and digits give each prefix of the word (edge n-grams), so a name,
  code, e-mail or phone can be found by its beginning;
* phone numbers also give their last four digits, exact keys (code, phone, e-mail) an
  ``=`` token, and the first characters of the name ``^`` tokens: these rank exact matches
  first and name prefixes second.

A query is broken the same way (CJK runs into bigrams, or the single character; Latin
words whole) and a row matches when it holds every query token. Bigrams of a run of three
or more characters do not prove adjacency, so for those the row's plain text must also
contain the run: the index narrows, the substring check confirms.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from sqlalchemy import ColumnElement, SQLColumnExpression, Text, and_, cast, false, func, literal, true
from sqlalchemy.dialects.postgresql import ARRAY

MAX_PREFIX = 24
# Names are indexed by their first characters too (``^`` tokens), so that "name starts with
# the keyword" is answered by the index when a broad keyword has many matches.
NAME_PREFIX = 8

_CJK = (
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK ideographs and extensions A, compatibility
    "\u3040-\u30ff\uac00-\ud7af"  # kana and hangul, so Japanese and Korean names work too
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


def index_tokens(
    texts: Iterable[str], *, phones: Iterable[str] = (), exact: Iterable[str] = (), name: str | None = None
) -> list[str]:
    """Tokens to store for a row; ``phones`` are normalised phones, ``exact`` exact keys."""
    tokens: set[str] = set()
    if name:
        head = _prefix_key(name)
        tokens.update("^" + head[:n] for n in range(1, min(len(head), NAME_PREFIX) + 1))
    for text in texts:
        for cjk, word in _RUN.findall(normalise_text(text)):
            tokens.update(_cjk_tokens(cjk) if cjk else _word_prefixes(word))
    for phone in phones:
        digits = "".join(ch for ch in phone if ch.isdigit())
        tokens.update(_word_prefixes(digits))
        if "-" in phone:
            tokens.update(_word_prefixes(phone.split("-", 1)[1]))
        tokens.add(digits[-4:])
        tokens.add("=" + digits)
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


def exact_key(keyword: str) -> str:
    text = normalise_text(keyword).strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    # A phone typed with spaces or hyphens is still an exact phone match.
    if digits and len(digits) >= 7 and not any(ch.isalpha() for ch in text):
        return "=" + digits
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
    return and_(
        has_tokens(tokens_column, tokens, dialect),
        *[text_column.contains(run, autoescape=True) for run in long_runs],
    )
