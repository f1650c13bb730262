"""Admission control: at most as many API requests work at once as there are database connections.

A request takes a pooled connection in one worker thread and needs another thread to finish
(the endpoint, then the commit). With more requests in flight than connections, the threads
fill up with requests waiting for a connection while the requests holding the connections
wait for a thread: the process stalls until the pool's timeout and answers 500. Admitting
no more requests than the pool can serve makes that impossible; the others wait here, where
waiting costs neither a thread nor a connection, and past a bounded line or a bounded wait
they are answered 503 with Retry-After at once, so an overloaded API sheds load instead of
hanging and recovers by itself when the burst ends.
"""

from __future__ import annotations

import asyncio
import logging
import time

from starlette.types import ASGIApp, Receive, Scope, Send

from crm.kit.http import send_problem

log = logging.getLogger(__name__)

# Paths that need no database (the API description, the UI's files) are not counted.
ADMITTED_PREFIX = "/api/v1/"


class AdmissionControl:
    def __init__(self, app: ASGIApp, *, limit: int, queue: int, wait_seconds: float, retry_after: int = 1) -> None:
        self.app = app
        self.limit = limit
        self.queue = queue
        self.wait_seconds = wait_seconds
        self.retry_after = retry_after
        self._slots: asyncio.Semaphore | None = None
        self.waiting = 0
        self.in_flight = 0
        self.shed = 0  # requests answered 503 since the process started
        self._last_warning = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(ADMITTED_PREFIX):
            await self.app(scope, receive, send)
            return
        if self._slots is None:  # made on the serving loop, not at import
            self._slots = asyncio.Semaphore(self.limit)
        if not await self._admit(self._slots):
            await self._refuse(scope, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
            self._slots.release()

    async def _admit(self, slots: asyncio.Semaphore) -> bool:
        if not slots.locked():
            await slots.acquire()
            return True
        if self.waiting >= self.queue:
            return False
        self.waiting += 1
        try:
            async with asyncio.timeout(self.wait_seconds):
                await slots.acquire()
            return True
        except TimeoutError:
            return False
        finally:
            self.waiting -= 1

    async def _refuse(self, scope: Scope, send: Send) -> None:
        self.shed += 1
        now = time.monotonic()
        if now - self._last_warning > 10:
            self._last_warning = now
            log.warning(
                "overloaded: %d requests in flight, %d waiting; %d answered 503 so far",
                self.in_flight,
                self.waiting,
                self.shed,
            )
        await send_problem(scope, send, 503, "overloaded", headers=[(b"retry-after", str(self.retry_after).encode())])
