"""create_app(): the ASGI application with its routers, middleware and error handlers."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from crm import __version__, jobs
from crm.api import api_router
from crm.config import settings
from crm.kit.admission import AdmissionControl
from crm.kit.context import RequestContextMiddleware
from crm.kit.db import make_engine, make_session_factory
from crm.kit.errors import FieldError, Problem, install_error_handlers
from crm.kit.http import HardeningMiddleware
from crm.kit.migrate import is_up_to_date, owns_audit_trail
from crm.webui import install_web_ui

log = logging.getLogger(__name__)


class DatabaseNotMigrated(RuntimeError):
    def __init__(self) -> None:
        super().__init__(
            "数据库尚未迁移到最新版本，请先运行 `crm db upgrade`。 "
            "The database is not migrated to the latest version; run `crm db upgrade` first."
        )


def served_app() -> FastAPI:
    """The application as ``crm serve`` runs it in each worker process.

    Once started, the worker's heap (modules, mappers, schemas, routes: some 250,000 objects)
    lives as long as the process. Left to the garbage collector, every full collection walks all
    of it again, a pause of tens of milliseconds each time a request happens to trigger one;
    frozen out of its reach, a collection walks what requests allocate.
    """
    return create_app(freeze_heap=True)


def create_app(
    session_factory: sessionmaker[Session] | None = None,
    *,
    check_migrations: bool = True,
    run_jobs: bool | None = None,
    freeze_heap: bool = False,
) -> FastAPI:
    """The application; with ``run_jobs`` (default: when it owns its database and the settings
    say so) it also runs the scheduled jobs in process."""
    engine: Engine | None = None
    if run_jobs is None:
        run_jobs = session_factory is None and settings.run_jobs_in_process
    if session_factory is None:
        engine = make_engine(
            settings.database_url,
            echo=settings.sql_echo,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_timeout=settings.db_pool_timeout_seconds,
            lock_timeout=settings.db_lock_timeout_seconds,
        )
        session_factory = make_session_factory(engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        bind = session_factory.kw.get("bind")
        if check_migrations and isinstance(bind, Engine):
            if not is_up_to_date(bind):
                raise DatabaseNotMigrated()
            if owns_audit_trail(bind):
                log.warning(
                    "应用以审计日志所有者的身份连接数据库，审计日志可被其修改；请按 README 配置两个数据库账号。 "
                    "The application connects as the owner of audit_logs and could alter the audit trail: "
                    "run it as a separate user (CRM_DATABASE_URL) and migrate as the owner (CRM_DATABASE_OWNER_URL)."
                )
        # Every admitted request may hold a worker thread at once (see crm.kit.admission).
        threads = anyio.to_thread.current_default_thread_limiter()
        threads.total_tokens = max(threads.total_tokens, settings.request_slots + 4)
        task = jobs.start_in_process(session_factory, settings.jobs_interval_seconds) if run_jobs else None
        if freeze_heap:
            gc.collect()
            gc.freeze()
        yield
        if task is not None:
            await jobs.stop(task)
        if engine is not None:
            engine.dispose()

    app = FastAPI(
        title="CRM 客户关系管理",
        version=__version__,
        description=(
            "客户档案、联系人、地址、分级与分配。Customer profiles, contacts, addresses, grading and assignment."
        ),
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.session_factory = session_factory
    install_error_handlers(app)
    app.add_middleware(
        AdmissionControl,
        limit=settings.request_slots,
        queue=settings.request_queue_limit,
        wait_seconds=settings.request_queue_seconds,
    )
    app.add_middleware(RequestContextMiddleware)
    app.add_middleware(
        HardeningMiddleware,
        max_body_bytes=settings.max_body_bytes,
        max_upload_bytes=settings.attachment_max_bytes + 64 * 1024,
    )
    app.include_router(api_router)

    install_web_ui(app)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for model in (Problem, FieldError):
                definition = model.model_json_schema(ref_template="#/components/schemas/{model}")
                components.update(definition.pop("$defs", {}))
                components[model.__name__] = definition
            _document_problems(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _document_problems(schema: dict[str, Any]) -> None:
    """FastAPI documents its own 422 shape; ours is problem+json everywhere."""
    components = schema["components"]["schemas"]
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            responses = operation.get("responses", {})
            if "422" in responses:
                responses["422"] = {
                    "description": "Invalid input; `errors` names each field",
                    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
                }
