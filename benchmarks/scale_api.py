"""API at a million (issue 21, item 4): the read API against a bare view, at 1,000,000 resources.

    python benchmarks/scale_api.py                     # load once (kept), then measure
    python benchmarks/scale_api.py --rounds 100 --reload
    python benchmarks/scale_api.py --profile "topic with subtopics"   # cProfile, no timing

PostgreSQL only: the database of benchmarks/scale_data.py (SCALE_BENCH_DATABASE_URL, default
syllabus_scaledb_bench on 127.0.0.1), filled with generate_series: 1,000,000 resources (80 %
healthy, 5 % each moved, broken, suspect, unknown; 90 % published; languages en, en-GB, EN-us,
fr, de, es, ja, pt-BR), 50 root topics of 9 subtopics with each resource tagged with one or two
subtopics, then `scale_data.load_api_extras`: 200 collections of 3 x 5 items, prerequisites
(root r needs two subtopics of root r - 1) and an archived copy per broken or suspect resource.

In process (django.test.Client, the whole middleware stack, DEBUG off), for each scenario 10
warm-ups then `--rounds` rounds of the API request and two bare requests, in an order that
rotates every round; medians and the ratios API / bare (target at most 1.5). The bare views
(benchmarks/api_bench_urls.py) return JsonResponse from the endpoint's query, through the
same selectors: once running the API's very statement (the archived copy and topic slugs
read beside each row, one look-ahead row; the script checks that PostgreSQL receives the
same SQL text from both), once the main query alone (the row's own columns). Also printed:
the statements each API request runs, with the plan PostgreSQL chose for each at this size
(the tables it scans sequentially, the indexes used), and the size of the indexes that serve
the filters.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import re
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import quote

import scale_data
from api_bench import timed  # one request, in ms; constants only at import

SIZE = 1_000_000
LIST = "/api/v1/resources/"
RECOMMENDATIONS = "/api/v1/recommendations/"
BARE_LIST = "/bench/bare/list/"
BARE_FILTERED = "/bench/bare/filtered/"
BARE_SEARCH = "/bench/bare/search/"
BARE_RECOMMENDATIONS = "/bench/bare/recommendations/"
# Roots 2..11 have prerequisites (load_api_extras): a beginner's path has both bands.
ROOTS = [f"root-{r}" for r in range(2, 12)]
DIFFICULTIES = ("beginner", "intermediate", "advanced")
HEALTH = ("moved", "suspect", "unknown", "broken")
# Mixed case on purpose: the filter is case-insensitive ("EN" also finds en-GB and EN-us).
LANGUAGES = ("EN", "pt-br", "Fr", "en-gb", "JA")
# Words of middling frequency (a few thousand matches at a million rows). The broadest words
# cost seconds for the API and the bare view alike (docs/benchmarks.md, item 3).
SEARCH_RANKS = (300, 500, 800, 1200, 2000)
BIG_TABLES = {
    "curation_resource",
    "curation_resource_topics",
    "curation_collectionitem",
    "curation_archivedsnapshot",
}
# Throttling stays on (its cache round trip is part of the API's cost) at a rate that never
# trips here.
THROTTLE_RATE = "1000/second"
IDENTICAL = {True: "identical SQL", False: "SQL DIFFERS", None: "main query"}
SEQ_SCAN = re.compile(r"Seq Scan on (\w+)")
INDEX_USED = re.compile(r"(?:Index Only Scan|Index Scan|Bitmap Index Scan)(?: Backward)?"
                        r" (?:using|on) (\w+)")  # fmt: skip


def scenarios() -> dict[str, tuple[Callable[[int], str], Callable[[int], str]]]:
    """{name: (API url of round i, bare url of round i)}; the bare url with `&same=1` runs
    the API's very statement (see `same_statement`)."""
    words = [scale_data.zipf_word(rank) for rank in SEARCH_RANKS]

    def same(query: Callable[[int], str]) -> tuple[Callable[[int], str], Callable[[int], str]]:
        return (lambda i: f"{LIST}?{query(i)}", lambda i: f"{BARE_FILTERED}?{query(i)}")

    return {
        "list, first page": (lambda i: LIST, lambda i: f"{BARE_LIST}?"),
        "topic with subtopics": same(lambda i: f"topic={ROOTS[i % len(ROOTS)]}"),
        "difficulty": same(lambda i: f"difficulty={DIFFICULTIES[i % len(DIFFICULTIES)]}"),
        "health": same(lambda i: f"health={HEALTH[i % len(HEALTH)]}"),
        "language (any case)": same(lambda i: f"language={quote(LANGUAGES[i % len(LANGUAGES)])}"),
        "search q=": (
            lambda i: f"{LIST}?q={quote(words[i % len(words)])}",
            lambda i: f"{BARE_SEARCH}?q={quote(words[i % len(words)])}",
        ),
        "recommendations": (
            lambda i: f"{RECOMMENDATIONS}?topic={ROOTS[i % len(ROOTS)]}&level=beginner",
            lambda i: f"{BARE_RECOMMENDATIONS}?topic={ROOTS[i % len(ROOTS)]}",
        ),
    }


def same_statement(bare_url: str) -> str | None:
    """The bare url running the API's very page statement; None where the bare view is that
    statement already (recommendations: the recommender's one candidate query)."""
    return None if bare_url.startswith(BARE_RECOMMENDATIONS) else f"{bare_url}&same=1"


def ensure_data(size: int, reload: bool) -> None:
    scale_data.ensure_resources(size, reload=reload)
    if not scale_data.scalar("SELECT count(*) FROM curation_collection"):
        started = time.perf_counter()
        scale_data.load_api_extras()
        print(f"collections, prerequisites, archived copies: {time.perf_counter() - started:.0f} s")


def recommendation_topic_ids() -> dict[str, dict[str, list[int]]]:
    from curation.catalog import selectors

    graph = selectors.topic_graph()
    found = {}
    for slug in ROOTS:
        pk = graph.by_slug(slug)["id"]
        found[slug] = {"topics": graph.subtree(pk), "prerequisites": graph.all_prerequisites(pk)}
    return found


def statements(client, url: str) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        timed(client, url)
    return [q["sql"] for q in captured.captured_queries]


def plans(client, url: str) -> list[dict]:
    """Each SELECT the request runs, with its plan at this size (EXPLAIN ANALYZE)."""
    found = []
    for sql in statements(client, url):
        if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
            continue
        plan = "\n".join(row[0] for row in scale_data.rows(f"EXPLAIN (ANALYZE, BUFFERS) {sql}"))
        found.append(
            {
                "sql": sql[:300],
                "seq_scans": sorted(set(SEQ_SCAN.findall(plan))),
                "indexes": sorted(set(INDEX_USED.findall(plan))),
                "execution_ms": float(re.search(r"Execution Time: ([\d.]+)", plan).group(1)),
                "plan": plan,
            }
        )
    return found


def index_sizes() -> list[tuple[str, str, int]]:
    """(table, index or "(table)", bytes) for the big tables: their heap and each index."""
    tables = ", ".join(f"'{t}'" for t in sorted(BIG_TABLES))
    return scale_data.rows(
        "SELECT tablename, indexname, pg_relation_size(indexname::regclass)"
        f" FROM pg_indexes WHERE tablename IN ({tables})"
        " UNION ALL SELECT relname, '(table)', pg_relation_size(oid) FROM pg_class"
        f" WHERE relname IN ({tables}) ORDER BY 1, 3 DESC"
    )


def identical_statements(client, api_url: str, bare_url: str) -> bool:
    """Whether the bare view sends PostgreSQL exactly the statements the API sends."""
    return statements(client, api_url) == statements(client, bare_url)


def measure(client, rounds: int) -> dict[str, dict]:
    """Per scenario, rounds of the API, the bare view running the API's very statement and
    the bare view running the main query alone, in an order that rotates every round."""
    results = {}
    for name, (api_url, bare_url) in scenarios().items():
        same_url = same_statement(bare_url(0))
        urls = {"api": api_url, "bare": bare_url}
        if same_url is not None:
            urls["same"] = lambda i, bare_url=bare_url: same_statement(bare_url(i))
        for i in range(10):  # warm caches and connections, not timed
            for url in urls.values():
                timed(client, url(i))
        timings: dict[str, list[float]] = {part: [] for part in urls}
        parts = list(urls)
        for i in range(rounds):
            # Each part first, second and last equally often: the second of two requests
            # pays less when the pages they share were just read into the buffer cache (the
            # table is 7x shared_buffers): with plain A B, search measured 1.90x.
            shift = i % len(parts)
            for part in parts[shift:] + parts[:shift]:
                timings[part].append(timed(client, urls[part](i)))
        r = {f"{part}_median_ms": statistics.median(found) for part, found in timings.items()}
        for part, found in timings.items():
            r[f"{part}_p90_ms"] = statistics.quantiles(found, n=10)[-1]
        r["api_statements"] = len(statements(client, api_url(0)))
        r["bare_statements"] = len(statements(client, bare_url(0)))
        r["ratio"] = r["api_median_ms"] / r["bare_median_ms"]
        same_ms = r.get("same_median_ms", r["bare_median_ms"])
        r["ratio_same_statement"] = r["api_median_ms"] / same_ms
        # None: no bare view runs the API's statements (recommendations: 8 against the
        # recommender's one candidate query).
        r["same_statement_identical"] = (
            identical_statements(client, api_url(0), urls["same"](0)) if "same" in urls else None
        )
        results[name] = r
        print(
            f"{name:22} api {r['api_median_ms']:8.2f} ms  same statement {same_ms:8.2f} ms"
            f" ({IDENTICAL[r['same_statement_identical']]}) ratio"
            f" {r['ratio_same_statement']:.2f}  main query {r['bare_median_ms']:8.2f} ms ratio"
            f" {r['ratio']:.2f}  statements {r['api_statements']}/{r['bare_statements']}",
            flush=True,
        )
    return results


def components(client, rounds: int) -> dict[str, float]:
    """Where the first page's extra time goes: the API with one part switched off at a time
    (throttling; the archived copies read beside each row), the bare view, and a bare view
    whose query also reads the archived copy and the topic slugs (the API's very SQL)."""
    from api import views

    annotations, columns = views.archived_copy_annotations, views.ARCHIVED_COLUMNS
    throttles = views.ResourceViewSet.throttle_classes

    def switch(part: str) -> None:
        views.ResourceViewSet.throttle_classes = [] if part == "no throttling" else throttles
        off = part == "no archived copies"
        views.archived_copy_annotations = (lambda: {}) if off else annotations
        views.ARCHIVED_COLUMNS = () if off else columns

    parts = ["api", "no throttling", "no archived copies", "bare", "bare, same statement"]
    urls = {"bare": BARE_LIST, "bare, same statement": f"{BARE_LIST}?same=1"}
    timings: dict[str, list[float]] = {part: [] for part in parts}
    try:
        for i in range(10 + rounds):
            for part in parts:
                switch(part)
                ms = timed(client, urls.get(part, LIST))
                if i >= 10:
                    timings[part].append(ms)
    finally:
        switch("api")
    return {part: statistics.median(found) for part, found in timings.items()}


def profile(client, name: str) -> None:
    api_url, _ = scenarios()[name]
    for i in range(5):
        timed(client, api_url(i))
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(20):
        timed(client, api_url(i))
    profiler.disable()
    stats = pstats.Stats(profiler).strip_dirs()
    stats.sort_stats("cumulative").print_stats(35)
    stats.sort_stats("tottime").print_stats(20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--size", type=int, default=SIZE, help="resources (a smaller smoke run)")
    parser.add_argument("--reload", action="store_true", help="load the rows again")
    parser.add_argument("--throttle-rate", default=THROTTLE_RATE)
    parser.add_argument("--components-only", action="store_true", help="the parts of the list")
    parser.add_argument("--profile", metavar="SCENARIO", help="cProfile 20 API requests of it")
    args = parser.parse_args()
    load_before = os.getloadavg()
    scale_data.configure()
    print(f"machine: {scale_data.machine()}", flush=True)
    ensure_data(args.size, args.reload)

    import api_bench_urls
    from django.conf import settings
    from django.test import Client
    from rest_framework.settings import api_settings

    settings.ROOT_URLCONF = "api_bench_urls"
    rates = {"anon": args.throttle_rate, "user": args.throttle_rate}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    api_settings.reload()
    api_bench_urls.RECOMMENDATION_TOPIC_IDS.update(recommendation_topic_ids())
    client = Client()
    if args.profile:
        profile(client, args.profile)
        return
    if args.components_only:
        for part, ms in components(client, args.rounds).items():
            print(f"  {part:22} {ms:8.2f} ms")
        return

    report: dict = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": scale_data.machine(),
        "resources": scale_data.resource_count(),
        "rounds": args.rounds,
        "throttle_rate": args.throttle_rate,
        "load_average_before": load_before,
    }
    print("\nplans at this size (one API request per scenario, EXPLAIN ANALYZE):")
    report["plans"] = {}
    for name, (api_url, _) in scenarios().items():
        found = plans(client, api_url(0))
        report["plans"][name] = found
        for p in found:
            scans = ", ".join(p["seq_scans"]) or "none"
            print(
                f"  {name:22} {p['execution_ms']:8.2f} ms  seq scans: {scans};"
                f" indexes: {', '.join(p['indexes']) or '-'}"
            )
    print("\nmedians, the order rotating each round:")
    report["in_process"] = measure(client, args.rounds)
    report["components"] = components(client, args.rounds)
    print("\nlist, first page, one part off at a time (medians):")
    for part, ms in report["components"].items():
        print(f"  {part:22} {ms:8.2f} ms")
    report["index_sizes"] = index_sizes()
    print("\nindexes of the big tables:")
    for table, index, size in report["index_sizes"]:
        print(f"  {table:26} {index:62} {size / 2**20:8.1f} MiB")
    report["load_average_after"] = os.getloadavg()
    print(f"\nload average before {load_before}, after {report['load_average_after']}")
    results = scale_data.BENCH_DIR / "results"
    results.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    (results / f"scale_api-{stamp}.json").write_text(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
