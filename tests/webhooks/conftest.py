"""A local webhook receiver on 127.0.0.1 that verifies every delivery with `standardwebhooks`.

The receiver keeps what a careful production receiver keeps: every request as it arrived,
whether its signature verified, and the message ids it has processed (the idempotency key), so
a retried event is recorded once.
"""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from curation.models import DeliveryStatus, WebhookDelivery
from curation.webhooks import delivery as webhook_delivery
from curation.webhooks import services
from tests.integration.conftest import Cluster


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: dict | None  # the parsed payload when the signature verified


@dataclass
class Answer:
    status: int = 204
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (a slow receiver)
    hang: threading.Event | None = None  # hold the answer until this is set


class Receiver:
    """Answers each request with the next scripted Answer (then 204), verifying signatures."""

    def __init__(self) -> None:
        self.secret = ""
        self.script: list[Answer] = []
        self.requests: list[Received] = []
        self.processed: dict[str, dict] = {}  # message id -> payload, recorded once
        self.got_request = threading.Event()
        self.lock = threading.Lock()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def host_port(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, path: str = "/hooks") -> str:
        return f"http://{self.host_port}{path}"

    def answer(self, *answers: Answer) -> None:
        self.script.extend(answers)

    def events(self) -> list[dict]:
        """The verified events recorded, each message once, in arrival order."""
        return list(self.processed.values())

    def _handler(self):
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    verified = Webhook(receiver.secret).verify(body, headers)
                except WebhookVerificationError:
                    verified = None
                with receiver.lock:
                    receiver.requests.append(Received(self.path, headers, body, verified))
                    answer = receiver.script.pop(0) if receiver.script else Answer()
                receiver.got_request.set()
                if answer.hang is not None:
                    answer.hang.wait(60)
                if answer.delay:
                    time.sleep(answer.delay)
                ok = 200 <= answer.status < 300
                if ok and verified is not None:
                    # Idempotency: a message id already processed is acknowledged, not redone.
                    receiver.processed.setdefault(headers["webhook-id"], verified)
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

        return Handler

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def hook_settings(settings, receiver):
    """Deliveries may reach the receiver (an allowed internal host), fast and without waits."""
    settings.WEBHOOK_ALLOWED_HOSTS = frozenset({receiver.host_port})
    settings.LINKCHECK_PER_HOST_INTERVAL = 0.0
    settings.WEBHOOK_TIMEOUT = 5.0
    settings.WEBHOOK_RETRY_DELAYS = [0, 0, 0]
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 5
    return settings


@pytest.fixture
def make_endpoint(receiver, hook_settings) -> Callable:
    def make(events=("resource.health_changed",), path: str = "/hooks", **kwargs):
        endpoint = services.create_endpoint(url=receiver.url(path), events=events, **kwargs)
        receiver.secret = endpoint.secret
        return endpoint

    return make


def deliver_all(limit: int = 50) -> int:
    """What the delivery task and the sweep do, in this process: attempt every pending
    delivery that is due until none is left to attempt. Returns the attempts made."""
    made = 0
    for _ in range(limit):
        due = WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).order_by(
            "created_at", "pk"
        )
        attempted = [
            webhook_delivery.deliver(pk).attempted for pk in due.values_list("pk", flat=True)
        ]
        made += sum(attempted)
        if not any(attempted):
            return made
    return made


@pytest.fixture
def cluster(redis_url, tmp_path, transactional_db):
    """Real Celery workers on Redis sharing the test database (tests/integration's Cluster)."""
    running = Cluster(redis_url, tmp_path)
    yield running
    running.close()
