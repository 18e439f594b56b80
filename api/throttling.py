"""Throttles backed by the default cache (Redis in production, shared by every worker).

DRF's classes read their rates once, at import; these read them per request so that an
operator's settings and the tests' overrides are both honoured.
"""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class AnonThrottle(AnonRateThrottle):
    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class UserThrottle(UserRateThrottle):
    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view) -> str | None:
        # Signed-in users only. DRF's class counts an anonymous client by its address too,
        # beside AnonThrottle: two more cache round trips per public request (a read and a
        # write, about 0.5 ms on Redis) for the looser of the two limits.
        if not (request.user and request.user.is_authenticated):
            return None
        return super().get_cache_key(request, view)
