"""Serving the built UI from the API process (crm.webui), without a browser."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from crm.kit.errors import install_error_handlers
from crm.webui import install_web_ui


def _client(static: Path) -> Iterator[TestClient]:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/api/v1/ping")
    def ping() -> dict[str, str]:
        return {"pong": "ok"}

    install_web_ui(app, static)
    with TestClient(app) as client:
        yield client


@pytest.fixture
def build(tmp_path: Path) -> Path:
    static = tmp_path / "static"
    (static / "assets").mkdir(parents=True)
    (static / "index.html").write_text("<!doctype html><div id=app></div>", encoding="utf-8")
    (static / "assets" / "index-abc123.js").write_text("console.log(1)", encoding="utf-8")
    (static / "favicon.svg").write_text("<svg/>", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("not for the web", encoding="utf-8")
    return static


@pytest.fixture
def client(build: Path) -> Iterator[TestClient]:
    yield from _client(build)


class TestServingTheBuild:
    def test_client_side_routes_get_the_app(self, client: TestClient) -> None:
        survey_link = "/survey/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"  # a token's dots are no file
        for path in ["/", "/customers", "/customers/12/edit", "/login?redirect=/approvals", survey_link]:
            answer = client.get(path)
            assert answer.status_code == 200, path
            assert answer.text.startswith("<!doctype html>")
            assert answer.headers["cache-control"] == "no-cache"
            assert "default-src 'self'" in answer.headers["content-security-policy"]

    def test_assets_are_served_with_their_type_and_cached_for_good(self, client: TestClient) -> None:
        answer = client.get("/assets/index-abc123.js")
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/javascript")
        assert "immutable" in answer.headers["cache-control"]
        assert client.get("/favicon.svg").headers["content-type"].startswith("image/svg+xml")

    def test_a_missing_asset_is_a_404_not_the_app(self, client: TestClient) -> None:
        assert client.get("/assets/index-old.js").status_code == 404
        assert client.get("/robots.txt").status_code == 404

    def test_nothing_outside_the_build_is_served(self, client: TestClient) -> None:
        for path in ["/../secret.txt", "/%2e%2e/secret.txt", "/assets/..%2f..%2fsecret.txt"]:
            answer = client.get(path)
            assert "not for the web" not in answer.text, path

    def test_the_api_keeps_its_own_answers(self, client: TestClient) -> None:
        assert client.get("/api/v1/ping").json() == {"pong": "ok"}
        for method in ("GET", "POST", "DELETE"):
            answer = client.request(method, "/api/v1/nowhere")
            assert answer.status_code == 404, method
            assert answer.headers["content-type"] == "application/problem+json"
        assert client.get("/api").status_code == 404
        assert client.post("/api/v1/ping").status_code == 405

    def test_only_reads_reach_the_app(self, client: TestClient) -> None:
        assert client.post("/customers").status_code == 405
        assert client.head("/customers").status_code == 200


class TestWithoutABuild:
    def test_the_front_page_says_how_to_build_it(self, tmp_path: Path) -> None:
        for client in _client(tmp_path / "missing"):
            answer = client.get("/")
            assert answer.status_code == 503
            assert "网页界面尚未构建" in answer.text
            assert "The web UI is not built yet" in answer.text
            assert "make run" in answer.text
            assert client.get("/customers/1").status_code == 503
            assert client.get("/api/v1/ping").status_code == 200
