"""The API's throttles: a sliding window estimated from two counters, in the cache."""

from __future__ import annotations

import uuid
from unittest import mock

import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

from api.throttling import AnonThrottle, UserThrottle, seconds_until_allowed

LIST = "/api/v1/resources/"
MINUTE_START = 1_800_000_000.0  # a multiple of 60: the start of a window


class Clock:
    def __init__(self) -> None:
        self.now = MINUTE_START

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["locmem", pytest.param("redis", marks=pytest.mark.redis)])
def throttle_cache(request, monkeypatch):
    """The throttles' cache: a private LocMem, or the real Redis under a prefix of our own."""
    if request.param == "locmem":
        store = LocMemCache(f"throttle-{uuid.uuid4().hex}", {})
    else:
        redis_url = request.getfixturevalue("redis_url")
        request.getfixturevalue("redis_client")  # for the teardown
        store = RedisCache(redis_url, {"KEY_PREFIX": f"throttle-test-{uuid.uuid4().hex}"})
    monkeypatch.setattr(AnonThrottle, "cache", store)
    monkeypatch.setattr(UserThrottle, "cache", store)
    yield store
    if isinstance(store, RedisCache):  # never clear(): that would flush the shared database
        _delete_prefixed(request, store)


def _delete_prefixed(request, store: RedisCache) -> None:
    client = request.getfixturevalue("redis_client")
    for key in client.keys(f"{store.key_prefix}*"):
        client.delete(key)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    found = Clock()
    monkeypatch.setattr(AnonThrottle, "timer", found)
    monkeypatch.setattr(UserThrottle, "timer", found)
    return found


@pytest.fixture
def four_a_minute(settings):
    rest = dict(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = {"anon": "4/minute", "user": "4/minute"}
    settings.REST_FRAMEWORK = rest


def statuses(api, n: int) -> list[int]:
    return [api.get(LIST).status_code for _ in range(n)]


@pytest.mark.django_db
def test_the_limit_holds_over_a_sliding_minute_not_per_clock_minute(
    api, throttle_cache, clock, four_a_minute
):
    clock.now = MINUTE_START + 50
    assert statuses(api, 5) == [200, 200, 200, 200, 429]
    # A fixed window would start afresh at the minute: 10 s later, four requests of the
    # last minute are still five sixths inside the sliding window.
    clock.now = MINUTE_START + 60
    refused = api.get(LIST)
    assert refused.status_code == 429
    # The previous window's share must shrink below 3 before one more fits: after 15 s.
    assert int(refused["Retry-After"]) == 15
    clock.now = MINUTE_START + 60 + 16
    assert statuses(api, 2) == [200, 429]


@pytest.mark.django_db
def test_refused_requests_do_not_lengthen_the_wait(api, throttle_cache, clock, four_a_minute):
    assert statuses(api, 4) == [200] * 4
    assert statuses(api, 50) == [429] * 50
    # Half-way through the next window, half the four count: two more fit. Had the 50
    # refusals counted, 27 would, and none would.
    clock.now = MINUTE_START + 60 + 30
    assert statuses(api, 3) == [200, 200, 429]


@pytest.mark.django_db
def test_counts_are_per_client(api, throttle_cache, clock, four_a_minute):
    assert statuses(api, 5)[-1] == 429
    other = api.get(LIST, REMOTE_ADDR="192.0.2.7")
    assert other.status_code == 200


@pytest.mark.django_db
def test_signed_in_users_count_apart_from_their_address(
    api, curator_api, throttle_cache, clock, four_a_minute
):
    assert statuses(api, 5)[-1] == 429
    assert statuses(curator_api, 5) == [200, 200, 200, 200, 429]


@pytest.mark.django_db
@pytest.mark.parametrize("throttle_cache", [pytest.param("redis", marks=pytest.mark.redis)],
                         indirect=True)  # fmt: skip
def test_on_redis_a_request_is_one_round_trip(api, throttle_cache, clock, four_a_minute):
    client = throttle_cache._cache.get_client(write=True)
    sent = []
    original = type(client).pipeline

    def counting_pipeline(self, *args, **kwargs):
        pipe = original(self, *args, **kwargs)
        execute = pipe.execute

        def record(*a, **k):
            sent.append([c[0][0] for c in pipe.command_stack])
            return execute(*a, **k)

        pipe.execute = record
        return pipe

    with (
        mock.patch.object(type(client), "pipeline", counting_pipeline),
        mock.patch.object(throttle_cache, "get", side_effect=AssertionError("no extra GET")),
    ):
        assert api.get(LIST).status_code == 200
    assert sent == [["INCRBY", "EXPIRE", "GET"]]


@pytest.mark.parametrize(
    ("current", "previous", "into_window", "expected"),
    [
        (0, 0, 10.0, 0.0),  # nothing sent: no wait
        (1, 6, 30.0, 10.0),  # the next makes 2: fits once 6 x share <= 2, at 40 s
        (4, 0, 20.0, 40.0 + 15.0),  # this window full: next window, once 4 x share <= 3
        (2, 4, 0.0, 45.0),  # the next makes 3: fits once 4 x share <= 1, at 45 s
    ],
)
def test_the_wait_is_until_one_more_request_fits(current, previous, into_window, expected):
    assert seconds_until_allowed(current, previous, 4, 60.0, into_window) == pytest.approx(expected)
