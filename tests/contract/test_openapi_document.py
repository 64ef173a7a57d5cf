"""`docs/openapi.json` is the API's contract as reviewed: it must match what the code serves.

After changing a route, regenerate it with `escuta openapi --output docs/openapi.json` and commit it,
so the change shows in review.
"""

from __future__ import annotations

import json
from pathlib import Path

from control_api.openapi import openapi_json

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_the_checked_in_document_is_current() -> None:
    assert DOCUMENT.exists(), "run: escuta openapi --output docs/openapi.json"
    assert DOCUMENT.read_text(encoding="utf-8") == openapi_json(), "run: escuta openapi --output docs/openapi.json"


def test_every_operation_has_a_typed_answer() -> None:
    """No success answer is a bare object: every route declares what it returns."""
    spec = json.loads(openapi_json())
    untyped = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if not status.startswith("2"):
                    continue
                for media in response.get("content", {}).values():
                    schema = media.get("schema", {})
                    if schema.get("type") == "object" and "properties" not in schema and "$ref" not in schema:
                        untyped.append(f"{method.upper()} {path} {status}")
    assert untyped == []


def test_docs_declare_how_to_authorize() -> None:
    spec = json.loads(openapi_json())
    assert set(spec["components"]["securitySchemes"]) == {"accessToken", "apiKey", "adminToken"}
    secured = [op for item in spec["paths"].values() for op in item.values() if op.get("security")]
    assert len(secured) > 30
    # FastAPI's 422 is never documented: invalid input is a 400 with the API's error body. A route's own
    # 422 (a CSV with bad rows, an unknown voice) carries the error body like every other error.
    operations = [op for item in spec["paths"].values() for op in item.values()]
    unprocessable = [op["responses"]["422"] for op in operations if "422" in op["responses"]]
    error_body = {"$ref": "#/components/schemas/ErrorBody"}
    assert all(r["content"]["application/json"]["schema"] == error_body for r in unprocessable)
    assert "HTTPValidationError" not in spec["components"]["schemas"]
