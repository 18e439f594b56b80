"""The benchmark's wire capture: what it counts as a request start, and one live capture."""

from __future__ import annotations

import socket
import struct
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import wirecap  # noqa: E402

from tests.conftest import service_missing  # noqa: E402

FARM_PORT = 8123


def frame(payload: bytes, *, dst: str = "127.0.0.5", dport: int = FARM_PORT) -> bytes:
    """An Ethernet + IPv4 + TCP frame as AF_PACKET hands it over on loopback."""
    ethernet = b"\x00" * 12 + b"\x08\x00"
    tcp = struct.pack("!HHIIBBHHH", 40000, dport, 1, 1, 5 << 4, 0x18, 65535, 0, 0)
    total = 20 + len(tcp) + len(payload)
    ip = struct.pack(
        "!BBHHHBBH4s4s",
        0x45, 0, total, 0, 0, 64, socket.IPPROTO_TCP, 0,
        socket.inet_aton("127.0.0.1"), socket.inet_aton(dst),
    )  # fmt: skip
    return ethernet + ip + tcp + payload


def test_a_request_head_to_the_farm_port_counts_for_its_host():
    assert wirecap.request_host(frame(b"GET /page/1 HTTP/1.1\r\n"), FARM_PORT) == "127.0.0.5"
    assert wirecap.request_host(frame(b"HEAD /a.pdf HTTP/1.1\r\n"), FARM_PORT) == "127.0.0.5"


@pytest.mark.parametrize(
    "packet",
    [
        frame(b"GET /page/1 HTTP/1.1\r\n", dport=9999),  # another server
        frame(b"HTTP/1.1 200 OK\r\n"),  # not a request
        frame(b""),  # a bare ACK
        frame(b"GET /__stats HTTP/1.1\r\n"),  # the benchmark asking the farm
        frame(b"HEAD /__reset HTTP/1.1\r\n"),
        b"\x00" * 12 + b"\x86\xdd" + b"\x00" * 60,  # IPv6
        b"\x00" * 10,  # truncated
    ],
)
def test_anything_else_is_not_a_request_start(packet):
    assert wirecap.request_host(packet, FARM_PORT) is None


def test_gaps_are_per_host_between_consecutive_starts():
    summary = wirecap.summarize(
        {"127.0.0.2": [0.100, 0.000, 0.050], "127.0.0.3": [0.010, 0.012]}, dropped=0
    )
    assert summary["requests"] == 5
    assert summary["min_gap_ms"] == pytest.approx(2.0)
    assert summary["gaps_ms"]["<5"] == 1  # 127.0.0.3: 2 ms
    assert summary["gaps_ms"]["<100"] == 2  # 127.0.0.2: 50 ms twice, once sorted


class _Quiet(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_a_live_capture_sees_each_request_leave_with_its_spacing(tmp_path):
    if not wirecap.available():
        service_missing("the wire capture needs a packet socket (Linux, root or CAP_NET_RAW)")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    capture = wirecap.WireCapture(port, tmp_path / "wire.json")
    capture.start()
    try:
        for _ in range(3):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/x", timeout=5).read()
            time.sleep(0.06)
    finally:
        summary = capture.stop()
        server.shutdown()
    assert summary is not None
    assert summary["requests"] == 3
    assert summary["dropped"] == 0
    assert summary["min_gap_ms"] >= 55
