"""The probe's answers shared through Redis: one probe per host and directory for every worker.

Run with TEST_REDIS_URL (redis://127.0.0.1:6379/3 on the shared machines); under CI=true a
missing Redis fails these tests rather than skipping them (tests/conftest.py)."""

from __future__ import annotations

import json
import threading
import time
import uuid

import pytest

from curation import outbound
from curation.checker.engine import check_url
from curation.checker.outcomes import Outcome
from curation.outbound import RedisProbeCache
from tests.checker.conftest import config_for, make_server  # noqa: F401 - fixtures
from tests.checker.servers import RequestHandler
from tests.checker.test_probe import ARTICLE, Site, layout, not_found_page

pytestmark = pytest.mark.usefixtures("connections")


@pytest.fixture
def prefix(redis_client):
    prefix = f"test:probe:{uuid.uuid4().hex}"
    yield prefix
    for key in redis_client.scan_iter(match=f"{prefix}:*"):
        redis_client.delete(key)


@pytest.fixture
def soft_site(make_server):  # noqa: F811 - pytest fixture injection
    return Site(make_server(), "soft")


def worker(redis_url: str, prefix: str) -> RedisProbeCache:
    """A worker's own client and cache, as another process would have."""
    import redis

    return RedisProbeCache(redis.Redis.from_url(redis_url), key_prefix=prefix)


@pytest.mark.redis
def test_two_engines_share_one_probe_through_redis(soft_site, redis_url, prefix):
    first, second = worker(redis_url, prefix), worker(redis_url, prefix)
    real = soft_site.add("/docs/transactions", layout("Transactions", ARTICLE))

    one = check_url(real, config=config_for(soft_site.server, probe_cache=first))
    other = check_url(
        soft_site.server.url("/docs/old-chapter"),
        config=config_for(soft_site.server, probe_cache=second),
    )

    probes = [path for path in soft_site.unknown if path != "/docs/old-chapter"]
    assert len(probes) == 1
    assert one.outcome == Outcome.OK
    assert (other.outcome, other.rule) == (Outcome.SOFT_404, "soft404-probe-same-page")


@pytest.mark.redis
def test_two_engines_at_once_send_one_probe(soft_site, redis_url, prefix):
    both_asked = threading.Barrier(2, timeout=5)

    def together(body: bytes):
        def handler(h: RequestHandler) -> None:
            both_asked.wait()
            h.reply(200, body)

        return handler

    soft_site.server.routes["/docs/a"] = together(layout("A", ARTICLE))
    soft_site.server.routes["/docs/b"] = together(not_found_page("/docs/b"))
    outcomes: dict[str, Outcome] = {}

    def check(path: str) -> None:
        config = config_for(soft_site.server, probe_cache=worker(redis_url, prefix))
        outcomes[path] = check_url(soft_site.server.url(path), config=config).outcome

    threads = [threading.Thread(target=check, args=(p,)) for p in ("/docs/a", "/docs/b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)

    assert len(soft_site.unknown) == 1
    assert outcomes == {"/docs/a": Outcome.OK, "/docs/b": Outcome.SOFT_404}


@pytest.mark.redis
def test_an_answer_is_kept_a_day_and_a_claim_briefly(redis_client, redis_url, prefix):
    cache = worker(redis_url, prefix)

    cache.set("http://h:80/docs/", {"kind": "honest", "probed": "/docs/x"}, 24 * 3600)
    token = cache.claim("http://h:80/docs/", 12)

    assert cache.get("http://h:80/docs/") == {"kind": "honest", "probed": "/docs/x"}
    assert 24 * 3600 - 5 < redis_client.ttl(f"{prefix}:answer:http://h:80/docs/") <= 24 * 3600
    assert 0 < redis_client.ttl(f"{prefix}:claim:http://h:80/docs/") <= 12
    assert token and cache.claim("http://h:80/docs/", 12) is None
    cache.release("http://h:80/docs/", token)
    assert cache.claim("http://h:80/docs/", 12)


@pytest.mark.redis
@pytest.mark.django_db
def test_the_workers_config_keeps_answers_in_redis_when_redis_is_configured(settings, redis_url):
    settings.REDIS_URL = redis_url

    assert isinstance(outbound.checker_config().probe_cache, RedisProbeCache)
    settings.REDIS_URL = ""
    settings.CELERY_BROKER_IS_REDIS = False
    assert outbound.checker_config().probe_cache is None  # The engine's in-process cache.


def test_without_redis_a_check_sends_no_probe_and_the_rules_decide(soft_site, caplog):
    import redis

    nowhere = RedisProbeCache(redis.Redis.from_url("redis://127.0.0.1:1/0", socket_timeout=1))
    config = config_for(soft_site.server, probe_cache=nowhere)

    result = check_url(soft_site.server.url("/docs/old-chapter"), config=config)

    assert (result.outcome, result.rule, result.evidence) == (Outcome.OK, "status-200", "")
    assert soft_site.unknown == ["/docs/old-chapter"]
    assert "probe cache unavailable" in caplog.text


KEY = "http://h:80/docs/"
ANSWER = {"kind": "honest", "probed": "/docs/x"}


@pytest.mark.redis
def test_a_worker_keeps_the_answers_it_has_read(redis_client, redis_url, prefix):
    reader, other = worker(redis_url, prefix), worker(redis_url, prefix)
    other.set(KEY, ANSWER, 3600)
    assert reader.get(KEY) == ANSWER

    redis_client.delete(f"{prefix}:answer:{KEY}")

    assert reader.get(KEY) == ANSWER  # Not asked again.
    assert worker(redis_url, prefix).get(KEY) is None  # A process that never read it asks.


@pytest.mark.redis
def test_a_kept_answer_never_outlives_its_expiry_in_redis(redis_client, redis_url, prefix):
    redis_client.set(f"{prefix}:answer:{KEY}", json.dumps(ANSWER), px=300)
    reader = worker(redis_url, prefix)
    assert reader.get(KEY) == ANSWER

    time.sleep(0.5)

    assert reader.get(KEY) is None


@pytest.mark.redis
def test_a_missing_answer_is_asked_for_again(redis_url, prefix):
    reader, other = worker(redis_url, prefix), worker(redis_url, prefix)
    assert reader.get(KEY) is None

    other.set(KEY, ANSWER, 3600)

    assert reader.get(KEY) == ANSWER


@pytest.mark.redis
@pytest.mark.django_db
def test_a_worker_process_keeps_one_probe_cache_between_batches(settings, redis_url):
    settings.REDIS_URL = redis_url
    config = outbound.checker_config()

    assert outbound.probe_cache() is outbound.checker_config().probe_cache is config.probe_cache
    outbound.forget_kept_state()
    assert outbound.probe_cache() is not config.probe_cache
