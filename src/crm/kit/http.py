"""HTTP hardening every response gets: security headers and a cap on request bodies."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crm.kit.i18n import negotiate, translate

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
# The API answers JSON only; the documentation page loads Swagger UI and so gets no CSP here.
API_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")


def download_headers(file_name: str, size: int) -> dict[str, str]:
    """Headers that make a streamed body a download named ``file_name`` (RFC 6266: non-ASCII
    names as UTF-8 in ``filename*``), as Starlette's FileResponse writes them."""
    quoted = quote(file_name)
    disposition = (
        f'attachment; filename="{file_name}"' if quoted == file_name else f"attachment; filename*=utf-8''{quoted}"
    )
    return {"Content-Disposition": disposition, "Content-Length": str(size)}


class _BodyTooLarge(Exception):
    pass


class HardeningMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_upload_bytes: int | None = None) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        # File uploads (paths ending in /attachments) may be larger: the file plus its form.
        self.max_upload_bytes = max(max_upload_bytes or 0, max_body_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_api = scope["path"].startswith("/api/v1")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += SECURITY_HEADERS + ([API_CSP] if is_api else [])
                message = {**message, "headers": headers}
            await send(message)

        limit = self.max_upload_bytes if scope["path"].endswith("/attachments") else self.max_body_bytes
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._too_large(scope, send_with_headers)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, counting_receive, send_with_headers)
        except _BodyTooLarge:
            await self._too_large(scope, send_with_headers)

    async def _too_large(self, scope: Scope, send: Send) -> None:
        await send_problem(scope, send, 413, "body_too_large", limit=self.max_body_bytes)


async def send_problem(
    scope: Scope, send: Send, status: int, code: str, *, headers: list[tuple[bytes, bytes]] | None = None, **params: Any
) -> None:
    """Answer with a problem+json document from below the application (middleware)."""
    accept = dict(scope.get("headers", [])).get(b"accept-language", b"").decode("latin-1")
    lang = negotiate(accept)
    title = translate(code, lang, **params)
    body: dict[str, Any] = {
        "type": f"urn:crm:problem:{code}",
        "title": title,
        "status": status,
        "code": code,
        "detail": title,
        "instance": scope["path"],
    }
    payload = json.dumps(body, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(payload)).encode()),
                (b"content-language", b"zh-CN" if lang == "zh" else b"en"),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
