"""Per-request facts (request id, client address) that audit records and logs carry."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    ip: str | None
    user_agent: str | None


_current: ContextVar[RequestContext | None] = ContextVar("crm_request", default=None)


def current_request() -> RequestContext | None:
    return _current.get()


async def request_context_middleware(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """Give every request an id (the caller's X-Request-ID when sane) and echo it back."""
    given = request.headers.get("x-request-id", "")
    request_id = given if 0 < len(given) <= 64 and given.isascii() and given.isprintable() else uuid.uuid4().hex
    token = _current.set(
        RequestContext(
            request_id=request_id,
            ip=request.client.host if request.client else None,
            user_agent=(request.headers.get("user-agent") or "")[:200] or None,
        )
    )
    try:
        response = await call_next(request)
    finally:
        _current.reset(token)
    response.headers["X-Request-ID"] = request_id
    return response
