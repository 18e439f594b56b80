"""When each request left the client, per farm host, as the kernel timestamped it on loopback.

The farm times arrivals in its own event loop, so when the machine is busy and the farm waits
for a CPU, requests sent 50 ms apart can be read one right after the other: the farm then
reports a gap the client never made. This capture sees the request heads on the wire instead
(an AF_PACKET socket on `lo`, outgoing packets only, kernel timestamps), which is what a
per-host interval promises. The benchmark shows both views side by side.

Linux and root only (a packet socket); `available()` says whether it can run here.
Run as a process:  python benchmarks/wirecap.py PORT OUT.json [--starts]   (prints "ready",
writes OUT.json on SIGTERM; --starts keeps every host's start times in it).
Stdlib only: it runs under the project's venv or the benchmark's.
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
import json
import signal
import socket
import struct
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from linkfarm import GAP_EDGES_MS, gap_histogram

ETH_P_ALL = 0x0003
ETH_P_IP = b"\x08\x00"
ETH_HEADER = 14
SO_TIMESTAMPNS = 35
SOL_PACKET = 263
PACKET_STATISTICS = 6
PACKET_OUTGOING = 4
# The first bytes of an HTTP/1.1 request head, as the checkers send them.
REQUEST_STARTS = (b"GET ", b"HEAD ")
# The farm's control paths (/__stats, /__reset) are not requests of the run.
CONTROL_PATH = b" /__"


def available() -> bool:
    try:
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(ETH_P_ALL))
    except (AttributeError, OSError):
        return False
    sock.close()
    return True


def request_host(frame: bytes, port: int) -> str | None:
    """The destination address of an IPv4 TCP segment to `port` carrying a request head."""
    if len(frame) < ETH_HEADER + 20 or frame[12:14] != ETH_P_IP:
        return None
    ip = frame[ETH_HEADER:]
    header = (ip[0] & 0x0F) * 4
    if ip[9] != socket.IPPROTO_TCP or len(ip) < header + 20:
        return None
    tcp = ip[header:]
    if struct.unpack("!H", tcp[2:4])[0] != port:
        return None
    payload = tcp[(tcp[12] >> 4) * 4 :]
    if not payload.startswith(REQUEST_STARTS) or CONTROL_PATH in payload[:8]:
        return None
    return socket.inet_ntoa(ip[16:20])


def summarize(
    sent: dict[str, list[float]], dropped: int, *, starts: bool = False
) -> dict[str, Any]:
    """Gaps between request starts per host; with `starts`, every host's start times too."""
    gaps: list[float] = []
    per_host: dict[str, Any] = {}
    for host, times in sent.items():
        times.sort()
        host_gaps = [(b - a) * 1000 for a, b in itertools.pairwise(times)]
        gaps += host_gaps
        per_host[host] = {
            "requests": len(times),
            "min_gap_ms": round(min(host_gaps), 2) if host_gaps else None,
            # The most requests started within any one second (lychee bursts past its interval).
            "max_per_second": max_in_window(times, 1.0),
        }
        if starts:
            per_host[host]["starts"] = times
    counts = [0] * (len(GAP_EDGES_MS) + 1)
    for gap in gaps:
        counts[bisect.bisect_right(GAP_EDGES_MS, gap)] += 1
    return {
        "requests": sum(len(times) for times in sent.values()),
        "min_gap_ms": round(min(gaps), 2) if gaps else None,
        "gaps_ms": gap_histogram(counts),
        # Packets the kernel could not queue for us: a capture with drops may miss a request.
        "dropped": dropped,
        "max_per_second_per_host": max((h["max_per_second"] for h in per_host.values()), default=0),
        "hosts": per_host,
    }


def max_in_window(times: list[float], window: float) -> int:
    """The most of the (sorted) times that fall within any `window` seconds."""
    most = first = 0
    for last, at in enumerate(times):
        while at - times[first] >= window:
            first += 1
        most = max(most, last - first + 1)
    return most


class _Stop(Exception):
    pass


def _stop(*_: object) -> None:
    raise _Stop


def capture(port: int, out: Path, *, starts: bool = False) -> None:
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(ETH_P_ALL))
    sock.bind(("lo", 0))
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
    sent: dict[str, list[float]] = defaultdict(list)
    signal.signal(signal.SIGTERM, _stop)
    print("ready", flush=True)
    try:
        while True:
            _take(sock, port, sent)
    except _Stop:
        pass
    # Told to stop: what is still queued was sent before the run ended, so take it too.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sock.setblocking(False)
    with contextlib.suppress(BlockingIOError):
        while True:
            _take(sock, port, sent)
    # Reading the statistics resets them: this is the count since the capture began.
    _, dropped = struct.unpack("II", sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))
    out.write_text(json.dumps(summarize(sent, dropped, starts=starts)))


def _take(sock: socket.socket, port: int, sent: dict[str, list[float]]) -> None:
    frame, ancillary, _, address = sock.recvmsg(256, 64)
    if address[2] != PACKET_OUTGOING:
        return  # Loopback shows every packet twice; the outgoing copy is the send.
    host = request_host(frame, port)
    if host is None:
        return
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
            seconds, nanoseconds = struct.unpack("qq", data[:16])
            sent[host].append(seconds + nanoseconds / 1e9)


class WireCapture:
    """The capture as a child process around one run: start(), then stop() for its summary."""

    def __init__(self, port: int, out: Path, *, starts: bool = False) -> None:
        self.port, self.out, self.starts = port, out, starts
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self.out.unlink(missing_ok=True)
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                str(self.port),
                str(self.out),
                *(["--starts"] if self.starts else []),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != "ready":
            self.proc.kill()
            raise RuntimeError("wire capture did not start")

    def stop(self) -> dict[str, Any] | None:
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return None
        with contextlib.suppress(OSError, ValueError):
            return json.loads(self.out.read_text())
        return None


if __name__ == "__main__":
    capture(int(sys.argv[1]), Path(sys.argv[2]), starts="--starts" in sys.argv[3:])
