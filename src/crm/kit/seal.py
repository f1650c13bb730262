"""Sealing an append-only trail so that a change made around the application shows.

Each record carries its number in its chain (``seq``, 1, 2, 3, … per chain), the SHA-256 of
its body, and a seal: the HMAC-SHA256, under a key the database never holds, of the seal of
the record before it and of the record's own fields (the body by its hash). Whoever edits,
deletes or inserts a record in the database, owner and superuser included, cannot make the
seals agree again without the key: a recomputation finds the first record that differs
(changed) or a number missing (gap).

A body may be legitimately rewritten once sealed only by redaction (erasing a person's data),
which blanks values and keeps the shape; the seal covers the original body's hash, so the
record stays in the chain while its body is no longer compared.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from decimal import Decimal
from typing import Any

GENESIS = "0" * 64  # the "seal before" the first record of a chain


def canonical(value: Any) -> str:
    """One text for one value: keys sorted, no spaces, characters as written."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def _numbers_as_written(value: Any) -> Any:
    # PostgreSQL's jsonb keeps numbers as NUMERIC: 1e16 comes back as 10000000000000000 and
    # 2.50 as 2.5; the hash must not see the difference.
    if isinstance(value, dict):
        return {k: _numbers_as_written(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers_as_written(v) for v in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"#": str(Decimal(repr(value)).normalize())}
    return value


def body_hash(*parts: Any) -> str:
    return hashlib.sha256(canonical(_numbers_as_written(list(parts))).encode()).hexdigest()


def seal(key: bytes, previous: str, fields: dict[str, Any]) -> str:
    """The seal of a record with ``fields`` following a record sealed ``previous``."""
    message = f"{previous}\n{canonical(fields)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
