"""Dispatch at scale (issue 21, item 2): claim and enqueue 100,000 and 1,000,000 due resources.

    python benchmarks/scale_dispatch.py                     # 100,000 then 1,000,000 due
    python benchmarks/scale_dispatch.py --due 100000

PostgreSQL and Redis on 127.0.0.1 (database syllabus_scaledb_bench, Redis db 5). The
catalogue is replaced by N due resources (scale_data.py: half never checked, half overdue,
two links per host); a fresh child process runs `dispatch_due_checks(limit=N)` publishing to a
private Redis queue that no worker reads, and reports its wall time and its peak RSS
(VmHWM) against its RSS before dispatching. The claim path alone: `spread_hosts=False`
(the per-host spreading has its own benchmark, scale_hostmix.py). Then the parent checks
that every due row was leased once and counts the messages, and deletes the queue.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import scale_data

QUEUE = "scaledb-dispatch-bench"
BATCH = 50


def status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1])
    return 0


def child(due: int) -> None:
    os.environ["CELERY_QUEUE"] = QUEUE
    scale_data.configure()
    from curation.health import dispatch

    baseline = status_kib("VmRSS:")
    started = time.perf_counter()
    count = dispatch.dispatch_due_checks(limit=due, batch_size=BATCH, spread_hosts=False)
    elapsed = time.perf_counter() - started
    result = {
        "dispatched": count,
        "seconds": elapsed,
        "baseline_kib": baseline,
        "peak_kib": status_kib("VmHWM:"),
    }
    print(json.dumps(result), flush=True)


def run(due: int) -> dict:
    import redis

    seconds = scale_data.load_resources(due, due=True, big_host_share=0.0, text=False)
    print(f"loaded {due:,} due resources in {seconds:.0f} s", flush=True)
    client = redis.Redis.from_url(scale_data.REDIS_URL)
    client.delete(QUEUE)
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(due)],
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["messages"] = client.llen(QUEUE)
    client.delete(QUEUE)
    result["leased"] = scale_data.scalar(
        "SELECT count(*) FROM curation_resource WHERE check_lease_until IS NOT NULL"
    )
    result["still_due"] = scale_data.scalar(
        "SELECT count(*) FROM curation_resource WHERE check_lease_until IS NULL"
        " AND (next_check_at IS NULL OR next_check_at <= now())"
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--due", default="100000,1000000")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    scale_data.configure()
    print(f"machine: {scale_data.machine()}", flush=True)
    for due in (int(n) for n in args.due.split(",")):
        r = run(due)
        print(
            f"{due:>9,} due: dispatched {r['dispatched']:,} in {r['seconds']:.2f} s"
            f" ({r['messages']:,} messages of {BATCH}); RSS {r['baseline_kib'] / 1024:.1f} MiB"
            f" before, peak {r['peak_kib'] / 1024:.1f} MiB; leased {r['leased']:,},"
            f" still due {r['still_due']:,}",
            flush=True,
        )


if __name__ == "__main__":
    main()
