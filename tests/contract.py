"""Validate wire traffic against Lettr's vendored OpenAPI 3.1 document.

The fake server and the client are both checked against the same document
(``tests/data/webhooks-openapi.json``), so neither can drift from the real
API's contract without a failing test.

``validate_exchange`` skips what the document cannot judge: answers shaped by
an injected fault (``faulted``), dropped connections (status 0), routes the
document does not describe (404 from an unknown path, 405) and statuses the
operation does not list (such as 429 from the rate limiter).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any, Final, Protocol

import jsonschema
import referencing
import referencing.jsonschema

__all__ = [
    "SPEC_PATH",
    "is_documented",
    "operation_for",
    "spec",
    "validate_exchange",
    "validate_request_body",
    "validate_response",
]

SPEC_PATH: Final = Path(__file__).parent / "data" / "webhooks-openapi.json"
_SPEC_URI: Final = "urn:lettr:webhooks-openapi"
_METHOD_ALIASES: Final[Mapping[str, str]] = {"patch": "put"}
_TEMPLATE_PARAM: Final = re.compile(r"\{[^/{}]+\}")


class Exchange(Protocol):
    """What ``validate_exchange`` needs from a recorded request (``RecordedRequest`` fits)."""

    @property
    def method(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def raw_path(self) -> str: ...
    @property
    def json(self) -> Any: ...
    @property
    def status(self) -> int: ...
    @property
    def response_json(self) -> Any: ...
    @property
    def faulted(self) -> bool: ...


@cache
def spec() -> dict[str, Any]:
    """The OpenAPI document, parsed once."""
    loaded: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    return loaded


@cache
def _registry() -> referencing.Registry[Any]:
    resource: referencing.Resource[Any] = referencing.Resource.from_contents(
        spec(), default_specification=referencing.jsonschema.DRAFT202012
    )
    registry: referencing.Registry[Any] = referencing.Registry()
    with_spec: referencing.Registry[Any] = registry.with_resource(_SPEC_URI, resource)
    return with_spec


def _resolve(node: Mapping[str, Any]) -> Mapping[str, Any]:
    """Follow a local ``$ref`` on a non-schema object (a response or request body)."""
    while "$ref" in node:
        pointer = str(node["$ref"]).removeprefix("#/")
        target: Any = spec()
        for part in pointer.split("/"):
            target = target[part]
        node = target
    return node


def _template_for(path: str) -> str | None:
    """Map a concrete path (``/webhooks/abc``) to its template (``/webhooks/{webhookId}``)."""
    path = path.split("?", 1)[0]
    paths: Mapping[str, Any] = spec()["paths"]
    if path in paths:
        return path
    for template in paths:
        regex = "/".join(
            "[^/]+" if _TEMPLATE_PARAM.fullmatch(segment) else re.escape(segment)
            for segment in template.split("/")
        )
        if re.fullmatch(regex, path):
            return template
    return None


def operation_for(method: str, path: str) -> tuple[str, Mapping[str, Any]] | None:
    """The (template, operation object) for a method and a concrete or template path.

    PATCH is looked up as PUT: the fake accepts PATCH as an alias of PUT and
    the document only describes PUT.
    """
    template = _template_for(path)
    if template is None:
        return None
    verb = method.lower()
    verb = _METHOD_ALIASES.get(verb, verb)
    operation = spec()["paths"][template].get(verb)
    return None if operation is None else (template, operation)


def is_documented(method: str, path: str, status: int) -> bool:
    """Whether the document lists ``status`` for this operation."""
    found = operation_for(method, path)
    return found is not None and str(status) in found[1].get("responses", {})


def _check(schema: Mapping[str, Any], instance: Any, what: str) -> None:
    validator = jsonschema.Draft202012Validator(dict(schema), registry=_registry())
    error = jsonschema.exceptions.best_match(validator.iter_errors(instance))
    if error is not None:
        location = "/".join(str(p) for p in error.absolute_path) or "<root>"
        raise AssertionError(f"{what}: {error.message} (at {location})")


def _json_schema(content_holder: Mapping[str, Any], what: str) -> Mapping[str, Any]:
    content = _resolve(content_holder).get("content", {})
    media = content.get("application/json")
    if media is None or "schema" not in media:
        raise AssertionError(f"{what}: the document gives no application/json schema")
    schema: Mapping[str, Any] = media["schema"]
    if "$ref" in schema:
        return {"$ref": _SPEC_URI + str(schema["$ref"])}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def validate_response(method: str, path: str, status: int, body: Any) -> None:
    """Assert that ``body`` is what the document allows for this operation and status.

    Raises AssertionError (with the jsonschema message) when the body does not
    match, or when the operation or status is not in the document at all.
    """
    found = operation_for(method, path)
    what = f"{method.upper()} {path} -> {status}"
    if found is None:
        raise AssertionError(f"{what}: no such operation in the document")
    responses: Mapping[str, Any] = found[1].get("responses", {})
    if str(status) not in responses:
        raise AssertionError(f"{what}: status not documented for this operation")
    _check(_json_schema(responses[str(status)], what), body, what)


def validate_request_body(method: str, path: str, body: Any) -> None:
    """Assert that ``body`` is a request body the document allows for this operation."""
    found = operation_for(method, path)
    what = f"{method.upper()} {path} request body"
    if found is None:
        raise AssertionError(f"{what}: no such operation in the document")
    request_body = found[1].get("requestBody")
    if request_body is None:
        raise AssertionError(f"{what}: the operation takes no body")
    _check(_json_schema(request_body, what), body, what)


def validate_exchange(rec: Exchange) -> None:
    """Validate one recorded exchange; skips what the document cannot judge (see module doc).

    The request body is checked only for exchanges that succeeded (a 2xx on
    an operation with a body): a rejected body may legitimately break the schema.
    """
    if rec.faulted or rec.status == 0:
        return
    if not is_documented(rec.method, rec.raw_path, rec.status):
        return
    validate_response(rec.method, rec.raw_path, rec.status, rec.response_json)
    found = operation_for(rec.method, rec.raw_path)
    if found is not None and "requestBody" in found[1] and 200 <= rec.status < 300:
        validate_request_body(rec.method, rec.raw_path, rec.json)
