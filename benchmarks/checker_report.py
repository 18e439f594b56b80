"""What a benchmark run found: one line per run as it happens, then the summary and the table.

Medians per scenario, tool and input size; the ratio to lychee and to the policy's bound; the
politeness figures as the farm and the wire saw them; the verdicts against the targets of
issue 3 (and, with --baseline, our command against the baseline checkout's); the markdown
snippet printed for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import statistics
from dataclasses import dataclass, field
from typing import Any

from checker_tools import (
    INTERVAL,
    MEMORY_URLS,
    PER_HOST,
    SCENARIO_POLICIES,
    STEADY_URLS,
    URLS,
)

# Peak RSS at 20,000 URLs may exceed the one at 2,000 by this factor and still count as flat.
FLAT_RSS_FACTOR = 1.2


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


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def summarize(runs: list[Run], args: argparse.Namespace) -> list[dict[str, Any]]:
    """One row of medians per scenario, tool and input size, in the order they ran."""
    rows = []
    for scenario in dict.fromkeys(r.scenario for r in runs):
        policy = SCENARIO_POLICIES[scenario]
        bound = policy.bound(args.hosts, args.latency_ms / 1000)
        groups: dict[tuple[str, int], list[Run]] = {}
        for r in runs:
            if r.scenario == scenario:
                groups.setdefault((r.tool, r.urls), []).append(r)
        lychee = {
            n: _median([r.urls_per_s for r in rs]) for (t, n), rs in groups.items() if t == "lychee"
        }
        for (tool, n), rs in groups.items():
            med = _median([r.urls_per_s for r in rs])
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
                    **_politeness(rs, policy.interval),
                    "requests_per_url": round(
                        statistics.median(r.farm["requests"] for r in rs) / n, 2
                    ),
                    **_resources(rs),
                }
            )
    return rows


def _politeness(rs: list[Run], interval: float) -> dict[str, Any]:
    """Requests in flight per host and gaps between starts, as the farm and the wire saw them."""
    wired = [r for r in rs if r.wire]
    return {
        "max_in_flight_per_host": max(r.farm["max_in_flight_per_host"] for r in rs),
        "min_gap_ms": min(
            (r.farm["min_gap_ms"] for r in rs if r.farm["min_gap_ms"] is not None),
            default=None,
        ),
        "gaps_below_90pct_interval": sum(short_gaps(r.farm["gaps_ms"], interval) for r in rs),
        # The same two figures for the request starts seen on the wire.
        "wire_min_gap_ms": min(
            (r.wire["min_gap_ms"] for r in wired if r.wire["min_gap_ms"] is not None),
            default=None,
        ),
        "wire_gaps_below_90pct_interval": (
            sum(short_gaps(r.wire["gaps_ms"], interval) for r in wired) if wired else None
        ),
        "wire_dropped": sum(r.wire["dropped"] for r in wired) if wired else None,
    }


def _resources(rs: list[Run]) -> dict[str, Any]:
    """Whether every URL came out ok, CPU, memory, and where the wall time went."""
    return {
        "all_ok": all(r.all_ok for r in rs),
        "median_cpu_percent": _median([r.cpu_percent for r in rs]),
        "median_run_queue_wait_percent": _median(
            [statistics.fmean(r.run_queue_wait_timeline) for r in rs if r.run_queue_wait_timeline]
        ),
        "max_peak_rss_mib": round(max(r.peak_tree_rss_kib for r in rs) / 1024, 1),
        "median_lead_in_ms": _median([r.lead_in_ms for r in rs if r.lead_in_ms]),
        "median_tail_ms": _median([r.tail_ms for r in rs if r.tail_ms]),
        "median_wall_s": _median([r.wall_s for r in rs]),
    }


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
    lines += against_baseline(summary)
    return lines


def against_baseline(summary: list[dict[str, Any]]) -> list[str]:
    """Our command against the baseline checkout's, scenario by scenario (with --baseline)."""
    baseline = {
        (r["scenario"], r["urls"]): r["median_urls_per_s"]
        for r in summary
        if r["tool"] == "baseline"
    }
    lines = []
    for r in summary:
        ref = baseline.get((r["scenario"], r["urls"]))
        if r["tool"] == "ours" and ref and r["median_urls_per_s"]:
            lines.append(
                f"{r['scenario']} ({r['urls']} URLs): ours {r['median_urls_per_s']} vs baseline "
                f"{ref} URLs/s = {r['median_urls_per_s'] / ref:.3f}x"
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
