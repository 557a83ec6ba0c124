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


def test_operation_ids_tags_and_enum_names_stay_those_clients_were_generated_from(tmp_path, db):
    """Clients generated from the schema name their methods after operation ids and their types
    after component names. Open311's views, under /open311/ and left out of the schema, once moved
    the guessed path prefix from /api to /: every id gained an `api_` and every tag became `api`.
    A second `kind` (the planning runs') once renamed the geocoder's KindEnum."""
    schema = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(schema))
    document = yaml.safe_load(schema.read_text())

    listing = document["paths"]["/api/v1/signalements/"]["get"]
    assert listing["operationId"] == "v1_signalements_list"
    assert listing["tags"] == ["v1"]
    assert {tag for item in document["paths"].values() for op in item.values() for tag in op["tags"]} == {
        "v1"
    }
    schemas = document["components"]["schemas"]
    assert schemas["GeocodeResult"]["properties"]["kind"]["$ref"] == "#/components/schemas/KindEnum"
    assert schemas["KindEnum"]["enum"] == ["street", "place", "district", "address"]
    assert schemas["Run"]["properties"]["kind"]["$ref"] == "#/components/schemas/RunKindEnum"
