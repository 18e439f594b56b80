"""A local web archive on 127.0.0.1 that speaks the Memento TimeGate and TimeMap (RFC 7089),
the Wayback availability API, its mementos and /save/, with scripted failures (429 with
Retry-After, 503, empty answers, slow answers) and a log of what it was asked, and when.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

KINDS = ("timegate", "timemap", "availability", "memento", "save")


@dataclass
class Reply:
    """A scripted answer: given instead of the archive's own, `times` times."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0
    times: int = 1


@dataclass
class Asked:
    kind: str
    path: str
    headers: dict[str, str]
    at: float  # time.monotonic() when the request arrived


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S")


class ArchiveServer:
    def __init__(self) -> None:
        self.holdings: dict[str, list[datetime]] = defaultdict(list)
        self.scripts: dict[str, list[Reply]] = defaultdict(list)
        self.asked: list[Asked] = []
        self.lock = threading.Lock()
        archive = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                archive.handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    # --- set-up ---

    @property
    def host_port(self) -> str:
        return f"127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def base(self) -> str:
        return f"http://{self.host_port}"

    def archives_setting(self, name: str = "Local Archive", **only: str) -> list[dict[str, str]]:
        entry = {
            "name": name,
            "timegate": f"{self.base}/web/",
            "timemap": f"{self.base}/web/timemap/link/",
            "availability": f"{self.base}/wayback/available",
            "web": f"{self.base}/web/",
            "save": f"{self.base}/save/",
        }
        if only:
            entry = {"name": name, **only}
        return [entry]

    def hold(self, url: str, *moments: datetime) -> None:
        self.holdings[url].extend(moments)
        self.holdings[url].sort()

    def script(self, kind: str, reply: Reply) -> None:
        assert kind in KINDS
        with self.lock:
            self.scripts[kind].append(reply)

    def memento_url(self, url: str, moment: datetime) -> str:
        return f"{self.base}/web/{stamp(moment)}/{url}"

    def asked_for(self, kind: str) -> list[Asked]:
        with self.lock:
            return [a for a in self.asked if a.kind == kind]

    def start(self) -> ArchiveServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # --- answers ---

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        path = request.path
        kind, target = self._route(path)
        with self.lock:
            self.asked.append(Asked(kind, path, dict(request.headers), time.monotonic()))
            scripted = self.scripts.get(kind) or []
            reply = scripted[0] if scripted else None
            if reply is not None:
                reply.times -= 1
                if reply.times <= 0:
                    scripted.pop(0)
        if reply is None:
            reply = self._answer(kind, target, request)
        if reply.delay:
            time.sleep(reply.delay)
        try:
            request.send_response(reply.status)
            for name, value in reply.headers.items():
                request.send_header(name, value)
            request.send_header("Content-Length", str(len(reply.body)))
            request.end_headers()
            request.wfile.write(reply.body)
        except OSError:
            pass  # The client gave up (a slow answer past its deadline).

    def _route(self, path: str) -> tuple[str, str]:
        if path.startswith("/web/timemap/link/"):
            return "timemap", path.removeprefix("/web/timemap/link/")
        if path.startswith("/wayback/available"):
            return "availability", path
        if path.startswith("/save/"):
            return "save", path.removeprefix("/save/")
        rest = path.removeprefix("/web/")
        head, _, tail = rest.partition("/")
        if head.isdigit() and len(head) == 14:
            return "memento", tail
        return "timegate", rest

    def _closest(self, url: str, moment: datetime | None) -> datetime | None:
        held = self.holdings.get(url) or []
        if not held:
            return None
        if moment is None:
            return held[-1]
        before = [m for m in held if m <= moment]
        return before[-1] if before else held[0]

    def _answer(self, kind: str, target: str, request) -> Reply:
        if kind == "timegate":
            wanted = request.headers.get("Accept-Datetime")
            moment = parsedate_to_datetime(wanted) if wanted else None
            found = self._closest(target, moment)
            if found is None:
                return Reply(status=404, body=b"not archived")
            location = self.memento_url(target, found)
            link = (
                f'<{target}>; rel="original", <{self.base}/web/timemap/link/{target}>; '
                f'rel="timemap"; type="application/link-format", '
                f'<{location}>; rel="memento"; datetime="{format_datetime(found, usegmt=True)}"'
            )
            return Reply(
                status=302, headers={"Location": location, "Link": link, "Vary": "accept-datetime"}
            )
        if kind == "timemap":
            held = self.holdings.get(target) or []
            if not held:
                return Reply(status=404)
            lines = [f'<{target}>; rel="original"']
            for moment in held:
                lines.append(
                    f'<{self.memento_url(target, moment)}>; rel="memento"; '
                    f'datetime="{format_datetime(moment, usegmt=True)}"'
                )
            body = (",\n".join(lines) + "\n").encode()
            return Reply(headers={"Content-Type": "application/link-format"}, body=body)
        if kind == "availability":
            query = parse_qs(urlsplit(request.path).query)
            url = query.get("url", [""])[0]
            ts = query.get("timestamp", [""])[0]
            moment = datetime.strptime(ts, "%Y%m%d%H%M%S").replace(tzinfo=UTC) if ts else None
            found = self._closest(url, moment)
            snapshots = {}
            if found is not None:
                snapshots = {
                    "closest": {
                        "status": "200",
                        "available": True,
                        "url": self.memento_url(url, found),
                        "timestamp": stamp(found),
                    }
                }
            body = json.dumps({"url": url, "archived_snapshots": snapshots}).encode()
            return Reply(headers={"Content-Type": "application/json"}, body=body)
        if kind == "memento":
            return Reply(headers={"Content-Type": "text/html"}, body=b"<title>archived</title>")
        return Reply(status=200, body=b"capture started")
