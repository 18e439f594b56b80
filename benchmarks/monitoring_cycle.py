"""A full monitoring cycle through real workers, against `checklinks --input` on the same URLs.

    python benchmarks/monitoring_cycle.py                     # 10,000 resources, 2 rounds A B A B
    python benchmarks/monitoring_cycle.py --memory 10000,100000 --rounds 0   # dispatcher memory

A (workers): N due resources in PostgreSQL; the dispatcher (`dispatch_due_checks`, in this
process) claims them and publishes batches to Redis; W real `celery worker` processes check
them with the shared Redis per-host limiter and write checks, transitions and the new health
of every resource. Timed from the start of dispatch to the last resource written.
B (command): `manage.py checklinks --input FILE --format json` on the same URLs with the same
per-host policy and global concurrency. Rounds alternate A B A B in one run.

With a per-host interval, and where a packet socket may be opened (Linux, root), both sides'
request heads are also timed as they leave on `lo` (wirecap.py): `wire_min_gap_ms` is the
shortest gap between two requests to one host as sent, the figure the interval promises.

Scaling (--scaling): rounds alternate one worker node and two (separate `celery worker`
processes with different -n names, as on two machines) on the same due resources, and report
the ratio of their URL rates with the most requests one host had in flight (the shared Redis
limiter must hold the per-host limit across nodes). Each run's rate is given over the whole
run and in full swing (`steady_urls_per_s`: from 10 % to 90 % of the resources written, without
the dispatch, the first answers and the last batch's tail, which weigh more on the shorter
run). Run it where the per-host policy is not the limit, e.g. --hosts 100 --interval 0 (then
the global concurrency bounds each node), and with --worker-concurrency 1 to compare one
worker process with two, as on two machines; with more children per node than the machine
has cores for two nodes, the nodes compete for the cores and the ratio measures that.

Recording (--recording N): the health fields of N resources written the way record_checks
writes them (update_rows: one UPDATE ... FROM unnest) against Django's bulk_update, alternating,
20 times each; medians of wall and CPU time (issue 21: the recording's share of a batch).

Memory: a fresh process runs the dispatcher over N due resources (publishing to a throwaway
queue) and reports its peak RSS, for each N given with --memory.

Uses DATABASE_URL (default postgres://postgres@127.0.0.1:5432/syllabus_monbench, created if
missing: a database of its own, emptied by the benchmark) and REDIS_URL (default
redis://127.0.0.1:6379/4). Everything listens on loopback only.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from linkfarm import FarmProcess, make_urls  # noqa: E402
from wirecap import WireCapture  # noqa: E402
from wirecap import available as wire_capture_available  # noqa: E402

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/syllabus_monbench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/4"
PYTHON = sys.executable


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--resources", type=int, default=10_000)
    p.add_argument("--hosts", type=int, default=20)
    p.add_argument("--latency-ms", type=float, default=100.0)
    p.add_argument("--per-host", type=int, default=10)
    p.add_argument("--interval", type=float, default=0.05)
    p.add_argument("--concurrency", type=int, default=32, help="checks in flight per process")
    p.add_argument("--workers", type=int, default=2, help="celery worker processes")
    p.add_argument("--worker-concurrency", type=int, default=2, help="prefork children each")
    p.add_argument("--pool", default="prefork")
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument(
        "--scaling", action="store_true", help="alternate 1 and 2 worker nodes (no checklinks)"
    )
    p.add_argument(
        "--memory", default="", help="comma-separated resource counts, e.g. 10000,100000"
    )
    p.add_argument("--recording", type=int, default=0, help="rows: update_rows vs bulk_update")
    p.add_argument("--json", type=Path)
    p.add_argument(
        "--log-dir", type=Path, default=Path(tempfile.gettempdir()) / "syllabus-monbench-logs"
    )
    p.add_argument("--dispatch-memory-child", type=int, help=argparse.SUPPRESS)
    p.add_argument("--queue", help=argparse.SUPPRESS)
    return p.parse_args()


def base_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONITOR_", "LINKCHECK_"))}
    env.setdefault("DATABASE_URL", DEFAULT_DB)
    env.setdefault("REDIS_URL", DEFAULT_REDIS)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    # As deployed: DEBUG off (no query log kept in memory).
    env["DJANGO_DEBUG"] = "false"
    env["DJANGO_SECRET_KEY"] = "benchmark-only-" + "x" * 40
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra or {})
    return env


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=base_env(),
        check=True,
    )


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    import django

    django.setup()


def load_resources(urls: list[str]) -> None:
    from django.db import connection

    from curation.models import PublicationStatus, Resource

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE curation_healthtransition, curation_linkcheck, curation_resource CASCADE"
        )
    batch = []
    for i, url in enumerate(urls):
        batch.append(
            Resource(
                url=url, normalized_url=url, title=f"Page {i}", status=PublicationStatus.PUBLISHED
            )
        )
        if len(batch) == 5000:
            Resource.objects.bulk_create(batch)
            batch = []
    Resource.objects.bulk_create(batch)


def make_all_due() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE curation_healthtransition, curation_linkcheck CASCADE")
        cursor.execute(
            "UPDATE curation_resource SET next_check_at = NULL, check_lease_until = NULL, "
            "last_checked_at = NULL, health = 'unknown', consecutive_failures = 0"
        )


def status_kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_kib(pid: int) -> int:
    return status_kib(pid, "VmRSS:")


def start_workers(
    args, env: dict[str, str], logdir: Path, count: int | None = None
) -> list[subprocess.Popen]:
    procs = []
    count = args.workers if count is None else count
    for i in range(count):
        log = (logdir / f"worker{i}.log").open("wb")
        procs.append(
            subprocess.Popen(
                [
                    PYTHON,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "-Q",
                    env["CELERY_QUEUE"],
                    "--pool",
                    args.pool,
                    "--concurrency",
                    str(args.worker_concurrency),
                    "--hostname",
                    f"bench{i}-{uuid.uuid4().hex[:6]}@%h",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "--loglevel",
                    "WARNING",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
    # Ready when every worker has connected (WARNING level prints nothing: probe with ping).
    from celery import Celery

    probe = Celery(broker=env["REDIS_URL"], set_as_current=False)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        replies = probe.control.ping(timeout=1.0) or []
        if len(replies) >= count:
            break
    probe.close()
    return procs


def stop_workers(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def farm_figures(farm: FarmProcess) -> dict:
    """What the farm saw since its reset: the most requests one host had in flight, all the
    requests, and the connections they came on (a worker keeping its client opens fewer)."""
    stats = farm.stats()
    return {
        "max_in_flight_per_host": int(stats.get("max_in_flight_per_host", 0)),
        "requests": stats.get("requests"),
        "connections_opened": stats.get("connections_opened"),
    }


def start_wire_capture(args, farm: FarmProcess, out: Path) -> WireCapture | None:
    """Time the request heads as they leave (wirecap.py), where an interval is promised."""
    if args.interval <= 0 or not wire_capture_available():
        return None
    capture = WireCapture(farm.port, out)
    capture.start()
    return capture


def wire_figures(capture: WireCapture | None) -> dict:
    summary = capture.stop() if capture else None
    if not summary:
        return {}
    return {
        "wire_min_gap_ms": summary["min_gap_ms"],
        "wire_gaps_ms": summary["gaps_ms"],
        "wire_dropped": summary["dropped"],
    }


def cpu_times() -> tuple[int, int]:
    """The machine's (busy, total) CPU ticks so far, all cores, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def busy_percent(before: tuple[int, int], after: tuple[int, int]) -> float:
    """How busy the machine's CPUs were between two cpu_times() (100 = every core, always)."""
    total = after[1] - before[1]
    return round(100 * (after[0] - before[0]) / total, 1) if total else 0.0


def steady_rate(progress: list[tuple[float, int]], total: int) -> float | None:
    """URLs a second while the run was in full swing: from 10 % to 90 % of the resources written.

    The whole run's rate also holds its start (dispatch, the first batches' first answers) and
    its end (the last batch's slowest answers, the poll's quarter second): costs that do not
    grow with the catalogue and weigh more on the faster side of a comparison.
    """
    low = next(((t, d) for t, d in progress if d >= total * 0.1), None)
    high = next(((t, d) for t, d in progress if d >= total * 0.9), None)
    if low is None or high is None or high[0] <= low[0]:
        return None
    return round((high[1] - low[1]) / (high[0] - low[0]), 1)


def run_workers(
    args, farm: FarmProcess, env: dict[str, str], logdir: Path, nodes: int | None = None
) -> dict:
    from django.db.models import Count
    from django.utils import timezone

    from curation.health import dispatch
    from curation.models import LinkCheck, Resource

    make_all_due()
    nodes = args.workers if nodes is None else nodes
    procs = start_workers(args, env, logdir, nodes)
    capture = None
    try:
        farm.reset()
        capture = start_wire_capture(args, farm, logdir / "workers.wire.json")
        started, cpu_before = time.monotonic(), cpu_times()
        dispatched = dispatch.dispatch_due_checks(
            enqueue=dispatch.publish_batch, limit=args.resources, batch_size=args.batch_size
        )
        dispatch_s = time.monotonic() - started
        peak_rss = {p.pid: 0 for p in procs}
        last_note = time.monotonic()
        progress = []  # (seconds since the start, resources written), every poll
        while True:
            done = Resource.objects.filter(last_checked_at__isnull=False).count()
            progress.append((time.monotonic() - started, done))
            if done >= args.resources:
                break
            for p in procs:
                peak_rss[p.pid] = max(peak_rss[p.pid], rss_kib(p.pid))
            if all(p.poll() is not None for p in procs):
                raise RuntimeError("every worker exited; see " + str(logdir))
            time.sleep(0.25)
            if time.monotonic() - last_note > 10:
                last_note = time.monotonic()
                print(f"  ... {done} of {args.resources} written", file=sys.stderr, flush=True)
        elapsed, cpu_busy = time.monotonic() - started, busy_percent(cpu_before, cpu_times())
        outcomes = dict(LinkCheck.objects.values_list("outcome").annotate(n=Count("id")))
        counted = LinkCheck.objects.filter(counted=True).count()
        states = dict(Resource.objects.values_list("health").annotate(n=Count("id")))
        due_left = Resource.objects.due_for_check(timezone.now()).count()
    finally:
        stop_workers(procs)
        wire = wire_figures(capture)
    return {
        "what": "workers",
        "nodes": nodes,
        "seconds": round(elapsed, 2),
        "urls_per_s": round(args.resources / elapsed, 1),
        "steady_urls_per_s": steady_rate(progress, args.resources),
        "dispatch_seconds": round(dispatch_s, 2),
        "machine_cpu_busy_percent": cpu_busy,
        "dispatched": dispatched,
        "outcomes": outcomes,
        "counted_checks": counted,
        "health": states,
        "due_after": due_left,
        **farm_figures(farm),
        **wire,
    }


def run_command(args, farm: FarmProcess, url_file: Path, env: dict[str, str]) -> dict:
    farm.reset()
    capture = start_wire_capture(args, farm, args.log_dir / "checklinks.wire.json")
    started, cpu_before = time.monotonic(), cpu_times()
    out = subprocess.run(
        [
            PYTHON,
            "manage.py",
            "checklinks",
            "--input",
            str(url_file),
            "--format",
            "json",
            "--concurrency",
            str(args.concurrency),
            "--per-host-concurrency",
            str(args.per_host),
            "--per-host-interval",
            f"{args.interval:g}",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed, cpu_busy = time.monotonic() - started, busy_percent(cpu_before, cpu_times())
    wire = wire_figures(capture)
    items = json.loads(out.stdout)
    outcomes: dict[str, int] = {}
    for item in items:
        outcomes[item["outcome"]] = outcomes.get(item["outcome"], 0) + 1
    return {
        "what": "checklinks",
        "seconds": round(elapsed, 2),
        "urls_per_s": round(len(items) / elapsed, 1),
        "exit_code": out.returncode,
        "machine_cpu_busy_percent": cpu_busy,
        "outcomes": outcomes,
        **farm_figures(farm),
        **wire,
    }


def dispatch_memory_child(count: int, queue: str) -> None:
    """In a fresh process: dispatch `count` due resources; print baseline and peak RSS."""
    setup_django(base_env({"CELERY_QUEUE": queue}))
    from curation.health import dispatch

    baseline = rss_kib(os.getpid())
    started = time.monotonic()
    dispatched = dispatch.dispatch_due_checks(
        enqueue=dispatch.publish_batch, limit=count, batch_size=100
    )
    elapsed = time.monotonic() - started
    # VmHWM, not ru_maxrss: Linux carries the forking parent's high-water mark into
    # ru_maxrss across exec, which made a 10,000 run after a 100,000 load look as big.
    peak = status_kib(os.getpid(), "VmHWM:")
    print(json.dumps({"resources": count, "dispatched": dispatched, "baseline_rss_kib": baseline,
                      "peak_rss_kib": peak, "seconds": round(elapsed, 2)}))  # fmt: skip


def measure_memory(counts: list[int], env: dict[str, str]) -> list[dict]:
    import redis

    results = []
    for count in counts:
        urls = [f"http://127.0.0.2:9/memory/{i}" for i in range(count)]
        load_resources(urls)
        queue = f"bench-memory-{uuid.uuid4().hex[:8]}"
        out = subprocess.run(
            [PYTHON, __file__, "--dispatch-memory-child", str(count), "--queue", queue],
            cwd=ROOT, env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        redis.Redis.from_url(env["REDIS_URL"]).delete(queue)
    return results


def _exit_on_sigterm(signum, frame) -> None:
    # `timeout` and Ctrl-C alike: unwind through the finally blocks that stop the workers.
    raise SystemExit(128 + signum)


def main() -> None:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    args = parse_args()
    if args.dispatch_memory_child:
        dispatch_memory_child(args.dispatch_memory_child, args.queue)
        return
    ensure_database(base_env()["DATABASE_URL"])
    args.log_dir.mkdir(parents=True, exist_ok=True)
    report = report_header(args)
    with (
        tempfile.TemporaryDirectory(prefix="syllabus-monbench-") as tmp,
        FarmProcess(hosts=args.hosts, latency_ms=args.latency_ms) as farm,
    ):
        tmpdir = Path(tmp)
        env = base_env(policy_env(args, farm, tmpdir))
        setup_django(env)
        urls = list(make_urls(farm.addresses, farm.port, args.resources))
        url_file = tmpdir / "urls.txt"
        url_file.write_text("\n".join(urls) + "\n")
        if args.recording:
            load_resources(urls[: args.recording])
            report["recording"] = measure_recording(args.recording)
            print(json.dumps(report["recording"]), flush=True)
        elif args.rounds and args.scaling:
            load_resources(urls)
            run_scaling(args, farm, env, report)
        elif args.rounds:
            load_resources(urls)
            run_rounds(args, farm, env, url_file, report)
        if args.memory:
            counts = [int(c) for c in args.memory.split(",") if c.strip()]
            report["dispatcher_memory"] = measure_memory(counts, env)
            for row in report["dispatcher_memory"]:
                print(json.dumps(row))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


def report_header(args: argparse.Namespace) -> dict:
    """The run's settings, to which run_rounds() adds the figures."""
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "resources": args.resources,
        "hosts": args.hosts,
        "latency_ms": args.latency_ms,
        "policy": {
            "per_host": args.per_host,
            "interval_s": args.interval,
            "concurrency": args.concurrency,
        },
        "workers": {
            "processes": args.workers,
            "pool": args.pool,
            "concurrency": args.worker_concurrency,
            "batch_size": args.batch_size,
        },
        "rounds": [],
        "load_average": os.getloadavg(),
    }


def policy_env(args: argparse.Namespace, farm: FarmProcess, tmpdir: Path) -> dict[str, str]:
    """The settings both the workers and the command run with: the same policy, the farm."""
    return {
        "LINKCHECK_ALLOWED_INTERNAL_HOSTS": ",".join(f"{a}:{farm.port}" for a in farm.addresses),
        "LINKCHECK_PER_HOST_CONCURRENCY": str(args.per_host),
        "LINKCHECK_PER_HOST_INTERVAL": f"{args.interval:g}",
        "LINKCHECK_CONCURRENCY": str(args.concurrency),
        "MONITOR_BATCH_SIZE": str(args.batch_size),
        "MONITOR_DISPATCH_LIMIT": str(max(args.resources, 1)),
        "CELERY_QUEUE": f"bench-monitoring-{uuid.uuid4().hex[:8]}",
        "SYLLABUS_VAR_DIR": str(tmpdir / "var"),
    }


def measure_recording(rows: int, repeats: int = 20) -> dict:
    """update_rows against bulk_update on the same rows, alternating; medians in ms."""
    from django.db import transaction
    from django.utils import timezone

    from curation.health.recording import RESOURCE_HEALTH_FIELDS
    from curation.health.rowupdate import update_rows
    from curation.models import Resource

    resources = list(Resource.objects.order_by("pk")[:rows])
    timings: dict[str, dict[str, list[float]]] = {
        name: {"wall": [], "cpu": []} for name in ("update_rows", "bulk_update")
    }
    for turn in range(repeats):
        for name in ("update_rows", "bulk_update"):
            for n, resource in enumerate(resources):
                resource.last_checked_at = timezone.now()
                resource.consecutive_failures = (turn + n) % 3
                resource.last_outcome = "ok"
            wall, cpu = time.perf_counter(), time.process_time()
            with transaction.atomic():
                if name == "update_rows":
                    update_rows(resources, RESOURCE_HEALTH_FIELDS)
                else:
                    Resource.objects.bulk_update(resources, RESOURCE_HEALTH_FIELDS)
            timings[name]["wall"].append((time.perf_counter() - wall) * 1000)
            timings[name]["cpu"].append((time.process_time() - cpu) * 1000)
    return {
        "rows": rows,
        "repeats": repeats,
        **{
            f"{name}_{kind}_ms": round(statistics.median(values), 1)
            for name, kinds in timings.items()
            for kind, values in kinds.items()
        },
    }


def run_scaling(args: argparse.Namespace, farm: FarmProcess, env: dict[str, str], report: dict):
    """One node, then two, round by round: the ratio of the medians of their URL rates."""
    for round_no in range(args.rounds):
        for nodes in (1, 2):
            run = run_workers(args, farm, env, args.log_dir, nodes)
            run["round"] = round_no + 1
            report["rounds"].append(run)
            print(json.dumps(run), flush=True)
    rates = {
        n: statistics.median(r["urls_per_s"] for r in report["rounds"] if r["nodes"] == n)
        for n in (1, 2)
    }
    report["ratio_two_nodes_to_one"] = round(rates[2] / rates[1], 3)
    steady = {
        n: statistics.median(
            r["steady_urls_per_s"] or 0 for r in report["rounds"] if r["nodes"] == n
        )
        for n in (1, 2)
    }
    report["steady_ratio_two_nodes_to_one"] = round(steady[2] / steady[1], 3) if steady[1] else None
    report["max_in_flight_per_host"] = max(r["max_in_flight_per_host"] for r in report["rounds"])
    print(f"one node {rates[1]} URL/s, two nodes {rates[2]} URL/s, ratio "
          f"{report['ratio_two_nodes_to_one']}; in full swing (10-90 % written) "
          f"{steady[1]} and {steady[2]} URL/s, ratio {report['steady_ratio_two_nodes_to_one']}; "
          f"most in flight to one host "
          f"{report['max_in_flight_per_host']} (limit {args.per_host})")  # fmt: skip


def run_rounds(
    args: argparse.Namespace, farm: FarmProcess, env: dict[str, str], url_file: Path, report: dict
) -> None:
    """Workers, then the command, round by round; their URL rates and the ratio go in report."""
    command_env = {k: v for k, v in env.items() if k != "DATABASE_URL"}
    for round_no in range(args.rounds):
        a = run_workers(args, farm, env, args.log_dir)
        b = run_command(args, farm, url_file, command_env)
        a["round"] = b["round"] = round_no + 1
        report["rounds"] += [a, b]
        print(json.dumps(a), flush=True)
        print(json.dumps(b), flush=True)
    ours = [r["urls_per_s"] for r in report["rounds"] if r["what"] == "workers"]
    theirs = [r["urls_per_s"] for r in report["rounds"] if r["what"] == "checklinks"]
    report["ratio_workers_to_checklinks"] = round(sum(ours) / sum(theirs), 3)
    report["ratio_of_medians"] = round(statistics.median(ours) / statistics.median(theirs), 3)
    print(f"workers {ours} URL/s, checklinks {theirs} URL/s, "
          f"ratio {report['ratio_workers_to_checklinks']}")  # fmt: skip


if __name__ == "__main__":
    main()
