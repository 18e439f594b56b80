"""The engine as the app uses it: one configuration from settings, one shared politeness.

Every outbound request the app makes (link checks, metadata fetches) is built from
`checker_config()`, which carries the SSRF guard's allow-list and the size and time limits, and
waits on `host_limiter()`, which spaces requests to one host across every worker. Metadata
fetches also keep what each host's robots.txt said in `robots_cache()`.
"""

from __future__ import annotations

import logging
import os
from functools import lru_cache
from typing import Any

import redis
from django.conf import settings

from curation.checker.config import ENVIRONMENT, CheckerConfig, config_from_settings
from curation.checker.politeness import HostLimiter, LocalHostLimiter, RedisHostLimiter
from curation.checker.robots import LocalRobotsCache, RobotsCache

logger = logging.getLogger(__name__)

ROBOTS_KEY_PREFIX = "syllabus:robots"


def checker_values() -> dict[str, Any]:
    """The LINKCHECK_* settings, by name (config.settings reads them from the environment)."""
    return {name: getattr(settings, name) for name in ENVIRONMENT}


def checker_config(**overrides: Any) -> CheckerConfig:
    """The engine's configuration from the LINKCHECK_* settings (the same as `checklinks`)."""
    return config_from_settings(checker_values(), **overrides)


def redis_client():
    """One client per process (workers fork: a client made before the fork is not reused)."""
    return _redis_client_for(os.getpid(), settings.REDIS_URL or settings.CELERY_BROKER_URL)


@lru_cache(maxsize=4)
def _redis_client_for(pid: int, url: str):
    return redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)


_local_limiters: dict[tuple[int, int, float], LocalHostLimiter] = {}


def host_limiter(config: CheckerConfig) -> HostLimiter:
    """Per-host politeness shared by every worker through Redis when Redis is the broker;
    otherwise one in-process limiter shared by the tasks of this process."""
    if settings.CELERY_BROKER_IS_REDIS:
        return RedisHostLimiter(
            redis_client(),
            per_host_concurrency=config.per_host_concurrency,
            per_host_interval=config.per_host_interval,
            # A slot outlives the longest request, so a killed worker's slot is freed, not leaked.
            lease_seconds=config.deadline + 30,
        )
    key = (os.getpid(), config.per_host_concurrency, config.per_host_interval)
    if key not in _local_limiters:
        _local_limiters[key] = LocalHostLimiter(
            per_host_concurrency=config.per_host_concurrency,
            per_host_interval=config.per_host_interval,
        )
    return _local_limiters[key]


class RedisRobotsCache:
    """What each host's robots.txt said, shared by every worker: one fetch per host and day
    for the whole fleet. Redis failing costs a fetch of robots.txt, never the page's metadata."""

    def __init__(self, client: redis.Redis, *, key_prefix: str = ROBOTS_KEY_PREFIX) -> None:
        self.client = client
        self.key_prefix = key_prefix

    def get(self, key: str) -> str | None:
        try:
            value = self.client.get(f"{self.key_prefix}:{key}")
        except redis.RedisError as exc:
            logger.warning("robots.txt cache unavailable, reading %s afresh: %s", key, exc)
            return None
        return value.decode("utf-8") if value is not None else None

    def set(self, key: str, value: str, *, ttl: float) -> None:
        try:
            self.client.set(f"{self.key_prefix}:{key}", value, ex=max(1, round(ttl)))
        except redis.RedisError as exc:
            logger.warning("robots.txt cache unavailable, %s not kept: %s", key, exc)


_local_robots: dict[int, LocalRobotsCache] = {}


def robots_cache() -> RobotsCache:
    """In Redis when Redis is configured, so that all workers share it; otherwise one cache
    for the fetches of this process."""
    if settings.REDIS_URL or settings.CELERY_BROKER_IS_REDIS:
        return RedisRobotsCache(redis_client())
    return _local_robots.setdefault(os.getpid(), LocalRobotsCache())
