"""The API contract of errors and documentation."""

from __future__ import annotations

from fastapi.testclient import TestClient


class TestProblemDocuments:
    def test_an_unknown_route_is_a_problem_in_the_callers_language(self, client: TestClient) -> None:
        zh = client.get("/api/v1/nowhere")
        en = client.get("/api/v1/nowhere", headers={"Accept-Language": "en"})
        assert zh.status_code == en.status_code == 404
        assert zh.headers["content-type"] == "application/problem+json"
        assert zh.json()["title"] == "资源不存在"
        assert en.json()["title"] == "Resource not found"
        assert zh.json()["type"] == "urn:crm:problem:not_found"
        assert zh.json()["instance"] == "/api/v1/nowhere"

    def test_a_wrong_method_is_a_405_problem(self, client: TestClient) -> None:
        response = client.patch("/api/v1/auth/me")
        assert response.status_code == 405
        assert response.json()["code"] == "method_not_allowed"


class TestOpenApi:
    def test_the_spec_and_docs_are_served(self, client: TestClient) -> None:
        spec = client.get("/api/openapi.json").json()
        assert client.get("/api/docs").status_code == 200
        paths = spec["paths"]
        for path in [
            "/api/v1/crm/customers",
            "/api/v1/crm/customers/{customer_id}",
            "/api/v1/crm/customers/search",
            "/api/v1/crm/customers/{customer_id}/level",
            "/api/v1/crm/customers/{customer_id}/assign_sales",
            "/api/v1/crm/customers/{customer_id}/contacts",
            "/api/v1/crm/contacts/{contact_id}",
            "/api/v1/crm/customers/{customer_id}/addresses",
            "/api/v1/crm/addresses/{address_id}",
        ]:
            assert path in paths

    def test_every_error_response_is_documented_as_problem_json(self, client: TestClient) -> None:
        spec = client.get("/api/openapi.json").json()
        for path, operations in spec["paths"].items():
            for method, operation in operations.items():
                for status, response in operation["responses"].items():
                    if status.startswith(("4", "5")):
                        assert list(response["content"]) == ["application/problem+json"], (method, path, status)
                assert operation.get("description") or operation.get("summary"), (method, path)
