"""check_many: streaming, per-host limits seen by the servers, no starvation by slow hosts."""

from __future__ import annotations

import itertools
import threading
import time

from curation.checker.engine import check_many
from curation.checker.outcomes import Outcome
from curation.checker.politeness import LocalHostLimiter
from tests.checker.conftest import config_for
from tests.checker.servers import page

BODY = b"<title>Course</title><h1>Course</h1>"


class Gauge:
    """Requests in flight across several servers."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = self.max = 0

    def hold(self, seconds: float):
        def handler(h):
            with self.lock:
                self.now += 1
                self.max = max(self.max, self.now)
            try:
                time.sleep(seconds)
                h.reply(200, BODY)
            finally:
                with self.lock:
                    self.now -= 1

        return handler


def test_the_per_host_limit_is_never_exceeded_as_seen_by_the_server(server):
    server.routes["*"] = Gauge().hold(0.1)
    urls = [server.url(f"/{i}") for i in range(12)]
    # The probe off: this server answers every address with the same page, a soft-404 site to
    # the probe (docs/soft404-probe.md), and this test is about scheduling.
    config = config_for(server, concurrency=8, per_host_concurrency=2, probe=False)

    results = list(check_many(urls, config=config))

    assert len(results) == 12 and {r.outcome for r in results} == {Outcome.OK}
    assert server.max_in_flight == 2


def test_input_sorted_by_host_still_keeps_every_host_busy(make_server):
    gauge = Gauge()
    servers = [make_server() for _ in range(4)]
    for s in servers:
        s.routes["*"] = gauge.hold(0.3)
    # All of host A, then all of host B...: a FIFO pool would work on one host at a time.
    urls = [s.url(f"/{i}") for s in servers for i in range(6)]
    config = config_for(*servers, concurrency=8, per_host_concurrency=2)

    results = list(check_many(urls, config=config))

    assert len(results) == 24
    assert all(s.max_in_flight <= 2 for s in servers)
    assert gauge.max >= 6  # several hosts at their bound at once, not one host at a time


def test_input_is_read_lazily_and_results_stream(server):
    server.routes["*"] = page(body=BODY)
    consumed = itertools.count()

    def endless():
        for i in itertools.count():
            next(consumed)
            yield server.url(f"/{i}")

    # The probe off: this server answers every address with the same page, a soft-404 site to
    # the probe (docs/soft404-probe.md), and this test is about scheduling.
    config = config_for(server, concurrency=4, per_host_concurrency=2, lookahead=10, probe=False)
    results = check_many(endless(), config=config)
    first = [next(results) for _ in range(3)]
    results.close()

    assert all(r.outcome == Outcome.OK for r in first)
    assert next(consumed) <= 10 + 4 + 3 + 1


def test_a_host_held_by_retry_after_does_not_starve_the_others(make_server):
    held, free = make_server(), make_server()
    held.routes["*"] = free.routes["*"] = page(body=BODY)
    limiter = LocalHostLimiter(per_host_concurrency=2, per_host_interval=0)
    limiter.defer(held.host_port, 60)
    urls = [held.url(f"/{i}") for i in range(4)] + [free.url(f"/{i}") for i in range(6)]
    config = config_for(held, free, concurrency=2, per_host_concurrency=2)

    results = check_many(urls, config=config, limiter=limiter)
    first_six = [next(results) for _ in range(6)]
    results.close()

    assert {r.url for r in first_six} == {free.url(f"/{i}") for i in range(6)}
    assert held.requests == []


def test_check_many_reports_every_input_including_junk(server):
    server.routes["/ok"] = page(body=BODY)
    server.routes["/gone"] = page(404)
    urls = [server.url("/ok"), "not a url", server.url("/gone"), "ftp://x.example/"]

    results = {r.url: r.outcome for r in check_many(urls, config=config_for(server))}

    assert results == {
        server.url("/ok"): Outcome.OK,
        "not a url": Outcome.INVALID_URL,
        server.url("/gone"): Outcome.NOT_FOUND,
        "ftp://x.example/": Outcome.INVALID_URL,
    }


def test_check_many_of_nothing_yields_nothing():
    assert list(check_many([], config=config_for())) == []


class WaitCountingLimiter(LocalHostLimiter):
    """Counts the threads waiting for a start slot at once."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lock = threading.Lock()
        self.waiting = self.most_waiting = 0

    def acquire(self, host, *, deadline=None):
        with self.lock:
            self.waiting += 1
            self.most_waiting = max(self.most_waiting, self.waiting)
        try:
            return super().acquire(host, deadline=deadline)
        finally:
            with self.lock:
                self.waiting -= 1


def test_a_paced_host_holds_one_waiting_thread_not_a_batch(server):
    server.routes["*"] = page(body=BODY)
    limiter = WaitCountingLimiter(per_host_concurrency=8, per_host_interval=0.1)
    urls = [server.url(f"/{i}") for i in range(6)]
    # The probe off: this server answers every address with the same page, a soft-404 site to
    # the probe (docs/soft404-probe.md), and this test is about scheduling.
    config = config_for(
        server, concurrency=8, per_host_concurrency=8, per_host_interval=0.1, probe=False
    )

    results = list(check_many(urls, config=config, limiter=limiter))

    assert len(results) == 6 and {r.outcome for r in results} == {Outcome.OK}
    # Eight threads and eight slots, but the others stay free for other hosts.
    assert limiter.most_waiting <= 2


def test_the_first_requests_go_out_while_the_input_is_still_being_read(server):
    consumed = itertools.count()
    read_when_first_served: list[int] = []

    def first(h):
        if not read_when_first_served:
            read_when_first_served.append(next(consumed))
        h.reply(200, BODY)

    server.routes["*"] = first

    def slow_input():
        for i in range(400):
            next(consumed)
            if i > 100:
                time.sleep(0.002)  # a long file: the rest takes most of a second to read
            yield server.url(f"/{i}")

    config = config_for(server, concurrency=4, per_host_concurrency=4, lookahead=1000)

    results = list(check_many(slow_input(), config=config))

    assert len(results) == 400
    assert read_when_first_served[0] < 300
