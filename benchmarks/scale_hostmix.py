"""A lopsided catalogue under the default politeness (issue 21, item 7), in simulated time.

    python benchmarks/scale_hostmix.py                 # 100,000 links, 30,000 on one host
    python benchmarks/scale_hostmix.py --cycles 1 --spread on

The real dispatcher (`dispatch_due_checks`, with its per-host cap) runs against the real
PostgreSQL database (syllabus_scaledb_bench) once per simulated dispatch period (60 s), with
the defaults: 1 s between requests to a host, 2 in flight, MONITOR_DISPATCH_LIMIT checks per
run, a 1,800 s lease, a 168 h healthy interval. The network is simulated: each host sends its
claimed checks in order, one per interval (a check takes 0.3 s, so 2 in flight never bind),
and a check is recorded (last_checked_at, next check 168 h later, lease released; by SQL)
when its simulated time has come. Every link starts due at once (a fresh import, the worst
case), and the run goes on through a second full cycle (`--cycles 1`: the first pass only).

Printed, with and without the per-host spreading: the worst time from the start until a
link's first check, the worst lateness of a check in the second cycle (checked after its
next_check_at), the longest gap between two checks of one link, the most checks of one host
waiting to be sent at once, and the checks dispatched twice because their lease ran out
while they waited behind their host's queue.
"""

from __future__ import annotations

import argparse
import heapq
import time
from collections import defaultdict, deque
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import scale_data

CHECK_SECONDS = 0.3
START = datetime(2026, 12, 7, tzinfo=UTC)


def simulate(links: int, *, spread: bool, cycles: int) -> dict:
    from django.conf import settings

    from curation.health import dispatch

    scale_data.load_resources(links, big_host_share=0.3, due=True, text=False)
    host_of = {
        pk: (urlsplit(url).hostname or "")
        for pk, url in scale_data.rows("SELECT id, url FROM curation_resource")
    }
    interval = 1.0
    period = timedelta(seconds=settings.MONITOR_DISPATCH_EVERY_SECONDS)
    healthy = timedelta(hours=settings.MONITOR_HEALTHY_INTERVAL_HOURS)
    host_free: dict[str, float] = defaultdict(float)  # when a host may take its next request
    waiting: dict[str, deque] = defaultdict(deque)  # claimed, not yet sent, per host
    pending: list[tuple[float, int]] = []  # (completion time, id)
    in_flight: set[int] = set()
    last_check: dict[int, float] = {}
    first_check: dict[int, float] = {}
    worst_gap = worst_late = 0.0
    due_at: dict[int, float] = {}
    duplicates = max_waiting = 0
    runs = 0
    checked_twice: set[int] = set()
    t = 0.0
    horizon = 2 * healthy.total_seconds() + 48 * 3600
    started = time.perf_counter()
    while t <= horizon:
        now = START + timedelta(seconds=t)
        claimed: list[int] = []
        dispatch.dispatch_due_checks(
            enqueue=lambda items, at, into=claimed: into.extend(pk for pk, _ in items),
            now=now,
            spread_hosts=spread,
        )
        runs += 1
        for pk in claimed:
            if pk in in_flight:
                duplicates += 1
                continue
            in_flight.add(pk)
            waiting[host_of[pk]].append(pk)
        # Each host sends its waiting checks one per interval, from now until the next run.
        for host, queue in waiting.items():
            while queue and max(host_free[host], t) < t + period.total_seconds():
                start = max(host_free[host], t)
                host_free[host] = start + interval
                heapq.heappush(pending, (start + CHECK_SECONDS, queue.popleft()))
        max_waiting = max(max_waiting, max((len(q) for q in waiting.values()), default=0))
        waiting = defaultdict(deque, {h: q for h, q in waiting.items() if q})
        t_next = t + period.total_seconds()
        done: list[tuple[int, float]] = []
        while pending and pending[0][0] <= t_next:
            finished, pk = heapq.heappop(pending)
            in_flight.discard(pk)
            done.append((pk, finished))
            if pk in last_check:
                checked_twice.add(pk)
                worst_gap = max(worst_gap, finished - last_check[pk])
                worst_late = max(worst_late, finished - due_at[pk])
            else:
                first_check[pk] = finished
            last_check[pk] = finished
            due_at[pk] = finished + healthy.total_seconds()
        record(done, healthy)
        t = t_next
        if len(checked_twice) == links or (cycles == 1 and len(first_check) == links):
            break
        if runs % 100 == 0:
            print(
                f"  {t / 3600:.1f} h simulated: {len(first_check):,} checked,"
                f" {duplicates:,} dispatched twice, at most {max_waiting:,} waiting",
                flush=True,
            )
        if not pending and not any(waiting.values()):
            # Nothing in flight: jump to the next period in which something is due.
            upcoming = scale_data.scalar(
                "SELECT min(next_check_at) FROM curation_resource WHERE check_lease_until IS NULL"
            )
            if upcoming is None:
                break
            ahead = (upcoming - START).total_seconds()
            if ahead > t:
                t = ahead + (-ahead % period.total_seconds())
    return {
        "spread": spread,
        "links": links,
        "checked": len(first_check),
        "checked_twice": len(checked_twice),
        "worst_first_h": max(first_check.values(), default=0) / 3600,
        "worst_late_h": worst_late / 3600,
        "worst_gap_h": worst_gap / 3600,
        "max_waiting": max_waiting,
        "duplicates": duplicates,
        "runs": runs,
        "wall_s": time.perf_counter() - started,
    }


def record(done: list[tuple[int, float]], healthy: timedelta) -> None:
    """What recording a healthy check does to the schedule: checked, next in 168 h, released."""
    if not done:
        return
    ids = [pk for pk, _ in done]
    at = [START + timedelta(seconds=s) for _, s in done]
    scale_data.execute(
        "UPDATE curation_resource r SET last_checked_at = v.at, check_lease_until = NULL,"
        " next_check_at = v.at + %s FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, at)"
        " WHERE r.id = v.id",
        [healthy, ids, at],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--links", type=int, default=100_000)
    parser.add_argument(
        "--spread", choices=("both", "on", "off"), default="both", help="which runs to make"
    )
    parser.add_argument("--cycles", type=int, choices=(1, 2), default=2, help="1: first pass only")
    args = parser.parse_args()
    scale_data.configure()
    from curation.health import dispatch

    print(f"machine: {scale_data.machine()}", flush=True)
    print(f"host cap per dispatch run: {dispatch.host_cap()}", flush=True)
    for spread in {"both": (True, False), "on": (True,), "off": (False,)}[args.spread]:
        r = simulate(args.links, spread=spread, cycles=args.cycles)
        print(
            f"{'spread' if spread else 'no spread'}: {r['checked']:,} of {r['links']:,} links"
            f" checked ({r['checked_twice']:,} twice); worst first check"
            f" {r['worst_first_h']:.1f} h after the start; worst"
            f" lateness in the next cycle {r['worst_late_h']:.2f} h; longest gap between two"
            f" checks of a link {r['worst_gap_h']:.1f} h; at most {r['max_waiting']:,} checks"
            f" of one host waiting; {r['duplicates']:,} dispatched twice (lease expired while"
            f" waiting); {r['runs']:,} dispatcher runs in {r['wall_s']:.0f} s",
            flush=True,
        )


if __name__ == "__main__":
    main()
