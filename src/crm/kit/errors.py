"""The CRMError hierarchy and the RFC 9457 problem+json rendering of every error.

Services raise CRMError subclasses; nothing below the endpoint layer knows about HTTP.
Messages come from the i18n catalogue in the language the client asked for.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from enum import StrEnum
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from crm.kit.i18n import Lang, negotiate, translate

log = logging.getLogger("crm.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"


class ErrorCode(StrEnum):
    NOT_FOUND = "not_found"
    NOT_AUTHENTICATED = "not_authenticated"
    INVALID_CREDENTIALS = "invalid_credentials"
    USER_INACTIVE = "user_inactive"
    PERMISSION_DENIED = "permission_denied"
    VALIDATION_FAILED = "validation_failed"
    VERSION_CONFLICT = "version_conflict"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"
    INVALID_ASSIGNEE = "invalid_assignee"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    MALFORMED_REQUEST = "malformed_request"
    HTTP_ERROR = "http_error"
    INTERNAL_ERROR = "internal_error"
    RATE_LIMITED = "rate_limited"
    TOKEN_REVOKED = "token_revoked"  # noqa: S105 - an error code, not a secret
    BODY_TOO_LARGE = "body_too_large"
    APPROVAL_REQUIRED = "approval_required"
    ALREADY_DECIDED = "already_decided"
    NOT_READY = "not_ready"
    EXPIRED = "expired"
    LEGAL_HOLD = "legal_hold"
    ALREADY_ERASED = "already_erased"
    OWN_ACCOUNT = "own_account"
    INVALID_TRANSITION = "invalid_transition"
    REOPEN_WINDOW_PASSED = "reopen_window_passed"
    ALREADY_ESCALATED = "already_escalated"
    SURVEY_ANSWERED = "survey_answered"
    SURVEY_EXPIRED = "survey_expired"
    OVERLOADED = "overloaded"
    DATABASE_UNAVAILABLE = "database_unavailable"
    ATTACHMENT_UNREADABLE = "attachment_unreadable"
    FIELD_WRITE_DENIED = "field_write_denied"
    FIELD_READ_DENIED = "field_read_denied"
    PII_SEARCH_DENIED = "pii_search_denied"


class FieldError(BaseModel):
    field: str = Field(description="Dotted path of the invalid field, e.g. `contact_phone` or `tags.2`.")
    location: str = Field(description="Where the field was sent: body, query, path or header.")
    code: str = Field(description="Machine-readable reason, e.g. `missing`, `phone_invalid`.")
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str
    title: str
    status: int
    code: str = Field(description="Stable machine-readable error code.")
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = Field(default=None, description="Invalid fields, for 422.")


class CRMError(Exception):
    status_code = 400
    code: ErrorCode = ErrorCode.HTTP_ERROR

    def __init__(
        self,
        code: ErrorCode | None = None,
        *,
        params: dict[str, Any] | None = None,
        fields: list[tuple[str, str, dict[str, Any]]] | None = None,
        headers: dict[str, str] | None = None,
        location: str = "body",
    ) -> None:
        if code is not None:
            self.code = code
        self.params = params or {}
        # (field, code, params) triples, rendered as FieldError in the caller's language.
        self.fields = fields or []
        self.location = location  # where those fields were sent
        self.headers = headers
        super().__init__(f"{self.code}: {self.params}")


class NotFound(CRMError):
    status_code = 404
    code = ErrorCode.NOT_FOUND

    def __init__(self, resource: str = "resource") -> None:
        super().__init__(params={"resource": resource})


class NotAuthenticated(CRMError):
    status_code = 401
    code = ErrorCode.NOT_AUTHENTICATED

    def __init__(self, code: ErrorCode | None = None) -> None:
        super().__init__(code, headers={"WWW-Authenticate": "Bearer"})


class PermissionDenied(CRMError):
    status_code = 403
    code = ErrorCode.PERMISSION_DENIED


class Conflict(CRMError):
    status_code = 409
    code = ErrorCode.CONFLICT


class Gone(CRMError):
    status_code = 410
    code = ErrorCode.EXPIRED


class RateLimited(CRMError):
    status_code = 429
    code = ErrorCode.RATE_LIMITED

    def __init__(self, retry_after: int) -> None:
        super().__init__(params={"seconds": retry_after}, headers={"Retry-After": str(retry_after)})


class ValidationFailed(CRMError):
    status_code = 422
    code = ErrorCode.VALIDATION_FAILED


def field_invalid(field: str, code: str, **params: Any) -> ValidationFailed:
    """A 422 naming one body field, for rules checked by a service rather than the schema."""
    return ValidationFailed(fields=[(field, code, params)])


def _problem(
    request: Request,
    status: int,
    code: str,
    lang: Lang,
    *,
    params: dict[str, Any] | None = None,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    params = dict(params or {})
    if "resource" in params:
        params["resource"] = translate(f"resource.{params['resource']}", lang)
    if "field" in params:
        params["field"] = translate(f"field.{params['field']}", lang)
    title = translate(code, lang, **params)
    body = Problem(
        type=f"urn:crm:problem:{code}",
        title=title,
        status=status,
        code=code,
        detail=title,
        instance=request.url.path,
        errors=errors,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers={**(headers or {}), "Content-Language": "zh-CN" if lang == "zh" else "en"},
    )


def _field_message(code: str, lang: Lang, params: dict[str, Any], fallback: str) -> str:
    key = f"v.{code}"
    if lang == "zh" and isinstance(params.get("expected"), str):
        params = {**params, "expected": params["expected"].replace(" or ", "、").replace(", ", "、")}
    text = translate(key, lang, **params)
    if text == key:
        return fallback if lang == "en" else translate("v.invalid", lang)
    return text


def _pydantic_errors(exc: RequestValidationError, lang: Lang) -> list[FieldError]:
    errors: list[FieldError] = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ())]
        location = loc[0] if loc else "body"
        path = loc[1:] if len(loc) > 1 else loc
        # Function-wrapped validators add their own segment, e.g. "function-after[...]", and so do
        # the branches of a tagged union (named "tagged-…", see crm.kit.validation.one_or_batch).
        path = [p for p in path if not p.startswith(("function-", "constrained-", "tagged-"))]
        # Bounds of decimal fields come as Decimal: shown as written ("不能大于 1000000000").
        ctx = {
            k: str(v) if isinstance(v, Decimal) else v
            for k, v in (err.get("ctx") or {}).items()
            if isinstance(v, str | int | float | Decimal)
        }
        if err["type"] == "value_error":
            ctx.setdefault("detail", str((err.get("ctx") or {}).get("error", err.get("msg", ""))))
        errors.append(
            FieldError(
                field=".".join(path) or location,
                location=location,
                code=err["type"],
                message=_field_message(err["type"], lang, ctx, err.get("msg", "")),
            )
        )
    return errors


def lang_of(request: Request) -> Lang:
    return negotiate(request.headers.get("accept-language"))


def render_error(request: Request, exc: CRMError) -> JSONResponse:
    """The problem+json answer for ``exc``; also for endpoints that answer an error without raising."""
    lang = lang_of(request)
    errors = [
        FieldError(field=f, location=exc.location, code=c, message=_field_message(c, lang, p, c))
        for f, c, p in exc.fields
    ] or None
    return _problem(request, exc.status_code, exc.code, lang, params=exc.params, errors=errors, headers=exc.headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CRMError)
    async def crm_error(request: Request, exc: CRMError) -> JSONResponse:
        return render_error(request, exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        lang = lang_of(request)
        return _problem(request, 422, ErrorCode.VALIDATION_FAILED, lang, errors=_pydantic_errors(exc, lang))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {
            400: ErrorCode.MALFORMED_REQUEST,
            404: ErrorCode.NOT_FOUND,
            405: ErrorCode.METHOD_NOT_ALLOWED,
            401: ErrorCode.NOT_AUTHENTICATED,
            403: ErrorCode.PERMISSION_DENIED,
        }.get(exc.status_code, ErrorCode.HTTP_ERROR)
        params = {"resource": "resource"} if code == ErrorCode.NOT_FOUND else None
        headers = dict(exc.headers) if exc.headers else None
        return _problem(request, exc.status_code, code, lang_of(request), params=params, headers=headers)

    @app.exception_handler(StaleDataError)
    async def stale(request: Request, exc: StaleDataError) -> JSONResponse:
        return _problem(request, 409, ErrorCode.VERSION_CONFLICT, lang_of(request))

    @app.exception_handler(DataError)
    async def data_error(request: Request, exc: DataError) -> JSONResponse:
        # Schemas refuse what the database cannot store; this is the net under that rule.
        log.warning("database refused a value: %s", exc.orig)
        return _problem(request, 422, ErrorCode.VALIDATION_FAILED, lang_of(request))

    @app.exception_handler(IntegrityError)
    async def integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        # Services check the rules they know; this catches the races between two writers.
        log.info("integrity error turned into 409: %s", exc.orig)
        return _problem(request, 409, ErrorCode.CONFLICT, lang_of(request))

    @app.exception_handler(PoolTimeout)
    async def pool_exhausted(request: Request, exc: PoolTimeout) -> JSONResponse:
        log.warning("no database connection within the pool timeout on %s %s", request.method, request.url.path)
        return _problem(request, 503, ErrorCode.OVERLOADED, lang_of(request), headers={"Retry-After": "1"})

    @app.exception_handler(OperationalError)
    async def database_unavailable(request: Request, exc: OperationalError) -> JSONResponse:
        if not is_transient(exc):
            return await unexpected(request, exc)
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc.orig)
        return _problem(request, 503, ErrorCode.DATABASE_UNAVAILABLE, lang_of(request), headers={"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _problem(request, 500, ErrorCode.INTERNAL_ERROR, lang_of(request))


# SQLSTATE classes of a database that is restarting, unreachable or shedding load, and of a lock
# or a serialisable transaction that lost a race: the same request succeeds when tried again.
_TRANSIENT_SQLSTATES = ("08", "53", "57", "40", "55P03")


def is_transient(exc: OperationalError) -> bool:
    """Whether the error is the database's state rather than the request's (or the code's) fault."""
    if exc.connection_invalidated:
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if isinstance(sqlstate, str):
        return sqlstate.startswith(_TRANSIENT_SQLSTATES)
    # SQLite names its transient states only in the message.
    return "database is locked" in str(exc.orig) or "unable to open database" in str(exc.orig)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation of the problem+json answers an operation can give."""
    descriptions = {
        400: "The request body could not be read (not UTF-8 or not parseable)",
        401: "Not authenticated",
        403: "Permission denied",
        404: "Not found (also for records outside the caller's data scope)",
        409: "Conflict: stale version or a broken business rule",
        410: "Gone: the link has expired or was replaced",
        413: "Request body too large",
        422: "Invalid input; `errors` names each field",
        429: "Too many attempts; `Retry-After` says when to try again",
        503: "Overloaded or the database is unavailable; `Retry-After` says when to try again",
    }
    return {
        status: {
            "description": descriptions[status],
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }
