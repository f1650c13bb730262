"""Signed, expiring access tokens (JWT, HS256)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from crm.config import settings

ALGORITHM = "HS256"
ISSUER = "crm"


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    tenant_id: int
    expires_at: datetime
    token_id: str


def issue_token(user_id: int, tenant_id: int, *, minutes: int | None = None) -> tuple[str, datetime]:
    now = datetime.now(UTC)
    expires = now + timedelta(minutes=minutes or settings.access_token_minutes)
    payload = {
        "sub": str(user_id),
        "tid": tenant_id,
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        "iss": ISSUER,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(payload, settings.signing_key, algorithm=ALGORITHM), expires


def read_token(token: str) -> TokenClaims | None:
    """The token's claims, or None when it is malformed, forged or expired."""
    try:
        payload = jwt.decode(
            token,
            settings.signing_key,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["sub", "tid", "exp", "iat", "jti"]},
        )
        return TokenClaims(
            user_id=int(payload["sub"]),
            tenant_id=int(payload["tid"]),
            expires_at=datetime.fromtimestamp(payload["exp"], UTC),
            token_id=str(payload["jti"]),
        )
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
