"""The OpenAPI document: FastAPI's, plus the error answers the API really gives.

FastAPI documents a 422 with its own body on every operation; Escuta answers invalid input with 400 and
``{"error": {...}}`` instead (control_api/errors.py). This replaces the 422s and documents, per
operation, the errors its shape implies: 400 for any input, 401/403 for any credential, 404 for a path
with an id or an ``orgId`` (the platform admin acting for an organization), 413 for a request body, 503
when the database is away. Route-specific errors (402, 409,
422 for content the API understood but refuses, 429, 502) are declared on the routes with
`schemas.common.errors`. The result is checked into
`docs/openapi.json` (tests/api/test_openapi.py keeps it current).
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from control_api.schemas.common import ErrorBody

ERROR_REF = "#/components/schemas/ErrorBody"
# Operations that never touch the database (so never 503).
NO_DATABASE = {("get", "/health"), ("get", "/metrics")}


def _error(code: int) -> dict[str, Any]:
    return {"description": HTTPStatus(code).phrase, "content": {"application/json": {"schema": {"$ref": ERROR_REF}}}}


def _is_fastapi_validation(response: dict[str, Any] | None) -> bool:
    """FastAPI's own 422 (never answered); a route may still declare a real 422 of its own with `errors(422)`."""
    schema = (response or {}).get("content", {}).get("application/json", {}).get("schema", {})
    return bool(response) and schema.get("$ref", "").endswith("/HTTPValidationError")


def implied_errors(method: str, path: str, operation: dict[str, Any]) -> set[int]:
    codes: set[int] = set()
    if operation.get("parameters") or operation.get("requestBody"):
        codes.add(400)
    security = operation.get("security", [])
    if security and {} not in security:  # `{}` among them: the credential is optional, never refused
        codes |= {401, 403}
    if any("apiKey" in requirement for requirement in security):
        codes.add(429)  # a source that keeps presenting unknown keys is throttled before the lookup
    if "{" in path or any(p.get("name") == "orgId" for p in operation.get("parameters", [])):
        codes.add(404)
    if operation.get("requestBody"):
        codes.add(413)
    if (method, path) not in NO_DATABASE:
        codes.add(503)
    return codes


def build_openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    components["ErrorBody"] = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    for nested, definition in components["ErrorBody"].pop("$defs", {}).items():
        components.setdefault(nested, definition)
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            if _is_fastapi_validation(responses.get("422")):
                responses.pop("422")
            for code in implied_errors(method, path, operation):
                responses.setdefault(str(code), _error(code))
    app.openapi_schema = schema
    return schema


def openapi_json() -> str:
    """The document as checked into `docs/openapi.json`: built from default settings, stable key order."""
    from control_api.app import create_app
    from core.settings import Settings

    app = create_app(Settings(_env_file=None))  # type: ignore[call-arg]
    return json.dumps(app.openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
