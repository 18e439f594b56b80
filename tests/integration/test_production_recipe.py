"""README's production recipe, run as written: its environment, its deploy steps, its processes.

The commands are read from README's "Running at scale" section, so README is what is tested.
Only what names a machine or a secret is replaced (the database, Redis, the secret key), plus
what a shared test machine needs: a free port, one gunicorn worker and one Celery child, a
private queue, var directory and database.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shlex
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests
from django.db import connection

from tests.conftest import service_missing
from tests.integration.conftest import free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
WORKERS_DOC = ROOT / "docs" / "workers.md"
# The machine's own variables that would change what the settings read.
OURS = (
    "DJANGO_", "DATABASE_", "REDIS_", "CELERY_", "API_", "LINKCHECK_", "MONITOR_", "LOG_LEVEL",
    "SYLLABUS_ADMIN_", "GUNICORN_CMD_ARGS",
)  # fmt: skip
# README's values for these name machines and a secret of a real deployment.
MACHINE_SPECIFIC = ("DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL")
STEP_TIMEOUT = 300
START_TIMEOUT = 60
TASK_TIMEOUT = 90
# The one line a worker writes for a task it ran.
DISPATCHER_RAN = re.compile(
    r"INFO celery\.app\.trace: Task curation\.dispatch_due_checks\[[^]]+\] succeeded in"
)


# --- README, read -------------------------------------------------------------------------------


def section(path: Path, title: str) -> str:
    text = path.read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def shell_blocks(text: str) -> list[list[str]]:
    """The non-empty, non-comment lines of each ```sh block."""
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL)
    return [
        [line for line in block.splitlines() if line.strip() and not line.startswith("#")]
        for block in blocks
    ]


def recipe() -> tuple[dict[str, str], list[list[str]], list[list[str]]]:
    """README's production environment, deploy steps and processes, as argument lists."""
    environment, steps, processes = shell_blocks(section(README, "Running at scale"))
    env = {}
    for line in environment:
        export, assignment = shlex.split(line, comments=True)
        assert export == "export", line
        name, _, value = assignment.partition("=")
        env[name] = value
    return (
        env,
        [shlex.split(line, comments=True) for line in steps],
        [shlex.split(line, comments=True) for line in processes],
    )


def normalized(command: list[str]) -> str:
    return " ".join(command)


# --- Running it ---------------------------------------------------------------------------------


def runnable(command: list[str], options: dict[str, str]) -> list[str]:
    """README's command with this interpreter, and the options this machine needs swapped in."""
    program, *arguments = command
    head = [sys.executable] if program == "python" else [sys.executable, "-m", program]
    for index, argument in enumerate(arguments[:-1]):
        if argument in options:
            arguments[index + 1] = options[argument]
    return head + arguments


class Process:
    def __init__(self, name: str, command: list[str], env: dict[str, str], logs: Path) -> None:
        self.name = name
        self.log = logs / f"{name}.log"
        self.handle = self.log.open("wb")
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=self.handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: stopping it stops its children too
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"{self.name} exited:\n{self.output()[-3000:]}")
        return True

    def stop(self) -> None:
        for signum, grace in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signum)
            try:
                self.process.wait(timeout=grace)
                break
            except subprocess.TimeoutExpired:
                continue
        # Pool children that outlived their parent share its group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.handle.close()


@pytest.fixture
def fresh_database():
    """A PostgreSQL database of its own on the tests' server, dropped afterwards."""
    import psycopg

    cfg = connection.settings_dict
    user = cfg.get("USER") or "postgres"
    password = f":{cfg['PASSWORD']}" if cfg.get("PASSWORD") else ""
    host, port = cfg.get("HOST") or "127.0.0.1", cfg.get("PORT") or 5432
    server = f"postgresql://{user}{password}@{host}:{port}"
    name = f"syllabus_recipe_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(f"{server}/postgres", autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        service_missing(f"PostgreSQL is not reachable at {host}:{port}: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"{server}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fetch(base: str, path: str, host: str, *, https: bool = True, **kwargs) -> requests.Response:
    headers = {"Host": host, **kwargs.pop("headers", {})}
    if https:
        # What the HTTPS-terminating proxy in front would say.
        headers["X-Forwarded-Proto"] = "https"
    method = kwargs.pop("method", "GET")
    return requests.request(
        method, base + path, headers=headers, allow_redirects=False, timeout=30, **kwargs
    )


# --- The tests ----------------------------------------------------------------------------------


def test_workers_doc_gives_the_same_commands_as_readme():
    _, steps, processes = recipe()
    documented = re.findall(
        r"^\|[^|]*\| `((?:python manage\.py|gunicorn|celery) [^`]*)`", section(
            WORKERS_DOC, "The moving parts"
        ), flags=re.MULTILINE
    )  # fmt: skip
    assert sorted(documented) == sorted(normalized(c) for c in steps + processes)


def test_check_deploy_with_readmes_production_environment_reports_nothing(tmp_path):
    env, _, _ = recipe()
    base = {key: value for key, value in os.environ.items() if not key.startswith(OURS)}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={
            **base,
            **env,
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            # `check` reaches neither; the variables only have to be well-formed.
            "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
            "REDIS_URL": "redis://127.0.0.1:6379/15",
            "SYLLABUS_VAR_DIR": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout, result.stdout + result.stderr


@pytest.mark.slow
def test_worker_and_beat_log_one_line_per_task_with_no_level_given(tmp_path):
    # Celery's own default is WARNING, at which a worker says nothing of the tasks it runs.
    base = {key: value for key, value in os.environ.items() if not key.startswith(OURS)}
    environment = {
        **base,
        "SYLLABUS_VAR_DIR": str(tmp_path / "var"),
        "MONITOR_DISPATCH_EVERY_SECONDS": "5",
    }
    for step in (["migrate", "--noinput"], ["ensure_schedules"]):
        done = subprocess.run(
            [sys.executable, "manage.py", *step],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT,
        )
        assert done.returncode == 0, done.stderr
    celery = [sys.executable, "-m", "celery", "-A", "config"]
    running = [
        Process("worker", [*celery, "worker", "--concurrency", "1"], environment, tmp_path),
        Process("beat", [*celery, "beat"], environment, tmp_path),
    ]
    worker, beat = running
    try:
        wait_for(
            lambda: worker.alive() and beat.alive() and DISPATCHER_RAN.search(worker.output()),
            timeout=TASK_TIMEOUT,
            what="the worker to log the dispatcher's run",
        )
        assert "Sending due task Dispatch due link checks" in beat.output()
        assert "received" not in worker.output()
    finally:
        for process in running:
            process.stop()


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.redis
def test_readmes_production_recipe_serves_the_admin_and_the_api_docs_and_runs_tasks(
    tmp_path, fresh_database, redis_url, redis_client
):
    env, steps, processes = recipe()
    assert env["DJANGO_DEBUG"] == "false"
    assert set(MACHINE_SPECIFIC) <= set(env), "README's environment names a machine-specific value"
    host = env["DJANGO_ALLOWED_HOSTS"].split(",")[0]
    queue = f"test-recipe-{uuid.uuid4().hex[:10]}"
    base = {key: value for key, value in os.environ.items() if not key.startswith(OURS)}
    environment = {
        **base,
        **env,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": fresh_database,
        "REDIS_URL": redis_url,
        # A shared test machine: private state, queue and cache keys, a control socket here.
        "SYLLABUS_VAR_DIR": str(tmp_path / "var"),
        "CELERY_QUEUE": queue,
        "CACHE_KEY_PREFIX": queue,
        "GUNICORN_CMD_ARGS": f"--control-socket {tmp_path / 'gunicorn.ctl'}",
        # The dispatcher's schedule (created by ensure_schedules) fires within the test.
        "MONITOR_DISPATCH_EVERY_SECONDS": "5",
    }
    port = free_port()
    options = {"--bind": f"127.0.0.1:{port}", "--workers": "1", "--concurrency": "1"}
    gunicorn, worker_command, beat_command = processes
    assert gunicorn[0] == "gunicorn" and {"--bind", "--workers"} <= set(gunicorn)
    assert worker_command[:4] == ["celery", "-A", "config", "worker"]
    assert beat_command[:4] == ["celery", "-A", "config", "beat"]

    outputs = {}
    for step in steps:
        done = subprocess.run(
            runnable(step, options),
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT,
        )
        assert done.returncode == 0, f"{normalized(step)}:\n{done.stdout}\n{done.stderr}"
        outputs[step[2]] = done.stdout
    password = re.search(r"with password '([^']+)'", outputs["ensure_local_admin"]).group(1)

    running: list[Process] = []
    try:
        for name, command in zip(("web", "worker", "beat"), processes, strict=True):
            running.append(Process(name, runnable(command, options), environment, tmp_path))
        web, worker, beat = running
        site = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            web.alive()
            with contextlib.suppress(requests.ConnectionError):
                return fetch(site, "/admin/login/", host).status_code == 200
            return False

        wait_for(answers, timeout=START_TIMEOUT, what="gunicorn to answer")

        # Plain HTTP is redirected; HTTPS says so for a year (HSTS).
        plain = fetch(site, "/admin/login/", host, https=False)
        assert plain.status_code == 301
        assert plain.headers["Location"] == f"https://{host}/admin/login/"
        login = fetch(site, "/admin/login/", host)
        assert "max-age=31536000" in login.headers["Strict-Transport-Security"]

        # The admin's stylesheet, under its hashed name, served by the web process itself.
        stylesheet = re.search(r'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', login.text)
        assert stylesheet, login.text[:2000]
        css = fetch(site, stylesheet.group(1), host)
        assert css.status_code == 200
        assert css.headers["Content-Type"].startswith("text/css")
        assert "immutable" in css.headers["Cache-Control"]

        # The API docs page and Swagger UI's script, from drf-spectacular-sidecar's files.
        docs = fetch(site, "/api/docs/", host)
        assert docs.status_code == 200
        bundle = re.search(
            r'src="(/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle\.'
            r'[0-9a-f]{12}\.js)"',
            docs.text,
        )
        assert bundle, docs.text[:2000]
        script = fetch(site, bundle.group(1), host)
        assert script.status_code == 200
        assert len(script.content) > 100_000

        # The admin made by the deploy step logs in (secure cookies, CSRF over HTTPS).
        csrf = login.cookies["csrftoken"]
        signed_in = fetch(
            site,
            "/admin/login/?next=/admin/",
            host,
            method="POST",
            data={"username": "admin", "password": password, "csrfmiddlewaretoken": csrf},
            headers={"Cookie": f"csrftoken={csrf}", "Referer": f"https://{host}/admin/login/"},
        )
        assert signed_in.status_code == 302, signed_in.text[:2000]
        session = signed_in.cookies["sessionid"]
        home = fetch(site, "/admin/", host, headers={"Cookie": f"sessionid={session}"})
        assert home.status_code == 200
        assert "Curators" in home.text

        # Beat sends the dispatcher on its schedule; the worker runs it and says so in one line.
        wait_for(
            lambda: beat.alive() and "Sending due task Dispatch due link checks" in beat.output(),
            timeout=TASK_TIMEOUT,
            what="beat to send the dispatcher",
        )
        wait_for(
            lambda: worker.alive() and DISPATCHER_RAN.search(worker.output()),
            timeout=TASK_TIMEOUT,
            what="the worker to log the dispatcher's run",
        )
        assert "received" not in worker.output()
    finally:
        for process in running:
            process.stop()
        redis_client.delete(queue, f"_kombu.binding.{queue}")
        for key in redis_client.scan_iter(f"{queue}:*"):
            redis_client.delete(key)
