"""HTTP behaviour shared by every API view: validators, caching headers, open CORS reads.

Kept apart from the views so that they stay thin and every endpoint behaves the same.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date
from rest_framework.exceptions import MethodNotAllowed, ValidationError
from rest_framework.metadata import SimpleMetadata
from rest_framework.request import Request
from rest_framework.response import Response

from api.throttling import AnonThrottle, UserThrottle

# Public responses may be reused by browsers and shared caches for this long; an ETag
# revalidation afterwards costs the client one 304.
PUBLIC_MAX_AGE = 60
READ_METHODS = frozenset({"GET", "HEAD"})


# ETag (a hash of the body) and Last-Modified on reads, answering 304 when they match;
# Cache-Control; and `Access-Control-Allow-Origin: *` on reads from origins that the CORS
# settings do not list, so any site may read the public API without credentials. A view sets
# `self.last_modified` (an aware datetime) when it knows one it can trust. (Comments, not a
# docstring: drf-spectacular would publish a docstring as every operation's description.)
class HttpBehaviourMixin:
    throttle_classes = [AnonThrottle, UserThrottle]
    last_modified: datetime | None = None

    def initial(self, request: Request, *args, **kwargs) -> None:
        # A method this URL does not offer is 405 for everyone, before authentication and
        # permissions (DRF would answer 401/403 first, hiding what the URL supports).
        method = request.method.lower()
        if method not in self.http_method_names or not hasattr(self, method):
            raise MethodNotAllowed(request.method)
        super().initial(request, *args, **kwargs)

    def finalize_response(self, request: Request, response: Response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method not in READ_METHODS:
            response["Cache-Control"] = "no-store"
            return response
        patch_vary_headers(response, ("Accept", "Authorization", "Cookie"))
        if request.headers.get("Origin") and "Access-Control-Allow-Origin" not in response:
            response["Access-Control-Allow-Origin"] = "*"
            response["Access-Control-Expose-Headers"] = "ETag"
        if response.status_code != 200:
            return response
        authenticated = bool(request.user and request.user.is_authenticated)
        # What a curator sees (drafts) must never be cached for the public.
        response["Cache-Control"] = (
            "private, no-cache" if authenticated else f"public, max-age={PUBLIC_MAX_AGE}"
        )
        response.render()
        etag = f'"{hashlib.blake2b(response.content, digest_size=16).hexdigest()}"'
        response["ETag"] = etag
        last_modified = None
        if self.last_modified is not None:
            last_modified = int(self.last_modified.timestamp())
            response["Last-Modified"] = http_date(last_modified)
        return get_conditional_response(
            request, etag=etag, last_modified=last_modified, response=response
        )


class PlainMetadata(SimpleMetadata):
    """OPTIONS answers name, description, renderers and parsers; the schema at /api/schema/
    describes fields. (DRF's default introspects a serializer these views do not have.)"""

    def determine_metadata(self, request, view):
        return {
            "name": view.get_view_name(),
            "description": view.get_view_description(),
            "renders": [renderer.media_type for renderer in view.renderer_classes],
            "parses": [parser.media_type for parser in view.parser_classes],
        }


def reject_empty(query_params, names) -> None:
    """A typed parameter sent empty ("?max_duration=") is a mistake, not "no filter": 400."""
    errors = {
        name: ["This parameter may not be empty."]
        for name in names
        if name in query_params and any(v.strip() == "" for v in query_params.getlist(name))
    }
    if errors:
        raise ValidationError(errors)
