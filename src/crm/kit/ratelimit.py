"""Request rate limits: fixed one-minute windows counted in Redis, or in process without it.

With ``CRM_REDIS_URL`` set, every API worker shares the counters; unset (the embedded
mode, one process), a dictionary does. A Redis outage does not take the API down: the
limit is then not enforced, and the outage is logged.
"""

from __future__ import annotations

import logging
import threading
import time
from functools import cache
from typing import Protocol

import redis

log = logging.getLogger(__name__)


class Limiter(Protocol):
    def hit(self, key: str, limit: int, window: int) -> int | None:
        """Count one request; None when within ``limit`` per ``window`` seconds, else seconds to wait."""


def _window(window: int) -> tuple[int, int]:
    now = int(time.time())
    return now // window, window - now % window


class MemoryLimiter:
    def __init__(self) -> None:
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int, window: int) -> int | None:
        index, remaining = _window(window)
        with self._lock:
            count = self._counts.get((key, index), 0) + 1
            self._counts[(key, index)] = count
            if len(self._counts) > 100_000:  # forget windows that have ended
                self._counts = {k: v for k, v in self._counts.items() if k[1] >= index}
        return None if count <= limit else remaining


class RedisLimiter:
    def __init__(self, url: str) -> None:
        self._client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)

    def hit(self, key: str, limit: int, window: int) -> int | None:
        index, remaining = _window(window)
        name = f"crm:ratelimit:{key}:{index}"
        try:
            pipe = self._client.pipeline()
            pipe.incr(name)
            pipe.expire(name, window + 1)
            count = int(pipe.execute()[0])
        except redis.RedisError as error:
            log.warning("rate limit not enforced, Redis unavailable: %s", error)
            return None
        return None if count <= limit else remaining


@cache
def limiter_for(redis_url: str | None) -> Limiter:
    return RedisLimiter(redis_url) if redis_url else MemoryLimiter()


def limiter() -> Limiter:
    from crm.config import settings  # noqa: PLC0415 - kit modules read settings lazily

    return limiter_for(settings.redis_url)
