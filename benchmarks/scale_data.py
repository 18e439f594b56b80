"""The scale benchmarks' database (issue 21): a dedicated PostgreSQL database filled fast.

    from scale_data import configure, load_resources
    configure()                  # Django on syllabus_scaledb_bench, migrated
    load_resources(1_000_000)    # generate_series in the database: ~1-3 min for a million

Rows are made by PostgreSQL itself (INSERT ... SELECT FROM generate_series), not by the ORM:
a million rows in minutes instead of an hour. Text is drawn from a 5,000-word vocabulary
with a Zipf-like law (word i has probability about 1/i), as in real titles, so a search word
may match 20 % of the catalogue or ten rows. Hosts are lopsided: `big_host_share` of the rows
on one host, the rest on a long tail of hosts of 1 to 3 links.
"""

from __future__ import annotations

import itertools
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(__file__).resolve().parent
DATABASE_URL = os.environ.get(
    "SCALE_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/syllabus_scaledb_bench"
)
REDIS_URL = os.environ.get("SCALE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")
VAR_DIR = Path("/tmp/syllabus-scaledb-bench-var")
VOCABULARY = 5000
SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "nu",
    "pe",
    "ra",
    "si",
    "to",
    "vu",
    "xe",
    "ba",
    "de",
    "fi",
    "go",
    "hu",
    "ja",
    "ke",
    "li",
    "mo",
    "ny",
]
# The most frequent words are the subject's own (the API benchmark's vocabulary comes first).
HEAD_WORDS = [
    "learning",
    "model",
    "neural",
    "network",
    "data",
    "gradient",
    "descent",
    "matrix",
    "vector",
    "tensor",
    "python",
    "probability",
    "regression",
    "linear",
    "attention",
    "transformer",
    "embedding",
    "convolution",
    "kernel",
    "bayes",
    "entropy",
    "calculus",
    "graph",
    "tree",
    "forest",
    "boosting",
    "sampling",
    "statistics",
    "inference",
    "markov",
    "chain",
    "clustering",
    "reduction",
    "autoencoder",
    "generative",
    "diffusion",
    "language",
    "token",
    "sequence",
    "translation",
    "vision",
    "image",
    "segmentation",
    "detection",
    "numpy",
    "pandas",
    "notebook",
    "tutorial",
    "lecture",
    "course",
    "introduction",
    "advanced",
    "practical",
    "theory",
]
TOPIC_ROOTS, TOPICS_PER_ROOT = 50, 9
TEXT_CHUNK = 10_000


def configure() -> None:
    """Point Django at the benchmark database (created and migrated if needed)."""
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    os.environ["DATABASE_URL"] = DATABASE_URL
    os.environ["REDIS_URL"] = REDIS_URL
    os.environ["SYLLABUS_VAR_DIR"] = str(VAR_DIR)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ["DJANGO_SECURE_SSL_REDIRECT"] = "false"
    os.environ["DJANGO_SECRET_KEY"] = "scale-bench-not-secret"
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    os.environ["API_THROTTLE_ANON"] = "100000000/minute"
    os.environ["API_THROTTLE_USER"] = "100000000/minute"
    os.environ["LOG_LEVEL"] = "WARNING"
    for path in (str(ROOT), str(BENCH_DIR)):
        if path not in sys.path:
            sys.path.insert(0, path)
    ensure_database(DATABASE_URL)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    if "scaledb" not in name:
        raise SystemExit(f"refusing to fill {name!r}: the scale benchmarks use *scaledb* only")
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def vocabulary() -> list[str]:
    rng = random.Random(21)
    words = list(HEAD_WORDS)
    seen = set(words)
    while len(words) < VOCABULARY:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def zipf_word(index: int) -> str:
    """The vocabulary's i-th word (1-based): word 1 is the most frequent."""
    return vocabulary()[index - 1]


def execute(sql: str, params: list | None = None) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def scalar(sql: str, params: list | None = None):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def rows(sql: str, params: list | None = None) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def resource_count() -> int:
    return scalar("SELECT count(*) FROM curation_resource")


def clear() -> None:
    execute(
        "TRUNCATE curation_linkcheck, curation_healthtransition, curation_resource_topics,"
        " curation_collectionitem, curation_collectionsection, curation_collection,"
        " curation_archivedsnapshot, curation_metadatasuggestion, curation_problemreport,"
        " curation_webhookdelivery, curation_resource, curation_topic_prerequisites,"
        " curation_topic RESTART IDENTITY CASCADE"
    )


def load_resources(
    count: int,
    *,
    big_host_share: float = 0.3,
    due: bool = False,
    seed: int = 21,
    text: bool = True,
) -> float:
    """Replace the catalogue with `count` resources (and topics, two per resource); seconds.

    80 % healthy, 5 % each moved, broken, suspect, unknown; 90 % published. With `due`,
    every resource is due now (half never checked, half overdue by up to a day); otherwise
    each is due within the next week.
    Text is drawn in Python and sent with COPY; the other columns come from generate_series.
    """
    from django.db import connection

    started = time.perf_counter()
    clear()
    execute("DROP TABLE IF EXISTS scale_meta")
    big = int(count * big_host_share)
    # The GIN index is built once at the end: maintaining it row by row is far slower.
    execute("DROP INDEX IF EXISTS resource_search_gin")
    execute("DROP TABLE IF EXISTS scale_text")
    execute("CREATE UNLOGGED TABLE scale_text (g int, title text, description text, note text)")
    words = vocabulary()
    weights = list(itertools.accumulate(1 / i for i in range(1, len(words) + 1)))
    rng = random.Random(seed)
    drawn_rows = count if text else 0  # short fixed text for the benchmarks that never search
    connection.ensure_connection()
    copying = "COPY scale_text (g, title, description, note) FROM STDIN"
    with connection.connection.cursor() as cursor, cursor.copy(copying) as copy:
        for start in range(1, drawn_rows + 1, TEXT_CHUNK):
            stop = min(drawn_rows + 1, start + TEXT_CHUNK)
            drawn = iter(rng.choices(words, cum_weights=weights, k=33 * (stop - start)))
            for g in range(start, stop):
                title = " ".join(next(drawn) for _ in range(5))
                description = " ".join(next(drawn) for _ in range(20))
                note = " ".join(next(drawn) for _ in range(8))
                copy.write_row((g, title, description, note))
    if not text:
        execute(
            "INSERT INTO scale_text SELECT g, 'Resource ' || g, 'About ' || g, ''"
            " FROM generate_series(1, %s) g",
            [count],
        )
    next_check = (
        "CASE WHEN g %% 2 = 0 THEN NULL ELSE now() - (g %% 86400) * interval '1 second' END"
        if due
        else "now() + (g %% 10080) * interval '1 minute'"
    )
    execute(
        f"""
        INSERT INTO curation_resource (
            url, normalized_url, title, description, kind, difficulty, author, publisher,
            language, duration_minutes, cost, curator_note, featured, status, created_at,
            updated_at, health, health_changed_at, last_checked_at, last_outcome,
            next_check_at, consecutive_failures, consecutive_blocked, consecutive_moves,
            suggested_url, fetched_metadata, original_url)
        SELECT u, u, t.title, t.description,
            (ARRAY['article','video','course','book','paper','tutorial'])[1 + g %% 6],
            1 + g %% 3, '', '',
            (ARRAY['en','en-GB','EN-us','fr','de','es','ja','pt-BR'])[1 + g %% 8],
            CASE WHEN g %% 4 = 0 THEN NULL ELSE 5 + g %% 600 END,
            CASE WHEN g %% 5 = 0 THEN 'paid' ELSE 'free' END,
            t.note, g %% 97 = 0,
            CASE WHEN g %% 10 = 0 THEN 'draft' ELSE 'published' END,
            now() - (g || ' seconds')::interval, now() - (g || ' seconds')::interval,
            CASE WHEN g %% 20 < 16 THEN 'healthy' WHEN g %% 20 = 16 THEN 'moved'
                 WHEN g %% 20 = 17 THEN 'broken' WHEN g %% 20 = 18 THEN 'suspect'
                 ELSE 'unknown' END,
            now() - interval '3 days', now() - interval '7 days', 'ok',
            {next_check}, 0, 0, 0, '', '{{}}', ''
        FROM scale_text t,
        LATERAL (SELECT CASE WHEN t.g <= %s
            THEN 'https://video.example/watch/' || t.g
            ELSE 'https://site' || (t.g / 2) || '.example/page/' || t.g END AS u) AS addr
        ORDER BY t.g
        """.replace("g %%", "t.g %%").replace("(g ||", "(t.g ||"),
        [big],
    )
    execute("DROP TABLE scale_text")
    execute("DROP TABLE IF EXISTS scale_meta")
    execute("CREATE TABLE scale_meta (kind text)")
    execute("INSERT INTO scale_meta VALUES (%s)", [_kind(count, big_host_share, due, text)])
    execute("CREATE INDEX resource_search_gin ON curation_resource USING gin (search_vector)")
    load_topics_and_tags()
    execute("ANALYZE")
    return time.perf_counter() - started


def load_topics_and_tags() -> None:
    """500 topics (50 roots of 9 subtopics); each resource tagged with two subtopics."""
    execute(
        "INSERT INTO curation_topic (name, slug, description, parent_id, created_at, updated_at)"
        " SELECT 'Root ' || r, 'root-' || r, '', NULL, now(), now()"
        f" FROM generate_series(1, {TOPIC_ROOTS}) r"
    )
    execute(
        "INSERT INTO curation_topic (name, slug, description, parent_id, created_at, updated_at)"
        " SELECT 'Topic ' || r || '.' || s, 'topic-' || r || '-' || s, '', p.id, now(), now()"
        f" FROM generate_series(1, {TOPIC_ROOTS}) r"
        f" CROSS JOIN generate_series(1, {TOPICS_PER_ROOT}) s"
        " JOIN curation_topic p ON p.slug = 'root-' || r"
    )
    execute(
        "INSERT INTO curation_resource_topics (resource_id, topic_id)"
        " SELECT r.id, t.id FROM curation_resource r"
        " CROSS JOIN LATERAL (VALUES (r.id % 450), ((r.id * 7 + 3) % 450)) AS pick(n)"
        " JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM curation_topic"
        "       WHERE parent_id IS NOT NULL) t ON t.n = pick.n"
        " ON CONFLICT DO NOTHING"
    )


def load_api_extras(*, collections: int = 200, sections: int = 3, items: int = 5) -> None:
    """What the API benchmark needs beyond `load_resources` (which clears all of it):
    `collections` curated lists (one in ten a draft) of `sections` x `items` resources,
    prerequisites (root r needs two subtopics of root r - 1, so a beginner's path has a
    prerequisite band), and an archived copy for every broken or suspect resource."""
    count = resource_count()
    execute(
        "INSERT INTO curation_collection (title, slug, intro, status, author_name,"
        " review_period_days, created_at, updated_at)"
        " SELECT 'List ' || c, 'list-' || c, '',"
        " CASE WHEN c %% 10 = 0 THEN 'draft' ELSE 'published' END, '', 365, now(), now()"
        " FROM generate_series(1, %s) c",
        [collections],
    )
    execute(
        "INSERT INTO curation_collectionsection (collection_id, title, intro, position)"
        " SELECT c.id, 'Part ' || s, '', s FROM curation_collection c"
        " CROSS JOIN generate_series(1, %s) s",
        [sections],
    )
    # Items spread over the whole id range (ids are 1..count after load_resources).
    execute(
        "INSERT INTO curation_collectionitem (section_id, resource_id, note, required, position)"
        " SELECT sec.id, ((sec.id * %s + i) * 3331) %% %s + 1, '', true, i"
        " FROM curation_collectionsection sec CROSS JOIN generate_series(1, %s) i"
        " ON CONFLICT DO NOTHING",
        [items, count, items],
    )
    execute(
        "INSERT INTO curation_topic_prerequisites (from_topic_id, to_topic_id)"
        " SELECT root.id, sub.id FROM generate_series(2, %s) r"
        " JOIN curation_topic root ON root.slug = 'root-' || r"
        " JOIN curation_topic sub ON sub.slug IN ("
        "   'topic-' || (r - 1) || '-1', 'topic-' || (r - 1) || '-2')",
        [TOPIC_ROOTS],
    )
    execute(
        "INSERT INTO curation_archivedsnapshot (resource_id, url, captured_at, archive,"
        " found_by, verified, looked_up_at)"
        " SELECT id, 'https://web.archive.org/web/2025/' || url, now() - interval '200 days',"
        " 'Internet Archive', 'timegate', true, now() - interval '3 days'"
        " FROM curation_resource WHERE health IN ('broken', 'suspect')"
    )
    execute("ANALYZE")


def _kind(count: int, big_host_share: float, due: bool, text: bool) -> str:
    return f"{count} resources, big host {big_host_share}, due {due}, text {text}"


def loaded_kind() -> str | None:
    if not scalar("SELECT to_regclass('scale_meta') IS NOT NULL"):
        return None
    found = rows("SELECT kind FROM scale_meta")
    return found[0][0] if found else None


def ensure_resources(count: int, *, reload: bool = False) -> None:
    """Load `count` searchable resources unless the database already holds exactly those."""
    if not reload and loaded_kind() == _kind(count, 0.3, False, True):
        print(f"reusing {count:,} resources", flush=True)
        return
    seconds = load_resources(count)
    print(f"loaded {count:,} resources in {seconds:.0f} s", flush=True)


def machine() -> str:
    """`nproc`, memory and the PostgreSQL version, for the record."""
    mem_kib = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    load = os.getloadavg()[0]
    pg = scalar("SHOW server_version")
    return (
        f"{os.cpu_count()} CPUs, {mem_kib / 1048576:.1f} GiB RAM, PostgreSQL {pg},"
        f" load average {load:.1f}"
    )
