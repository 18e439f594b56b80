"""The Redis limiter: per-host limits shared by every worker, kept at the send."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from curation.checker.politeness import (
    RedisHostLimiter,
)
from tests.checker.gate import send_through_the_gate

# Spacing is asserted as the server saw it: kernel timestamps of the request heads' arrival at a
# loopback server (ArrivalServer), never the test's own clock. Where a test needs an upper bound
# (a rate kept, nothing waited for), the limiter runs on a fake clock instead, which is exact.


@pytest.fixture
def redis_limiter_factory(redis_client):
    prefix = f"test:linkcheck:{uuid.uuid4().hex}"

    def make(**kwargs):
        kwargs.setdefault("per_host_concurrency", 2)
        kwargs.setdefault("per_host_interval", 0)
        return RedisHostLimiter(redis_client, key_prefix=prefix, **kwargs)

    yield make
    for key in redis_client.scan_iter(match=f"{prefix}:*"):
        redis_client.delete(key)


@pytest.mark.redis
def test_the_redis_limiter_caps_in_flight_across_workers(redis_limiter_factory):
    worker_a, worker_b = redis_limiter_factory(), redis_limiter_factory()

    first, _ = worker_a.try_acquire("h:443")
    second, _ = worker_b.try_acquire("h:443")
    third, _ = worker_a.try_acquire("h:443")

    assert first and second and third is None
    worker_b.release("h:443", second)
    assert worker_a.try_acquire("h:443")[0] is not None


@pytest.mark.redis
def test_the_redis_limiter_spaces_request_starts(redis_limiter_factory):
    limiter = redis_limiter_factory(per_host_concurrency=5, per_host_interval=30)
    first, _ = limiter.try_acquire("h:443")
    limiter.wait_for_start("h:443", first)
    limiter.started("h:443", first)

    token, wait = limiter.try_acquire("h:443")

    assert token is None and 25 < wait <= 30.01
    assert limiter.delay("h:443") > 25


@pytest.mark.redis
def test_the_redis_gate_spaces_starts_sent_from_two_workers(redis_limiter_factory, wire):
    worker_a = redis_limiter_factory(per_host_concurrency=5, per_host_interval=0.2)
    worker_b = redis_limiter_factory(per_host_concurrency=5, per_host_interval=0.2)
    # Both granted at once: a grant is not a start.
    first, _ = worker_a.try_acquire("h:443")
    second, _ = worker_b.try_acquire("h:443")
    assert first and second

    send_through_the_gate(worker_a, "h:443", first, wire, "/a")
    send_through_the_gate(worker_b, "h:443", second, wire, "/b")

    assert wire.paths() == ["/a", "/b"]
    # Redis counts whole milliseconds.
    assert wire.gap("/a", "/b") >= 0.2 - 0.002 - wire.precision


@pytest.mark.redis
def test_a_redis_start_on_its_way_to_the_socket_holds_the_next_one_until_it_is_sent(
    redis_limiter_factory, wire, monkeypatch
):
    # Worker A is let through, then loses the CPU (or waits on a slow TLS write) for longer
    # than the interval: B must not pass the gate before A's request is out, on any machine,
    # and passes once A reports it sent (not when A's sending lease runs out: none does here).
    monkeypatch.setattr("curation.checker.politeness.SENDING_LEASE", 60)
    worker_a = redis_limiter_factory(per_host_concurrency=5, per_host_interval=0.05)
    worker_b = redis_limiter_factory(per_host_concurrency=5, per_host_interval=0.05)
    first, _ = worker_a.try_acquire("h:443")
    second, _ = worker_b.try_acquire("h:443")
    a, b = wire.connect(), wire.connect()
    worker_a.wait_for_start("h:443", first)
    waiter = threading.Thread(
        target=send_through_the_gate, args=(worker_b, "h:443", second, wire, "/b", b), daemon=True
    )
    waiter.start()

    time.sleep(0.3)  # six intervals, with A's request still on its way
    wire.send(a, "/a")
    worker_a.started("h:443", first)
    waiter.join(10)

    assert wire.paths() == ["/a", "/b"]
    assert wire.gap("/a", "/b") >= 0.05 - 0.002 - wire.precision


@pytest.mark.redis
def test_a_worker_that_dies_between_the_gate_and_the_send_holds_the_host_only_briefly(
    redis_limiter_factory, monkeypatch, wire
):
    monkeypatch.setattr("curation.checker.politeness.SENDING_LEASE", 0.3)
    dying = redis_limiter_factory(per_host_concurrency=5, per_host_interval=0.01)
    survivor = redis_limiter_factory(per_host_concurrency=5, per_host_interval=0.01)
    lost, _ = dying.try_acquire("h:443")
    lost_connection = wire.connect()
    dying.wait_for_start("h:443", lost)
    wire.send(lost_connection, "/lost")  # ...and the worker dies before it reports the send.
    token = survivor.acquire("h:443", deadline=time.monotonic() + 5)

    waiter = threading.Thread(
        target=send_through_the_gate, args=(survivor, "h:443", token, wire, "/next"), daemon=True
    )
    waiter.start()
    waiter.join(10)

    # Held until the lease of the request never reported (0.3 s) ran out, then let through.
    assert wire.paths() == ["/lost", "/next"]
    assert wire.gap("/lost", "/next") >= 0.3 - 0.05


@pytest.mark.redis
def test_without_an_interval_the_redis_gate_costs_no_round_trip(redis_limiter_factory):
    limiter = redis_limiter_factory(per_host_concurrency=5, per_host_interval=0)
    token, _ = limiter.try_acquire("h:443")
    limiter.redis = None  # Any call to Redis now would fail.

    limiter.wait_for_start("h:443", token)
    limiter.started("h:443", token)


@pytest.mark.redis
def test_a_redis_defer_is_seen_by_every_worker(redis_limiter_factory):
    worker_a, worker_b = redis_limiter_factory(), redis_limiter_factory()

    worker_a.defer("h:443", 60)
    token, wait = worker_b.try_acquire("h:443")

    assert token is None and wait > 55
    assert worker_b.try_acquire("other:443")[0] is not None


@pytest.mark.redis
def test_a_defer_never_shortens_an_earlier_one(redis_limiter_factory):
    limiter = redis_limiter_factory()
    limiter.defer("h:443", 60)
    limiter.defer("h:443", 1)

    assert limiter.delay("h:443") > 55


@pytest.mark.redis
def test_a_dead_workers_slot_expires_with_its_lease(redis_limiter_factory):
    dying = redis_limiter_factory(per_host_concurrency=1, lease_seconds=0.2)
    survivor = redis_limiter_factory(per_host_concurrency=1, lease_seconds=0.2)
    assert dying.try_acquire("h:443")[0] is not None  # ...and never released
    assert survivor.try_acquire("h:443")[0] is None

    time.sleep(0.3)

    assert survivor.try_acquire("h:443")[0] is not None


@pytest.mark.redis
def test_the_redis_keys_expire_on_their_own(redis_limiter_factory, redis_client):
    limiter = redis_limiter_factory(per_host_interval=5, lease_seconds=10)
    token, _ = limiter.try_acquire("h:443")
    limiter.wait_for_start("h:443", token)  # ...and never reports the send.

    ttls = [
        redis_client.pttl(key) for key in redis_client.scan_iter(match=f"{limiter.key_prefix}:*")
    ]

    assert ttls and all(0 < ttl <= 10_000 for ttl in ttls)
