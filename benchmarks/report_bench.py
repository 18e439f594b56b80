"""Link-report generation at scale: 100,000 resources and 1,000,000 checks on PostgreSQL.

    python benchmarks/report_bench.py                  # load once (kept), then measure
    python benchmarks/report_bench.py --reload         # drop and load the data again
    python benchmarks/report_bench.py --runs 7 --explain 4

Uses its own database (default postgres://postgres@127.0.0.1:5432/syllabus_reportbench,
override with REPORT_BENCH_DATABASE_URL), created and migrated if missing. Data is loaded
with COPY. The catalogue looks like a real one a few months in: most links healthy, a few
percent suspect/broken/moved/unverifiable, ten checks per resource over ten weeks, a health
transition for every first check and every change, 500 published lists of 20 items.

Prints the median and spread of several generations of the report for the current period
(build_report_data, the part that scales), one full generate_link_report (claim + build +
save), the slowest queries of a generation with their share, and EXPLAIN ANALYZE for the
slowest of them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/syllabus_reportbench"
os.environ["DATABASE_URL"] = os.environ.get("REPORT_BENCH_DATABASE_URL", DEFAULT_URL)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SYLLABUS_VAR_DIR", "/tmp/syllabus-reportbench-var")
os.environ.setdefault("LOG_LEVEL", "WARNING")

RESOURCES = 100_000
CHECKS_PER_RESOURCE = 10
HOSTS = 2_000
COLLECTIONS = 500
ITEMS_PER_COLLECTION = 20
HISTORY_DAYS = 70
# Health mix of the catalogue (fractions; the rest is healthy).
MIX = {"suspect": 0.03, "broken": 0.03, "moved": 0.02, "unverifiable": 0.01, "unknown": 0.01}
FAILING_OUTCOMES = ["not_found", "dns_error", "connection_error", "soft_404", "server_error"]


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def copy_rows(cursor, table: str, columns: list[str], rows) -> int:
    """COPY rows (tuples, None for NULL) into `table` in one stream."""
    count = 0
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


TABLES = [
    "curation_healthtransition",
    "curation_linkcheck",
    "curation_collectionitem",
    "curation_collectionsection",
    "curation_collection",
    "curation_checkerincident",
    "curation_linkreport",
    "curation_resource_topics",
    "curation_metadatasuggestion",
    "curation_resource",
]
RESOURCE_COLUMNS = [
    "url", "normalized_url", "title", "description", "kind", "difficulty", "author",
    "publisher", "language", "cost", "curator_note", "featured", "status", "created_at",
    "updated_at", "health", "health_changed_at", "last_checked_at", "last_outcome",
    "last_status_code", "next_check_at", "consecutive_failures", "first_failure_at",
    "consecutive_blocked", "consecutive_moves", "suggested_url", "fetched_metadata",
    "original_url",
]  # fmt: skip
CHECK_COLUMNS = [
    "resource_id", "checked_at", "url", "outcome", "status_code", "final_url",
    "redirect_chain", "elapsed_ms", "error", "rule", "source", "dispatch_token", "counted",
]  # fmt: skip
TRANSITION_COLUMNS = ["resource_id", "from_state", "to_state", "at", "link_check_id", "reason"]


def load(now: datetime, rng: random.Random) -> None:
    """Replace the tables the report reads with the benchmark's catalogue, by COPY.

    The rows are drawn from `rng` in a fixed order (states, resources, checks, transitions,
    list items), so that one seed always gives the same data.
    """
    from django.db import connection

    from curation.reports.periods import current_period

    period = current_period(now)
    start = now - timedelta(days=HISTORY_DAYS)
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
        raw = cursor.cursor
        states = draw_states(rng)
        steps = [
            ("resources", "curation_resource", RESOURCE_COLUMNS,
             resource_rows(states, start, period, now, rng)),
            ("checks", "curation_linkcheck", CHECK_COLUMNS, check_rows(states, start, rng)),
            ("transitions", "curation_healthtransition", TRANSITION_COLUMNS,
             transition_rows(states, start, period, rng)),
        ]  # fmt: skip
        for name, table, columns, rows in steps:
            t = time.perf_counter()
            n = copy_rows(raw, table, columns, rows)
            print(f"  {name}: {n:,} in {time.perf_counter() - t:.1f}s", flush=True)
        load_collections(raw, now, rng)
        load_incidents(raw, period, start)
        cursor.execute("ANALYZE")
    print(f"  loaded in {time.perf_counter() - t0:.1f}s", flush=True)


def draw_states(rng: random.Random) -> list[str]:
    """Each resource's health, drawn from MIX (the rest healthy)."""
    states = []
    for _ in range(RESOURCES):
        roll, acc, state = rng.random(), 0.0, "healthy"
        for name, share in MIX.items():
            acc += share
            if roll < acc:
                state = name
                break
        states.append(state)
    return states


def resource_rows(states, start, period, now, rng):
    """Rows for RESOURCE_COLUMNS, one per state."""
    for i, state in enumerate(states, start=1):
        host = f"host{i % HOSTS}.example.test"
        url = f"https://{host}/path/{i}"
        created = start + timedelta(seconds=rng.uniform(0, 20 * 86400))
        if i > RESOURCES - 500:  # a few added this week
            created = period.start + timedelta(seconds=rng.uniform(0, 6 * 86400))
        recent = period.start <= created
        changed = (
            period.start + timedelta(seconds=rng.uniform(0, 7 * 86400))
            if rng.random() < 0.35 or recent
            else start + timedelta(days=rng.uniform(20, 60))
        )
        failing = state in ("suspect", "broken")
        outcome = {
            "healthy": "ok",
            "moved": "redirected",
            "unverifiable": "blocked",
            "unknown": "",
        }.get(state) or rng.choice(FAILING_OUTCOMES)
        status = (rng.random() < 0.85 and "published") or rng.choice(["draft", "archived"])
        checked = None if state == "unknown" else now - timedelta(hours=rng.uniform(1, 160))
        yield (
            url,
            url,
            f"Resource {i}",
            "",
            "article",
            1,
            "",
            "",
            "",
            "free",
            "",
            False,
            status,
            created,
            created,
            state,
            None if state == "unknown" else changed,
            checked,
            outcome,
            {"ok": 200, "redirected": 200, "blocked": 403, "not_found": 404}.get(outcome),
            now + timedelta(days=rng.uniform(0, 7)),
            rng.randint(3, 9) if failing else 0,
            changed - timedelta(days=2) if failing else None,
            3 if state == "unverifiable" else 0,
            2 if state == "moved" else 0,
            f"https://new.example.test/moved/{i}" if state == "moved" else "",
            "{}",
            "",
        )


def check_rows(states, start, rng):
    """Rows for CHECK_COLUMNS: CHECKS_PER_RESOURCE over the history, failing lately if the
    resource's state says so."""
    span = HISTORY_DAYS * 86400
    for i, state in enumerate(states, start=1):
        url = f"https://host{i % HOSTS}.example.test/path/{i}"
        for k in range(CHECKS_PER_RESOURCE):
            at = start + timedelta(seconds=span * (k + rng.random()) / CHECKS_PER_RESOURCE)
            late = k >= CHECKS_PER_RESOURCE - 3
            if state in ("suspect", "broken") and late:
                outcome = rng.choice(FAILING_OUTCOMES)
            elif state == "moved" and late:
                outcome = "redirected"
            elif state == "unverifiable" and late:
                outcome = "blocked"
            else:
                outcome = "ok" if rng.random() > 0.02 else "server_error"
            yield (
                i, at, url, outcome, 200 if outcome == "ok" else 500, "", "[]", 150, "",
                "", "scheduled", "", rng.random() > 0.002,
            )  # fmt: skip


def transition_rows(states, start, period, rng):
    """Rows for TRANSITION_COLUMNS: the first check's, then each change that led to the state."""
    for i, state in enumerate(states, start=1):
        if state == "unknown":
            continue
        first = start + timedelta(seconds=rng.uniform(0, 7 * 86400))
        yield (i, "unknown", "healthy", first, None, "success: the link answered")
        if state == "healthy" and rng.random() < 0.04:
            # a link that failed once and came back: the false alarm not to raise
            blip = period.start + timedelta(seconds=rng.uniform(0, 6 * 86400))
            yield (i, "healthy", "suspect", blip, None, "failure-unconfirmed")
            yield (i, "suspect", "healthy", blip + timedelta(hours=12), None, "success")
        if state == "healthy" and rng.random() < 0.005:
            back = period.start + timedelta(seconds=rng.uniform(0, 6 * 86400))
            yield (i, "healthy", "broken", back - timedelta(days=10), None, "confirmed")
            yield (i, "broken", "healthy", back, None, "success: the link answered")
        if state in ("suspect", "broken"):
            at = period.start + timedelta(seconds=rng.uniform(0, 6 * 86400))
            if rng.random() > 0.35:
                at -= timedelta(days=rng.uniform(7, 40))
            yield (i, "healthy", "suspect", at - timedelta(days=2), None, "unconfirmed")
            if state == "broken":
                yield (i, "suspect", "broken", at, None, "failure-confirmed: 3 failures")
        if state in ("moved", "unverifiable"):
            at = period.start + timedelta(seconds=rng.uniform(0, 6 * 86400))
            yield (i, "healthy", state, at, None, "confirmed")


def load_collections(raw, now, rng) -> None:
    """COLLECTIONS lists (one in ten a draft), one section each, ITEMS_PER_COLLECTION items."""
    copy_rows(
        raw,
        "curation_collection",
        ["title", "slug", "intro", "status", "author_name", "created_at", "updated_at"],
        (
            (f"List {c}", f"list-{c}", "", "published" if c % 10 else "draft", "", now, now)
            for c in range(1, COLLECTIONS + 1)
        ),
    )
    copy_rows(
        raw,
        "curation_collectionsection",
        ["collection_id", "title", "intro", "position"],
        ((c, f"Section {c}", "", 0) for c in range(1, COLLECTIONS + 1)),
    )
    copy_rows(
        raw,
        "curation_collectionitem",
        ["section_id", "resource_id", "note", "required", "position"],
        (
            (c, rid, "", k % 3 != 0, k)
            for c in range(1, COLLECTIONS + 1)
            for k, rid in enumerate(rng.sample(range(1, RESOURCES + 1), ITEMS_PER_COLLECTION))
        ),
    )


def load_incidents(raw, period, start) -> None:
    """Two checker-offline incidents: one in the reported week, one before it."""
    copy_rows(
        raw,
        "curation_checkerincident",
        ["started_at", "ended_at", "reason", "detail", "checks_discarded"],
        [
            (
                period.start + timedelta(days=2),
                period.start + timedelta(days=2, hours=1),
                "most hosts failed at the network level",
                "{}",
                420,
            ),
            (
                start + timedelta(days=3),
                start + timedelta(days=3, hours=2),
                "canaries unreachable",
                "{}",
                100,
            ),
        ],
    )


class QueryTimer:
    """Times every query of a generation (connection.execute_wrapper)."""

    def __init__(self):
        self.queries: list[tuple[float, str, tuple]] = []

    def __call__(self, execute, sql, params, many, context):
        t = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries.append((time.perf_counter() - t, sql, params))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reload", action="store_true", help="drop the data and load again")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--explain", type=int, default=3, help="EXPLAIN the N slowest queries")
    parser.add_argument("--json", type=Path, help="write the figures here as JSON")
    args = parser.parse_args()

    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from curation.models import LinkCheck, LinkReport, Resource
    from curation.reports.generate import generate_link_report
    from curation.reports.periods import current_period

    call_command("migrate", verbosity=0)
    now = timezone.now()
    have = Resource.objects.count()
    if args.reload or have != RESOURCES:
        print(f"Loading {RESOURCES:,} resources and {RESOURCES * CHECKS_PER_RESOURCE:,} checks")
        load(now, random.Random(7))
    print(
        f"Data: {Resource.objects.count():,} resources, "
        f"{LinkCheck.objects.count():,} checks (PostgreSQL "
        f"{connection.cursor().connection.info.server_version})"
    )
    period = current_period(now)
    LinkReport.objects.all().delete()

    timings, slowest, data = time_generations(args.runs, period, now)
    t = time.perf_counter()
    result = generate_link_report(period=period, now=now)
    full = time.perf_counter() - t
    assert result.created

    print_summary(timings, full, len(json.dumps(result.report.data)), data)
    print_slowest(slowest, args.explain)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "date": now.isoformat(),
                    "runs_ms": [round(t * 1000) for t in timings],
                    "median_ms": round(statistics.median(timings) * 1000),
                    "full_ms": round(full * 1000),
                    "slowest": [(round(s * 1000, 1), q[:300]) for s, q, _ in slowest[:8]],
                },
                indent=2,
            )
        )


def time_generations(runs: int, period, now) -> tuple[list[float], list, dict]:
    """build_report_data `runs` times: the timings, the last run's queries slowest first, and
    the last run's report."""
    from django.db import connection

    from curation.reports.build import build_report_data

    timings = []
    slowest: list[tuple[float, str, tuple]] = []
    data: dict = {}
    for run in range(runs):
        timer = QueryTimer()
        t = time.perf_counter()
        with connection.execute_wrapper(timer):
            data = build_report_data(period, now=now)
        elapsed = time.perf_counter() - t
        timings.append(elapsed)
        print(f"  run {run + 1}: {elapsed * 1000:.0f} ms, {len(timer.queries)} queries")
        if run == runs - 1:
            slowest = sorted(timer.queries, key=lambda q: q[0], reverse=True)
    return timings, slowest, data


def print_summary(timings: list[float], full: float, size: int, data: dict) -> None:
    print()
    print(f"build_report_data: median {statistics.median(timings) * 1000:.0f} ms, "
          f"min {min(timings) * 1000:.0f} ms, max {max(timings) * 1000:.0f} ms "
          f"over {len(timings)} runs")  # fmt: skip
    print(f"generate_link_report (claim + build + save): {full * 1000:.0f} ms; "
          f"stored JSON {size / 1024:.0f} KiB")  # fmt: skip
    print(
        f"Report: newly broken {data['newly_broken']['total']}, recovered "
        f"{data['recovered']['total']}, moved {data['moved']['total']}, unverifiable "
        f"{data['unverifiable']['total']}, lists {data['collections']['total']}, checks "
        f"{data['checks']['total']:,}"
    )


def print_slowest(slowest: list[tuple[float, str, tuple]], explain: int) -> None:
    """The eight slowest queries with their share, and EXPLAIN ANALYZE of the first `explain`."""
    from django.db import connection

    total = sum(q[0] for q in slowest)
    print("\nSlowest queries of the last run:")
    for seconds, sql, _ in slowest[:8]:
        print(f"  {seconds * 1000:7.1f} ms ({seconds / total:4.0%})  {sql[:150]}")
    for seconds, sql, params in slowest[:explain]:
        print(f"\nEXPLAIN ANALYZE ({seconds * 1000:.0f} ms): {sql[:200]}")
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            for (line,) in cursor.fetchall():
                print("   ", line)


if __name__ == "__main__":
    main()
