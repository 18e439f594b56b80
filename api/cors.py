"""Preflight answers for public cross-origin reads from origins CORS settings do not list.

django-cors-headers answers every preflight, but grants only the listed origins (those may
send credentials). A public read that needs a preflight (it sends If-None-Match, say) from
any other origin would be refused, though the API promises public reads to every origin.
This middleware, placed before corsheaders, answers those preflights itself: reads only,
no credentials, and only the headers a read needs.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.http import HttpResponse

PUBLIC_READ_METHODS = frozenset({"GET", "HEAD"})
PUBLIC_READ_HEADERS = frozenset(
    {"accept", "accept-language", "content-language", "if-none-match", "if-modified-since"}
)
PREFLIGHT_MAX_AGE = 86400


class PublicReadPreflightMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.path_pattern = re.compile(settings.CORS_URLS_REGEX)

    def __call__(self, request):
        origin = request.headers.get("Origin")
        wanted = request.headers.get("Access-Control-Request-Method", "").upper()
        if (
            request.method == "OPTIONS"
            and origin
            and wanted
            and origin not in settings.CORS_ALLOWED_ORIGINS
            and self.path_pattern.match(request.path_info)
        ):
            return self._answer(request, wanted)
        return self.get_response(request)

    def _answer(self, request, wanted: str) -> HttpResponse:
        response = HttpResponse(status=200)
        asked = {
            h.strip().lower()
            for h in request.headers.get("Access-Control-Request-Headers", "").split(",")
            if h.strip()
        }
        # Anything beyond a plain read (a write, credentials in Authorization) gets no grant:
        # the browser then refuses the request, as it should for an unlisted origin.
        if wanted in PUBLIC_READ_METHODS and asked <= PUBLIC_READ_HEADERS:
            response["Access-Control-Allow-Origin"] = "*"
            response["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
            if asked:
                response["Access-Control-Allow-Headers"] = ", ".join(sorted(asked))
            response["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
        return response
