"""Small real HTTP servers on 127.0.0.x for the awkward cases pytest-httpserver cannot play.

A ScriptedServer maps paths to handlers; each handler writes raw HTTP so it can misbehave on
purpose (drip, reset, bomb, loops). It also counts requests in flight.
"""

from __future__ import annotations

import gzip
import http.server
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


def drip(interval: float = 0.5, total: int = 60) -> Handler:
    """200 with a body of `total` bytes sent one byte every `interval` seconds."""

    def handler(h: RequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Content-Length", str(total))
        h.end_headers()
        if h.command == "HEAD":
            return
        try:
            for _ in range(total):
                h.wfile.write(b"x")
                h.wfile.flush()
                time.sleep(interval)
        except OSError:
            pass  # The client gave up, which is the point.

    return handler


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


def drip_headers(interval: float = 0.3, count: int = 100) -> Handler:
    """A status line, then one header line every `interval` seconds: a tarpit for clients
    whose timeout is per socket operation."""

    def handler(h: RequestHandler) -> None:
        try:
            h.wfile.write(b"HTTP/1.1 200 OK\r\n")
            for i in range(count):
                h.wfile.write(f"X-Slow-{i}: a\r\n".encode())
                h.wfile.flush()
                time.sleep(interval)
        except OSError:
            pass  # The client hung up, which is the point.
        h.close_connection = True

    return handler


def default_sigint() -> None:
    """preexec_fn for a command that a test interrupts with SIGINT.

    A shell starts background jobs with SIGINT ignored, and an ignored signal stays ignored
    across exec: under `make test &` or nohup the command would rightly never see the Ctrl-C
    the test sends. Give the child the default disposition, as an interactive shell would.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
