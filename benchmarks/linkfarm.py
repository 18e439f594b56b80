"""A loopback link farm: one process serving HTTP/1.1 on 127.0.0.2 ... 127.0.0.(N+1), same port.

Every request is answered after an injected latency; per host (the local address the client
connected to) the farm records requests, connections, the current and the most requests in
flight, and the shortest gap between two request arrivals. That is what a politeness policy is
judged on: the server's view, not the client's claims.

Special paths (answered at once, not counted, on any of the addresses):
    GET /__stats   JSON: per-host counters, totals, requests per second since the last reset
    GET /__reset   zero every counter (the maxima too)
Other paths: /status/<code> answers that status; /page/<n> 200 with a small HTML page;
/moved/<301|302>/<n> that redirect to /page/<n> on the same host; /file/<n>.pdf 405 to HEAD and
200 (a PDF) to GET; anything else 404 (an honest site: the checker's soft-404 probe sees unknown
addresses answer 404). make_mix_urls() spreads those answers through a list of pages.
HEAD and GET are both served; keep-alive is the HTTP/1.1 default and `Connection: close` honoured.

One file on purpose (about 540 lines): it is started as a standalone process by path, by the
benchmarks and by hand, with nothing of the project on its import path.

Command line:  python benchmarks/linkfarm.py --hosts 20 --latency-ms 100 --port 8123
Library:       with FarmProcess(hosts=20, latency_ms=100) as farm:
                   urls = make_urls(farm.addresses, farm.port, 2000); farm.reset(); farm.stats()

Only loopback addresses are ever bound, and the process exits by itself after --max-seconds
(and, when started through FarmProcess, as soon as its parent goes away).

Stdlib only: it runs under the project's venv or the benchmark's.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import ipaddress
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DEFAULT_PORT = 8123
MAX_HEAD_BYTES = 16 * 1024
BIND_ATTEMPTS = 5
# Upper edges (ms) of the histogram of gaps between two request arrivals at one host: a
# per-host interval of 50 ms should leave the buckets below about 45 ms empty.
GAP_EDGES_MS = (1, 5, 10, 25, 40, 45, 50, 100)
# A farm nobody stops still goes away: no process of the benchmark outlives it by much.
DEFAULT_MAX_SECONDS = 3600.0
READY_PREFIX = "LINKFARM READY"
BODY = (
    b"<!doctype html><html><head><title>Farm page</title></head>"
    b"<body><h1>A page of the link farm</h1><p>Nothing to see, all is well.</p></body></html>"
)
# The realistic mix (make_mix_urls): one URL in MIX_EVERY is special, taking these paths in turn
# (2 in 25 = 8 %: 2 % each of 301, 302, 404 and 405-to-HEAD).
MIX_EVERY = 12.5
MIX_KINDS = ("moved/301", "missing", "moved/302", "file")
REASONS = {
    200: "OK",
    301: "Moved Permanently",
    302: "Found",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def farm_addresses(hosts: int, first: int = 2) -> list[str]:
    """127.0.0.2 ... 127.0.0.(hosts+1): Linux routes all of 127/8 to lo, no setup needed."""
    if not 1 <= hosts <= 250:
        raise ValueError("hosts must be between 1 and 250")
    return [f"127.0.0.{first + i}" for i in range(hosts)]


def make_urls(addresses: list[str], port: int, count: int) -> Iterator[str]:
    """`count` distinct page URLs spread round-robin over the addresses."""
    n = len(addresses)
    for i in range(count):
        yield f"http://{addresses[i % n]}:{port}/page/{i}"


def make_mix_urls(addresses: list[str], port: int, count: int) -> Iterator[str]:
    """Like make_urls, with 8 % of the URLs special (MIX_KINDS in turn, spread evenly): a 301 or
    a 302 to a page on the same host, a 404, a file that answers 405 to HEAD and 200 to GET.

    Every host gets the same share of each kind, spread through its URLs (host h's j-th URL is
    special when j + h crosses a multiple of MIX_EVERY), so no host ends up with more requests
    than the others: the run's length is then the mix's, not one unlucky host's."""
    n = len(addresses)
    specials = [0] * n
    for i in range(count):
        h, j = i % n, i // n + i % n
        host = addresses[h]
        if int((j + 1) / MIX_EVERY) > int(j / MIX_EVERY):
            kind = MIX_KINDS[(specials[h] + h) % len(MIX_KINDS)]
            specials[h] += 1
            suffix = f"{i}.pdf" if kind == "file" else str(i)
            yield f"http://{host}:{port}/{kind}/{suffix}"
        else:
            yield f"http://{host}:{port}/page/{i}"


def write_url_file(
    path: Path, addresses: list[str], port: int, count: int, *, mix: bool = False
) -> Path:
    with path.open("w") as f:
        for url in (make_mix_urls if mix else make_urls)(addresses, port, count):
            f.write(url + "\n")
    return path


class _HostStats:
    __slots__ = (
        "connections",
        "gaps",
        "heads",
        "in_flight",
        "last_arrival",
        "max_connections",
        "max_in_flight",
        "min_gap",
        "open_connections",
        "requests",
        "statuses",
    )

    def __init__(self) -> None:
        self.requests = 0
        self.heads = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.connections = 0
        self.open_connections = 0
        self.max_connections = 0
        self.last_arrival = 0.0
        self.min_gap = float("inf")
        self.gaps = [0] * (len(GAP_EDGES_MS) + 1)
        self.statuses: dict[int, int] = {}

    def reset(self) -> None:
        # In-flight and open connections are live values and survive a reset.
        in_flight, open_connections = self.in_flight, self.open_connections
        self.__init__()  # type: ignore[misc]
        self.in_flight = self.max_in_flight = in_flight
        self.open_connections = self.max_connections = open_connections

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "head_requests": self.heads,
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "connections_opened": self.connections,
            "max_open_connections": self.max_connections,
            "min_gap_ms": None if self.min_gap == float("inf") else round(self.min_gap * 1000, 2),
            "gaps_ms": gap_histogram(self.gaps),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
        }


class Farm:
    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.hosts: dict[str, _HostStats] = {}
        self.since = time.monotonic()
        self.per_second: dict[int, int] = {}
        self.first_arrival: float | None = None
        self.last_done: float | None = None

    def host(self, address: str) -> _HostStats:
        stats = self.hosts.get(address)
        if stats is None:
            stats = self.hosts[address] = _HostStats()
        return stats

    def reset(self) -> None:
        for stats in self.hosts.values():
            stats.reset()
        self.since = time.monotonic()
        self.per_second = {}
        self.first_arrival = self.last_done = None

    def snapshot(self) -> dict[str, Any]:
        hosts = {a: s.as_dict() for a, s in sorted(self.hosts.items(), key=_address_key)}
        gaps = [h["min_gap_ms"] for h in hosts.values() if h["min_gap_ms"] is not None]
        active = (
            self.last_done - self.first_arrival
            if self.first_arrival is not None and self.last_done is not None
            else None
        )
        return {
            "latency_ms": round(self.latency * 1000, 3),
            "seconds_since_reset": round(time.monotonic() - self.since, 3),
            # From the first request's arrival to the last response after the reset.
            "active_seconds": None if active is None else round(active, 4),
            # The same two instants on CLOCK_MONOTONIC, which every process on the machine
            # shares: a client's start-up and exit are measured against them.
            "first_arrival_monotonic": self.first_arrival,
            "last_done_monotonic": self.last_done,
            "requests": sum(h["requests"] for h in hosts.values()),
            "head_requests": sum(h["head_requests"] for h in hosts.values()),
            "max_in_flight_per_host": max((h["max_in_flight"] for h in hosts.values()), default=0),
            "max_open_connections_per_host": max(
                (h["max_open_connections"] for h in hosts.values()), default=0
            ),
            "connections_opened": sum(h["connections_opened"] for h in hosts.values()),
            "min_gap_ms": min(gaps) if gaps else None,
            "gaps_ms": gap_histogram(
                [sum(col) for col in zip(*(s.gaps for s in self.hosts.values()), strict=True)]
                if self.hosts
                else [0] * (len(GAP_EDGES_MS) + 1)
            ),
            "requests_per_second": [self.per_second.get(i, 0) for i in range(self._seconds())],
            "hosts": hosts,
        }

    def _seconds(self) -> int:
        return max(self.per_second) + 1 if self.per_second else 0


def gap_histogram(counts: list[int]) -> dict[str, int]:
    labels = [f"<{e}" for e in GAP_EDGES_MS] + [f">={GAP_EDGES_MS[-1]}"]
    return dict(zip(labels, counts, strict=True))


def _address_key(item: tuple[str, Any]) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in item[0].split("."))
    except ValueError:
        return (999,)


class _Connection(asyncio.Protocol):
    """A lean HTTP/1.1 server connection: no body parsing, requests answered in arrival order."""

    def __init__(self, farm: Farm) -> None:
        self.farm = farm
        self.buffer = b""
        self.transport: asyncio.Transport | None = None
        self.stats: _HostStats | None = None
        self.pending = 0
        self.closing = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        local = transport.get_extra_info("sockname")
        self.stats = self.farm.host(local[0] if local else "?")
        self.stats.connections += 1
        self.stats.open_connections += 1
        self.stats.max_connections = max(self.stats.max_connections, self.stats.open_connections)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.stats is not None:
            self.stats.open_connections -= 1
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while not self.closing:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > MAX_HEAD_BYTES:
                    self._close()
                return
            head, self.buffer = self.buffer[:end], self.buffer[end + 4 :]
            self._request(head)

    def _request(self, head: bytes) -> None:
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ")
        if len(parts) != 3:
            self._close()
            return
        method, target, version = parts
        keep_alive = version == b"HTTP/1.1"
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"connection":
                value = value.strip().lower()
                keep_alive = value != b"close" if keep_alive else value == b"keep-alive"
            elif name.strip().lower() == b"content-length" and value.strip() not in (b"", b"0"):
                # Nothing in a benchmark sends bodies; refusing them keeps the parser trivial.
                self._close()
                return
        if target.startswith(b"/__"):
            self._control(target, keep_alive)
            return
        # An honest site: its pages answer 200 and any other address 404, as the checker's
        # random-sibling soft-404 probe expects of a real site.
        # /page/<n> only: the probe's random sibling (/page/x8f...) must get its 404.
        status = 200 if target.startswith(b"/page/") and target[6:].isdigit() else 404
        location = None
        is_head = method == b"HEAD"
        if target.startswith(b"/status/"):
            with contextlib.suppress(ValueError):
                status = int(target[8:11])
        elif target.startswith(b"/moved/"):
            # /moved/301/<n> -> /page/<n> on the same host.
            code, _, page = target[7:].partition(b"/")
            if code in (b"301", b"302") and page:
                status, location = int(code), b"/page/" + page
        elif target.startswith(b"/file/"):
            # A download whose server refuses HEAD (as some do): only the GET tells.
            status = 405 if is_head else 200
        farm, stats = self.farm, self.stats
        assert stats is not None
        now = time.monotonic()
        if farm.first_arrival is None:
            farm.first_arrival = now
        second = int(now - farm.since)
        farm.per_second[second] = farm.per_second.get(second, 0) + 1
        if stats.last_arrival:
            gap = now - stats.last_arrival
            stats.min_gap = min(stats.min_gap, gap)
            stats.gaps[bisect.bisect_right(GAP_EDGES_MS, gap * 1000)] += 1
        stats.last_arrival = now
        stats.requests += 1
        stats.heads += is_head
        stats.statuses[status] = stats.statuses.get(status, 0) + 1
        stats.in_flight += 1
        if stats.in_flight > stats.max_in_flight:
            stats.max_in_flight = stats.in_flight
        self.pending += 1
        if not keep_alive:
            self.closing = True
        # call_later is what asyncio.sleep uses underneath, without a task per request; equal
        # delays fire in scheduling order, so pipelined requests are still answered in order.
        asyncio.get_running_loop().call_later(
            farm.latency, self._respond, status, is_head, keep_alive, location, target
        )

    def _respond(
        self,
        status: int,
        is_head: bool,
        keep_alive: bool,
        location: bytes | None = None,
        target: bytes = b"",
    ) -> None:
        stats = self.stats
        assert stats is not None
        stats.in_flight -= 1
        self.pending -= 1
        self.farm.last_done = time.monotonic()
        if self.transport is None or self.transport.is_closing():
            return
        body = BODY if status == 200 else f"status {status}\n".encode()
        ctype = "text/html; charset=utf-8"
        if status == 200 and target.startswith(b"/file/"):
            body, ctype = b"%PDF-1.4\n%%EOF\n", "application/pdf"
        self._send(status, body, ctype, is_head, keep_alive, location)

    def _control(self, target: bytes, keep_alive: bool) -> None:
        path = target.split(b"?")[0]
        if path == b"/__stats":
            payload = self.farm.snapshot()
        elif path == b"/__reset":
            self.farm.reset()
            payload = {"reset": True}
        else:
            self._send(404, b"unknown control path\n", "text/plain", False, keep_alive)
            return
        body = json.dumps(payload).encode()
        self._send(200, body, "application/json", False, keep_alive)

    def _send(
        self,
        status: int,
        body: bytes,
        ctype: str,
        is_head: bool,
        keep_alive: bool,
        location: bytes | None = None,
    ) -> None:
        assert self.transport is not None
        moved = f"Location: {location.decode('latin-1')}\r\n" if location else ""
        head = (
            f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}\r\n{moved}"
            f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
            # LinkChecker throttles every host to at most 10 requests/s unless the server sends
            # this header; with it, its `maxrequestspersecond` setting applies as configured.
            f"LinkChecker: allowed\r\n"
            f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
        ).encode()
        self.transport.write(head if is_head else head + body)
        if not keep_alive and self.pending == 0:
            self.transport.close()

    def _close(self) -> None:
        self.closing = True
        if self.transport is not None:
            self.transport.close()


def _check_loopback(address: str) -> None:
    if not ipaddress.ip_address(address).is_loopback:
        raise ValueError(f"the farm binds loopback addresses only, not {address}")


async def serve(
    addresses: list[str],
    port: int,
    latency: float,
    *,
    max_seconds: float,
    watch_stdin: bool = False,
    stats_file: Path | None = None,
) -> None:
    farm = Farm(latency)
    loop = asyncio.get_running_loop()
    servers: list[asyncio.Server] = []
    for address in addresses:
        _check_loopback(address)
        farm.host(address)
    try:
        for attempt in range(BIND_ATTEMPTS):
            try:
                servers = await _bind_all(loop, farm, addresses, port)
                port = servers[0].sockets[0].getsockname()[1]
                break
            except OSError:
                # A free port on the first address may be taken on another one: pick again.
                if port != 0 or attempt == BIND_ATTEMPTS - 1:
                    raise
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        if watch_stdin:
            # The parent holds our stdin open; EOF means it is gone, so we go too.
            loop.add_reader(sys.stdin.fileno(), lambda: stop.set() if not os.read(0, 4096) else 0)
        print(f"{READY_PREFIX} port={port} hosts={len(addresses)}", flush=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), max_seconds)
    finally:
        for server in servers:
            server.close()
        if stats_file is not None:
            stats_file.write_text(json.dumps(farm.snapshot(), indent=1))


async def _bind_all(
    loop: asyncio.AbstractEventLoop, farm: Farm, addresses: list[str], port: int
) -> list[asyncio.Server]:
    servers: list[asyncio.Server] = []
    try:
        for address in addresses:
            server = await loop.create_server(
                lambda: _Connection(farm), address, port, backlog=1024, reuse_address=True
            )
            servers.append(server)
            if port == 0:
                # Every address shares the first one's port.
                port = server.sockets[0].getsockname()[1]
    except OSError:
        for server in servers:
            server.close()
        raise
    return servers


def fetch_json(url: str, timeout: float = 10.0) -> dict[str, Any]:
    """GET a control path. Proxies are ignored on purpose: the farm is on this machine only."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=timeout) as response:
        return json.loads(response.read())


class FarmProcess:
    """Run the farm in its own process (its own core and event loop), as a context manager."""

    def __init__(
        self,
        *,
        hosts: int = 20,
        latency_ms: float = 100.0,
        port: int = 0,
        max_seconds: float = DEFAULT_MAX_SECONDS,
        python: str = sys.executable,
    ) -> None:
        self.addresses = farm_addresses(hosts)
        self.latency_ms = latency_ms
        self.port = port
        self.max_seconds = max_seconds
        self.python = python
        self.proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> FarmProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, ready_timeout: float = 15.0) -> None:
        cmd = [
            self.python,
            str(Path(__file__).resolve()),
            "--hosts",
            str(len(self.addresses)),
            "--latency-ms",
            str(self.latency_ms),
            "--port",
            str(self.port),
            "--max-seconds",
            str(self.max_seconds),
            "--watch-stdin",
        ]
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, start_new_session=True
        )
        deadline = time.monotonic() + ready_timeout
        assert self.proc.stdout is not None
        try:
            line = ""
            while time.monotonic() < deadline:
                line = self.proc.stdout.readline()
                if line.startswith(READY_PREFIX) or not line:
                    break
            if not line.startswith(READY_PREFIX):
                raise RuntimeError(f"link farm did not start: {line!r}")
            self.port = int(line.split("port=")[1].split()[0])
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            if proc.stdin is not None:
                proc.stdin.close()
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        finally:
            if proc.poll() is None:
                proc.kill()

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    @property
    def host_ports(self) -> list[str]:
        return [f"{a}:{self.port}" for a in self.addresses]

    def control_url(self, path: str) -> str:
        return f"http://{self.addresses[0]}:{self.port}{path}"

    def stats(self) -> dict[str, Any]:
        return fetch_json(self.control_url("/__stats"))

    def reset(self) -> None:
        fetch_json(self.control_url("/__reset"))

    def urls(self, count: int) -> Iterator[str]:
        return make_urls(self.addresses, self.port, count)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 picks a free port")
    parser.add_argument("--max-seconds", type=float, default=DEFAULT_MAX_SECONDS)
    parser.add_argument("--stats-file", type=Path, help="write the final stats here on exit")
    parser.add_argument("--urls", type=int, help="print this many URLs and exit")
    parser.add_argument("--mix", action="store_true", help="with --urls: the realistic mix")
    parser.add_argument("--watch-stdin", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    addresses = farm_addresses(args.hosts)
    if args.urls is not None:
        for url in (make_mix_urls if args.mix else make_urls)(addresses, args.port, args.urls):
            print(url)
        return 0
    asyncio.run(
        serve(
            addresses,
            args.port,
            args.latency_ms / 1000,
            max_seconds=args.max_seconds,
            watch_stdin=args.watch_stdin,
            stats_file=args.stats_file,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
