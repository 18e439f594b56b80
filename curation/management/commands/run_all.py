from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

STOP_GRACE_SECONDS = 10


class Command(BaseCommand):
    help = (
        "Run the web server, a Celery worker and the beat scheduler together (what `make run` "
        "starts). Ctrl-C stops all three; if one dies, the others are stopped too."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000", help="address for the web server")

    def handle(self, *args, addr: str, **options) -> None:
        python = sys.executable
        queue = settings.CELERY_TASK_DEFAULT_QUEUE
        # Worker and beat log at LOG_LEVEL, like every process (config/celery.py).
        commands = {
            "web": [python, "manage.py", "runserver", addr, "--noreload"],
            "worker": [
                python, "-m", "celery", "-A", "config", "worker",
                "--queues", queue, "--without-mingle", "--without-gossip",
            ],
            "beat": [
                python, "-m", "celery", "-A", "config", "beat",
                "--schedule", str(settings.VAR_DIR / "celerybeat-schedule"),
            ],
        }  # fmt: skip
        children: dict[str, subprocess.Popen] = {}
        stopping = False

        def stop(signum, frame) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGHUP, stop)
        parent = os.getppid()
        try:
            for name, command in commands.items():
                # Each child leads its own process group so that stopping it also stops
                # whatever it started (pool processes), and nothing is left behind.
                children[name] = subprocess.Popen(command, start_new_session=True)
                self.stdout.write(f"started {name} (pid {children[name].pid})")
            self.stdout.write(
                self.style.SUCCESS(
                    f"Syllabus is running: http://{addr}/ (learners), "
                    f"http://{addr}/admin/ (curators)"
                )
            )
            while not stopping:
                if os.getppid() != parent:
                    # `make` (or the shell) is gone without passing on a signal: so are we.
                    self.stderr.write("parent process exited: stopping")
                    break
                for name, child in children.items():
                    if child.poll() is not None:
                        self.stderr.write(f"{name} exited with code {child.returncode}: stopping")
                        stopping = True
                time.sleep(0.5)
        finally:
            self._stop_all(children)

    def _stop_all(self, children: dict[str, subprocess.Popen]) -> None:
        for child in children.values():
            if child.poll() is None:
                _signal_group(child, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for child in children.values():
            try:
                child.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                _signal_group(child, signal.SIGKILL)
                child.wait()
        # Pool processes of a worker that was killed may outlive it; end the group.
        for child in children.values():
            _signal_group(child, signal.SIGKILL)
        self.stdout.write("stopped web, worker and beat")


def _signal_group(child: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signum)
