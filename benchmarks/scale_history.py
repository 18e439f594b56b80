"""History at scale (issue 21, item 6): report generation, check pruning and index sizes.

    python benchmarks/scale_history.py                               # 1,000,000 / 10,000,000
    python benchmarks/scale_history.py --resources 100000 --checks 1000000
    python benchmarks/scale_history.py --reuse                       # keep the loaded data

Uses its own PostgreSQL database (default postgres://postgres@127.0.0.1:5432/
syllabus_history_bench, override with HISTORY_BENCH_DATABASE_URL), created and migrated if
missing, filled by PostgreSQL itself (INSERT ... SELECT FROM generate_series). The checks are
spread evenly over HISTORY_DAYS, so about half are older than the 90-day retention; 2 % of the
resources have 1 to 3 health transitions in the current report period, each pointing at one
of the resource's checks (the evidence pruning must keep).

Prints: (a) build_report_data for the current period, median of 3 (as benchmarks/
report_bench.py times it); (b) prune_checks (90 days, --keep newest per resource): rows, wall
time, the longest single batch transaction, and the API's latency on
GET /api/v1/resources/?page_size=20 (Django test client in a thread, every 100 ms), median and
p99 before and during the pruning; (c) the check table's size and each of its indexes' sizes,
before and after pruning.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get(
    "HISTORY_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/syllabus_history_bench"
)
HISTORY_DAYS = 180
RETENTION_DAYS = 90
PROBE_URL = "/api/v1/resources/?page_size=20"


def configure() -> None:
    """Point Django at the benchmark database (created and migrated if needed)."""
    var = Path("/tmp/syllabus-history-bench-var")
    var.mkdir(parents=True, exist_ok=True)
    os.environ.update(
        DATABASE_URL=DATABASE_URL,
        REDIS_URL=os.environ.get("HISTORY_BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"),
        SYLLABUS_VAR_DIR=str(var),
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="false",
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_SECRET_KEY="history-bench-not-secret",
        DJANGO_ALLOWED_HOSTS="testserver,127.0.0.1,localhost",
        API_THROTTLE_ANON="100000000/minute",
        API_THROTTLE_USER="100000000/minute",
        LOG_LEVEL="WARNING",
    )
    sys.path.insert(0, str(ROOT))
    import psycopg

    name = DATABASE_URL.rsplit("/", 1)[1]
    if "bench" not in name:
        raise SystemExit(f"refusing to fill {name!r}: use a dedicated *bench* database")
    with psycopg.connect(DATABASE_URL.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def execute(sql: str, params: list | None = None) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def scalar(sql: str, params: list | None = None):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def load(resources: int, checks: int) -> None:
    """Replace the catalogue: `resources` resources, `checks` checks spread evenly over them
    and over HISTORY_DAYS, transitions for 2 % of the resources in the current period."""
    from django.utils import timezone

    from curation.reports.periods import current_period

    t0 = time.perf_counter()
    execute(
        "TRUNCATE curation_linkcheck, curation_healthtransition, curation_resource_topics,"
        " curation_collectionitem, curation_collectionsection, curation_collection,"
        " curation_archivedsnapshot, curation_metadatasuggestion, curation_problemreport,"
        " curation_webhookdelivery, curation_linkreport, curation_checkerincident,"
        " curation_resource RESTART IDENTITY CASCADE"
    )
    execute(
        """
        INSERT INTO curation_resource (
            url, normalized_url, title, description, kind, difficulty, author, publisher,
            language, cost, curator_note, featured, status, created_at, updated_at, health,
            health_changed_at, last_checked_at, last_outcome, next_check_at,
            consecutive_failures, consecutive_blocked, consecutive_moves, suggested_url,
            fetched_metadata, original_url)
        SELECT u, u, 'Resource ' || g, 'About ' || g, 'article', 1, '', '', 'en', 'free', '',
            false, CASE WHEN g %% 10 = 0 THEN 'draft' ELSE 'published' END,
            now() - interval '200 days', now() - interval '200 days',
            CASE WHEN g %% 50 = 1 THEN 'broken' WHEN g %% 50 = 2 THEN 'suspect'
                 ELSE 'healthy' END,
            now() - interval '3 days', now() - interval '1 day', 'ok',
            now() + (g %% 10080) * interval '1 minute', 0, 0, 0, '', '{}', ''
        FROM generate_series(1, %s) g,
        LATERAL (SELECT 'https://site' || (g / 3) || '.example/page/' || g AS u) AS addr
        """,
        [resources],
    )
    print(f"  resources: {resources:,} in {time.perf_counter() - t0:.0f} s", flush=True)
    # Secondary indexes are built once at the end: maintaining them row by row is slower.
    indexes = [
        (name, definition)
        for name, definition in rows(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'curation_linkcheck'"
            " AND indexname NOT LIKE %s",
            ["%_pkey"],
        )
    ]
    for name, _ in indexes:
        execute(f'DROP INDEX "{name}"')
    t = time.perf_counter()
    # Check g of resource r = 1 + g % R, the k-th of that resource = g / R: evenly spaced in time.
    per = max(1, checks // resources)
    execute(
        """
        INSERT INTO curation_linkcheck (
            resource_id, checked_at, url, outcome, status_code, final_url, redirect_chain,
            elapsed_ms, error, rule, evidence, source, dispatch_token, counted)
        SELECT 1 + g %% %(r)s,
            now() - (%(days)s * 86400.0 * ((g / %(r)s) + 0.5) / %(per)s) * interval '1 second'
                  + (g %% 3600) * interval '1 second',
            'https://site' || ((1 + g %% %(r)s) / 3) || '.example/page/' || (1 + g %% %(r)s),
            CASE WHEN g %% 40 = 0 THEN 'server_error' ELSE 'ok' END,
            CASE WHEN g %% 40 = 0 THEN 500 ELSE 200 END, '', '[]', 150, '', '', '',
            'scheduled', '', true
        FROM generate_series(0, %(n)s - 1) g
        """,
        {"r": resources, "n": checks, "per": per, "days": HISTORY_DAYS},
    )
    print(f"  checks: {checks:,} in {time.perf_counter() - t:.0f} s", flush=True)
    t = time.perf_counter()
    for _, definition in indexes:
        execute(definition)
    print(f"  check indexes rebuilt in {time.perf_counter() - t:.0f} s", flush=True)
    period = current_period(timezone.now())
    # 2 % of the resources, 1 to 3 transitions each in the period; the first points at the
    # resource's oldest check (old evidence that pruning must keep): check g (id g + 1) is
    # resource 1 + g % R's (g / R)-th newest, so its oldest has id r + (per - 1) * R.
    execute("ANALYZE curation_linkcheck")
    execute(
        """
        INSERT INTO curation_healthtransition (
            resource_id, from_state, to_state, at, link_check_id, reason)
        SELECT r.id, CASE WHEN k %% 2 = 1 THEN 'healthy' ELSE 'suspect' END,
               CASE WHEN k %% 2 = 1 THEN 'suspect' ELSE 'broken' END,
               %(start)s + (k * 3600 + r.id %% 86400) * interval '1 second',
               CASE WHEN k = 1 THEN r.id + (%(per)s - 1) * %(r)s END,
               'benchmark'
        FROM curation_resource r, generate_series(1, 1 + r.id %% 3) k
        WHERE r.id %% 50 IN (1, 2)
        """,
        {"start": period.start, "per": per, "r": resources},
    )
    execute("ANALYZE")
    print(f"  loaded in {time.perf_counter() - t0:.0f} s", flush=True)


def rows(sql: str, params: list | None = None) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def sizes() -> dict[str, int]:
    """The check table's heap and each of its indexes, in bytes."""
    found = {"table": scalar("SELECT pg_relation_size('curation_linkcheck')")}
    found["all indexes"] = scalar("SELECT pg_indexes_size('curation_linkcheck')")
    for (name,) in rows(
        "SELECT indexname FROM pg_indexes WHERE tablename = 'curation_linkcheck' ORDER BY 1"
    ):
        found[name] = scalar("SELECT pg_relation_size(%s::regclass)", [name])
    return found


def print_sizes(label: str, found: dict[str, int]) -> None:
    print(f"(c) check table sizes {label}:")
    for name, size in found.items():
        print(f"    {name:40s} {size / 1048576:9.1f} MiB")


def time_report() -> list[float]:
    from django.utils import timezone

    from curation.reports.build import build_report_data
    from curation.reports.periods import current_period

    now = timezone.now()
    period = current_period(now)
    timings = []
    for run in range(3):
        t = time.perf_counter()
        data = build_report_data(period, now=now)
        timings.append(time.perf_counter() - t)
        print(f"  report run {run + 1}: {timings[-1] * 1000:.0f} ms", flush=True)
    print(f"  (newly broken {data['newly_broken']['total']}, checks {data['checks']['total']:,})")
    return timings


class Prober(threading.Thread):
    """GET PROBE_URL every 100 ms through Django's test client; latencies tagged by phase."""

    def __init__(self):
        super().__init__(daemon=True)
        self.phase = "before"
        self.samples: dict[str, list[float]] = {}
        self.errors = 0
        self.stop = threading.Event()

    def run(self) -> None:
        from django.db import connection
        from django.test import Client

        client = Client()
        try:
            while not self.stop.is_set():
                t = time.perf_counter()
                response = client.get(PROBE_URL)
                elapsed = time.perf_counter() - t
                if response.status_code != 200:
                    self.errors += 1
                self.samples.setdefault(self.phase, []).append(elapsed)
                self.stop.wait(max(0.0, 0.1 - elapsed))
        finally:
            connection.close()


def summary(samples: list[float]) -> str:
    if not samples:
        return "no samples"
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return (
        f"median {statistics.median(ordered) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
        f"max {ordered[-1] * 1000:.1f} ms over {len(ordered)} requests"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--resources", type=int, default=1_000_000)
    parser.add_argument("--checks", type=int, default=10_000_000)
    parser.add_argument("--keep", type=int, default=3, help="newest checks kept per resource")
    parser.add_argument("--batch", type=int, default=500, help="resources per prune batch")
    parser.add_argument("--reuse", action="store_true", help="keep the data already loaded")
    parser.add_argument("--baseline", type=float, default=10.0, help="seconds probed before")
    args = parser.parse_args()
    if args.resources < 1 or args.checks < args.resources:
        parser.error("--resources must be >= 1 and --checks >= --resources")

    configure()
    from curation.health import retention

    load_avg = os.getloadavg()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    print(
        f"Machine: {os.cpu_count()} CPUs, {mem:.1f} GiB RAM, load average "
        f"{load_avg[0]:.2f} {load_avg[1]:.2f} {load_avg[2]:.2f}, "
        f"PostgreSQL {scalar('SHOW server_version')}"
    )
    if not args.reuse:
        print(f"Loading {args.resources:,} resources and {args.checks:,} checks", flush=True)
        load(args.resources, args.checks)
    resources = scalar("SELECT count(*) FROM curation_resource")
    checks = scalar("SELECT count(*) FROM curation_linkcheck")
    transitions = scalar("SELECT count(*) FROM curation_healthtransition")
    print(f"Data: {resources:,} resources, {checks:,} checks, {transitions:,} transitions")

    timings = time_report()
    print(
        f"(a) build_report_data, current period: median {statistics.median(timings) * 1000:.0f}"
        f" ms (min {min(timings) * 1000:.0f}, max {max(timings) * 1000:.0f}) over 3 runs"
    )
    print_sizes("before pruning", sizes())

    prober = Prober()
    prober.start()
    time.sleep(args.baseline)
    prober.phase = "during"
    batches: list[tuple[int, float]] = []
    t = time.perf_counter()
    deleted = retention.prune_checks(
        older_than_days=RETENTION_DAYS,
        keep_per_resource=args.keep,
        batch=args.batch,
        on_batch=lambda count, seconds: batches.append((count, seconds)),
    )
    wall = time.perf_counter() - t
    prober.stop.set()
    prober.join()
    longest = max(batches, key=lambda b: b[1]) if batches else (0, 0.0)
    print(
        f"(b) prune_checks ({RETENTION_DAYS} days, keep {args.keep}, {args.batch} resources a"
        f" batch): {deleted:,} checks deleted in {wall:.1f} s ({deleted / wall:,.0f}/s), "
        f"{len(batches)} batches; longest batch transaction {longest[1] * 1000:.0f} ms "
        f"({longest[0]:,} rows), median batch "
        f"{statistics.median(b[1] for b in batches) * 1000:.0f} ms"
    )
    print(f"    API {PROBE_URL} before pruning: {summary(prober.samples.get('before', []))}")
    print(f"    API {PROBE_URL} during pruning: {summary(prober.samples.get('during', []))}")
    print(f"    API non-200 answers: {prober.errors}")
    remaining = scalar("SELECT count(*) FROM curation_linkcheck")
    kept_evidence = scalar(
        "SELECT count(*) FROM curation_healthtransition t JOIN curation_linkcheck c"
        " ON c.id = t.link_check_id"
    )
    print(f"    checks left {remaining:,}; transitions whose check is kept {kept_evidence:,}")
    print_sizes("after pruning (before VACUUM: the space is reused, not returned)", sizes())


if __name__ == "__main__":
    main()
