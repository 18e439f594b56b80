from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.db import connection

IN_CI = os.environ.get("CI", "").lower() == "true"
DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/15"


def using_postgres() -> bool:
    return connection.vendor == "postgresql"


# --- Skips --------------------------------------------------------------------------------------
# Under CI=true a test runs or fails. The only skips allowed there say why the test does not
# apply ("not applicable: ..."): PostgreSQL-only behaviour in the SQLite pass of .ci/run, a
# Linux-only mechanism elsewhere. A missing service or tool is a failure (service_missing), and so
# is any other skip (pytest_runtest_makereport below turns it into one).

NOT_APPLICABLE = "not applicable"


def not_applicable(why: str) -> str:
    """The reason of a legitimate skip: the test has no meaning here (a database, a platform)."""
    return f"{NOT_APPLICABLE}: {why}"


def pytest_collection_modifyitems(config, items):
    # PostgreSQL-only behaviour (locking, SKIP LOCKED, full-text) runs in the pass of
    # .ci/run that sets DATABASE_URL; .ci/run fails outright if PostgreSQL is down.
    if using_postgres():
        return
    skip = pytest.mark.skip(
        reason=not_applicable(
            f"PostgreSQL-only behaviour, and this run is on {connection.vendor}; "
            "it runs in the DATABASE_URL=postgres pass"
        )
    )
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def service_missing(message: str) -> None:
    """A service or tool the test needs is missing: under CI a failure, never a silent skip."""
    if IN_CI:
        pytest.fail(f"{message} (CI=true: a test that needs it must not skip)")
    pytest.skip(message)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not IN_CI or not report.skipped or hasattr(report, "wasxfail"):
        return
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    if reason.removeprefix("Skipped: ").startswith(NOT_APPLICABLE):
        return
    report.outcome = "failed"
    report.longrepr = (
        f"CI=true: this test skipped ({reason}); under CI a test runs or fails. If it cannot "
        f"apply here, skip it with tests.conftest.not_applicable(why)."
    )


@pytest.fixture(autouse=True)
def _services_named_by_markers(request):
    """A test marked `redis` needs Redis even if it never asks for redis_url itself."""
    if request.node.get_closest_marker("redis") is not None:
        request.getfixturevalue("redis_url")


@pytest.fixture
def redis_url() -> str:
    import redis

    url = os.environ.get("TEST_REDIS_URL") or os.environ.get("REDIS_URL") or DEFAULT_TEST_REDIS_URL
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        service_missing(f"Redis is not reachable at {url}: {exc}")
    return url


@pytest.fixture
def redis_client(redis_url):
    import redis

    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def curator(db):
    from tests.factories import CuratorFactory

    return CuratorFactory()


@pytest.fixture
def curator_client(client, curator):
    client.force_login(curator)
    return client


# --- Network safety net ----------------------------------------------------------------------
# The machines have no internet and nothing may send a packet off them (169.254.169.254
# answers here). One guard (tests/netguard/sitecustomize.py) covers this process from the moment
# this file is imported and every Python process the tests start: connect() and datagrams only to
# loopback addresses, name resolution only of loopback names; anything else is refused before
# the kernel is asked, and a refusal fails the test that caused it. Tests that prove the SSRF
# guard refuses an address narrow it further with `connections.only(server, ...)`.

from tests.netguard import sitecustomize as netguard  # noqa: E402

NETGUARD = netguard.install()
OffMachineAddress = netguard.OffMachineAddress


def subprocess_pythonpath(*entries: str | os.PathLike[str]) -> str:
    """PYTHONPATH for a Python subprocess started with an environment of its own: `entries`,
    then the network guard's start-up hook (os.environ carries both already)."""
    return os.pathsep.join([*map(str, entries), netguard.HOOK_DIRECTORY])


class ChildReports:
    """The file the tests' subprocesses report refusals to, read on from where it was left."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.offset = 0

    def new_refusals(self) -> list[str]:
        entries, self.offset = netguard.read_report(self.path, self.offset)
        return [f"{e['refused']} (pid {e['pid']}, {' '.join(e['argv'])})" for e in entries]


@pytest.fixture(autouse=True, scope="session")
def netguard_children(tmp_path_factory) -> Iterator[ChildReports]:
    """Every Python process the tests start runs the guard and reports its refusals here."""
    report = tmp_path_factory.getbasetemp() / "netguard-refusals.jsonl"
    report.touch()
    children = ChildReports(str(report))
    inherited = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    patch = pytest.MonkeyPatch()
    patch.setenv("PYTHONPATH", subprocess_pythonpath(*inherited))
    patch.setenv(netguard.REPORT_VARIABLE, children.path)
    yield children
    patch.undo()
    refused = NETGUARD.outside_tests.failures() + children.new_refusals()
    if refused:
        pytest.fail(f"outside any test, something tried to leave this machine: {refused}")


@pytest.fixture(autouse=True)
def _no_kept_http_clients() -> Iterator[None]:
    """A worker keeps its HTTP client and its probe cache between batches; a test starts and
    ends without them, so no connection opened for one test's server is offered to the next,
    and no probe answer read in one test is remembered in the next."""
    from curation.outbound import forget_kept_state

    forget_kept_state()
    yield
    forget_kept_state()


@pytest.fixture(autouse=True)
def connections(netguard_children: ChildReports) -> Iterator[netguard.ConnectionLog]:
    """This test's connect() attempts and refusals; its subprocesses' refusals count too."""
    log = NETGUARD.begin()
    try:
        yield log
    finally:
        NETGUARD.end()
    refused = log.failures() + netguard_children.new_refusals()
    if refused:
        pytest.fail(f"test tried to reach addresses it may not: {refused}")


@pytest.fixture(autouse=True, scope="session")
def _celery_publishes_nowhere_by_default():
    """Tasks enqueued by ordinary tests go to an in-memory broker nobody consumes.

    Integration tests that need a real broker start worker processes with their own
    environment and publish with an app configured for it explicitly.
    """
    from config.celery import app

    previous = app.conf.broker_url
    app.conf.broker_url = "memory://"
    yield
    app.conf.broker_url = previous


@pytest.fixture(scope="session")
def httpserver_listen_address():
    """pytest-httpserver's one session server listens on 127.0.0.1 for every test.

    The server is created once per session, so a module-level override only works when
    that module happens to run first: the choice is made here, once.
    """
    return ("127.0.0.1", 0)


# --- The broker, read back ---------------------------------------------------------------------


@pytest.fixture
def broker_messages():
    """Call it to get what was published to the real broker's queue since the test began.

    Each message as (task name, kwargs), in order. The queue is drained before and after, so
    tests see only their own messages whichever broker (filesystem or Redis) the pass uses.
    """
    from django.conf import settings

    from config.celery import app

    def drain() -> list[tuple[str, dict]]:
        sent = []
        with app.connection_for_read() as connection:
            channel = connection.default_channel
            queue = settings.CELERY_TASK_DEFAULT_QUEUE
            while (message := channel.basic_get(queue, no_ack=True)) is not None:
                _args, kwargs, _embed = message.decode()
                sent.append((message.headers["task"], kwargs))
        return sent

    drain()
    yield drain
    drain()
