"""The OpenAPI document's answers that every operation shares (drf-spectacular hooks)."""

from __future__ import annotations

from typing import Any

UNSUPPORTED_MEDIA_TYPE = {
    "description": "The body is not in a media type this operation reads (its requestBody lists them).",
}


def document_unsupported_media_type(result: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
    """Every operation that reads a body answers 415 to a body of another media type (DRF's
    parsers, before the view runs); the schema says so, as it must say every answer."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                operation.setdefault("responses", {}).setdefault("415", dict(UNSUPPORTED_MEDIA_TYPE))
    return result
