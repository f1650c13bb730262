"""How a synchronous endpoint runs: in one worker thread together with its unit of work's commit.

FastAPI runs a synchronous endpoint in a worker thread, then validates its answer in another,
and the session dependency commits in a third. Each hand-over to a thread costs the event loop
and, worse, makes one more thread contend for the interpreter lock while others compute. Routed
through ``UnitOfWorkRoute``, the endpoint runs and, when it returns, commits the request's
session in the same thread; FastAPI then takes the endpoint for a coroutine and validates the
answer on the event loop, and the session dependency, finding the transaction ended, closes the
session without a thread. An endpoint that raises commits nothing: the dependency rolls back.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool


def _run_and_commit(endpoint: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    result = endpoint(**kwargs)
    for value in kwargs.values():
        if isinstance(value, Session) and value.in_transaction():
            value.commit()
    return result


def in_worker_thread(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(endpoint)
    async def call(**kwargs: Any) -> Any:
        return await run_in_threadpool(_run_and_commit, endpoint, kwargs)

    return call


class UnitOfWorkRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = in_worker_thread(endpoint)
        super().__init__(path, endpoint, **kwargs)
