"""Import and export at scale: 10,000 and 100,000 CSV rows into PostgreSQL.

    python benchmarks/import_bench.py                 # 10,000 then 100,000 rows
    python benchmarks/import_bench.py --rows 100000   # one size

Uses its own database (default postgres://postgres@127.0.0.1:5432/syllabus_transfer_bench,
override with IMPORT_BENCH_DATABASE_URL), created and migrated if missing, emptied before
each run. Each size runs in a fresh process (so its peak memory is its own): the CSV is
written to a temporary file (one row per resource, two topics each, every API field), then
imported with `import_resources` as a curator would run it, then exported with
`export_resources --format csv`. Prints wall time of each, the import's CPU time in this
process, and the process's peak RSS above its RSS before the import (the Django start-up
is not the import's), per row too, with the machine's load average at the end.

Peak above start depends on what the process held and freed before the import (a freed
block is reused without raising the peak), so it also prints the resident memory once
10,000 rows are imported and at the end of the import, in the same process: their
difference is what the rest of the file added, whatever came before.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/syllabus_transfer_bench"
DATABASE_URL = os.environ.get("IMPORT_BENCH_DATABASE_URL", DEFAULT_URL)
SIZES = (10_000, 100_000)
SAMPLE_AT_ROWS = 10_000
TOPICS = ["python", "statistics", "linear-algebra", "deep-learning", "web", "databases"]
KINDS = ["article", "video", "tutorial", "course", "book", "paper"]
HEADER = [
    "url", "title", "description", "kind", "difficulty", "topics", "author", "language",
    "duration_minutes", "cost", "curator_note",
]  # fmt: skip


def setup_django() -> None:
    os.environ["DATABASE_URL"] = DATABASE_URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("SYLLABUS_VAR_DIR", "/tmp/syllabus-importbench-var")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # As in production: with DEBUG on, Django keeps the SQL of the last 9,000 queries, and
    # each bulk insert of 1,000 rows is about 400 KiB of it.
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ.setdefault("DJANGO_SECRET_KEY", "import-bench-" + "x" * 50)
    import django

    django.setup()


def ensure_database() -> None:
    import psycopg

    name = DATABASE_URL.rsplit("/", 1)[1]
    admin_url = DATABASE_URL.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def write_rows(path: Path, rows: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        for n in range(rows):
            writer.writerow([
                f"https://host{n % 2000}.example.test/posts/{n}?utm_source=list",
                f"Resource number {n}: a title of ordinary length",
                "A description of the resource, a sentence or two long, as curators write.",
                KINDS[n % len(KINDS)],
                ("beginner", "intermediate", "advanced")[n % 3],
                f"{TOPICS[n % 6]};{TOPICS[(n + 1) % 6]}",
                "An Author",
                "en",
                str(10 + n % 90),
                "free",
                "Why it is worth a learner's time.",
            ])  # fmt: skip


def resident_mib() -> float:
    """This process's resident memory now (Linux), in MiB."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def sample_while_importing(samples: dict[str, float]) -> None:
    """Note the resident memory when 10,000 rows have been handed to the import, by
    wrapping the importer's batching (the command offers no other hook)."""
    from curation.transfer import importing

    batches = importing._batches

    def sampled(records):
        done = 0
        for batch in batches(records):
            yield batch
            done += len(batch)
            if done == SAMPLE_AT_ROWS:
                samples["at_10000_rows"] = resident_mib()

    importing._batches = sampled


def measure(rows: int) -> dict:
    """In this (fresh) process: empty the catalogue, import `rows` rows, export them."""
    setup_django()
    from django.core.management import call_command
    from django.db import connection

    from curation.models import Resource, Topic

    call_command("migrate", verbosity=0)
    # TRUNCATE, not the ORM's delete: that would load the last run's 100,000 rows into this
    # process and spoil its peak memory before the import starts.
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE curation_collection, curation_collectionsection, curation_collectionitem,"
            " curation_resource, curation_resource_topics CASCADE"
        )
    for slug in TOPICS:
        Topic.objects.get_or_create(slug=slug, defaults={"name": slug.title()})
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "resources.csv"
        write_rows(source, rows)
        samples: dict[str, float] = {}
        sample_while_importing(samples)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        cpu_before = cpu_seconds()
        started = time.perf_counter()
        with open(os.devnull, "w") as quiet:
            call_command("import_resources", str(source), stdout=quiet)
        imported = time.perf_counter() - started
        import_cpu = cpu_seconds() - cpu_before
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        at_end = resident_mib()
        assert Resource.objects.count() == rows
        target = Path(folder) / "export.csv"
        started = time.perf_counter()
        call_command("export_resources", "--format", "csv", "-o", str(target))
        exported = time.perf_counter() - started
        exported_rows = sum(1 for _ in target.open(encoding="utf-8")) - 1
    return {
        "rows": rows,
        "import_s": round(imported, 2),
        "export_s": round(exported, 2),
        "exported_rows": exported_rows,
        "import_cpu_s": round(import_cpu, 2),
        "rss_before_mib": round(before / 1024, 1),
        "import_peak_above_start_mib": round((peak - before) / 1024, 1),
        "bytes_per_row": round((peak - before) * 1024 / rows),
        "rss_at_10000_rows_mib": round(samples["at_10000_rows"], 1),
        "rss_at_end_mib": round(at_end, 1),
        "load_average_1min": round(os.getloadavg()[0], 1),
    }


def cpu_seconds() -> float:
    """This process's CPU time: less disturbed than wall time by a busy machine (PostgreSQL's
    own work is in its server process, not here)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, action="append", help="Size(s) to run.")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child)))
        return
    ensure_database()
    for rows in args.rows or SIZES:
        done = subprocess.run(
            [sys.executable, __file__, "--child", str(rows)],
            check=False, capture_output=True, text=True,
        )  # fmt: skip
        if done.returncode != 0:
            sys.exit(f"{rows} rows failed:\n{done.stderr[-3000:]}")
        print(done.stdout.strip().splitlines()[-1], flush=True)


if __name__ == "__main__":
    main()
