"""The OpenAPI schema is served and documents the intake."""

import yaml
from django.core.management import call_command


def test_the_openapi_schema_documents_the_endpoints(client, db):
    response = client.get("/api/schema/")

    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    post = schema["paths"]["/api/v1/signalements/"]["post"]
    assert {p["name"] for p in post["parameters"]} >= {"Idempotency-Key"}
    assert "201" in post["responses"]
    get = schema["paths"]["/api/v1/signalements/"]["get"]
    assert {p["name"] for p in get["parameters"]} >= {
        "category",
        "status",
        "district",
        "team",
        "bbox",
        "created_after",
        "created_before",
        "page",
    }
    assert "/api/v1/categories/" in schema["paths"] and "/api/v1/districts/" in schema["paths"]


def test_the_api_documentation_page_needs_no_cdn(client, db):
    page = client.get("/api/docs/").content.decode()

    assert "swagger-ui" in page
    assert "cdn.jsdelivr" not in page and "unpkg.com" not in page


def test_the_schema_is_generated_without_a_warning_and_validates(tmp_path, db):
    """A view or field that drf-spectacular cannot read is left out of the schema or typed as any
    object, and so of the clients generated from it: each such warning fails the generation here."""
    schema = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(schema))

    paths = yaml.safe_load(schema.read_text())["paths"]
    assert "/api/v1/geocode/" in paths
