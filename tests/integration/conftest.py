"""Real processes: Celery workers on a real Redis, a real database, real loopback servers."""

from __future__ import annotations

import contextlib
import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from celery import Celery
from django.db import connection

from tests.conftest import service_missing, subprocess_pythonpath

ROOT = Path(__file__).resolve().parents[2]
VISIBILITY_TIMEOUT = 10
STARTUP_TIMEOUT = 60


def wait_for(predicate: Callable[[], object], *, timeout: float, what: str) -> object:
    """Poll until `predicate()` is truthy; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


# --- A loopback site whose pages can be slow, or do something nasty on request -----------------


class Site:
    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.hooks: dict[str, Callable[[int], None]] = {}
        # The addresses handed out by url(): an honest site answers 404 anywhere else (the
        # checker's soft-404 probe asks for a random address beside a page).
        self.pages: set[str] = set()
        self.requested = threading.Event()
        handler = self._handler()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def host_port(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        self.pages.add(path.split("?")[0])
        return f"http://{self.host_port}{path}"

    def _handler(self):
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _serve(self, body: bool) -> None:
                path = self.path.split("?")[0]
                with site.lock:
                    site.hits[path] += 1
                    hit = site.hits[path]
                site.requested.set()
                hook = site.hooks.get(path)
                if hook is not None:
                    hook(hit)
                known = path in site.pages
                payload = (
                    b"<html><head><title>A page</title></head><body>ok</body></html>"
                    if known
                    else b"not found"
                )
                self.send_response(200 if known else 404)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if body:
                    self.wfile.write(payload)

            def do_HEAD(self) -> None:
                self._serve(False)

            def do_GET(self) -> None:
                self._serve(True)

        return Handler

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site():
    server = Site()
    yield server
    server.close()


# --- Workers -----------------------------------------------------------------------------------


def database_url() -> str:
    cfg = connection.settings_dict
    if connection.vendor == "postgresql":
        user = cfg.get("USER") or "postgres"
        password = f":{cfg['PASSWORD']}" if cfg.get("PASSWORD") else ""
        host = cfg.get("HOST") or "127.0.0.1"
        port = cfg.get("PORT") or 5432
        return f"postgres://{user}{password}@{host}:{port}/{cfg['NAME']}"
    return f"sqlite:///{cfg['NAME']}"


class Worker:
    def __init__(self, name: str, env: dict[str, str], log: Path) -> None:
        self.name = name
        self.log = log
        self.handle = log.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "tests.integration.celery_app",
                "worker",
                "--queues",
                env["CELERY_QUEUE"],
                "--concurrency",
                "1",
                "--pool",
                "prefork",
                "--hostname",
                f"{name}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel",
                "INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill -9 takes the pool too
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self) -> None:
        def ready() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"worker {self.name} exited:\n{self.output()[-3000:]}")
            return " ready." in self.output()

        wait_for(ready, timeout=STARTUP_TIMEOUT, what=f"worker {self.name} to be ready")

    def children(self) -> list[int]:
        out = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True, check=False
        ).stdout
        return [int(pid) for pid in out.split()]

    def kill9(self) -> None:
        """SIGKILL the whole worker (main process and pool), as a crashed machine would."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                self.kill9()
        self.handle.close()


class Cluster:
    """Workers and a producer sharing one broker, one queue and the test database."""

    def __init__(self, broker_url: str, tmp_path: Path) -> None:
        self.broker_url = broker_url
        self.tmp_path = tmp_path
        self.queue = f"test-monitoring-{uuid.uuid4().hex[:10]}"
        self.workers: list[Worker] = []
        self.allowed: set[str] = set()
        self.extra_env: dict[str, str] = {}
        self.producer = Celery("test-producer", broker=broker_url, set_as_current=False)
        self.producer.conf.broker_connection_retry_on_startup = True

    def env(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("MONITOR_", "LINKCHECK_", "CELERY_"))
        }
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            DATABASE_URL=database_url(),
            REDIS_URL=self.broker_url,
            CELERY_QUEUE=self.queue,
            TEST_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT),
            SYLLABUS_VAR_DIR=str(self.tmp_path / "var"),
            LINKCHECK_ALLOWED_INTERNAL_HOSTS=",".join(sorted(self.allowed)),
            LINKCHECK_PER_HOST_INTERVAL="0",
            LINKCHECK_TIMEOUT="20",
            CELERY_TASK_TIME_LIMIT="10",
            PYTHONPATH=subprocess_pythonpath(ROOT),
        )
        env.update(self.extra_env)
        return env

    def start_worker(self, name: str | None = None) -> Worker:
        name = name or f"w{len(self.workers) + 1}-{uuid.uuid4().hex[:6]}"
        worker = Worker(name, self.env(), self.tmp_path / f"{name}.log")
        self.workers.append(worker)
        worker.wait_ready()
        return worker

    def send(self, task: str, **kwargs) -> None:
        self.producer.send_task(task, kwargs=kwargs, queue=self.queue)

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.producer.close()


@pytest.fixture
def cluster(redis_url, tmp_path, transactional_db):
    running = Cluster(redis_url, tmp_path)
    yield running
    running.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A private redis-server on a loopback port: restartable without touching the shared one."""

    def __init__(self, tmp_path: Path) -> None:
        self.port = free_port()
        self.dir = tmp_path
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redis

        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--dir",
                str(self.dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)

        def up() -> bool:
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

        wait_for(up, timeout=20, what="the private redis-server")
        client.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)


@pytest.fixture
def private_redis(tmp_path):
    from shutil import which

    if which("redis-server") is None:
        service_missing("redis-server is not installed (needed to restart a Redis)")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()
