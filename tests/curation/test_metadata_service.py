from __future__ import annotations

import contextlib
import json
import socket

import pytest
import redis
from django.utils import timezone

from curation import outbound
from curation.metadata import services as metadata_service
from curation.models import MetadataSuggestion, SuggestionStatus
from tests.factories import ResourceFactory

pytestmark = pytest.mark.django_db

ARTICLE = """<!doctype html><html lang="en-GB"><head>
<title>Understanding Convolutions - colah's blog</title>
<meta name="description" content="A deep dive into convolutions.">
<meta property="og:title" content="Understanding Convolutions">
<meta property="og:site_name" content="colah's blog">
<link rel="canonical" href="/posts/understanding-convolutions/">
<script type="application/ld+json">
{"@type": "VideoObject", "name": "x", "duration": "PT12M"}
</script>
</head><body><p>Hello</p></body></html>"""


def forget_robots_txt(settings) -> None:
    """What robots.txt said is kept for a day, per host: the tests' one server must not
    inherit another test's rules (in this process, or in Redis from an earlier run)."""
    outbound._local_robots.clear()
    if settings.REDIS_URL or settings.CELERY_BROKER_IS_REDIS:
        client = outbound.redis_client()
        # A test may point REDIS_URL at nothing: then nothing was kept there either.
        with contextlib.suppress(redis.ConnectionError):
            for key in client.scan_iter(f"{outbound.ROBOTS_KEY_PREFIX}:*"):
                client.delete(key)


@pytest.fixture(autouse=True)
def _fresh_robots_txt(settings):
    forget_robots_txt(settings)
    yield
    forget_robots_txt(settings)


@pytest.fixture
def page_server(httpserver, settings):
    settings.LINKCHECK_ALLOWED_INTERNAL_HOSTS = frozenset(
        {f"127.0.0.1:{httpserver.port}", f"localhost:{httpserver.port}"}
    )
    settings.LINKCHECK_PER_HOST_INTERVAL = 0.0
    settings.LINKCHECK_TIMEOUT = 5.0
    return httpserver


def serve(server, path: str, body: str, content_type: str = "text/html; charset=utf-8"):
    server.expect_request(path).respond_with_data(body, content_type=content_type)
    return server.url_for(path)


def test_it_fills_blank_curated_fields_from_the_page(page_server):
    url = serve(page_server, "/post", ARTICLE)
    resource = ResourceFactory(url=url, title="", description="", kind="video")
    changed = metadata_service.refresh_metadata(resource.pk)
    resource.refresh_from_db()
    assert set(changed) >= {"title", "description", "publisher", "language", "duration_minutes"}
    assert resource.title == "Understanding Convolutions"
    assert resource.description == "A deep dive into convolutions."
    assert resource.publisher == "colah's blog"
    assert resource.language == "en-GB"
    assert resource.duration_minutes == 12
    fields = resource.fetched_metadata["fields"]
    assert fields["title"]["source"] == "og:title"
    assert fields["canonical_url"]["value"] == page_server.url_for(
        "/posts/understanding-convolutions/"
    )
    assert resource.metadata_next_fetch_at > timezone.now()


def test_a_curators_title_is_kept_and_the_fetched_one_is_suggested(page_server):
    url = serve(page_server, "/post", ARTICLE)
    resource = ResourceFactory(url=url, title="Olah on convolutions", description="")
    metadata_service.refresh_metadata(resource.pk)
    resource.refresh_from_db()
    assert resource.title == "Olah on convolutions"
    suggestion = MetadataSuggestion.objects.get(resource=resource, field="title")
    assert suggestion.suggested_value == "Understanding Convolutions"
    assert suggestion.current_value == "Olah on convolutions"
    assert suggestion.status == SuggestionStatus.PENDING


def test_a_curators_edits_survive_any_number_of_refreshes(page_server):
    url = serve(page_server, "/post", ARTICLE)
    resource = ResourceFactory(url=url, title="", description="")
    metadata_service.refresh_metadata(resource.pk)
    resource.refresh_from_db()
    resource.title = "My title"
    resource.description = "My description"
    resource.save()
    for _ in range(3):
        metadata_service.refresh_metadata(resource.pk)
    resource.refresh_from_db()
    assert resource.title == "My title"
    assert resource.description == "My description"
    # One suggestion per differing value, however many refreshes repeat it.
    assert MetadataSuggestion.objects.filter(resource=resource, field="title").count() == 1


def test_a_value_the_system_filled_follows_the_page_until_a_curator_edits_it(page_server):
    resource = ResourceFactory(url=page_server.url_for("/post"), title="", description="")
    page_server.expect_oneshot_request("/post").respond_with_data(
        "<html><head><title>First</title></head></html>", content_type="text/html"
    )
    page_server.expect_oneshot_request("/post").respond_with_data(
        "<html><head><title>Second</title></head></html>", content_type="text/html"
    )
    metadata_service.refresh_metadata(resource.pk)
    metadata_service.refresh_metadata(resource.pk)
    resource.refresh_from_db()
    assert resource.title == "Second"
    assert not MetadataSuggestion.objects.filter(resource=resource).exists()


def test_a_dismissed_suggestion_is_not_raised_again(page_server):
    url = serve(page_server, "/post", ARTICLE)
    resource = ResourceFactory(url=url, title="Mine")
    metadata_service.refresh_metadata(resource.pk)
    suggestion = MetadataSuggestion.objects.get(resource=resource, field="title")
    metadata_service.dismiss_suggestion(suggestion.pk)
    metadata_service.refresh_metadata(resource.pk)
    assert list(
        MetadataSuggestion.objects.filter(resource=resource, field="title").values_list(
            "status", flat=True
        )
    ) == [SuggestionStatus.DISMISSED]


def test_accepting_a_suggestion_applies_it_once(page_server):
    url = serve(page_server, "/post", ARTICLE)
    resource = ResourceFactory(url=url, title="Mine")
    metadata_service.refresh_metadata(resource.pk)
    suggestion = MetadataSuggestion.objects.get(resource=resource, field="title")
    metadata_service.accept_suggestion(suggestion.pk)
    resource.refresh_from_db()
    assert resource.title == "Understanding Convolutions"
    with pytest.raises(metadata_service.SuggestionAlreadyDecided):
        metadata_service.accept_suggestion(suggestion.pk)


def test_a_moved_canonical_address_becomes_a_suggestion_not_an_edit(page_server):
    url = serve(page_server, "/post", ARTICLE)
    resource = ResourceFactory(url=url, title="Mine")
    metadata_service.refresh_metadata(resource.pk)
    resource.refresh_from_db()
    assert resource.url == url
    suggestion = MetadataSuggestion.objects.get(resource=resource, field="url")
    assert suggestion.suggested_value.endswith("/posts/understanding-convolutions/")


def test_a_challenge_page_gives_no_metadata_and_changes_nothing(page_server):
    url = serve(
        page_server,
        "/walled",
        "<html><head><title>Just a moment...</title></head><body>cf_chl_opt</body></html>",
    )
    resource = ResourceFactory(url=url, title="", description="")
    assert metadata_service.refresh_metadata(resource.pk) == []
    resource.refresh_from_db()
    assert resource.title == ""
    assert resource.fetched_metadata["rejected_reason"] == "challenge-page"


def test_a_page_that_fails_is_recorded_and_retried_later(page_server):
    page_server.expect_request("/gone").respond_with_data("nope", status=404)
    resource = ResourceFactory(url=page_server.url_for("/gone"), title="Kept")
    assert metadata_service.refresh_metadata(resource.pk) is None
    resource.refresh_from_db()
    assert "404" in resource.fetched_metadata["last_error"]["message"]
    assert resource.metadata_next_fetch_at > timezone.now()
    assert resource.title == "Kept"


def test_oembed_discovery_pointing_at_an_internal_address_is_refused(page_server, monkeypatch):
    attempts: list[object] = []
    real_connect = socket.socket.connect

    def watching_connect(sock, address):
        if address[0] == "127.0.0.2":
            attempts.append(address)
            raise AssertionError("the refused oEmbed address was contacted")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", watching_connect)
    page = (
        "<html><head><title>A video</title>"
        '<link rel="alternate" type="application/json+oembed" '
        'href="http://127.0.0.2:9/oembed?url=x"></head></html>'
    )
    url = serve(page_server, "/watch", page)
    resource = ResourceFactory(url=url, title="", kind="video")
    metadata_service.refresh_metadata(resource.pk)
    resource.refresh_from_db()
    assert resource.title == "A video"
    assert attempts == []


def test_oembed_fills_author_and_duration_but_never_keeps_html(page_server):
    oembed = page_server.url_for("/oembed")
    page_server.expect_request("/oembed").respond_with_data(
        json.dumps(
            {
                "type": "video",
                "title": "Essence of linear algebra",
                "author_name": "3Blue1Brown",
                "duration": 600,
                "html": "<iframe src=javascript:alert(1)></iframe>",
            }
        ),
        content_type="application/json",
    )
    page = (
        "<html><head>"
        f'<link rel="alternate" type="application/json+oembed" href="{oembed}"></head></html>'
    )
    url = serve(page_server, "/watch", page)
    resource = ResourceFactory(url=url, title="", author="", kind="video")
    metadata_service.refresh_metadata(resource.pk)
    resource.refresh_from_db()
    assert resource.title == "Essence of linear algebra"
    assert resource.author == "3Blue1Brown"
    assert resource.duration_minutes == 10
    assert "iframe" not in json.dumps(resource.fetched_metadata)


def test_due_metadata_is_claimed_once_by_competing_dispatchers():
    now = timezone.now()
    due = [ResourceFactory(metadata_next_fetch_at=None) for _ in range(3)]
    ResourceFactory(metadata_next_fetch_at=now + timezone.timedelta(days=3))
    first = metadata_service.claim_due_metadata(now=now, limit=10)
    second = metadata_service.claim_due_metadata(now=now, limit=10)
    assert sorted(first) == sorted(r.pk for r in due)
    assert second == []


# --- robots.txt ----------------------------------------------------------------------------------


def requested(server) -> list[str]:
    return [request.path for request, _response in server.log]


def test_a_page_robots_txt_disallows_is_recorded_as_a_failure_and_not_read(page_server):
    page_server.expect_request("/robots.txt").respond_with_data(
        "User-agent: SyllabusLinkChecker\nDisallow: /members/\n", content_type="text/plain"
    )
    url = serve(page_server, "/members/post", ARTICLE)
    resource = ResourceFactory(url=url, title="Kept", description="")

    assert metadata_service.refresh_metadata(resource.pk) is None

    resource.refresh_from_db()
    message = resource.fetched_metadata["last_error"]["message"]
    assert message.startswith(f"robots.txt disallows {url} for SyllabusLinkChecker")
    assert resource.metadata_next_fetch_at > timezone.now()
    assert (resource.title, resource.description) == ("Kept", "")
    assert requested(page_server) == ["/robots.txt"]


def test_a_missing_robots_txt_lets_the_page_be_read(page_server):
    page_server.expect_request("/robots.txt").respond_with_data("nope", status=404)
    url = serve(page_server, "/post", ARTICLE)
    resource = ResourceFactory(url=url, title="")

    metadata_service.refresh_metadata(resource.pk)

    resource.refresh_from_db()
    assert resource.title == "Understanding Convolutions"
    assert requested(page_server) == ["/robots.txt", "/post"]


def test_robots_txt_is_asked_once_for_many_pages_of_a_host(page_server, settings):
    settings.REDIS_URL = ""
    settings.CELERY_BROKER_IS_REDIS = False
    page_server.expect_request("/robots.txt").respond_with_data(
        "User-agent: *\nDisallow: /private\n", content_type="text/plain"
    )
    first = ResourceFactory(url=serve(page_server, "/one", ARTICLE), title="")
    second = ResourceFactory(url=serve(page_server, "/two", ARTICLE), title="")

    metadata_service.refresh_metadata(first.pk)
    metadata_service.refresh_metadata(second.pk)

    assert requested(page_server) == ["/robots.txt", "/one", "/two"]


@pytest.mark.redis
def test_with_redis_every_worker_shares_what_robots_txt_said(page_server, settings, redis_url):
    settings.REDIS_URL = redis_url
    forget_robots_txt(settings)
    page_server.expect_request("/robots.txt").respond_with_data(
        "User-agent: *\nDisallow: /private\n", content_type="text/plain"
    )
    first = ResourceFactory(url=serve(page_server, "/one", ARTICLE), title="")
    second = ResourceFactory(url=serve(page_server, "/two", ARTICLE), title="")

    metadata_service.refresh_metadata(first.pk)
    # Another worker: its process has nothing in memory, only Redis knows.
    outbound._local_robots.clear()
    metadata_service.refresh_metadata(second.pk)

    assert requested(page_server) == ["/robots.txt", "/one", "/two"]
    client = outbound.redis_client()
    keys = list(client.scan_iter(f"{outbound.ROBOTS_KEY_PREFIX}:*"))
    assert len(keys) == 1
    assert 23 * 3600 < client.ttl(keys[0]) <= 24 * 3600


def test_robots_txt_is_still_honoured_when_redis_is_down(page_server, settings, caplog):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    settings.CELERY_BROKER_IS_REDIS = False
    page_server.expect_request("/robots.txt").respond_with_data(
        "User-agent: *\nDisallow: /private\n", content_type="text/plain"
    )
    resource = ResourceFactory(url=serve(page_server, "/private/post", ARTICLE), title="Kept")

    assert metadata_service.refresh_metadata(resource.pk) is None

    resource.refresh_from_db()
    assert resource.fetched_metadata["last_error"]["message"].startswith("robots.txt disallows")
    assert requested(page_server) == ["/robots.txt"]
    assert "robots.txt cache unavailable" in caplog.text
