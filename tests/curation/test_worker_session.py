"""A worker keeps one HTTP client between its batches: connections are reused, cookies are not."""

from __future__ import annotations

import os

import pytest

from curation.health.checking import check_and_record
from curation.models import LinkCheck
from curation.outbound import checker_config, checker_session
from tests.checker.conftest import make_server  # noqa: F401 - fixtures
from tests.factories import ResourceFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("connections")]


@pytest.fixture
def site(make_server, settings):  # noqa: F811 - pytest fixture injection
    server = make_server()
    server.seen = []  # (client port, Cookie header) of every request

    def page(h):
        server.seen.append((h.client_address[1], h.headers.get("Cookie")))
        headers = {"Set-Cookie": "visited=yes; Path=/"} if h.path.startswith("/first") else {}
        h.reply(
            200, b"<title>A page</title><h1>A page</h1><p>All is well here.</p>", headers=headers
        )

    server.routes["*"] = page
    settings.LINKCHECK_ALLOWED_INTERNAL_HOSTS = frozenset({server.host_port})
    settings.LINKCHECK_PER_HOST_INTERVAL = 0
    settings.LINKCHECK_PER_HOST_CONCURRENCY = 1
    settings.LINKCHECK_PROBE = False
    settings.REDIS_URL = ""
    settings.CELERY_BROKER_IS_REDIS = False
    return server


def test_the_second_batch_reuses_the_first_batchs_connection(site):
    first = ResourceFactory(url=site.url("/first"))
    second = ResourceFactory(url=site.url("/second"))

    assert check_and_record([(first.pk, "a")]) == 1
    assert check_and_record([(second.pk, "b")]) == 1

    ports = [port for port, _ in site.seen]
    assert len(ports) == 2
    assert ports[0] == ports[1], "each batch opened its own connection"
    assert set(LinkCheck.objects.values_list("outcome", flat=True)) == {"ok"}


def test_a_cookie_set_in_one_batch_is_not_sent_in_the_next(site):
    first = ResourceFactory(url=site.url("/first"))
    second = ResourceFactory(url=site.url("/second"))
    third = ResourceFactory(url=site.url("/first-again"))

    check_and_record([(first.pk, "a")])
    check_and_record([(second.pk, "b")])
    # Within one batch the jar works as it always did: a cookie set is sent back.
    check_and_record([(third.pk, "c"), (second.pk, "d")])

    cookies = [cookie for _, cookie in site.seen]
    assert cookies[:2] == [None, None]
    assert sorted(cookies[2:], key=str) == [None, "visited=yes"]


def test_a_forked_process_or_another_configuration_gets_its_own_client(site, monkeypatch):
    config = checker_config()
    kept = checker_session(config)

    assert checker_session(checker_config()) is kept  # same settings: the same client
    assert checker_session(checker_config(read_timeout=3.0)) is not kept
    monkeypatch.setattr(os, "getpid", lambda: -1)  # as in a child after fork
    assert checker_session(config) is not kept


def test_kept_clients_are_bounded_and_closed_when_dropped(site):
    first = checker_session(checker_config(read_timeout=1.0))
    first.get(site.url("/first"))
    assert len(first._pools.pools) == 1

    others = [checker_session(checker_config(read_timeout=2.0 + i)) for i in range(4)]

    # The fifth configuration dropped the four kept before it, closing their pools.
    assert len(first._pools.pools) == 0
    assert checker_session(checker_config(read_timeout=5.0)) is others[-1]
    assert checker_session(checker_config(read_timeout=1.0)) is not first
