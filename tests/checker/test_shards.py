"""`checklinks --input` over several worker processes: same answers, hosts never split.

The sharded path forks, which the test process (with its server threads) must not do, so these
tests run the real command line; check_in_processes itself falls back to one process here.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from curation.checker.engine import check_many_keyed
from curation.checker.outcomes import Outcome
from curation.checker.shards import check_in_processes
from tests.checker.conftest import config_for
from tests.checker.servers import default_sigint, page, slow
from tests.conftest import not_applicable

ROOT = Path(__file__).resolve().parents[2]
BODY = b"<title>Course</title><h1>Course</h1>"


def run_command(path: Path, *servers, args=(), env=None, **popen) -> subprocess.Popen:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("LINKCHECK_", "DJANGO_"))},
        "LINKCHECK_ALLOWED_INTERNAL_HOSTS": ",".join(s.host_port for s in servers),
        "LINKCHECK_PER_HOST_INTERVAL": "0",
        # The probe off: most servers here answer every address with one page, a soft-404 site
        # to the probe (docs/soft404-probe.md), and these tests are about processes and output.
        "LINKCHECK_PROBE": "false",
        **(env or {}),
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "checklinks", "--input", str(path), "--format", "json",
         *args],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=default_sigint, **popen,
    )  # fmt: skip


def children_of(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def remote_ports(pid: int) -> set[int]:
    """The remote ports of the process's TCP connections (from /proc); none once it is gone."""
    inodes = set()
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except FileNotFoundError:
        return set()  # It exited between being listed and being looked at.
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[9] in inodes:
            ports.add(int(fields[2].rsplit(":", 1)[1], 16))
    return ports


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def hosts(make_server):
    servers = [make_server(host=f"127.0.0.{10 + i}") for i in range(4)]
    for server in servers:
        server.routes["/ok"] = page(body=BODY)
        server.routes["/gone"] = page(404)
        server.routes["/blocked"] = page(403)
    return servers


def test_several_processes_give_the_same_answers_as_one(hosts, tmp_path):
    path = tmp_path / "links.txt"
    urls = [s.url(p) for s in hosts for p in ("/ok", "/gone", "/blocked")]
    path.write_text("\n".join([*urls, "not a url", "ftp://files.example/x"]) + "\n")

    outputs = {}
    for processes in ("1", "3"):
        process = run_command(path, *hosts, args=("--processes", processes))
        out, err = process.communicate(timeout=60)
        assert process.returncode == 1, err  # /gone is failing
        outputs[processes] = sorted(
            (item["url"], item["outcome"], item["status_code"], item["rule"], item["error"])
            for item in json.loads(out)
        )

    assert outputs["1"] == outputs["3"]
    assert len(outputs["3"]) == len(urls) + 2
    assert {o for _, o, *_ in outputs["3"]} == {"ok", "not_found", "blocked", "invalid_url"}


def test_a_host_is_never_split_between_processes(make_server, tmp_path):
    servers = [make_server(host=f"127.0.0.{20 + i}") for i in range(3)]
    for server in servers:
        server.routes["*"] = slow(0.2, page(body=BODY))
    path = tmp_path / "links.txt"
    path.write_text("\n".join(s.url(f"/{i}") for i in range(8) for s in servers) + "\n")

    process = run_command(path, *servers, args=("--processes", "3", "--per-host-concurrency", "2"))
    out, err = process.communicate(timeout=60)

    assert process.returncode == 0, err
    assert len(json.loads(out)) == 24
    # Split between processes, a host would see each process's two requests at once.
    assert [s.max_in_flight for s in servers] == [2, 2, 2]


def test_a_worker_that_dies_has_its_links_reported_not_lost(make_server, tmp_path):
    fast, stuck = make_server(host="127.0.0.30"), make_server(host="127.0.0.31")
    fast.routes["*"] = page(body=BODY)
    stuck.routes["*"] = slow(30, page(body=BODY))
    path = tmp_path / "links.txt"
    urls = [stuck.url(f"/{i}") for i in range(3)] + [fast.url(f"/{i}") for i in range(3)]
    path.write_text("\n".join(urls) + "\n")
    process = run_command(
        path, fast, stuck, args=("--processes", "2", "--per-host-concurrency", "3")
    )

    deadline = time.monotonic() + 20
    while len(stuck.requests) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = children_of(process.pid)
    holding = [pid for pid in workers if stuck.port in remote_ports(pid)]
    # (The other worker may have finished the fast host and exited already.)
    assert len(stuck.requests) == 3 and len(holding) == 1

    os.kill(holding[0], signal.SIGKILL)
    out, _ = process.communicate(timeout=60)

    results = json.loads(out)
    assert sorted(item["url"] for item in results) == sorted(urls)  # every link, once
    outcomes = {item["url"]: (item["outcome"], item["rule"]) for item in results}
    assert {outcomes[u] for u in urls[:3]} == {("connection_error", "checker-process-lost")}
    assert {outcomes[u] for u in urls[3:]} == {("ok", "status-200")}
    assert process.returncode == 1


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_run_leaves_no_worker_behind(server, tmp_path, signum, code):
    server.routes["/ok"] = page(body=BODY)
    server.routes["/slow"] = slow(30, page(body=BODY))
    path = tmp_path / "links.txt"
    path.write_text(f"{server.url('/ok')}\n{server.url('/slow')}\n")
    process = run_command(path, server, args=("--processes", "2"))
    written = ""
    while not written.endswith("}"):  # the first result, for /ok
        written += process.stdout.read(1)
    workers = children_of(process.pid)

    process.send_signal(signum)
    rest, _ = process.communicate(timeout=60)

    assert process.returncode == code
    assert [item["url"] for item in json.loads(written + rest)] == [server.url("/ok")]
    assert workers  # the one holding /slow at least (the other may be done already)
    assert not [pid for pid in workers if alive(pid)]


def test_a_process_running_threads_checks_in_one_process(server, monkeypatch):
    server.routes["*"] = page(body=BODY)

    def no_fork():
        raise AssertionError("forked a process that runs threads")

    monkeypatch.setattr(os, "fork", no_fork)
    items = [(i, server.url(f"/{i}")) for i in range(5)]

    # The probe off: this server answers every address with the same page (a soft-404 site to
    # the probe), and this test is about processes.
    config = config_for(server, probe=False)

    assert threading.active_count() > 1  # the server's own thread
    results = dict(check_in_processes(items, config=config, processes=4))

    assert sorted(results) == list(range(5))
    assert {r.outcome for r in results.values()} == {Outcome.OK}
    assert dict(check_many_keyed(items, config=config)).keys() == results.keys()


@pytest.mark.skipif(
    not hasattr(select, "poll"),
    reason=not_applicable(f"workers watch their pipe with poll(), which {sys.platform} lacks"),
)
def test_workers_do_not_outlive_a_parent_killed_outright(server, tmp_path):
    server.routes["*"] = slow(30, page(body=BODY))
    path = tmp_path / "links.txt"
    path.write_text("\n".join(server.url(f"/{i}") for i in range(4)) + "\n")
    # Long enough that a worker left to itself would still be waiting at the end of the test.
    process = run_command(path, server, args=("--processes", "2"), env={"LINKCHECK_TIMEOUT": "60"})
    deadline = time.monotonic() + 20
    while len(server.requests) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = children_of(process.pid)
    assert workers

    process.kill()
    process.communicate(timeout=10)

    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in workers if alive(pid)]


@pytest.mark.parametrize("processes", ["1", "2"])
def test_each_result_is_on_stdout_while_slower_links_are_still_out(
    make_server, tmp_path, processes
):
    # Output is flushed whenever the run waits, not once per result: it must still come out
    # as soon as it is known, not when the slow links end (30 s from now).
    fast, stuck = make_server(host="127.0.0.32"), make_server(host="127.0.0.33")
    fast.routes["*"] = page(body=BODY)
    stuck.routes["*"] = slow(30, page(body=BODY))
    path = tmp_path / "links.txt"
    fast_urls = [fast.url(f"/{i}") for i in range(3)]
    path.write_text("\n".join([stuck.url("/0"), *fast_urls, stuck.url("/1")]) + "\n")
    process = run_command(
        path, fast, stuck, args=("--processes", processes, "--format", "text", "--timeout", "60")
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 20
        while len(lines) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sorted(line.split()[-1] for line in lines) == sorted(fast_urls)
        assert len(stuck.requests) == 2  # both still unanswered
    finally:
        process.kill()
        process.communicate(timeout=30)


@pytest.mark.parametrize("processes", ["1", "2"])
def test_a_reader_that_stops_reading_ends_the_run_quietly(server, tmp_path, processes):
    # `checklinks --input links.txt | head -1`: no traceback, no worker left checking.
    server.routes["*"] = slow(0.3, page(body=BODY))
    path = tmp_path / "links.txt"
    path.write_text("\n".join(server.url(f"/{i}") for i in range(40)) + "\n")
    process = run_command(path, server, args=("--processes", processes, "--format", "text"))
    first = process.stdout.readline()
    workers = children_of(process.pid)
    process.stdout.close()  # the reader goes away; the next result cannot be written

    _, err = process.communicate(timeout=30)

    assert first.split()[1] == "ok"  # after the "file:line:column:" where the link stands
    assert process.returncode == 141, err
    assert "Traceback" not in err
    assert len(server.requests) < 40  # it stopped checking, it did not finish the list
    assert not [pid for pid in workers if alive(pid)]
