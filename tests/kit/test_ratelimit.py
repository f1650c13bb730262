"""Per-token API rate limits, counted in a real Redis server or in process."""

from __future__ import annotations

import uuid

import pytest
import redis
from fastapi.testclient import TestClient

from crm.config import settings
from crm.kit.ratelimit import Limiter, MemoryLimiter, RedisLimiter, limiter_for
from tests.factories import Api


@pytest.fixture(params=["memory", "redis"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Limiter:
    url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    monkeypatch.setattr(settings, "redis_url", url)
    if url:
        redis.Redis.from_url(url).flushdb()
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

    def test_signing_in_again_does_not_give_a_user_a_fresh_budget(
        self, admin: Api, client: TestClient, backend: Limiter, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(settings, "api_rate_limit_per_user_minute", 3)
        answers = [client.get("/api/v1/auth/me", headers=admin.headers).status_code for _ in range(4)]
        assert answers == [200, 200, 200, 429]  # four tokens, one user

    def test_a_user_over_their_limit_leaves_colleagues_their_own(
        self,
        admin: Api,
        sales_a: Api,
        client: TestClient,
        backend: Limiter,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(settings, "api_rate_limit_per_user_minute", 2)
        assert [admin.get("/auth/me").status_code for _ in range(3)] == [200, 200, 429]
        assert sales_a.get("/auth/me").status_code == 200


class TestPerTenant:
    def test_a_tenant_over_its_limit_is_limited_for_every_user_and_other_tenants_are_not(
        self,
        admin: Api,
        sales_a: Api,
        outsider: Api,
        backend: Limiter,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(settings, "api_rate_limit_per_tenant_minute", 3)
        assert [admin.get("/auth/me").status_code for _ in range(2)] == [200, 200]
        assert sales_a.get("/auth/me").status_code == 200
        limited = sales_a.get("/auth/me")
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) > 0
        assert outsider.get("/auth/me").status_code == 200


class TestOneRoundTrip:
    def test_every_counter_of_a_request_counts_even_when_another_is_over(self, backend: Limiter) -> None:
        small, large = f"test:{uuid.uuid4()}", f"test:{uuid.uuid4()}"
        assert backend.hit_all({small: 1, large: 10}, 60) is None
        assert backend.hit_all({small: 1, large: 10}, 60) is not None
        assert backend.hit(large, 2, 60) is not None  # the large counter is at 3 now
