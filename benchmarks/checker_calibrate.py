"""Calibration mode of checker_vs_lychee.py: what bare HTTP clients cost here, right now.

    python benchmarks/checker_vs_lychee.py --calibrate
    python benchmarks/checker_calibrate.py KIND URL_FILE CONCURRENCY   # one client (internal)

Minimal clients with no checker logic (requests, urllib3 in one and in two processes, asyncio)
check the farm's URLs round by round beside lychee and our command; the floor printed at the end
is the two-process urllib3 client plus our start-up, which no checker on that stack can beat.
Each client runs as this file, in the project's virtualenv (it has requests and urllib3).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench_process import (
    PROJECT_PYTHON,
    RUN_TIMEOUT,
    Workspace,
    clean_env,
    run_measured,
)
from checker_tools import (
    PER_HOST,
    Policy,
    lychee_command,
    measure_startup,
    ours_command,
    ours_env,
    settle,
)
from linkfarm import FarmProcess, write_url_file

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
    urls = [line.strip() for line in url_file.open() if line.strip()]
    requests_made = len(urls) * (2 if kind == "requests-head-get" else 1)
    start, cpu0 = time.perf_counter(), time.process_time()
    if kind == "urllib3-get-2proc":
        _urllib3_two_processes(urls, concurrency)
    elif kind == "asyncio-get":
        _asyncio_client(urls, concurrency)
    elif kind == "urllib3-get":
        _urllib3_threads(urls, concurrency)
    else:
        _requests_client(urls, concurrency, head_first=kind == "requests-head-get")
    wall = time.perf_counter() - start
    # The two-process client's CPU is its children's (zero for the others: they have none).
    times = os.times()
    cpu = time.process_time() - cpu0 + times.children_user + times.children_system
    _print_calibration(kind, concurrency, len(urls), wall, cpu, requests_made)


def _urllib3_two_processes(urls: list[str], concurrency: int) -> None:
    """What our command does with two cores: the hosts split between two forked processes,
    each with half the concurrency, and no checker logic at all. The floor of the stack."""
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


def _asyncio_client(urls: list[str], concurrency: int) -> None:
    """Bare asyncio streams, HTTP/1.1 by hand, connections kept per host."""
    import asyncio

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


def _requests_client(urls: list[str], concurrency: int, *, head_first: bool) -> None:
    """requests in threads, a streamed GET (after a HEAD with head_first), 64 KiB read."""
    import requests  # the project's venv

    limits = {urlsplit(u).netloc: threading.BoundedSemaphore(PER_HOST) for u in urls}
    session = requests.Session()
    session.trust_env = False  # no proxies: the farm is local
    session.mount("http://", requests.adapters.HTTPAdapter(pool_connections=100, pool_maxsize=20))

    def one(url: str) -> None:
        with limits[urlsplit(url).netloc]:
            if head_first:
                session.head(url, timeout=10)
            response = session.get(url, timeout=10, stream=True)
            response.raw.read(65536)
            response.close()

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, urls))


def _urllib3_threads(urls: list[str], concurrency: int) -> None:
    """Bare urllib3 in threads, 10 in flight per host: the `urllib3-get` client's loop."""
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
            for rnd in range(1, args.rounds + 1):
                for kind in CALIBRATION_CLIENTS:
                    rate = _time_client(kind, farm, url_file, args.calibration_concurrency, rnd)
                    if rate is not None:
                        rates.setdefault(kind, []).append(rate)
                # The references, same policy, same run: lychee, and our whole command (its
                # figures include start-up, which the bare clients above do not pay).
                for name, rate in _time_tools(farm, ws, url_file, args, rnd).items():
                    rates.setdefault(name, []).append(rate)
            startup = measure_startup(farm, ws, ["ours"])
    finally:
        ws.cleanup()
    print_calibration_summary(rates, startup.get("ours"), args.urls, args.calibration_concurrency)
    return 0


def _time_client(
    kind: str, farm: FarmProcess, url_file: Path, concurrency: int, rnd: int
) -> float | None:
    """One bare client over url_file, as this file in a process of its own: its URLs/s."""
    settle(farm)
    proc = subprocess.run(
        [str(PROJECT_PYTHON), str(Path(__file__).resolve()), kind, str(url_file), str(concurrency)],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        env=clean_env(),
    )
    stats = farm.stats()
    line = (proc.stdout.strip() or proc.stderr.strip()[-300:]).splitlines()[-1:]
    print(f"r{rnd} {' '.join(line)} max_in_flight={stats['max_in_flight_per_host']}")
    try:
        return float(json.loads(line[0])["urls_per_s"])
    except (ValueError, IndexError, KeyError):
        return None


def _time_tools(
    farm: FarmProcess, ws: Workspace, url_file: Path, args: argparse.Namespace, rnd: int
) -> dict[str, float]:
    """lychee and our command over url_file, under the calibration's policy: URLs/s each."""
    policy = Policy(PER_HOST, 0.0, args.calibration_concurrency)
    commands = {
        "lychee": (lychee_command(url_file, ws.path / "lychee.json", policy), clean_env()),
        "ours": (ours_command(url_file, policy), ours_env(farm, ws)),
    }
    rates = {}
    for name, (command, env) in commands.items():
        settle(farm)
        m = run_measured(
            command, env=env, stdout=ws.path / f"{name}.out", stderr=ws.path / f"{name}.err"
        )
        rates[name] = args.urls / m.wall_s
        print(
            f"r{rnd} {name}: {args.urls / m.wall_s:.1f} URLs/s, cpu "
            f"{m.cpu_s / m.wall_s * 100:.1f}%, {m.cpu_s / args.urls * 1000:.3f} ms CPU/request"
        )
    return rates


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


if __name__ == "__main__":
    kind, url_file, concurrency = sys.argv[1:4]
    calibration_client(kind, Path(url_file), int(concurrency))
