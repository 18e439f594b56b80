"""REST API cost against a bare Django view running the same single query.

One script (about 510 lines: loading, the in-process rounds and the gunicorn + wrk part) so
that one command reproduces every figure in docs/benchmarks.md's API section.

    python benchmarks/api_bench.py --db sqlite            # load once (kept), then measure
    python benchmarks/api_bench.py --db postgres          # syllabus_apibench on 127.0.0.1
    python benchmarks/api_bench.py --db sqlite --reload   # load the data again
    python benchmarks/api_bench.py --db sqlite --rounds 300 --wrk-seconds 10 --no-load

Data: 100,000 resources (two topics each; mostly healthy, a few percent broken, moved,
suspect, unknown; 10 % drafts or archived), 500 topics (50 roots of 9 subtopics, acyclic
prerequisites), 200 collections of 3 sections x 5 items. Inserted with bulk_create.

1. In process (django.test.Client, the whole middleware stack), alternating A B A B per
   round: the list endpoint's first page, a search, and recommendations, each against a bare
   view (benchmarks/api_bench_urls.py) that runs the endpoint's main query and returns
   JsonResponse. Median latency and the ratio API / bare (target <= 2.0).
2. Under gunicorn (2 workers, DJANGO_DEBUG off) with wrk: list endpoint vs the bare list
   view, alternating A B A B; requests per second and the ratio (target >= 0.5).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(__file__).resolve().parent
VAR_DIR = Path("/tmp/syllabus-apibench-var")
POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/syllabus_apibench"
RESOURCES = 100_000
TOPICS_ROOTS, TOPICS_PER_ROOT = 50, 9  # 50 roots + 450 subtopics = 500 topics
COLLECTIONS, SECTIONS, ITEMS = 200, 3, 5
SEARCH_TERMS = [
    "gradient",
    "matrix inverse",
    "neural network",
    "probability",
    '"linear regression"',
]
WORDS = [
    "gradient",
    "descent",
    "matrix",
    "vector",
    "tensor",
    "neural",
    "network",
    "convolution",
    "recurrent",
    "attention",
    "embedding",
    "probability",
    "bayes",
    "regression",
    "linear",
    "logistic",
    "entropy",
    "optimisation",
    "calculus",
    "derivative",
    "integral",
    "eigenvalue",
    "inverse",
    "transformer",
    "kernel",
    "support",
    "machine",
    "learning",
    "deep",
    "reinforcement",
    "policy",
    "reward",
    "graph",
    "tree",
    "forest",
    "boosting",
    "bagging",
    "variance",
    "bias",
    "sampling",
    "statistics",
    "inference",
    "likelihood",
    "posterior",
    "prior",
    "markov",
    "chain",
    "monte",
    "carlo",
    "clustering",
    "dimension",
    "reduction",
    "principal",
    "component",
    "autoencoder",
    "generative",
    "adversarial",
    "diffusion",
    "language",
    "model",
    "token",
    "sequence",
    "translation",
    "vision",
    "image",
    "segmentation",
    "detection",
    "python",
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


def configure(db: str) -> None:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    os.environ["DATABASE_URL"] = (
        os.environ.get("API_BENCH_DATABASE_URL", POSTGRES_URL)
        if db == "postgres"
        else f"sqlite:///{VAR_DIR / 'apibench.sqlite3'}"
    )
    os.environ["SYLLABUS_VAR_DIR"] = str(VAR_DIR)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DJANGO_DEBUG"] = "false"  # production renderers: JSON only
    # The bench speaks plain HTTP on loopback: the production HTTPS redirect would answer 301.
    os.environ["DJANGO_SECURE_SSL_REDIRECT"] = "false"
    os.environ["DJANGO_SECRET_KEY"] = "api-bench-not-secret"
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    # Throttling stays on (its cache lookups are part of the cost) but never trips.
    os.environ["API_THROTTLE_ANON"] = "100000000/minute"
    os.environ["API_THROTTLE_USER"] = "100000000/minute"
    os.environ["LOG_LEVEL"] = "WARNING"
    sys.path[:0] = [str(ROOT), str(BENCH_DIR)]


def ensure_postgres_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def load(rng: random.Random) -> None:
    """Replace the catalogue with the benchmark's: topics, resources, their tags, lists."""
    from django.db import connection, transaction

    started = time.perf_counter()
    with transaction.atomic():
        clear_catalogue()
        topics = load_topics(rng)
        load_resources(rng)
        tag_resources(rng, topics)
        load_collections(rng)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"loaded in {time.perf_counter() - started:.0f} s", flush=True)


def clear_catalogue() -> None:
    from curation.models import Collection, CollectionItem, CollectionSection, Resource, Topic

    CollectionItem.objects.all().delete()
    CollectionSection.objects.all().delete()
    Collection.objects.all().delete()
    Resource.topics.through.objects.all().delete()
    Resource.objects.all().delete()
    Topic.prerequisites.through.objects.all().delete()
    Topic.objects.filter(parent__isnull=False).delete()
    Topic.objects.all().delete()


def load_topics(rng: random.Random) -> list:
    """Root topics, their parts, and prerequisites that point only to earlier topics."""
    from curation.models import Topic

    roots = Topic.objects.bulk_create(
        Topic(name=f"Area {i}", slug=f"area-{i}") for i in range(TOPICS_ROOTS)
    )
    subs = Topic.objects.bulk_create(
        Topic(name=f"Area {i} part {j}", slug=f"area-{i}-part-{j}", parent=root)
        for i, root in enumerate(roots)
        for j in range(TOPICS_PER_ROOT)
    )
    topics = roots + subs
    # Prerequisites point only to earlier topics: acyclic by construction.
    prerequisite_rows = []
    through = Topic.prerequisites.through
    for k, topic in enumerate(topics[10:], start=10):
        for before in rng.sample(topics[:k], rng.randint(0, 2)):
            prerequisite_rows.append(through(from_topic_id=topic.pk, to_topic_id=before.pk))
    through.objects.bulk_create(prerequisite_rows, ignore_conflicts=True)
    return topics


def load_resources(rng: random.Random) -> None:
    from curation.checker.urlnorm import normalize_url
    from curation.models import Cost, HealthState, Kind, PublicationStatus, Resource

    health_mix = (
        [HealthState.HEALTHY] * 80
        + [HealthState.MOVED] * 5
        + [HealthState.BROKEN] * 5
        + [HealthState.SUSPECT] * 5
        + [HealthState.UNKNOWN] * 5
    )
    status_mix = (
        [PublicationStatus.PUBLISHED] * 90
        + [PublicationStatus.DRAFT] * 5
        + [PublicationStatus.ARCHIVED] * 5
    )
    batch = []
    for n in range(RESOURCES):
        url = f"https://host{n % 2000}.example/{rng.choice(WORDS)}/{n}"
        health = rng.choice(health_mix)
        batch.append(
            Resource(
                url=url,
                normalized_url=normalize_url(url),
                title=sentence(rng, rng.randint(3, 7)).capitalize(),
                description=sentence(rng, rng.randint(15, 30)),
                curator_note=sentence(rng, 8) if n % 3 == 0 else "",
                author=f"Author {n % 5000}",
                publisher=f"Site {n % 2000}",
                language=rng.choice(["en", "en", "en", "en-GB", "fr", "de"]),
                kind=rng.choice(Kind.values),
                difficulty=rng.choice([1, 1, 2, 2, 3]),
                duration_minutes=rng.choice([None, 5, 10, 20, 45, 90, 300]),
                cost=rng.choice([Cost.FREE, Cost.FREE, Cost.FREEMIUM, Cost.PAID]),
                featured=rng.random() < 0.03,
                status=rng.choice(status_mix),
                health=health,
                suggested_url=f"https://new.example/{n}" if health == "moved" else "",
            )
        )
        if len(batch) == 5000:
            Resource.objects.bulk_create(batch)
            batch = []
    Resource.objects.bulk_create(batch)


def tag_resources(rng: random.Random, topics: list) -> None:
    """Two topics for every resource."""
    from curation.models import Resource

    resource_ids = list(Resource.objects.order_by("id").values_list("id", flat=True))
    tag = Resource.topics.through
    tag.objects.bulk_create(
        (
            tag(resource_id=rid, topic_id=topic.pk)
            for rid in resource_ids
            for topic in rng.sample(topics, 2)
        ),
        batch_size=10_000,
    )


def load_collections(rng: random.Random) -> None:
    """Lists of sections of published resources (one list in ten a draft)."""
    from curation.models import (
        Collection,
        CollectionItem,
        CollectionSection,
        PublicationStatus,
        Resource,
    )

    listable = list(
        Resource.objects.filter(status=PublicationStatus.PUBLISHED).values_list("id", flat=True)
    )
    for c in range(COLLECTIONS):
        collection = Collection.objects.create(
            title=f"List {c}: {sentence(rng, 3)}",
            slug=f"list-{c}",
            status=PublicationStatus.PUBLISHED if c % 10 else PublicationStatus.DRAFT,
        )
        for s in range(SECTIONS):
            section = CollectionSection.objects.create(
                collection=collection, title=f"Part {s + 1}", position=s + 1
            )
            CollectionItem.objects.bulk_create(
                CollectionItem(
                    section=section, resource_id=rid, note=sentence(rng, 6), position=i + 1
                )
                for i, rid in enumerate(rng.sample(listable, ITEMS))
            )


def recommendation_topics() -> dict[str, dict[str, list[int]]]:
    """Ten topics with prerequisites: their subtree and prerequisite ids (for the bare view)."""
    from curation.catalog import selectors

    graph = selectors.topic_graph()
    chosen = sorted(pk for pk in graph.rows if graph.prerequisites.get(pk))[:10]
    return {
        graph.rows[pk]["slug"]: {
            "topics": graph.subtree(pk),
            "prerequisites": graph.all_prerequisites(pk),
        }
        for pk in chosen
    }


def timed(client, url: str) -> float:
    started = time.perf_counter()
    response = client.get(url, HTTP_ACCEPT="application/json")
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}: {response.content[:300]!r}")
    return elapsed * 1000


def in_process(rounds: int, topics: dict) -> dict[str, dict[str, float]]:
    from urllib.parse import quote

    from django.test import Client

    client = Client()
    slugs = sorted(topics)
    pairs = {
        "list": (lambda i: "/api/v1/resources/", lambda i: "/bench/bare/list/"),
        "search": (
            lambda i: f"/api/v1/resources/?q={quote(SEARCH_TERMS[i % len(SEARCH_TERMS)])}",
            lambda i: f"/bench/bare/search/?q={quote(SEARCH_TERMS[i % len(SEARCH_TERMS)])}",
        ),
        "recommendations": (
            lambda i: f"/api/v1/recommendations/?topic={slugs[i % len(slugs)]}&level=beginner",
            lambda i: f"/bench/bare/recommendations/?topic={slugs[i % len(slugs)]}",
        ),
    }
    results = {}
    for name, (api_url, bare_url) in pairs.items():
        for i in range(10):  # warm caches and connections, not timed
            timed(client, api_url(i))
            timed(client, bare_url(i))
        api_ms, bare_ms = [], []
        for i in range(rounds):  # A B A B: both see the same machine state
            api_ms.append(timed(client, api_url(i)))
            bare_ms.append(timed(client, bare_url(i)))
        results[name] = {
            "api_median_ms": statistics.median(api_ms),
            "bare_median_ms": statistics.median(bare_ms),
            "ratio": statistics.median(api_ms) / statistics.median(bare_ms),
            "api_p90_ms": statistics.quantiles(api_ms, n=10)[-1],
            "bare_p90_ms": statistics.quantiles(bare_ms, n=10)[-1],
        }
        r = results[name]
        print(
            f"{name:16} api {r['api_median_ms']:7.2f} ms  bare {r['bare_median_ms']:7.2f} ms  "
            f"ratio {r['ratio']:.2f}",
            flush=True,
        )
    return results


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wrk(url: str, seconds: int, connections: int) -> float:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-H", "Accept: application/json", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        raise SystemExit(f"{url}: {non_2xx.group(1)} failed responses under load\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def load_test(seconds: int, topics: dict, rounds: int = 2) -> dict[str, float]:
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install -y wrk)")
    port = free_port()
    env = dict(os.environ, API_BENCH_TOPIC_IDS=json.dumps(topics))
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--pythonpath",
            f"{ROOT},{BENCH_DIR}",
            "--log-level",
            "warning",
            "api_bench_wsgi:application",
        ],
        env=env,
        cwd=ROOT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.time() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.time() > deadline:
                    raise SystemExit("gunicorn did not start") from None
                time.sleep(0.2)
        api_url, bare_url = f"{base}/api/v1/resources/", f"{base}/bench/bare/list/"
        wrk(api_url, 2, 4)  # warm both workers
        wrk(bare_url, 2, 4)
        api_rps, bare_rps = [], []
        for _ in range(rounds):
            api_rps.append(wrk(api_url, seconds, 8))
            bare_rps.append(wrk(bare_url, seconds, 8))
            print(
                f"wrk list: api {api_rps[-1]:.0f} req/s  bare {bare_rps[-1]:.0f} req/s", flush=True
            )
        result = {
            "api_rps": statistics.median(api_rps),
            "bare_rps": statistics.median(bare_rps),
        }
        result["ratio"] = result["api_rps"] / result["bare_rps"]
        return result
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def explain_search() -> str:
    from django.db import connection

    from curation.catalog import selectors
    from curation.models import Resource

    query = selectors.search_resources(Resource.objects.published(), "gradient")
    query = selectors.filter_by_health(query, []).order_by("-search_rank", "-id")[:51]
    plan = query.explain()
    if connection.vendor == "postgresql":
        uses_index = "resource_search_gin" in plan
        print(f"search plan uses resource_search_gin: {uses_index}", flush=True)
    return plan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--reload", action="store_true")
    parser.add_argument("--no-load", action="store_true", help="skip the gunicorn/wrk part")
    parser.add_argument("--wrk-seconds", type=int, default=10)
    args = parser.parse_args()

    configure(args.db)
    if args.db == "postgres":
        ensure_postgres_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    import api_bench_urls
    from django.conf import settings
    from django.core.management import call_command

    from curation.models import Resource

    settings.ROOT_URLCONF = "api_bench_urls"
    call_command("migrate", verbosity=0)
    if args.reload or Resource.objects.count() != RESOURCES:
        load(random.Random(20261125))
    topics = recommendation_topics()
    api_bench_urls.RECOMMENDATION_TOPIC_IDS.update(topics)

    report: dict = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "db": args.db,
        "rounds": args.rounds,
        "load_average": os.getloadavg(),
    }
    report["search_plan"] = explain_search()
    report["in_process"] = in_process(args.rounds, topics)
    if not args.no_load:
        report["gunicorn_wrk"] = load_test(args.wrk_seconds, topics)
        r = report["gunicorn_wrk"]
        print(f"wrk list median: ratio {r['ratio']:.2f}", flush=True)
    report["load_average_after"] = os.getloadavg()
    results = BENCH_DIR / "results"
    results.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    (results / f"api_bench-{args.db}-{stamp}.json").write_text(json.dumps(report, indent=2))
    print(json.dumps({k: v for k, v in report.items() if k != "search_plan"}, indent=2))


if __name__ == "__main__":
    main()
