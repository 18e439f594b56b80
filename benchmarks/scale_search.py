"""Search at scale (issue 21, item 3): median `q=` latency at 100,000 and 1,000,000 resources.

    python benchmarks/scale_search.py                       # 100,000 then 1,000,000
    python benchmarks/scale_search.py --sizes 100000 --rounds 200

PostgreSQL only (database syllabus_scaledb_bench on 127.0.0.1, filled by scale_data.py).
Each round asks the API for the first page of `/api/v1/resources/?q=...` (in process, the
whole middleware stack, ranked by relevance) with a query drawn the way the catalogue's text
is written: one or two words picked by the same Zipf law, so common words come up often.
Also printed: the same for single words of fixed frequency rank (how many rows match, and
the latency), and, for comparison, ranking with the tsvector recomputed per row (the code
before migration 0011) on the broadest of them.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time

import scale_data

LIST = "/api/v1/resources/"
FIXED_RANKS = (1, 10, 100, 1000, 4000)


def zipf_rank(rng: random.Random) -> int:
    return 1 + math.floor(math.exp(rng.random() * math.log(scale_data.VOCABULARY)))


def zipf_query(rng: random.Random) -> str:
    words = [scale_data.zipf_word(zipf_rank(rng)) for _ in range(rng.choice((1, 1, 2)))]
    return " ".join(words)


def time_request(client, query: str) -> float:
    started = time.perf_counter()
    response = client.get(LIST, {"q": query})
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"q={query!r} answered {response.status_code}")
    return elapsed * 1000


def matches(word: str) -> int:
    return scale_data.scalar(
        "SELECT count(*) FROM curation_resource"
        " WHERE search_vector @@ websearch_to_tsquery('english', %s)",
        [word],
    )


def recomputed_rank_ms(word: str) -> float:
    """The first page ranked with the four to_tsvector calls per matching row (before 0011)."""
    from curation.catalog.search import SEARCH_VECTOR_SQL

    query = "websearch_to_tsquery('english', %s)"
    started = time.perf_counter()
    scale_data.scalar(
        "SELECT count(*) FROM (SELECT id FROM curation_resource"
        f" WHERE search_vector @@ {query} AND status = 'published'"
        f" ORDER BY ts_rank({SEARCH_VECTOR_SQL}, {query}) DESC, id DESC LIMIT 50) page",
        [word, word],
    )
    return (time.perf_counter() - started) * 1000


def measure(size: int, rounds: int, reload: bool) -> dict:
    from django.test import Client

    scale_data.ensure_resources(size, reload=reload)
    client = Client()
    rng = random.Random(size)
    for _ in range(10):
        time_request(client, zipf_query(rng))
    timings = [time_request(client, zipf_query(rng)) for _ in range(rounds)]
    result = {
        "size": size,
        "median_ms": statistics.median(timings),
        "p90_ms": statistics.quantiles(timings, n=10)[-1],
        "fixed": [],
    }
    for rank in FIXED_RANKS:
        word = scale_data.zipf_word(rank)
        runs = [time_request(client, word) for _ in range(max(5, rounds // 20))]
        result["fixed"].append((rank, word, matches(word), statistics.median(runs)))
    broadest = scale_data.zipf_word(1)
    result["recomputed_ms"] = statistics.median(recomputed_rank_ms(broadest) for _ in range(3))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--reload", action="store_true", help="load the rows again")
    args = parser.parse_args()
    scale_data.configure()
    print(f"machine: {scale_data.machine()}", flush=True)
    for size in (int(s) for s in args.sizes.split(",")):
        r = measure(size, args.rounds, args.reload)
        print(
            f"{size:>9,} resources: q= first page, Zipf-drawn queries, median"
            f" {r['median_ms']:.1f} ms, p90 {r['p90_ms']:.1f} ms ({args.rounds} rounds)",
            flush=True,
        )
        for rank, word, count, ms in r["fixed"]:
            print(f"    word of rank {rank:>5} ({word!r}): {count:>7,} matches, {ms:.1f} ms")
        print(
            f"    rank recomputed per row (before 0011), rank-1 word: {r['recomputed_ms']:.1f} ms",
            flush=True,
        )


if __name__ == "__main__":
    main()
