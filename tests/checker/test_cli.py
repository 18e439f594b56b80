"""`manage.py checklinks --input`: the Django-free path, and the environment it reads.

Every URL points at a loopback server started by the test.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from curation.checker.cli import main
from curation.checker.config import DEFAULT_CONTACT_URL, read_environment
from tests.checker.servers import page

ROOT = Path(__file__).resolve().parents[2]
BODY = b"<title>Course</title><h1>Course</h1>"


def command_line(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LINKCHECK_")}
    environment.update(env)
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "manage.py", "checklinks", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def links(server, tmp_path):
    server.routes["/ok"] = page(body=BODY)
    server.routes["/gone"] = page(404)
    path = tmp_path / "links.txt"
    path.write_text(f"{server.url('/ok')}\n{server.url('/gone')}\n")
    return path


def test_checking_a_file_never_loads_django(server, links):
    completed = command_line(
        "--input", str(links), "--format", "json",
        LINKCHECK_ALLOWED_INTERNAL_HOSTS=server.host_port, PYTHONPROFILEIMPORTTIME="1",
    )  # fmt: skip

    imported = [line.rsplit("|", 1)[-1].strip() for line in completed.stderr.splitlines()]
    assert completed.returncode == 1  # /gone is failing
    assert {item["outcome"] for item in json.loads(completed.stdout)} == {"ok", "not_found"}
    assert "curation.checker.engine" in imported
    assert not [name for name in imported if name.split(".")[0] in ("django", "celery")]


def test_the_file_check_reads_its_settings_from_the_environment(server, links):
    # Without the allowance the guard refuses loopback: the variable is what lets it through.
    refused = command_line("--input", str(links), "--format", "json")
    allowed = command_line(
        "--input", str(links), "--format", "json",
        LINKCHECK_ALLOWED_INTERNAL_HOSTS=server.host_port,
    )  # fmt: skip

    assert {item["outcome"] for item in json.loads(refused.stdout)} == {"forbidden_target"}
    assert refused.returncode == 0  # a refused target is our policy, not a broken link
    assert {item["outcome"] for item in json.loads(allowed.stdout)} == {"ok", "not_found"}
    # The refused run sent nothing: each link was asked for once, by the allowed run (the
    # engine may add a probe of its own for the soft-404 check).
    asked = sorted(r for r in server.requests if r[1] in ("/gone", "/ok"))
    assert asked == [("GET", "/gone"), ("GET", "/ok")]


def test_a_malformed_variable_is_a_usage_error_naming_it(links):
    completed = command_line("--input", str(links), LINKCHECK_CONCURRENCY="lots")

    assert completed.returncode == 2
    assert "LINKCHECK_CONCURRENCY" in completed.stderr and "lots" in completed.stderr
    assert completed.stdout == ""


def test_django_options_still_go_through_the_django_command(server, links):
    completed = command_line(
        "--input", str(links), "--format", "json", "--settings", "config.settings",
        LINKCHECK_ALLOWED_INTERNAL_HOSTS=server.host_port,
    )  # fmt: skip

    assert completed.returncode == 1
    assert {item["outcome"] for item in json.loads(completed.stdout)} == {"ok", "not_found"}


@pytest.mark.parametrize(
    "argv",
    [
        [],  # the catalogue: needs the database
        ["--all"],
        ["--input", "x.txt", "--settings", "config.settings"],
        ["--input", "x.txt", "--concurrency", "0"],  # Django's parser reports it
        ["--all", "--help"],  # the catalogue mode's help is Django's
    ],
)
def test_main_leaves_to_django_what_it_cannot_do_alone(argv):
    assert main(argv, environ={}) is None


def test_main_checks_a_file_and_returns_the_exit_code(server, links, monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)

    code = main(
        ["--input", str(links), "--format", "json"],
        environ={"LINKCHECK_ALLOWED_INTERNAL_HOSTS": server.host_port},
    )

    assert code == 1
    assert {item["url"] for item in json.loads(out.getvalue())} == {
        server.url("/ok"),
        server.url("/gone"),
    }


def test_input_with_catalogue_filters_is_a_usage_error(links, monkeypatch):
    monkeypatch.setattr(sys, "stderr", io.StringIO())

    assert main(["--input", str(links), "--topic", "maths"], environ={}) == 2


# The environment reader shared with config/settings.py ---------------------------------------


def test_unset_or_blank_variables_take_the_defaults():
    values = read_environment({"LINKCHECK_TIMEOUT": "  "})

    assert values == {
        "LINKCHECK_ALLOWED_INTERNAL_HOSTS": frozenset(),
        "LINKCHECK_CONTACT_URL": DEFAULT_CONTACT_URL,
        "LINKCHECK_CONCURRENCY": 32,
        "LINKCHECK_PER_HOST_CONCURRENCY": 2,
        "LINKCHECK_PER_HOST_INTERVAL": 1.0,
        "LINKCHECK_PROBE": True,
        "LINKCHECK_TIMEOUT": 10.0,
    }


def test_set_variables_are_parsed():
    values = read_environment(
        {
            "LINKCHECK_ALLOWED_INTERNAL_HOSTS": "intranet.local, 127.0.0.1:8123",
            "LINKCHECK_CONCURRENCY": "64",
            "LINKCHECK_PER_HOST_INTERVAL": "0",
            "LINKCHECK_TIMEOUT": "2.5",
        }
    )

    assert values["LINKCHECK_ALLOWED_INTERNAL_HOSTS"] == {"intranet.local", "127.0.0.1:8123"}
    assert values["LINKCHECK_CONCURRENCY"] == 64
    assert values["LINKCHECK_PER_HOST_INTERVAL"] == 0.0
    assert values["LINKCHECK_TIMEOUT"] == 2.5


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LINKCHECK_CONCURRENCY", "0"),
        ("LINKCHECK_CONCURRENCY", "4.5"),
        ("LINKCHECK_PER_HOST_CONCURRENCY", "many"),
        ("LINKCHECK_PER_HOST_INTERVAL", "-1"),
        ("LINKCHECK_PER_HOST_INTERVAL", "nan"),
        ("LINKCHECK_TIMEOUT", "0.01"),
        ("LINKCHECK_ALLOWED_INTERNAL_HOSTS", "host:99999"),
    ],
)
def test_a_malformed_value_is_refused_naming_the_variable_and_the_value(name, value):
    with pytest.raises(ValueError) as caught:
        read_environment({name: value})

    assert name in str(caught.value) and repr(value) in str(caught.value)


def test_the_help_of_manage_py_checklinks_is_the_linters():
    completed = command_line("--input", "README.md", "--help")

    assert completed.returncode == 0
    assert "examples:" in completed.stdout and "--exclude-all-private" in completed.stdout
    assert "--settings" not in completed.stdout and "--traceback" not in completed.stdout


def test_the_django_command_runs_the_same_linter(tmp_path):
    docs = Path(__file__).parent / "fixtures" / "lint" / "docs"

    alone = command_line(str(docs), "--format", "json")
    django = command_line(str(docs), "--format", "json", "--settings", "config.settings")

    def verdicts(completed):
        return [
            (i["file"], i["line"], i["column"], i["outcome"]) for i in json.loads(completed.stdout)
        ]

    assert alone.returncode == django.returncode == 1  # the fixture has broken links
    assert verdicts(alone) == verdicts(django)
    assert {"missing_anchor", "missing_file"} <= {v[3] for v in verdicts(alone)}
