"""The API's OpenAPI schema and documentation page (drf-spectacular): the schema is valid and
warns of nothing, and every endpoint it documents answers."""

from __future__ import annotations

import pytest
from django.core.management import call_command

LISTS = ["species", "teams", "locations", "deployments", "sightings", "media", "individuals"]


def test_the_schema_is_valid_and_generated_without_a_warning(tmp_path):
    # Fails (SchemaGenerationError) on any warning, and on a schema OpenAPI 3 does not accept.
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml")
    )
    assert "/api/v1/sightings/{id}/" in (tmp_path / "schema.yml").read_text()


def test_every_documented_endpoint_answers_a_team_member(client, records):
    client.force_login(records["users"]["cn-uploader"])
    paths = client.get("/api/v1/schema/?format=json").json()["paths"]
    answered = {}
    for path, operations in paths.items():
        if "get" in operations:
            first = client.get(path.partition("{id}")[0]).json()["results"][0]
            answered[path] = client.get(path.replace("{id}", str(first["id"]))).status_code
    documented = {f"/api/v1/{name}/" for name in LISTS} | {f"/api/v1/{n}/{{id}}/" for n in LISTS}
    assert answered == dict.fromkeys(documented, 200)
    # The one path without a GET: test_api_upload.py sends files to it.
    assert set(paths) - set(answered) == {"/api/v1/deployments/{id}/media/"}


@pytest.mark.parametrize("path", ["/api/v1/schema/", "/api/v1/docs/"])
def test_the_documentation_is_there_before_signing_in(client, db, path):
    assert client.get(path).status_code == 200


def test_the_docs_page_loads_swagger_ui_from_the_site_itself(client, alice):
    client.force_login(alice)
    page = client.get("/api/v1/docs/").content.decode()
    assert (
        '<script src="/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js">'
        in page
    )
    assert '<script src="/api/v1/docs/?script=">' in page
    assert "<script>" not in page and "<style" not in page
    script = client.get("/api/v1/docs/?script=")
    assert script["Content-Type"] == "application/javascript"
    assert b'url: "/api/v1/schema/"' in script.content
