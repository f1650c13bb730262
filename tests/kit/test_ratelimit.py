"""Per-token API rate limits, counted in a real Redis server or in process."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from crm.config import settings
from crm.kit.ratelimit import Limiter, MemoryLimiter, RedisLimiter, limiter_for
from tests.factories import Api


@pytest.fixture(params=["memory", "redis"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Limiter:
    url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    monkeypatch.setattr(settings, "redis_url", url)
    return limiter_for(url)


class TestLimiter:
    def test_requests_over_the_limit_are_told_how_long_to_wait(self, backend: Limiter) -> None:
        key = f"test:{uuid.uuid4()}"
        assert [backend.hit(key, 3, 60) for _ in range(3)] == [None, None, None]
        wait = backend.hit(key, 3, 60)
        assert wait is not None
        assert 0 < wait <= 60

    def test_keys_are_counted_apart(self, backend: Limiter) -> None:
        first, second = f"test:{uuid.uuid4()}", f"test:{uuid.uuid4()}"
        backend.hit(first, 1, 60)
        assert backend.hit(first, 1, 60) is not None
        assert backend.hit(second, 1, 60) is None

    def test_the_backend_follows_the_settings(self, backend: Limiter) -> None:
        assert isinstance(backend, RedisLimiter if settings.redis_url else MemoryLimiter)

    def test_an_unreachable_redis_does_not_take_the_api_down(self) -> None:
        assert RedisLimiter("redis://127.0.0.1:1/0").hit("k", 1, 60) is None


class TestPerToken:
    def test_a_token_over_its_limit_gets_429_with_retry_after_and_another_token_does_not(
        self, admin: Api, client: TestClient, backend: Limiter, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(settings, "api_rate_limit_per_minute", 3)
        headers = admin.headers  # one token
        answers = [client.get("/api/v1/auth/me", headers=headers).status_code for _ in range(4)]
        assert answers == [200, 200, 200, 429]
        limited = client.get("/api/v1/crm/customers", headers=headers)
        assert limited.status_code == 429
        assert limited.headers["content-type"].startswith("application/problem+json")
        assert 0 < int(limited.headers["retry-after"]) <= 60
        assert admin.get("/auth/me").status_code == 200  # a new token has its own budget
