"""Throttles backed by the default cache (Redis in production, shared by every worker).

DRF's own classes keep a log of each client's request times in the cache: a read and a
write of a pickled list of up to `rate` timestamps on every request. These count instead:
one counter per client per window, and the sliding window is estimated from the current
window's count and the previous one's, weighted by how much of it still overlaps (the
"sliding window counter" of rate limiters at scale). On Redis that is one round trip a
request (increment, refresh the expiry, read the previous window, pipelined); a refused
request takes its count back, so refusals do not extend a client's wait.

DRF's classes also read their rates once, at import; these read them per request so that an
operator's settings and the tests' overrides are both honoured.
"""

from __future__ import annotations

import contextlib
import math

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache import cache as default_cache
from django.core.cache.backends.redis import RedisCache
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


def estimated_count(current: int, previous: int, elapsed_fraction: float) -> float:
    """Requests in the sliding window that ends now: all of this window's, and the share of
    the previous window's that the sliding window still covers (spread evenly over it)."""
    return current + previous * (1.0 - elapsed_fraction)


def seconds_until_allowed(
    current: int, previous: int, limit: int, duration: float, elapsed: float
) -> float:
    """How long until one more request fits, if the client sends nothing meanwhile."""
    if current < limit and previous:
        # Within this window: the previous window's share shrinks linearly until the next
        # request (this window's count plus one) fits beside it.
        fraction = 1.0 - (limit - current - 1) / previous
        if fraction * duration > elapsed:
            return fraction * duration - elapsed
        return 0.0
    if current < limit:
        return 0.0
    # Not before the next window; there, this window's count is the one that shrinks.
    fraction = 1.0 - (limit - 1) / current if current else 0.0
    return duration - elapsed + fraction * duration


class WindowCounterThrottle:
    """Mixin over DRF's SimpleRateThrottle subclasses: counts instead of a request log."""

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        now = self.timer()
        window = math.floor(now / self.duration)
        self.elapsed = now - window * self.duration
        current_key, previous_key = f"{self.key}:{window}", f"{self.key}:{window - 1}"
        self.current, self.previous = self._count(current_key, previous_key)
        estimate = estimated_count(self.current, self.previous, self.elapsed / self.duration)
        if estimate <= self.num_requests:
            return True
        # A refused request does not count (ValueError: the counter expired meanwhile).
        with contextlib.suppress(ValueError):
            self.cache.decr(current_key)
        self.current -= 1
        return False

    def wait(self) -> float:
        return seconds_until_allowed(
            self.current, self.previous, self.num_requests, self.duration, self.elapsed
        )

    def _count(self, current_key: str, previous_key: str) -> tuple[int, int]:
        """Add one to this window's counter; (its new value, the previous window's)."""
        # Two windows' life: the previous one is read until this one ends.
        ttl = 2 * int(self.duration) + 1
        # django.core.cache.cache (DRF's default) is a proxy for this thread's default cache.
        cache = caches[DEFAULT_CACHE_ALIAS] if self.cache is default_cache else self.cache
        if isinstance(cache, RedisCache):
            current = cache.make_and_validate_key(current_key)
            previous = cache.make_and_validate_key(previous_key)
            # Django's cache API has no pipeline: its client's connection pool does.
            pipe = cache._cache.get_client(current, write=True).pipeline(transaction=False)
            pipe.incr(current)
            pipe.expire(current, ttl)
            pipe.get(previous)
            count, _, before = pipe.execute()
            # Django's Redis cache stores whole numbers as digits, so its incr/get agree.
            return int(count), int(before or 0)
        self.cache.add(current_key, 0, ttl)
        try:
            count = self.cache.incr(current_key)
        except ValueError:  # expired between add and incr
            self.cache.set(current_key, 1, ttl)
            count = 1
        return count, int(self.cache.get(previous_key) or 0)


class AnonThrottle(WindowCounterThrottle, AnonRateThrottle):
    pass


class UserThrottle(WindowCounterThrottle, UserRateThrottle):
    def get_cache_key(self, request, view) -> str | None:
        # Signed-in users only. DRF's class counts an anonymous client by its address too,
        # beside AnonThrottle: another cache round trip per public request for the looser of
        # the two limits.
        if not (request.user and request.user.is_authenticated):
            return None
        return super().get_cache_key(request, view)
