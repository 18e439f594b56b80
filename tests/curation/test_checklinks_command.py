"""The checklinks command in --input mode: formats, exit codes, progress only on a TTY.

Every URL points at a loopback server started by the test; the suite's `connections` safety net
(tests/conftest.py) fails any attempt to connect elsewhere.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.checker.conftest import make_server  # noqa: F401 - fixtures
from tests.checker.servers import default_sigint, page, slow

ROOT = Path(__file__).resolve().parents[2]
BODY = b"<title>Course</title><h1>Course</h1>"

pytestmark = pytest.mark.usefixtures("connections")


@pytest.fixture
def site(make_server, settings):  # noqa: F811 - pytest fixture injection
    server = make_server()
    server.routes["/ok"] = page(body=BODY)
    server.routes["/gone"] = page(404)
    server.routes["/private"] = page(403)
    settings.LINKCHECK_ALLOWED_INTERNAL_HOSTS = frozenset({server.host_port})
    settings.LINKCHECK_PER_HOST_INTERVAL = 0
    settings.LINKCHECK_TIMEOUT = 5
    return server


def run(*args, stderr=None):
    out = io.StringIO()
    code = 0
    try:
        call_command("checklinks", *args, stdout=out, stderr=stderr or io.StringIO())
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue()


def links_file(tmp_path, *lines, name="links.txt"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_it_exits_0_and_prints_text_when_every_link_is_healthy(site, tmp_path):
    path = links_file(tmp_path, "# ok ones", site.url("/ok"), site.url("/private"))

    code, output = run("--input", path)

    assert code == 0
    assert site.url("/ok") in output and "blocked" in output
    assert "summary: 2 links at 2 places: ok: 1, blocked: 1" in output


def test_it_exits_1_when_a_link_is_failing_and_writes_json(site, tmp_path):
    path = links_file(tmp_path, site.url("/ok"), site.url("/gone"))

    code, output = run("--input", path, "--format", "json")

    assert code == 1
    outcomes = {item["url"]: item["outcome"] for item in json.loads(output)}
    assert outcomes == {site.url("/ok"): "ok", site.url("/gone"): "not_found"}


def test_it_writes_a_markdown_table(site, tmp_path):
    path = links_file(tmp_path, site.url("/ok"))

    code, output = run("--input", path, "--format", "markdown")

    assert code == 0
    assert output.splitlines()[0] == "| Where | URL | Outcome | Status | Final URL | Rule |"
    assert f"| {path}:1:1 | {site.url('/ok')} | ok | 200 |" in output


def test_a_junk_line_is_reported_as_invalid_with_its_line_number(site, tmp_path):
    path = links_file(tmp_path, site.url("/ok"), "", "see the course page")

    code, output = run("--input", path, "--format", "json")

    junk = next(item for item in json.loads(output) if item["outcome"] == "invalid_url")
    assert junk["url"] == "see the course page"
    assert junk["error"].startswith("line 3:")
    assert code == 0


def test_it_reads_links_from_a_markdown_file(site, tmp_path):
    path = links_file(tmp_path, f"Read [this]({site.url('/gone')}) first.", name="notes.md")

    code, output = run("--input", path, "--format", "json")

    assert code == 1
    assert [item["url"] for item in json.loads(output)] == [site.url("/gone")]


def test_the_timeout_option_bounds_each_check(site, tmp_path):
    import time

    def never(h):
        time.sleep(5)

    site.routes["/slow"] = never
    path = links_file(tmp_path, site.url("/slow"))

    code, output = run("--input", path, "--format", "json", "--timeout", "1")

    assert code == 1
    assert json.loads(output)[0]["outcome"] == "timeout"


def test_the_concurrency_options_are_accepted(site, tmp_path):
    path = links_file(tmp_path, site.url("/ok"))

    code, _ = run(
        "--input", path, "--concurrency", "3", "--per-host-concurrency", "1",
        "--per-host-interval", "0",
    )  # fmt: skip

    assert code == 0


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def test_progress_goes_to_stderr_only_when_it_is_a_tty(site, tmp_path):
    path = links_file(tmp_path, site.url("/ok"), site.url("/gone"))
    quiet, tty = io.StringIO(), FakeTTY()

    run("--input", path, stderr=quiet)
    run("--input", path, stderr=tty)

    assert quiet.getvalue() == ""
    assert "checked 2, failing 1" in tty.getvalue()


def test_an_unreadable_input_file_is_a_usage_error(tmp_path):
    with pytest.raises(CommandError) as caught:
        call_command("checklinks", "--input", str(tmp_path / "missing.txt"), stdout=io.StringIO())

    assert caught.value.returncode == 2


def test_input_and_catalogue_filters_together_are_a_usage_error(tmp_path):
    path = links_file(tmp_path, "http://127.0.0.1/")

    with pytest.raises(CommandError) as caught:
        call_command("checklinks", "--input", path, "--topic", "maths", stdout=io.StringIO())

    assert caught.value.returncode == 2


@pytest.mark.parametrize(
    "args",
    [["--input", "missing.txt"], ["--input", "x.txt", "--concurrency", "0"], ["--format", "xml"]],
)
def test_usage_errors_exit_2_from_the_command_line(args, tmp_path):
    completed = subprocess.run(
        [sys.executable, "manage.py", "checklinks", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert completed.returncode == 2, completed.stderr


def start_json_report(server, path: str) -> subprocess.Popen:
    """`checklinks --input PATH --format json` as a process of its own, to be interrupted."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "LINKCHECK_ALLOWED_INTERNAL_HOSTS": server.host_port,
        "LINKCHECK_PER_HOST_INTERVAL": "0",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "checklinks", "--input", path, "--format", "json"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=default_sigint,
    )  # fmt: skip


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_json_report_is_still_a_valid_array(make_server, tmp_path, signum, code):  # noqa: F811
    server = make_server()
    server.routes["/ok"] = page(body=BODY)
    server.routes["/slow"] = slow(30, page(body=BODY))
    path = links_file(tmp_path, server.url("/ok"), server.url("/slow"))
    process = start_json_report(server, path)
    written = ""
    while not written.endswith("}"):  # the first result, for /ok
        written += process.stdout.read(1)

    process.send_signal(signum)
    rest, _ = process.communicate(timeout=60)

    assert process.returncode == code
    assert [item["url"] for item in json.loads(written + rest)] == [server.url("/ok")]


def test_the_report_lists_the_links_in_the_order_of_the_file_however_they_complete(site, tmp_path):
    site.routes["/slow"] = slow(0.5, page(body=BODY))
    path = links_file(tmp_path, site.url("/slow"), site.url("/ok"), "not a link", site.url("/gone"))

    code, output = run("--input", path, "--format", "json")

    items = json.loads(output)
    assert [item["url"] for item in items] == [
        site.url("/slow"), site.url("/ok"), "not a link", site.url("/gone"),
    ]  # fmt: skip
    assert [item["outcome"] for item in items] == ["ok", "ok", "invalid_url", "not_found"]
    assert code == 1


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_report_keeps_a_result_still_waiting_for_its_turn(
    make_server,  # noqa: F811 - pytest fixture injection
    tmp_path,
    signum,
    code,
):
    # /ok is checked at once but listed after /slow, which never answers in time: interrupted,
    # the report still holds it.
    server = make_server()
    server.routes["/ok"] = page(body=BODY)
    server.routes["/slow"] = slow(30, page(body=BODY))
    path = links_file(tmp_path, server.url("/slow"), server.url("/ok"))
    process = start_json_report(server, path)
    deadline = time.monotonic() + 30
    while not server.methods("/ok") and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # The answer read and the result held back.

    process.send_signal(signum)
    output, _ = process.communicate(timeout=60)

    assert process.returncode == code
    assert [item["url"] for item in json.loads(output)] == [server.url("/ok")]


# Catalogue mode: resources from the database, each result recorded through the service.


@pytest.mark.django_db
def test_without_input_it_checks_the_catalogue_and_records_each_result(site):
    from curation.models import LinkCheck
    from tests.factories import ResourceFactory

    healthy = ResourceFactory(url=site.url("/ok"))
    gone = ResourceFactory(url=site.url("/gone"))

    code, output = run("--all", "--format", "json")

    assert code == 1
    assert {item["url"] for item in json.loads(output)} == {site.url("/ok"), site.url("/gone")}
    checks = {c.resource_id: c for c in LinkCheck.objects.all()}
    assert checks[healthy.id].outcome == "ok" and checks[healthy.id].source == "command"
    assert checks[gone.id].outcome == "not_found" and checks[gone.id].status_code == 404


@pytest.mark.django_db
def test_an_unknown_topic_slug_is_a_usage_error():
    with pytest.raises(CommandError) as caught:
        call_command("checklinks", "--topic", "no-such-topic", stdout=io.StringIO())

    assert caught.value.returncode == 2


@pytest.mark.redis
@pytest.mark.django_db
def test_the_catalogue_mode_shares_the_workers_politeness_through_redis(
    site, settings, redis_url, redis_client
):
    from curation.models import LinkCheck
    from tests.factories import ResourceFactory

    settings.CELERY_BROKER_IS_REDIS = True
    settings.REDIS_URL = redis_url
    settings.LINKCHECK_PER_HOST_INTERVAL = 60
    resource = ResourceFactory(url=site.url("/ok"), status="published")
    pattern = f"syllabus:linkcheck:*{site.host_port.split(':')[-1]}*"
    redis_client.delete(*redis_client.keys(pattern) or ["-"])
    code, _ = run("--all", "--format", "json")
    assert code == 0
    assert LinkCheck.objects.get(resource=resource).source == "command"
    # The next start to this host is held in Redis, where every worker reads it: a worker
    # checking the same host now waits the interval instead of doubling the rate.
    next_keys = [k for k in redis_client.keys(pattern) if k.endswith(b":next")]
    assert next_keys and all(redis_client.pttl(k) > 0 for k in next_keys)
    redis_client.delete(*redis_client.keys(pattern))


@pytest.mark.django_db
def test_without_a_selection_it_records_nothing_and_says_what_to_choose(site):
    from curation.models import LinkCheck
    from tests.factories import ResourceFactory

    ResourceFactory(url=site.url("/ok"))
    with pytest.raises(CommandError, match="say what to check") as caught:
        call_command("checklinks", stdout=io.StringIO())
    assert caught.value.returncode == 2
    assert LinkCheck.objects.count() == 0


@pytest.mark.django_db
def test_a_catalogue_run_without_network_changes_no_health_state(settings):
    from curation.models import CheckerIncident, HealthState, LinkCheck, Resource
    from tests.factories import ResourceFactory

    # Nothing listens on port 9 of these loopback addresses: every connect is refused, which is
    # what a shell without network sees for every host.
    hosts = [f"127.0.0.{i}:9" for i in range(11, 17)]
    settings.LINKCHECK_ALLOWED_INTERNAL_HOSTS = frozenset(hosts)
    settings.LINKCHECK_PER_HOST_INTERVAL = 0
    settings.LINKCHECK_TIMEOUT = 2
    for host in hosts:
        ResourceFactory(url=f"http://{host}/page", health=HealthState.HEALTHY)
    code, _ = run("--all", "--format", "json")
    assert code == 1  # the report still says what the command saw
    assert set(Resource.objects.values_list("health", flat=True)) == {HealthState.HEALTHY}
    assert not LinkCheck.objects.filter(counted=True).exists()
    assert LinkCheck.objects.filter(counted=False, source="command").count() == 6
    assert CheckerIncident.objects.get().ended_at is None
