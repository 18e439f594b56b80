"""Profile mode of checker_vs_lychee.py: our command once under py-spy, its top functions.

    python benchmarks/checker_vs_lychee.py --profile [--profile-gil] [--profile-idle]

py-spy samples every thread of our command on the farm (non-blocking: stopping a process with a
hundred threads for every sample slowed it fivefold); the collapsed stacks are summed by own
time, by inclusive time and by where the sampled frame lives (our checker, urllib3, imports...).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from bench_process import Workspace, bench_bin, ensure_bench_venv, run_measured
from checker_tools import SCENARIO_POLICIES, our_command_ready, ours_command, ours_env
from linkfarm import FarmProcess, write_url_file


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
