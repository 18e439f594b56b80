"""Per-host limits: the in-process limiter and the Redis one shared by all workers."""

from __future__ import annotations

import itertools
import socket
import threading
import time
import uuid

import pytest

from curation.checker.errors import FetchTimeout
from curation.checker.fetch import fetch
from curation.checker.guard import build_session
from curation.checker.politeness import (
    CATCH_UP,
    START_LEAD,
    START_TOLERANCE,
    LocalHostLimiter,
    RedisHostLimiter,
)
from tests.checker.conftest import config_for


def test_the_local_limiter_caps_requests_in_flight_per_host():
    limiter = LocalHostLimiter(per_host_concurrency=2, per_host_interval=0)

    first, _ = limiter.try_acquire("a:80")
    second, _ = limiter.try_acquire("a:80")
    third, wait = limiter.try_acquire("a:80")
    other, _ = limiter.try_acquire("b:80")

    assert first and second and other
    assert third is None and wait > 0
    limiter.release("a:80", first)
    assert limiter.try_acquire("a:80")[0] is not None


def test_the_local_limiter_spaces_request_starts_by_the_interval():
    limiter = LocalHostLimiter(per_host_concurrency=5, per_host_interval=30)

    assert limiter.try_acquire("a:80")[0] is not None
    token, wait = limiter.try_acquire("a:80")

    assert token is None and 29 < wait <= 30
    assert limiter.delay("a:80") > 29


def test_defer_holds_the_whole_host():
    limiter = LocalHostLimiter(per_host_concurrency=5, per_host_interval=0)
    limiter.defer("a:80", 60)

    token, wait = limiter.try_acquire("a:80")

    assert token is None and wait > 59
    assert limiter.try_acquire("b:80")[0] is not None


def test_a_blocking_acquire_gives_up_at_the_deadline():
    limiter = LocalHostLimiter(per_host_concurrency=1, per_host_interval=0)
    limiter.defer("a:80", 60)

    with pytest.raises(FetchTimeout):
        limiter.acquire("a:80", deadline=time.monotonic() + 0.1)


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


def _redis_start(limiter, host):
    token, _ = limiter.try_acquire(host)
    assert token is not None
    limiter.wait_for_start(host, token)
    limiter.started(host, token)
    return token


@pytest.mark.redis
def test_the_redis_limiter_spaces_request_starts(redis_limiter_factory):
    limiter = redis_limiter_factory(per_host_concurrency=5, per_host_interval=30)

    _redis_start(limiter, "h:443")
    token, wait = limiter.try_acquire("h:443")

    assert token is None and 25 < wait <= 30.01
    assert limiter.delay("h:443") > 25


@pytest.mark.redis
def test_the_redis_gate_spaces_starts_sent_from_two_workers(redis_limiter_factory):
    worker_a = redis_limiter_factory(per_host_concurrency=5, per_host_interval=0.2)
    worker_b = redis_limiter_factory(per_host_concurrency=5, per_host_interval=0.2)
    # Both granted at once: a grant is not a start.
    first, _ = worker_a.try_acquire("h:443")
    second, _ = worker_b.try_acquire("h:443")
    assert first and second

    worker_a.wait_for_start("h:443", first)
    sent = time.monotonic()
    worker_a.started("h:443", first)
    worker_b.wait_for_start("h:443", second)

    # Redis counts whole milliseconds.
    assert time.monotonic() - sent >= 0.2 - 0.002


@pytest.mark.redis
def test_a_redis_start_on_its_way_to_the_socket_holds_the_next_one_until_it_is_sent(
    redis_limiter_factory,
):
    # Worker A is let through, then loses the CPU (or waits on a slow TLS write) for longer
    # than the interval: B must not pass the gate before A's request is out, on any machine.
    worker_a = redis_limiter_factory(per_host_concurrency=5, per_host_interval=0.05)
    worker_b = redis_limiter_factory(per_host_concurrency=5, per_host_interval=0.05)
    first, _ = worker_a.try_acquire("h:443")
    second, _ = worker_b.try_acquire("h:443")
    worker_a.wait_for_start("h:443", first)
    passed = threading.Event()
    waiter = threading.Thread(
        target=lambda: (worker_b.wait_for_start("h:443", second), passed.set()), daemon=True
    )
    waiter.start()

    held = not passed.wait(0.3)
    sent = time.monotonic()
    worker_a.started("h:443", first)
    waiter.join(5)

    assert held and passed.is_set()
    assert time.monotonic() - sent >= 0.05 - 0.002


@pytest.mark.redis
def test_a_worker_that_dies_between_the_gate_and_the_send_holds_the_host_only_briefly(
    redis_limiter_factory, monkeypatch
):
    monkeypatch.setattr("curation.checker.politeness.SENDING_LEASE", 0.3)
    dying = redis_limiter_factory(per_host_concurrency=5, per_host_interval=0.01)
    survivor = redis_limiter_factory(per_host_concurrency=5, per_host_interval=0.01)
    lost, _ = dying.try_acquire("h:443")
    dying.wait_for_start("h:443", lost)  # ...and never reports the send.
    token = survivor.acquire("h:443", deadline=time.monotonic() + 5)
    began = time.monotonic()

    survivor.wait_for_start("h:443", token)

    # Held until the lease of the request that was never sent ran out (0.3 s), then free.
    assert 0.2 <= time.monotonic() - began < 5


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


def test_the_local_limiter_forgets_idle_hosts(monkeypatch):
    monkeypatch.setattr("curation.checker.politeness.PURGE_EVERY", 10)
    limiter = LocalHostLimiter(per_host_concurrency=1, per_host_interval=0.01)
    for i in range(50):
        token, _ = limiter.try_acquire(f"host-{i}:80")
        limiter.release(f"host-{i}:80", token)
    time.sleep(0.02)

    for i in range(10):
        limiter.try_acquire(f"late-{i}:80")

    assert len(limiter._hosts) <= 10


# Start slots: kept at the send, on a grid -----------------------------------------------------


def _start_through_the_gate(limiter, host, starts, lock):
    token = limiter.acquire(host, deadline=time.monotonic() + 10)
    try:
        limiter.wait_for_start(host, token)
        with lock:
            starts.append(time.monotonic())
        limiter.started(host, token)
    finally:
        limiter.release(host, token)


def test_starts_through_the_gate_are_the_interval_apart_whatever_the_threads_do():
    limiter = LocalHostLimiter(per_host_concurrency=8, per_host_interval=0.05)
    starts: list[float] = []
    lock = threading.Lock()
    threads = [
        threading.Thread(target=_start_through_the_gate, args=(limiter, "a:80", starts, lock))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    gaps = [b - a for a, b in itertools.pairwise(sorted(starts))]
    assert len(gaps) == 7
    assert min(gaps) >= 0.05 - START_TOLERANCE


def test_a_start_sent_late_pushes_the_next_one_back():
    limiter = LocalHostLimiter(per_host_concurrency=2, per_host_interval=0.05)
    first = limiter.acquire("a:80")
    second = limiter.acquire("a:80", deadline=time.monotonic() + 5)  # the slot 50 ms later
    limiter.wait_for_start("a:80", first)
    time.sleep(0.12)  # the first request is held up on its way out (a busy CPU, the GIL)
    limiter.started("a:80", first)
    sent = time.monotonic()

    limiter.wait_for_start("a:80", second)

    assert time.monotonic() - sent >= 0.05 - START_TOLERANCE


def test_reserved_slots_are_spaced_by_the_interval_not_by_when_they_were_asked_for():
    limiter = LocalHostLimiter(per_host_concurrency=5, per_host_interval=0.2)
    limiter.try_acquire("a:80")

    token, wait = limiter.try_acquire("a:80")
    time.sleep(0.1)
    later, later_wait = limiter.try_acquire("a:80")

    # The second slot is 0.2 s after the first whenever it is asked for: 0.1 s on, it is 0.1 s
    # away (less the lead), not another full interval.
    assert token is None and later is None
    assert 0.2 - START_LEAD - 0.02 <= wait <= 0.2 - START_LEAD
    assert later_wait <= 0.1 - START_LEAD + 0.02


def test_a_deferred_host_holds_a_start_already_reserved():
    limiter = LocalHostLimiter(per_host_concurrency=2, per_host_interval=0)
    token = limiter.acquire("a:80")
    limiter.defer("a:80", 0.2)
    before = time.monotonic()

    limiter.wait_for_start("a:80", token)

    assert time.monotonic() - before >= 0.19


def test_a_start_on_its_way_to_the_socket_holds_the_next_one_until_it_is_sent():
    # The first request is through the gate but its thread lost the CPU before the send: the
    # second, due meanwhile, must neither overtake it nor go out less than the interval after it.
    limiter = LocalHostLimiter(per_host_concurrency=2, per_host_interval=0.05)
    first = limiter.acquire("a:80")
    second = limiter.acquire("a:80", deadline=time.monotonic() + 5)
    limiter.wait_for_start("a:80", first)
    passed = threading.Event()
    waiter = threading.Thread(
        target=lambda: (limiter.wait_for_start("a:80", second), passed.set()), daemon=True
    )
    waiter.start()

    assert not passed.wait(0.15)  # far past the second slot, still held
    limiter.started("a:80", first)
    sent = time.monotonic()
    assert passed.wait(2)
    assert time.monotonic() - sent >= 0.05 - START_TOLERANCE


def test_after_a_late_start_new_slots_follow_it_rather_than_the_grid():
    # Slots handed out on the old grid would only wait at the gate, each holding a connection.
    limiter = LocalHostLimiter(per_host_concurrency=5, per_host_interval=0.05)
    first = limiter.acquire("a:80")
    limiter.wait_for_start("a:80", first)
    time.sleep(0.12)
    sent = time.monotonic()
    limiter.started("a:80", first)

    token, wait = limiter.try_acquire("a:80")

    assert token is None
    assert wait >= 0.05 - START_TOLERANCE - START_LEAD - 0.01
    assert limiter.delay("a:80") >= 0.05 - START_TOLERANCE - 0.01
    later = limiter.acquire("a:80", deadline=time.monotonic() + 5)
    assert later.slot >= sent + 0.05 - START_TOLERANCE


def test_slots_reserved_behind_a_late_start_push_new_ones_further():
    limiter = LocalHostLimiter(per_host_concurrency=5, per_host_interval=0.05)
    first = limiter.acquire("a:80")
    limiter.wait_for_start("a:80", first)
    time.sleep(0.1)
    second = limiter.acquire("a:80", deadline=time.monotonic() + 5)  # on the grid: now
    sent = time.monotonic()
    limiter.started("a:80", first)  # sent 100 ms late

    third = limiter.acquire("a:80", deadline=time.monotonic() + 5)

    # The second goes out an interval after the late start, the third an interval after that.
    spacing = 0.05 - START_TOLERANCE
    assert second.slot < sent
    assert third.slot >= sent + 2 * spacing


class _FakeClock:
    """time.monotonic and time.sleep for the limiter: sleeping moves the clock, exactly."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


def _starts_after_a_late_one(monkeypatch, late_by: float, count: int) -> list[float]:
    """One request per turn: the first sent `late_by` after its slot, the rest on time."""
    clock = _FakeClock()
    monkeypatch.setattr("curation.checker.politeness.time", clock)
    limiter = LocalHostLimiter(per_host_concurrency=1, per_host_interval=0.05)
    starts = []
    for turn in range(count + 1):
        token = limiter.acquire("a:80", deadline=clock.now + 10)
        limiter.wait_for_start("a:80", token)
        starts.append(clock.now)
        if turn == 0:
            clock.sleep(late_by)
        limiter.started("a:80", token)
        limiter.release("a:80", token)
    return starts


def test_a_start_a_few_ms_late_is_caught_up_so_the_run_keeps_its_rate(monkeypatch):
    starts = _starts_after_a_late_one(monkeypatch, late_by=0.004, count=6)

    gaps = [b - a for a, b in itertools.pairwise(starts)]
    # Each start at least the interval less the tolerance after the one before (the late one
    # counted from when it was sent)...
    assert gaps[0] >= 0.004 + 0.05 - START_TOLERANCE - 1e-9
    assert min(gaps[1:]) >= 0.05 - START_TOLERANCE - 1e-9
    # ...and within a few starts back on the grid: the 4 ms cost nothing in the end.
    assert starts[-1] == pytest.approx(starts[0] + 6 * 0.05, abs=1e-9)


def test_a_long_stall_moves_the_grid_rather_than_being_made_up_for(monkeypatch):
    starts = _starts_after_a_late_one(monkeypatch, late_by=0.1, count=20)

    gaps = [b - a for a, b in itertools.pairwise(starts[1:])]
    # After the stall, at most CATCH_UP is made up (a millisecond a start), then the interval.
    assert min(gaps) >= 0.05 - START_TOLERANCE - 1e-9
    assert starts[-1] - starts[1] >= 19 * 0.05 - CATCH_UP - 1e-9
    assert gaps[-5:] == pytest.approx([0.05] * 5, abs=1e-9)


def test_a_reservation_released_without_a_start_stops_holding_the_grid():
    limiter = LocalHostLimiter(per_host_concurrency=5, per_host_interval=0.05)
    first = limiter.acquire("a:80")
    limiter.wait_for_start("a:80", first)
    limiter.started("a:80", first)
    refused = limiter.acquire("a:80", deadline=time.monotonic() + 5)
    limiter.release("a:80", refused)  # e.g. the address was refused: nothing was sent
    limiter.release("a:80", first)

    nxt = limiter.acquire("a:80", deadline=time.monotonic() + 5)

    # One interval after the refused slot, not two after the real start.
    assert nxt.slot <= refused.slot + 0.05 + 0.005


def test_without_an_interval_nothing_waits_for_a_start_in_progress():
    limiter = LocalHostLimiter(per_host_concurrency=2, per_host_interval=0)
    first = limiter.acquire("a:80")
    second = limiter.acquire("a:80")
    limiter.wait_for_start("a:80", first)
    before = time.monotonic()

    limiter.wait_for_start("a:80", second)  # the first has not been sent yet

    assert time.monotonic() - before < 0.05


class _TimingListener:
    """A keep-alive HTTP server that notes when each connection was accepted and when each
    request head arrived (server time, monotonic)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted: list[float] = []
        self.requests: list[float] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(time.monotonic())
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while chunk := conn.recv(65536):
                data += chunk
                while b"\r\n\r\n" in data:
                    _, data = data.split(b"\r\n\r\n", 1)
                    self.requests.append(time.monotonic())
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")


def test_a_new_connection_is_made_before_the_start_slot_so_only_the_request_waits_for_it():
    listener = _TimingListener()
    host = f"127.0.0.1:{listener.port}"
    config = config_for(host, per_host_interval=0.5)
    limiter = LocalHostLimiter(per_host_concurrency=2, per_host_interval=0.5)
    url = f"http://{host}/page"
    first_client, second_client = build_session(config), build_session(config)
    try:
        fetch(first_client, url, config=config, max_bytes=1024, deadline=time.monotonic() + 5,
              limiter=limiter)  # fmt: skip
        # A second client has no pooled connection: its request needs a new one, and its slot
        # is half a second after the first request.
        fetch(second_client, url, config=config, max_bytes=1024, deadline=time.monotonic() + 5,
              limiter=limiter)  # fmt: skip
    finally:
        first_client.close()
        second_client.close()

    assert len(listener.accepted) == 2 and len(listener.requests) == 2
    # The server notes arrivals in its own threads: one that wakes a little late for the first
    # request reads a gap shorter than was sent (0.4989 s seen), hence the 5 ms of slack.
    assert listener.requests[1] - listener.requests[0] >= 0.5 - START_TOLERANCE - 0.005
    # Connected while the request waited for its slot, not after it.
    assert listener.accepted[1] < listener.requests[0] + 0.5 - START_TOLERANCE
