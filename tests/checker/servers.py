"""Small real HTTP servers on 127.0.0.x for the awkward cases pytest-httpserver cannot play.

A ScriptedServer maps paths to handlers; each handler writes raw HTTP so it can misbehave on
purpose (drip, reset, bomb, loops). It also counts requests in flight.
"""

from __future__ import annotations

import gzip
import http.server
import itertools
import select
import signal
import socket
import socketserver
import ssl
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

Handler = Callable[["RequestHandler"], None]


class RequestHandler(http.server.BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _dispatch(self) -> None:
        script = self.server.script
        path = self.path.split("?")[0]
        with script.lock:
            script.requests.append((self.command, self.path))
            script.in_flight += 1
            script.max_in_flight = max(script.max_in_flight, script.in_flight)
        try:
            handler = script.routes.get(path) or script.routes.get("*")
            if handler is None:
                self.reply(404, b"<title>nope</title>")
            else:
                handler(self)
        finally:
            with script.lock:
                script.in_flight -= 1

    do_GET = do_HEAD = do_POST = _dispatch

    def reply(
        self,
        status: int,
        body: bytes = b"",
        *,
        headers: dict[str, str] | None = None,
        content_type: str = "text/html; charset=utf-8",
    ) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def reset(self) -> None:
        """Slam the connection shut with a TCP RST (SO_LINGER 0)."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    script: ScriptedServer

    def handle_error(self, request: object, client_address: object) -> None:
        # Clients hanging up mid-body (caps, deadlines, resets) are the expected case here.
        pass


@dataclass
class ScriptedServer:
    host: str = "127.0.0.1"
    routes: dict[str, Handler] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    tls_context: ssl.SSLContext | None = None

    def start(self) -> ScriptedServer:
        self._server = _Server((self.host, 0), RequestHandler)
        self._server.script = self
        if self.tls_context is not None:
            self._server.socket = self.tls_context.wrap_socket(
                self._server.socket, server_side=True
            )
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def host_port(self) -> str:
        return f"{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        scheme = "https" if self.tls_context else "http"
        return f"{scheme}://{self.host}:{self.port}{path}"

    def route(self, path: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.routes[path] = handler
            return handler

        return register

    def methods(self, path: str) -> list[str]:
        return [method for method, p in self.requests if p.split("?")[0] == path]


# Ready-made handlers --------------------------------------------------------------------------


def page(status: int = 200, body: bytes = b"<title>Fine</title><h1>Fine</h1>", **kw) -> Handler:
    return lambda h: h.reply(status, body, **kw)


def redirect(location: str, status: int = 301) -> Handler:
    return lambda h: h.reply(status, b"moved", headers={"Location": location})


def client_hung_up(connection: socket.socket, wait: float) -> bool:
    """Wait up to `wait` seconds for the client to close its end; True if it did."""
    if isinstance(connection, ssl.SSLSocket):
        time.sleep(wait)  # No peeking under TLS: the next write tells.
        return False
    try:
        readable, _, _ = select.select([connection], [], [], wait)
        return bool(readable) and connection.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True  # reset, or shut down under us: gone either way


class Drip:
    """200 with a body of `total` bytes sent one byte every `interval` seconds.

    The server's view of each request is kept: how many body bytes went out before the client
    hung up (`hung_up_after`, one entry per request it gave up on, set the moment the server
    sees the connection close) and how many requests got the whole body (`finished`).
    """

    def __init__(self, interval: float = 0.5, total: int = 60) -> None:
        self.interval = interval
        self.total = total
        self.hung_up_after: list[int] = []
        self.hung_up = threading.Event()
        self.finished = 0

    def __call__(self, h: RequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Content-Length", str(self.total))
        h.end_headers()
        if h.command == "HEAD":
            return
        for sent in range(self.total):
            try:
                h.wfile.write(b"x")
                h.wfile.flush()
            except OSError:
                self._gave_up(h, sent)
                return
            if client_hung_up(h.connection, self.interval):
                self._gave_up(h, sent + 1)
                return
        self.finished += 1

    def _gave_up(self, h: RequestHandler, sent: int) -> None:
        # The client gave up, which is the point.
        h.close_connection = True
        self.hung_up_after.append(sent)
        self.hung_up.set()


def drip(interval: float = 0.5, total: int = 60) -> Drip:
    return Drip(interval, total)


def gzip_bomb(size: int = 50 * 1024 * 1024) -> Handler:
    """`size` bytes of zeros, gzip-compressed (about size/1000 on the wire)."""
    compressed = gzip.compress(bytes(size), compresslevel=9)

    def handler(h: RequestHandler) -> None:
        h.reply(200, compressed, headers={"Content-Encoding": "gzip"})

    return handler


def reset_on_head(then: Handler) -> Handler:
    def handler(h: RequestHandler) -> None:
        if h.command == "HEAD":
            h.reset()
        else:
            then(h)

    return handler


def on_head(head: Handler, get: Handler) -> Handler:
    return lambda h: head(h) if h.command == "HEAD" else get(h)


def sequence(*handlers: Handler) -> Handler:
    """Each request gets the next handler; the last one repeats."""
    calls = {"n": 0}
    lock = threading.Lock()

    def handler(h: RequestHandler) -> None:
        with lock:
            index = min(calls["n"], len(handlers) - 1)
            calls["n"] += 1
        handlers[index](h)

    return handler


def slow(seconds: float, then: Handler) -> Handler:
    def handler(h: RequestHandler) -> None:
        time.sleep(seconds)
        then(h)

    return handler


class CountingListener:
    """A TCP listener that only counts connections: stands in for a proxy that must stay idle."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            conn.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


class DripHeaders:
    """A status line, then one header line every `interval` seconds: a tarpit for clients
    whose timeout is per socket operation. Notes, as Drip does, how many header lines went out
    before the client hung up."""

    def __init__(self, interval: float = 0.3, count: int = 100) -> None:
        self.interval = interval
        self.count = count
        self.hung_up_after: list[int] = []
        self.hung_up = threading.Event()
        self.finished = 0

    def __call__(self, h: RequestHandler) -> None:
        h.close_connection = True
        try:
            h.wfile.write(b"HTTP/1.1 200 OK\r\n")
        except OSError:
            self._gave_up(0)
            return
        for sent in range(self.count):
            try:
                h.wfile.write(f"X-Slow-{sent}: a\r\n".encode())
                h.wfile.flush()
            except OSError:
                self._gave_up(sent)
                return
            if client_hung_up(h.connection, self.interval):
                self._gave_up(sent + 1)
                return
        self.finished += 1

    def _gave_up(self, sent: int) -> None:
        # The client hung up, which is the point.
        self.hung_up_after.append(sent)
        self.hung_up.set()


def drip_headers(interval: float = 0.3, count: int = 100) -> DripHeaders:
    return DripHeaders(interval, count)


def default_sigint() -> None:
    """preexec_fn for a command that a test interrupts with SIGINT.

    A shell starts background jobs with SIGINT ignored, and an ignored signal stays ignored
    across exec: under `make test &` or nohup the command would rightly never see the Ctrl-C
    the test sends. Give the child the default disposition, as an interactive shell would.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


# Request starts as the server saw them ----------------------------------------------------------

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux's value; Python does not name it
_STAMP = struct.Struct("@qq")


class ArrivalServer:
    """A keep-alive HTTP server that notes when each request head arrived and each connection
    was accepted: the server's view of request starts, for tests of spacing.

    Arrivals carry the kernel's receive timestamp of the packet that completed the head
    (SO_TIMESTAMPNS, wall clock), not the moment a server thread got round to reading it: two
    requests sent 50 ms apart read 50 ms apart however busy the machine is. Where the kernel
    gives no timestamp the read time stands in, and `precision` says how far to trust a gap.
    Every request gets an empty 200.
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.sock = socket.create_server((host, 0))
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            self.precision = 0.0002
        except OSError:
            self.precision = 0.005  # A server thread waking late reads a shorter gap than sent.
        self.host = host
        self.port = self.sock.getsockname()[1]
        self.arrivals: list[tuple[float, str]] = []
        self.accepted: list[float] = []
        self.changed = threading.Condition()
        self.sent = 0  # request heads written through send()
        self._clients: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def host_port(self) -> str:
        return f"{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return f"http://{self.host_port}{path}"

    # The client side, for tests that play the connection themselves.

    def connect(self) -> socket.socket:
        """A client connection, connected now (as a pooled connection is before its request)."""
        client = socket.create_connection((self.host, self.port), timeout=10)
        self._clients.append(client)
        return client

    def send(self, client: socket.socket, path: str) -> None:
        """Write one request head on `client` (its answer is left unread)."""
        client.sendall(f"GET {path} HTTP/1.1\r\nHost: {self.host_port}\r\n\r\n".encode())
        with self.changed:
            self.sent += 1

    # What the server saw (once every head written through send() has been read).

    def _stamps(self) -> list[tuple[float, str]]:
        with self.changed:
            self.changed.wait_for(lambda: len(self.arrivals) >= self.sent, 10)
            return sorted(self.arrivals)

    def paths(self) -> list[str]:
        """Request paths in the order they arrived."""
        return [path for _, path in self._stamps()]

    def when(self, path: str) -> float:
        return next(stamp for stamp, p in self._stamps() if p == path)

    def gap(self, first: str, then: str) -> float:
        """Seconds from the arrival of `first` to that of `then`."""
        return self.when(then) - self.when(first)

    def gaps(self) -> list[float]:
        """Seconds between consecutive arrivals."""
        stamps = [stamp for stamp, _ in self._stamps()]
        return [b - a for a, b in itertools.pairwise(stamps)]

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        """Wait until `count` requests have arrived (False if they did not within `timeout`)."""
        with self.changed:
            return self.changed.wait_for(lambda: len(self.arrivals) >= count, timeout)

    def stop(self) -> None:
        for client in self._clients:
            client.close()
        self.sock.close()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.changed:
                self.accepted.append(time.time())
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while True:
                try:
                    chunk, ancillary, _, _ = conn.recvmsg(65536, socket.CMSG_SPACE(_STAMP.size))
                except OSError:
                    return
                if not chunk:
                    return
                stamp = time.time()
                for level, kind, payload in ancillary:
                    if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                        seconds, nanoseconds = _STAMP.unpack(payload[: _STAMP.size])
                        stamp = seconds + nanoseconds / 1e9
                data += chunk
                while b"\r\n\r\n" in data:
                    head, data = data.split(b"\r\n\r\n", 1)
                    path = head.split(b" ", 2)[1].decode("latin-1")
                    with self.changed:
                        self.arrivals.append((stamp, path))
                        self.changed.notify_all()
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
