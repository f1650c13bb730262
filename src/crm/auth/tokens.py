"""Signed, expiring access tokens (JWT, HS256)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Protocol

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
    generation: int  # the user's token generation when the token was issued


class TokenHolder(Protocol):
    @property
    def token_generation(self) -> int: ...


def issue_token(
    user_id: int, tenant_id: int, *, generation: int = 0, minutes: int | None = None
) -> tuple[str, datetime]:
    """A signed token for the user, valid until it expires or the user's generation moves on."""
    now = datetime.now(UTC)
    expires = now + timedelta(minutes=minutes or settings.access_token_minutes)
    payload = {
        "sub": str(user_id),
        "tid": tenant_id,
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        "iss": ISSUER,
        "jti": uuid.uuid4().hex,
        "gen": generation,
    }
    return jwt.encode(payload, settings.signing_key, algorithm=ALGORITHM), expires


def read_token(token: str) -> TokenClaims | None:
    """The token's claims, or None when it is malformed, forged or expired."""
    claims = _verified(token, settings.signing_key)
    return claims if claims is not None and claims.expires_at > datetime.now(UTC) else None


# A client sends the same token with every request: its signature is checked once per process
# (and signing key), its expiry every time.
@lru_cache(maxsize=4096)
def _verified(token: str, key: str) -> TokenClaims | None:
    try:
        payload = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["sub", "tid", "exp", "iat", "jti"]},
        )
        return TokenClaims(
            user_id=int(payload["sub"]),
            tenant_id=int(payload["tid"]),
            expires_at=datetime.fromtimestamp(payload["exp"], UTC),
            token_id=str(payload["jti"]),
            # Tokens issued before generations existed count as the first generation.
            generation=int(payload.get("gen", 0)),
        )
    except (jwt.PyJWTError, ValueError, TypeError):
        return None


def token_still_valid(user: TokenHolder, claims: TokenClaims) -> bool:
    """False once the user's password, role or account state changed after the token was issued.

    A counter rather than a time: a token issued in the same second as the change, or by a
    worker whose clock is behind, is still told apart.
    """
    return claims.generation == user.token_generation
