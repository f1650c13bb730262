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
    blocking: bool  # counting waits on the network (call it from a worker thread, not the event loop)

    def hit(self, key: str, limit: int, window: int) -> int | None:
        """Count one request; None when within ``limit`` per ``window`` seconds, else seconds to wait."""

    def hit_all(self, limits: dict[str, int], window: int) -> int | None:
        """Count one request against every key's limit at once; None when within all of them."""


def _window(window: int) -> tuple[int, int]:
    now = int(time.time())
    return now // window, window - now % window


class MemoryLimiter:
    blocking = False

    def __init__(self) -> None:
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int, window: int) -> int | None:
        return self.hit_all({key: limit}, window)

    def hit_all(self, limits: dict[str, int], window: int) -> int | None:
        index, remaining = _window(window)
        over = False
        with self._lock:
            for key, limit in limits.items():
                count = self._counts.get((key, index), 0) + 1
                self._counts[(key, index)] = count
                over = over or count > limit
            if len(self._counts) > 100_000:  # forget windows that have ended
                self._counts = {k: v for k, v in self._counts.items() if k[1] >= index}
        return remaining if over else None


class RedisLimiter:
    blocking = True

    def __init__(self, url: str) -> None:
        self._client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)

    def hit(self, key: str, limit: int, window: int) -> int | None:
        return self.hit_all({key: limit}, window)

    def hit_all(self, limits: dict[str, int], window: int) -> int | None:
        index, remaining = _window(window)
        try:
            # One round trip for every counter of the request.
            pipe = self._client.pipeline(transaction=False)
            for key in limits:
                name = f"crm:ratelimit:{key}:{index}"
                pipe.incr(name)
                pipe.expire(name, window + 1)
            counts = pipe.execute()[::2]
        except redis.RedisError as error:
            log.warning("rate limit not enforced, Redis unavailable: %s", error)
            return None
        over = any(int(count) > limit for count, limit in zip(counts, limits.values(), strict=True))
        return remaining if over else None


@cache
def limiter_for(redis_url: str | None) -> Limiter:
    return RedisLimiter(redis_url) if redis_url else MemoryLimiter()


def limiter() -> Limiter:
    from crm.config import settings  # noqa: PLC0415 - kit modules read settings lazily

    return limiter_for(settings.redis_url)
