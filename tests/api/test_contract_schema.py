"""The generated OpenAPI document states API.md's conventions for every operation they
apply to (test_schema.py checks the paths, enums and the incident operations)."""

import json

import pytest

CREATING_POSTS = [
    "/api/v1/customers/",
    "/api/v1/work-orders/",
    "/api/v1/work-orders/{id}/contacts/",
    "/api/v1/rates/",
    "/api/v1/work-orders/{id}/redemptions/",
    "/api/v1/incidents/",
    "/api/v1/webhooks/",
]
PATCHES = ["/api/v1/work-orders/{id}/", "/api/v1/incidents/{id}/"]


@pytest.fixture
def schema(api_anon):
    response = api_anon.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return json.loads(response.content)


def headers(operation) -> set[str]:
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}


def queries(operation) -> set[str]:
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}


def test_the_schema_is_an_openapi_3_document(schema):
    assert schema["openapi"].startswith("3.")


@pytest.mark.parametrize("path", CREATING_POSTS)
def test_every_creating_post_documents_idempotency_key_201_and_409(schema, path):
    operation = schema["paths"][path]["post"]
    assert "Idempotency-Key" in headers(operation)
    assert {"201", "400", "401", "409", "429"} <= set(operation["responses"])


@pytest.mark.parametrize("path", PATCHES)
def test_every_patch_documents_if_match_and_412(schema, path):
    operation = schema["paths"][path]["patch"]
    assert "If-Match" in headers(operation)
    assert {"200", "400", "401", "404", "409", "412"} <= set(operation["responses"])


def test_the_contacts_list_is_documented_as_a_paginated_filterable_list(schema):
    listing = schema["paths"]["/api/v1/work-orders/{id}/contacts/"]["get"]
    assert {"page", "page_size", "active", "email"} <= queries(listing)
    ref = listing["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith("/PaginatedNamedContactList")
    create = schema["paths"]["/api/v1/work-orders/{id}/contacts/"]["post"]
    assert "201" in create["responses"] and "200" not in create["responses"]


@pytest.mark.parametrize(
    ("path", "names"),
    [
        ("/api/v1/services/", {"code", "category", "unit"}),
        ("/api/v1/customers/", {"code", "country", "language"}),
        ("/api/v1/work-orders/", {"customer", "package", "status", "number"}),
        ("/api/v1/rates/", {"service", "customer", "valid_from"}),
        ("/api/v1/work-orders/{id}/redemptions/", {"service", "status", "scheduled_for"}),
        (
            "/api/v1/incidents/",
            {
                "work_order",
                "contact",
                "number",
                "severity",
                "status",
                "external_reference",
                "response_breached",
                "is_cloud",
                "around_the_clock",
            },
        ),
        ("/api/v1/webhooks/", {"url", "active"}),
    ],
)
def test_list_filters_named_after_the_fields_are_documented(schema, path, names):
    operation = schema["paths"][path]["get"]
    assert {"page", "page_size"} <= queries(operation)
    assert names <= queries(operation)


def test_every_operation_is_under_api_v1(schema):
    assert all(path.startswith("/api/v1/") for path in schema["paths"])
