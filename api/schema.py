"""The OpenAPI description: every operation also documents its error answers.

A client written from the schema alone (and a fuzzer checking status codes against it)
must know that a 400 names the field, that writes may answer 401/403, that a request body
may hold only the fields it lists, and so on. Descriptions are written for API users in
`extend_schema`; docstrings are for the code's readers and never reach the schema.
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import force_instance

ERROR_CODES_READ = ("400", "401", "404", "429")
ERROR_CODES_WRITE = ("400", "401", "403", "404", "405", "429")
ERROR_DESCRIPTIONS = {
    "400": "Invalid input: each error names the field and the problem.",
    "401": "Authentication required, or the credentials sent are invalid.",
    "403": "Not allowed: a curator's permission is needed, or the CSRF token is missing.",
    "404": "Not found.",
    "405": "Method not allowed.",
    "429": "Too many requests: retry after the Retry-After header's seconds.",
}


class ApiAutoSchema(AutoSchema):
    def get_description(self) -> str:
        # drf-spectacular falls back to the view's docstring (inherited ones included), which
        # is written for maintainers; a description meant for users is set in extend_schema.
        return ""

    def _map_basic_serializer(self, serializer, direction):
        from api.writes import WriteSerializer

        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "request" and isinstance(force_instance(serializer), WriteSerializer):
            # The serializer refuses any other field with a 400 naming it.
            schema["additionalProperties"] = False
        return schema

    def _get_response_bodies(self, direction: str = "response"):
        from api.serializers import ErrorSerializer

        responses = super()._get_response_bodies(direction)
        codes = ERROR_CODES_READ if self.method in ("GET", "HEAD") else ERROR_CODES_WRITE
        for code in codes:
            if code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code)
                response["description"] = ERROR_DESCRIPTIONS[code]
                responses[code] = response
        return responses

    def get_auth(self):
        auths = super().get_auth()
        # Reads are public: an anonymous request is a valid way to call them.
        if self.method in ("GET", "HEAD") and {} not in auths:
            auths.append({})
        return auths
