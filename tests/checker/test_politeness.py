"""Per-host limits in one process: caps, the interval kept at the send, catch-up and stalls."""

from __future__ import annotations

import itertools
import threading
import time
import tracemalloc

import pytest

import curation.checker.politeness as politeness
from curation.checker.errors import FetchTimeout
from curation.checker.fetch import fetch
from curation.checker.guard import build_session
from curation.checker.politeness import (
    CATCH_UP,
    START_LEAD,
    START_TOLERANCE,
    LocalHostLimiter,
)
from tests.checker.conftest import config_for
from tests.checker.gate import send_through_the_gate

# Spacing is asserted as the server saw it: kernel timestamps of the request heads' arrival at a
# loopback server (ArrivalServer), never the test's own clock. Where a test needs an upper bound
# (a rate kept, nothing waited for), the limiter runs on a fake clock instead, which is exact.


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


def _blocks_held_by_the_limiter() -> int:
    """Memory blocks allocated by the limiter's code and still alive."""
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(True, politeness.__file__)]
    )
    return sum(stat.count for stat in snapshot.statistics("filename"))


def test_the_local_limiter_forgets_idle_hosts(monkeypatch):
    # A run over a million hosts must keep the limiter's memory flat.
    clock = _FakeClock()
    monkeypatch.setattr("curation.checker.politeness.time", clock)
    monkeypatch.setattr("curation.checker.politeness.PURGE_EVERY", 10)
    limiter = LocalHostLimiter(per_host_concurrency=1, per_host_interval=0.01)
    tracemalloc.start()
    try:
        for i in range(2000):
            token, _ = limiter.try_acquire(f"host-{i}:80")
            limiter.release(f"host-{i}:80", token)  # each host still inside its interval
        remembered = _blocks_held_by_the_limiter()
        clock.sleep(0.02)  # every one of them idle now

        for i in range(10):
            limiter.try_acquire(f"late-{i}:80")
        after = _blocks_held_by_the_limiter()
    finally:
        tracemalloc.stop()

    # A host's state, at least, for each host within its interval; next to nothing once they
    # are idle (the ten late hosts, and the blocks the interpreter keeps for reuse).
    assert remembered >= 2000
    assert after < remembered / 10


# Start slots: kept at the send, on a grid -----------------------------------------------------


def test_starts_through_the_gate_are_the_interval_apart_whatever_the_threads_do(wire):
    limiter = LocalHostLimiter(per_host_concurrency=8, per_host_interval=0.05)

    def one_request(index: int) -> None:
        token = limiter.acquire("a:80", deadline=time.monotonic() + 10)
        try:
            send_through_the_gate(limiter, "a:80", token, wire, f"/{index}")
        finally:
            limiter.release("a:80", token)

    threads = [threading.Thread(target=one_request, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    gaps = wire.gaps()
    assert len(gaps) == 7
    assert min(gaps) >= 0.05 - START_TOLERANCE - wire.precision


def test_a_start_sent_late_pushes_the_next_one_back(wire):
    limiter = LocalHostLimiter(per_host_concurrency=2, per_host_interval=0.05)
    first = limiter.acquire("a:80")
    second = limiter.acquire("a:80", deadline=time.monotonic() + 5)  # the slot 50 ms later

    # The first request is held up on its way out (a busy CPU, the GIL) past the second's slot.
    send_through_the_gate(limiter, "a:80", first, wire, "/first", held_up=0.12)
    send_through_the_gate(limiter, "a:80", second, wire, "/second")

    assert wire.paths() == ["/first", "/second"]
    assert wire.gap("/first", "/second") >= 0.05 - START_TOLERANCE - wire.precision


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


def test_a_deferred_host_holds_a_start_already_reserved(wire):
    limiter = LocalHostLimiter(per_host_concurrency=2, per_host_interval=0)
    first, second = limiter.acquire("a:80"), limiter.acquire("a:80")

    send_through_the_gate(limiter, "a:80", first, wire, "/first")
    limiter.defer("a:80", 0.2)  # the first was answered 429, Retry-After: 0.2
    send_through_the_gate(limiter, "a:80", second, wire, "/second")

    assert wire.paths() == ["/first", "/second"]
    assert wire.gap("/first", "/second") >= 0.2 - wire.precision


def test_a_start_on_its_way_to_the_socket_holds_the_next_one_until_it_is_sent(wire):
    # The first request is through the gate but its thread lost the CPU before the send: the
    # second, due meanwhile, must neither overtake it nor go out less than the interval after it.
    limiter = LocalHostLimiter(per_host_concurrency=2, per_host_interval=0.05)
    first = limiter.acquire("a:80")
    second = limiter.acquire("a:80", deadline=time.monotonic() + 5)
    client = wire.connect()
    limiter.wait_for_start("a:80", first)
    waiter = threading.Thread(
        target=send_through_the_gate, args=(limiter, "a:80", second, wire, "/second"), daemon=True
    )
    waiter.start()

    time.sleep(0.15)  # far past the second slot, the first still on its way
    wire.send(client, "/first")
    limiter.started("a:80", first)
    waiter.join(10)

    assert wire.paths() == ["/first", "/second"]
    assert wire.gap("/first", "/second") >= 0.05 - START_TOLERANCE - wire.precision


def test_after_a_late_start_new_slots_follow_it_rather_than_the_grid(wire):
    # Slots handed out on the old grid would only wait at the gate, each holding a connection.
    limiter = LocalHostLimiter(per_host_concurrency=5, per_host_interval=0.05)
    first = limiter.acquire("a:80")
    send_through_the_gate(limiter, "a:80", first, wire, "/first", held_up=0.12)

    token, wait = limiter.try_acquire("a:80")

    assert token is None
    assert wait >= 0.05 - START_TOLERANCE - START_LEAD - 0.01
    assert limiter.delay("a:80") >= 0.05 - START_TOLERANCE - 0.01
    later = limiter.acquire("a:80", deadline=time.monotonic() + 5)
    send_through_the_gate(limiter, "a:80", later, wire, "/later")
    assert wire.gap("/first", "/later") >= 0.05 - START_TOLERANCE - wire.precision


def test_slots_reserved_behind_a_late_start_push_new_ones_further(wire):
    limiter = LocalHostLimiter(per_host_concurrency=5, per_host_interval=0.05)
    first = limiter.acquire("a:80")
    client = wire.connect()
    limiter.wait_for_start("a:80", first)
    time.sleep(0.1)
    second = limiter.acquire("a:80", deadline=time.monotonic() + 5)  # on the grid: now
    wire.send(client, "/first")  # sent 100 ms late
    limiter.started("a:80", first)

    token, wait = limiter.try_acquire("a:80")

    # The second goes out an interval after the late start, a third only an interval after that.
    spacing = 0.05 - START_TOLERANCE
    assert token is None
    assert wait >= 2 * spacing - START_LEAD - 0.01
    third = limiter.acquire("a:80", deadline=time.monotonic() + 5)
    send_through_the_gate(limiter, "a:80", second, wire, "/second")
    send_through_the_gate(limiter, "a:80", third, wire, "/third")
    assert wire.paths() == ["/first", "/second", "/third"]
    assert min(wire.gaps()) >= spacing - wire.precision


class _FakeClock:
    """time.monotonic and time.sleep for the limiter: sleeping moves the clock, exactly."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now
        self.start = now

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        if self.now - self.start > 60:
            raise AssertionError("the limiter would have waited more than a minute")
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


def test_a_start_a_few_ms_late_is_not_made_up_for_by_a_shorter_gap(monkeypatch):
    starts = _starts_after_a_late_one(monkeypatch, late_by=0.004, count=6)

    gaps = [b - a for a, b in itertools.pairwise(starts)]
    # The interval is a promise about the wire (issue 21): each start at least the interval
    # after the one before (the late one counted from when it was sent), so the 4 ms are lost.
    assert gaps[0] >= 0.004 + 0.05 - 1e-9
    assert min(gaps[1:]) >= 0.05 - 1e-9
    assert starts[-1] == pytest.approx(starts[0] + 6 * 0.05 + 0.004, abs=1e-9)


def test_a_long_stall_moves_the_grid_rather_than_being_made_up_for(monkeypatch):
    starts = _starts_after_a_late_one(monkeypatch, late_by=0.1, count=20)

    gaps = [b - a for a, b in itertools.pairwise(starts[1:])]
    # After the stall, at most CATCH_UP is made up (a millisecond a start), then the interval.
    assert min(gaps) >= 0.05 - START_TOLERANCE - 1e-9
    assert starts[-1] - starts[1] >= 19 * 0.05 - CATCH_UP - 1e-9
    assert gaps[-5:] == pytest.approx([0.05] * 5, abs=1e-9)


def test_a_reservation_released_without_a_start_stops_holding_the_grid(monkeypatch):
    clock = _FakeClock()
    monkeypatch.setattr("curation.checker.politeness.time", clock)
    limiter = LocalHostLimiter(per_host_concurrency=5, per_host_interval=0.05)
    first = limiter.acquire("a:80")
    limiter.wait_for_start("a:80", first)
    sent = clock.now
    limiter.started("a:80", first)
    refused = limiter.acquire("a:80", deadline=clock.now + 5)
    limiter.release("a:80", refused)  # e.g. the address was refused: nothing was sent
    limiter.release("a:80", first)

    starts = []
    for _ in range(4):
        token = limiter.acquire("a:80", deadline=clock.now + 5)
        limiter.wait_for_start("a:80", token)
        starts.append(clock.now)
        limiter.started("a:80", token)
        limiter.release("a:80", token)

    # One interval after the refused slot, then one interval apart: the refused reservation
    # holds nothing back.
    assert starts[0] == pytest.approx(sent + 2 * 0.05, abs=1e-9)
    assert [b - a for a, b in itertools.pairwise(starts)] == pytest.approx([0.05] * 3, abs=1e-9)


def test_without_an_interval_nothing_waits_for_a_start_in_progress(wire):
    limiter = LocalHostLimiter(per_host_concurrency=2, per_host_interval=0)
    first, second = limiter.acquire("a:80"), limiter.acquire("a:80")
    client = wire.connect()
    limiter.wait_for_start("a:80", first)  # through the gate, not sent yet
    waiter = threading.Thread(
        target=send_through_the_gate, args=(limiter, "a:80", second, wire, "/second"), daemon=True
    )
    waiter.start()

    # The second request arrives while the first is still unsent.
    second_went_first = wire.wait_for(1)
    wire.send(client, "/first")
    limiter.started("a:80", first)
    waiter.join(10)

    assert second_went_first
    assert wire.paths() == ["/second", "/first"]


class _GateWatcher(LocalHostLimiter):
    """Notes, each time a request reaches the gate, how many connections had been made."""

    def __init__(self, connections, **kwargs) -> None:
        super().__init__(**kwargs)
        self.connections = connections
        self.connected_at_the_gate: list[int] = []

    def wait_for_start(self, host, token) -> None:
        self.connected_at_the_gate.append(len(self.connections.attempts))
        super().wait_for_start(host, token)


def test_a_new_connection_is_made_before_the_start_slot_so_only_the_request_waits_for_it(
    wire, connections
):
    config = config_for(wire.host_port, per_host_interval=0.5)
    limiter = _GateWatcher(connections, per_host_concurrency=2, per_host_interval=0.5)
    url = wire.url("/page")
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

    assert len(wire.accepted) == 2 and len(wire.arrivals) == 2
    assert wire.gaps()[0] >= 0.5 - START_TOLERANCE - wire.precision
    # Each request waited for its slot with its connection already made, not the other way round.
    assert limiter.connected_at_the_gate == [1, 2]
