"""The "needs review" queue and the report's learner sections at scale, on PostgreSQL.

    python benchmarks/freshness_bench.py               # load once (kept), then measure
    python benchmarks/freshness_bench.py --reload      # drop and load the data again

Uses its own database (default postgres://postgres@127.0.0.1:5432/syllabus_freshbench,
override with FRESHNESS_BENCH_DATABASE_URL), created and migrated if missing. The catalogue:
100,000 resources (85% published), reviewed at random over the last two years or never, 500
published lists of 20 items with review periods of 90 to 365 days, 5,000 open problem reports
(a fifth "outdated") and 2,000 pending title or duration suggestions.

Prints the median and spread of: the queue's count, its first admin page (100 rows with the
reasons), and the report's two sections (attention.problem_reports and needs_review).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/syllabus_freshbench"
os.environ["DATABASE_URL"] = os.environ.get("FRESHNESS_BENCH_DATABASE_URL", DEFAULT_URL)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SYLLABUS_VAR_DIR", "/tmp/syllabus-freshbench-var")
os.environ.setdefault("LOG_LEVEL", "WARNING")

RESOURCES = 100_000
COLLECTIONS = 500
ITEMS_PER_COLLECTION = 20
REPORTS = 5_000
SUGGESTIONS = 2_000
BATCH = 5_000


def ensure_database(url: str, *, drop: bool) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if drop:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def load(rng: random.Random) -> None:
    from django.utils import timezone

    from curation.models import (
        Collection,
        CollectionItem,
        CollectionSection,
        MetadataSuggestion,
        ProblemReport,
        Resource,
    )

    now = timezone.now()
    print(f"Loading {RESOURCES:,} resources", flush=True)
    for start in range(0, RESOURCES, BATCH):
        rows = []
        for i in range(start, min(start + BATCH, RESOURCES)):
            url = f"https://host{i % 2000}.example.test/path/{i}"
            reviewed = None if rng.random() < 0.3 else now - timedelta(days=rng.uniform(0, 730))
            rows.append(
                Resource(
                    url=url,
                    normalized_url=url,
                    title=f"Resource {i}",
                    status="published" if rng.random() < 0.85 else "draft",
                    health="healthy",
                    last_reviewed_at=reviewed,
                )
            )
        Resource.objects.bulk_create(rows)
    ids = list(Resource.objects.values_list("id", flat=True))
    Resource.objects.update(created_at=now - timedelta(days=500))
    for c in range(COLLECTIONS):
        collection = Collection.objects.create(
            title=f"List {c}", slug=f"list-{c}", status="published",
            review_period_days=rng.choice([90, 180, 365]),
        )  # fmt: skip
        section = CollectionSection.objects.create(collection=collection, title="All")
        chosen = rng.sample(ids, ITEMS_PER_COLLECTION)
        CollectionItem.objects.bulk_create(
            CollectionItem(section=section, resource_id=pk, position=n)
            for n, pk in enumerate(chosen)
        )
    ProblemReport.objects.bulk_create(
        ProblemReport(
            resource_id=rng.choice(ids),
            kind="outdated" if rng.random() < 0.2 else "broken",
            client=f"client{n}",
        )
        for n in range(REPORTS)
    )
    ProblemReport.objects.update(created_at=now - timedelta(days=2))
    MetadataSuggestion.objects.bulk_create(
        MetadataSuggestion(
            resource_id=pk,
            field=rng.choice(["title", "duration_minutes", "description"]),
            suggested_value="x",
            value_hash=str(n),
        )
        for n, pk in enumerate(rng.sample(ids, SUGGESTIONS))
    )


def timed(fn, runs: int) -> tuple[float, float, float]:
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples), min(samples), max(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reload", action="store_true")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    ensure_database(os.environ["DATABASE_URL"], drop=args.reload)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from curation.catalog import freshness
    from curation.models import Resource
    from curation.reports import attention
    from curation.reports.periods import current_period

    call_command("migrate", verbosity=0)
    if not Resource.objects.exists():
        load(random.Random(20))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    now = timezone.now()
    period = current_period(now)

    def first_page() -> None:
        freshness.explain_reviews(freshness.needs_review(now=now)[:100], now=now)

    figures = {
        "queue count": lambda: freshness.needs_review(now=now).count(),
        "queue first page (100 rows, reasons)": first_page,
        "report: needs_review section (200 rows)": lambda: attention.needs_review(now, 200),
        "report: problem_reports section (200 rows)": lambda: attention.problem_reports(
            period, 200
        ),
    }
    total = freshness.needs_review(now=now).count()
    print(f"{Resource.objects.count():,} resources, {total:,} need review")
    print(f"{connection.vendor}, median of {args.runs} (min-max), ms")
    for name, fn in figures.items():
        median, low, high = timed(fn, args.runs)
        print(f"  {name}: {median:.0f} ({low:.0f}-{high:.0f})")


if __name__ == "__main__":
    main()
