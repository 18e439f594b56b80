"""The tools compared and the scenarios they run: command lines, environments, result parsers.

Our command (`manage.py checklinks --input`, from this checkout or from a baseline checkout to
measure a change), lychee and LinkChecker, each given the same per-host policy; how to read
each one's report into outcome counts; the farm's reset between runs; start-up on an empty
input, and the floor of any CPython checker on urllib3.
"""

from __future__ import annotations

import csv
import json
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench_process import (
    PROJECT_PYTHON,
    REPO,
    Workspace,
    bench_bin,
    clean_env,
    run_measured,
)
from linkfarm import FarmProcess

HOSTS = 20
LATENCY_MS = 100.0
URLS = 2000
MEMORY_URLS = (2000, 20000)
STEADY_URLS = 20000
PER_HOST = 10
INTERVAL = 0.05
CONCURRENCY = 128
# Pause between two measured runs (see settle()).
SETTLE_SECONDS = 0.3
STARTUP_RUNS = 3


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


SCENARIO_POLICIES = {
    "interval": Policy(PER_HOST, INTERVAL, CONCURRENCY),
    # The realistic mix (linkfarm.make_mix_urls: 8 % redirects, 404s and 405s to HEAD), where
    # the bound counts requests, not URLs: every hop and every GET after a HEAD takes a slot.
    "interval-mix": Policy(PER_HOST, INTERVAL, CONCURRENCY),
    "interval-mix-steady": Policy(PER_HOST, INTERVAL, CONCURRENCY),
    "no-interval": Policy(PER_HOST, 0.0, CONCURRENCY),
    "no-interval-c200": Policy(PER_HOST, 0.0, HOSTS * PER_HOST),
    "interval-steady": Policy(PER_HOST, INTERVAL, CONCURRENCY),
    "memory": Policy(PER_HOST, 0.0, CONCURRENCY),
}


MIX_SCENARIOS = frozenset({"interval-mix", "interval-mix-steady"})
# Where an installed lychee may be found, besides the benchmark's own virtualenv. Nothing is
# ever downloaded for it: without one, lychee's rows are left out and the run says so.
LYCHEE_ELSEWHERE = Path("/tmp/lychee-venv/bin/lychee")


def lychee_binary() -> Path | None:
    for path in (bench_bin("lychee"), LYCHEE_ELSEWHERE):
        if path.exists():
            return path
    return None


def tool_versions() -> dict[str, str]:
    versions = {}
    for name, cmd in (
        ("lychee", [str(lychee_binary() or bench_bin("lychee")), "--version"]),
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


def our_command_ready(repo: Path = REPO) -> tuple[bool, str]:
    """Whether `manage.py checklinks` runs in the checkout at `repo`, and if not, why."""
    try:
        proc = subprocess.run(
            [str(PROJECT_PYTHON), "manage.py", "checklinks", "--help"],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=repo,
            env=clean_env({"DJANGO_SETTINGS_MODULE": "config.settings"}),
        )
    except subprocess.TimeoutExpired:
        return False, "checklinks --help timed out"
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        return False, lines[-1] if lines else f"exit {proc.returncode}"
    return True, ""


def our_checkout(tool: str, baseline: Path | None) -> Path:
    """Where our command runs from: this checkout, or the baseline's for the "baseline" tool."""
    return baseline if tool == "baseline" and baseline is not None else REPO


def ours_command(url_file: Path, policy: Policy) -> list[str]:
    """Our command line, run with the checkout it measures as the working directory."""
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
        str(lychee_binary() or bench_bin("lychee")),
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


def settle(farm: FarmProcess) -> None:
    """Zero the farm's counters after a pause that lets the previous run's connections close
    (the farm and the kernel tear down hundreds of them), so no run pays for the one before."""
    farm.reset()
    time.sleep(SETTLE_SECONDS)
    farm.reset()


def measure_startup(
    farm: FarmProcess, ws: Workspace, tools: list[str], baseline: Path | None = None
) -> dict[str, float]:
    """Median wall time of each tool on an empty input: the fixed cost in every run."""
    empty = ws.path / "empty.txt"
    empty.write_text("")
    policy = SCENARIO_POLICIES["interval"]
    startup = {}
    for tool in ("ours", "baseline", "lychee"):
        if tool not in tools:
            continue
        walls = []
        for i in range(STARTUP_RUNS):
            cwd = REPO
            if tool == "lychee":
                cmd, env = lychee_command(empty, ws.path / "empty.report", policy), clean_env()
            else:
                cmd, env = ours_command(empty, policy), ours_env(farm, ws)
                cwd = our_checkout(tool, baseline)
            m = run_measured(
                cmd,
                env=env,
                stdout=ws.path / f"startup-{tool}-{i}.out",
                stderr=ws.path / f"startup-{tool}-{i}.err",
                timeout=120,
                cwd=cwd,
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
