"""Per-request facts (request id, client address) that audit records and logs carry."""

from __future__ import annotations

import uuid
from contextvars import ContextVar
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    ip: str | None
    user_agent: str | None


_current: ContextVar[RequestContext | None] = ContextVar("crm_request", default=None)


def current_request() -> RequestContext | None:
    return _current.get()


class RequestContextMiddleware:
    """Give every request an id (the caller's X-Request-ID when sane) and echo it back.

    A plain ASGI middleware: Starlette's BaseHTTPMiddleware would run every request in a task
    group of its own and copy the response through a stream.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        given = headers.get("x-request-id", "")
        request_id = given if 0 < len(given) <= 64 and given.isascii() and given.isprintable() else uuid.uuid4().hex
        client = scope.get("client")
        token = _current.set(
            RequestContext(
                request_id=request_id,
                ip=client[0] if client else None,
                user_agent=(headers.get("user-agent") or "")[:200] or None,
            )
        )

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", request_id.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _current.reset(token)
