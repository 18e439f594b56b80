"""Every API error in one shape, and domain errors mapped to HTTP in one place.

Body of every 4xx:
    {"detail": "<summary>", "errors": [{"field": "<name or null>", "code": "...",
                                       "message": "..."}]}
`field` names the query parameter or body field at fault (dotted for nested fields, e.g.
"sections.0.items.1.resource"); it is null when no single field is at fault (authentication,
permissions, throttling). A duplicate URL (409) also carries the existing resource.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler

from curation.catalog.services import DuplicateResource

NON_FIELD_KEYS = frozenset({"non_field_errors", "__all__", "detail"})


def _flatten(data: Any, codes: Any, path: str | None) -> list[dict[str, Any]]:
    """Turn DRF's nested {field: [messages]} into a flat list naming each field."""
    if isinstance(data, dict):
        found = []
        for key, value in data.items():
            child = None if key in NON_FIELD_KEYS else (f"{path}.{key}" if path else str(key))
            if key in NON_FIELD_KEYS and path:
                child = path
            sub_codes = codes.get(key) if isinstance(codes, dict) else codes
            found += _flatten(value, sub_codes, child)
        return found
    if isinstance(data, list):
        found = []
        for index, value in enumerate(data):
            sub_codes = codes[index] if isinstance(codes, list) and index < len(codes) else codes
            if isinstance(value, dict | list):
                # A list of nested objects: the index is part of the field's name.
                found += _flatten(value, sub_codes, f"{path}.{index}" if path else str(index))
            else:
                found += _flatten(value, sub_codes, path)
        return found
    code = codes if isinstance(codes, str) else "invalid"
    return [{"field": path, "code": code, "message": str(data)}]


def error_body(detail: str, errors: list[dict[str, Any]]) -> dict[str, Any]:
    return {"detail": detail, "errors": errors}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, with domain errors mapped to HTTP and one body shape for all 4xx."""
    if isinstance(exc, DuplicateResource):
        from api.serializers import resource_detail

        message = str(exc)
        body = error_body(
            "This URL is already in the catalogue.",
            [{"field": "url", "code": "duplicate", "message": message}],
        )
        body["existing"] = resource_detail(exc.existing)
        return Response(body, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, RequestDataTooBig):
        # Django would answer with an HTML 400; say it in the API's own shape.
        exc = exceptions.ParseError(
            f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes."
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    if isinstance(exc, exceptions.ValidationError) or isinstance(exc.detail, dict | list):
        errors = []
        for error in _flatten(exc.detail, exc.get_codes(), None):
            # Two validators may say the same thing (DRF's URL check and ours): say it once.
            if error not in errors:
                errors.append(error)
        summary = "The request is invalid." if response.status_code == 400 else errors[0]["message"]
        response.data = error_body(summary, errors)
    else:
        message = str(exc.detail)
        response.data = error_body(
            message, [{"field": None, "code": exc.get_codes(), "message": message}]
        )
    return response


def api_not_found(request, exception=None):
    """Django's 404 handler: JSON in the API's error shape under /api/, HTML elsewhere.

    A URL the API does not route (e.g. /api/v1/reports/abc/) is still an API answer a client
    can parse; the admin keeps Django's page.
    """
    from django.http import JsonResponse
    from django.views.defaults import page_not_found

    if request.path.startswith("/api/"):
        return JsonResponse(
            {
                "detail": "Not found.",
                "errors": [
                    {"field": None, "code": "not_found", "message": "No API endpoint here."}
                ],
            },
            status=404,
        )
    return page_not_found(request, exception)
