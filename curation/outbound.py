"""The engine as the app uses it: one configuration from settings, one shared politeness.

Every outbound request the app makes (link checks, metadata fetches) is built from
`checker_config()`, which carries the SSRF guard's allow-list and the size and time limits, and
waits on `host_limiter()`, which spaces requests to one host across every worker. Metadata
fetches also keep what each host's robots.txt said in `robots_cache()`, and link checks keep the
random-sibling probe's answers in `probe_cache()`.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import uuid
from functools import lru_cache
from typing import Any

import redis
from django.conf import settings

from curation.checker.config import ENVIRONMENT, CheckerConfig, ProbeCache, config_from_settings
from curation.checker.guard import GuardedClient, build_session
from curation.checker.politeness import HostLimiter, LocalHostLimiter, RedisHostLimiter
from curation.checker.probe import CacheUnavailable, LocalProbeCache
from curation.checker.robots import LocalRobotsCache, RobotsCache

logger = logging.getLogger(__name__)

ROBOTS_KEY_PREFIX = "syllabus:robots"
PROBE_KEY_PREFIX = "syllabus:probe"
# Deletes a claim only if it is still ours: one that expired and was taken by another worker
# must not be freed by the first.
RELEASE_CLAIM = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end"
)
# How long a worker keeps a probe answer it has read or stored before asking Redis again. An
# answer is only ever written where none is (the probe runs on a miss), so within its expiry
# the copy cannot go stale; this bound is for an answer deleted by hand.
PROBE_MEMO_SECONDS = 300.0
# At least the directories of twenty batches; a `soft` answer carries its not-found page's
# line hashes (up to probe.MAX_LINES), so the bound is on memory as much as on lookups.
PROBE_MEMO_ENTRIES = 1_000


def checker_values() -> dict[str, Any]:
    """The LINKCHECK_* settings, by name (config.settings reads them from the environment)."""
    return {name: getattr(settings, name) for name in ENVIRONMENT}


def checker_config(**overrides: Any) -> CheckerConfig:
    """The engine's configuration from the LINKCHECK_* settings (the same as `checklinks`),
    with the probe answers shared through Redis when Redis is configured."""
    overrides.setdefault("probe_cache", probe_cache())
    return config_from_settings(checker_values(), **overrides)


class _KeptClients(threading.local):
    """Clients kept per thread: a prefork child runs its tasks in one thread; a thread pool's
    threads each keep their own, so one batch never empties another's cookie jar."""

    def __init__(self) -> None:
        self.clients: dict[tuple[Any, ...], GuardedClient] = {}


_kept = _KeptClients()
MAX_KEPT_SESSIONS = 4


def checker_session(config: CheckerConfig) -> GuardedClient:
    """The HTTP client a worker's link checks share from one batch to the next.

    Its pools keep the connections (and their TLS handshakes) to the hosts it checks often, a
    video host with a third of the catalogue say, instead of opening them again for every batch;
    the cookie jar is emptied for each batch, as a new client's would be. Kept per process
    (workers fork, and a connection opened before the fork must not serve two processes) and
    per configuration (the guard's allow-list, the timeouts and the resolver are the client's).
    """
    key = (os.getpid(), config, config.resolver)
    session = _kept.clients.get(key)
    if session is None:
        if len(_kept.clients) >= MAX_KEPT_SESSIONS:
            close_kept_sessions()
        session = _kept.clients[key] = build_session(config)
    session.forget_cookies()
    return session


def close_kept_sessions() -> None:
    """Close this thread's kept clients (those its process opened; a forked parent's are left
    to the parent)."""
    for (pid, *_), session in _kept.clients.items():
        if pid == os.getpid():
            session.close()
    _kept.clients.clear()


def redis_client():
    """One client per process (workers fork: a client made before the fork is not reused)."""
    return _redis_client_for(os.getpid(), redis_url())


def redis_url() -> str:
    return settings.REDIS_URL or settings.CELERY_BROKER_URL


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


def forget_kept_state() -> None:
    """Close this thread's kept clients and drop the probe cache this process keeps, with the
    answers it remembers (tests start from none; a worker never needs to)."""
    close_kept_sessions()
    _redis_probe_cache_for.cache_clear()


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


class RedisProbeCache:
    """The random-sibling probe's answers, shared by every worker: one probe per host and
    directory a day for the whole fleet. A claim (SET NX with a short expiry) lets one worker
    probe while the others wait for its answer.

    Every check looks its directory's answer up, so each answer read or stored is also kept in
    the process (`memo`, up to PROBE_MEMO_SECONDS and never past its expiry in Redis): a
    worker checking many pages of one directory asks Redis once, not once per page."""

    def __init__(self, client: redis.Redis, *, key_prefix: str = PROBE_KEY_PREFIX) -> None:
        self.client = client
        self.key_prefix = key_prefix
        self.memo = LocalProbeCache(max_entries=PROBE_MEMO_ENTRIES)

    def get(self, key: str) -> dict[str, Any] | None:
        kept = self.memo.get(key)
        if kept is not None:
            return kept
        name = f"{self.key_prefix}:answer:{key}"
        try:
            # One round trip for the answer and what is left of its life.
            value, ttl_ms = self.client.pipeline(transaction=False).get(name).pttl(name).execute()
        except redis.RedisError as exc:
            raise CacheUnavailable(str(exc)) from exc
        if value is None:
            return None
        try:
            data = json.loads(value)
        except ValueError:
            return None  # Not ours to read: the probe asks again and overwrites it.
        if not isinstance(data, dict):
            return None
        self._keep(key, data, int(ttl_ms) / 1000)
        return data

    def set(self, key: str, value: dict[str, Any], ttl_seconds: float) -> None:
        try:
            self.client.set(
                f"{self.key_prefix}:answer:{key}", json.dumps(value), ex=max(1, round(ttl_seconds))
            )
        except redis.RedisError as exc:
            raise CacheUnavailable(str(exc)) from exc
        self._keep(key, value, ttl_seconds)

    def _keep(self, key: str, value: dict[str, Any], ttl_seconds: float) -> None:
        seconds = min(PROBE_MEMO_SECONDS, ttl_seconds)
        if seconds > 0:  # PTTL is negative for a key without expiry or already gone.
            self.memo.set(key, value, seconds)

    def claim(self, key: str, ttl_seconds: float) -> str | None:
        token = uuid.uuid4().hex
        try:
            taken = self.client.set(
                f"{self.key_prefix}:claim:{key}", token, nx=True, ex=max(1, round(ttl_seconds))
            )
        except redis.RedisError as exc:
            raise CacheUnavailable(str(exc)) from exc
        return token if taken else None

    def release(self, key: str, token: str) -> None:
        try:
            self.client.eval(RELEASE_CLAIM, 1, f"{self.key_prefix}:claim:{key}", token)
        except redis.RedisError as exc:
            # The claim expires on its own; the answer, if any, is already stored.
            logger.warning("probe claim %s not released: %s", key, exc)


def probe_cache() -> ProbeCache | None:
    """In Redis when Redis is configured, so that all workers share it; otherwise None: the
    engine's own in-process cache, shared by the checks of this process. The Redis one is kept
    for the process's life, with the answers it has seen."""
    if settings.REDIS_URL or settings.CELERY_BROKER_IS_REDIS:
        return _redis_probe_cache_for(os.getpid(), redis_url())
    return None


@lru_cache(maxsize=4)
def _redis_probe_cache_for(pid: int, url: str) -> RedisProbeCache:
    return RedisProbeCache(_redis_client_for(pid, url))
