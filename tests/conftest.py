from __future__ import annotations

import os

import pytest
from django.db import connection

IN_CI = os.environ.get("CI", "").lower() == "true"
DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/15"


def using_postgres() -> bool:
    return connection.vendor == "postgresql"


def pytest_collection_modifyitems(config, items):
    # PostgreSQL-only behaviour (locking, SKIP LOCKED, full-text) runs in the pass of
    # .ci/run that sets DATABASE_URL; .ci/run fails outright if PostgreSQL is down.
    if using_postgres():
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: runs in the DATABASE_URL=postgres pass")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def service_missing(message: str) -> None:
    """Under CI a missing service is a failure, never a silent skip."""
    if IN_CI:
        pytest.fail(f"{message} (CI=true: a test that needs it must not skip)")
    pytest.skip(message)


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
# answers here). Every test runs with name resolution limited to loopback names and with
# connect() limited to loopback addresses; anything else fails the test. Tests that prove
# the SSRF guard refuses an address add their own stricter check on top.

import ipaddress  # noqa: E402
import socket  # noqa: E402

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
_real_getaddrinfo = socket.getaddrinfo
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


class OffMachineAddress(OSError):
    """A test tried to reach an address off this machine."""


def _is_loopback_host(host) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    host = str(host).strip("[]").lower().rstrip(".")
    if host in LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_loopback


@pytest.fixture(autouse=True)
def _no_off_machine_network(monkeypatch):
    attempts: list[str] = []

    def guarded_getaddrinfo(host, *args, **kwargs):
        if not _is_loopback_host(host):
            attempts.append(f"resolve {host!r}")
            # Behave like an offline resolver, without sending the query anywhere.
            raise socket.gaierror(socket.EAI_NONAME, f"test network: no DNS for {host!r}")
        return _real_getaddrinfo(host, *args, **kwargs)

    def check(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback_host(address[0]):
            attempts.append(f"connect {address!r}")
            raise OffMachineAddress(f"test network: connect to {address!r} refused")

    def guarded_connect(sock, address):
        check(sock, address)
        return _real_connect(sock, address)

    def guarded_connect_ex(sock, address):
        check(sock, address)
        return _real_connect_ex(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
    yield attempts
    connects = [a for a in attempts if a.startswith("connect")]
    if connects:
        pytest.fail(f"test tried to reach addresses off this machine: {connects}")


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
