"""Health, readiness and the OpenAPI document."""

from __future__ import annotations

from tests.conftest import Api


def test_health_and_ready(api: Api) -> None:
    assert api.client.get("/health").json() == {"status": "ok"}
    ready = api.client.get("/ready")
    assert ready.status_code == 200, ready.text
    checks = ready.json()["checks"]
    assert checks["database"] == "ok"
    assert checks["archive"].startswith("ok")
    assert checks["converter"].startswith("ok")


def test_openapi_documents_every_route_and_the_token(api: Api) -> None:
    schema = api.client.get("/schema/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/api/v1/workspaces/{workspace_id}",
        "/api/v1/workspaces/{workspace_id}/agreements",
        "/api/v1/agreements/{agreement_id}",
        "/api/v1/agreements/{agreement_id}/versions/{number}/pdf",
        "/api/v1/agreements/{agreement_id}/versions/{number}/completed.pdf",
        "/api/v1/agreements/{agreement_id}/versions/{number}/signing-links",
        "/api/v1/agreements/{agreement_id}/versions/{number}/countersign",
        "/api/v1/agreements/{agreement_id}/versions/{number}/void",
        "/api/v1/verify",
        "/api/v1/reissues",
        "/api/v1/reissues/{reissue_id}",
        "/api/v1/processor-profile",
        "/api/v1/processor-profile/versions",
        "/api/v1/processor-profile/versions/{number}",
        "/api/v1/processor-profile/versions/{number}/approve",
        "/health",
        "/ready",
    ):
        assert path in paths, path
    assert "BearerToken" in schema["components"]["securitySchemes"]
    body = paths["/api/v1/workspaces/{workspace_id}"]["put"]["requestBody"]
    assert body["required"] is True
    # the languages, the bilingual flag and the main agreement's start are documented
    ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    details = schema["components"]["schemas"][ref]["properties"]
    assert details["language"]["enum"] == ["en", "lv"]
    assert {"bilingual", "main_agreement_start"} <= set(details)
    upload = paths["/api/v1/templates/{template_key}/versions"]["post"]
    assert "language" in [p["name"] for p in upload["parameters"]]


def test_web_pages_are_not_in_the_api_schema(api: Api) -> None:
    paths = api.client.get("/schema/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith(("/sign", "/verify", "/static", "/staff"))]


def test_the_readme_documents_every_setting() -> None:
    from pathlib import Path

    from dpa_service.config import documented_variables

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert [v for v in documented_variables() if f"`{v}`" not in readme] == []
