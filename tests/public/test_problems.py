from __future__ import annotations

import uuid

import pytest
from bs4 import BeautifulSoup
from django.test import Client

from curation import enqueue
from curation.feedback import services
from curation.models import HealthState, ProblemKind, ProblemReport, ProblemStatus
from curation.public.problems import ProblemThrottle

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache(monkeypatch):
    # The throttle counts and the re-check markers live in the shared cache: a private one
    # per test, so that no earlier test (or earlier run on the same Redis) counts here.
    from django.core.cache.backends.locmem import LocMemCache

    store = LocMemCache(f"public-problems-{uuid.uuid4().hex}", {})
    monkeypatch.setattr(ProblemThrottle, "cache", store)
    monkeypatch.setattr(services, "cache", store)


def api_report(client, pk: int, address: str = "10.0.0.1", **body):
    return client.post(
        f"/api/v1/resources/{pk}/problems/", body, content_type="application/json",
        REMOTE_ADDR=address,
    )  # fmt: skip


def checks_queued(messages) -> list[int]:
    return [pk for task, kw in messages if task == enqueue.CHECK_RESOURCES for pk, _ in kw["items"]]


def test_a_broken_link_report_queues_one_check_now(
    client, catalogue, broker_messages, django_capture_on_commit_callbacks
):
    video = catalogue["video"]
    with django_capture_on_commit_callbacks(execute=True):
        response = api_report(client, video.pk, problem="broken", comment="404 for me")
    assert response.status_code == 202
    assert response.json()["check_queued"] is True
    assert checks_queued(broker_messages()) == [video.pk]
    report = ProblemReport.objects.get()
    assert (report.kind, report.status, report.comment) == ("broken", "open", "404 for me")


def test_a_report_is_never_evidence_the_health_is_unchanged(client, catalogue):
    video = catalogue["video"]
    api_report(client, video.pk, problem="broken")
    video.refresh_from_db()
    assert video.health == HealthState.HEALTHY


def test_many_reports_of_one_resource_queue_one_check_per_period(
    client, catalogue, broker_messages, django_capture_on_commit_callbacks
):
    video = catalogue["video"]
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(5):
            api_report(client, video.pk, address=f"10.0.1.{n}", problem="broken")
    assert checks_queued(broker_messages()) == [video.pk]
    assert ProblemReport.objects.count() == 5
    assert ProblemReport.objects.exclude(check_queued_at=None).count() == 1


def test_an_outdated_report_queues_no_check(
    client, catalogue, broker_messages, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_report(client, catalogue["video"].pk, problem="outdated")
    assert response.json()["check_queued"] is False
    assert checks_queued(broker_messages()) == []


def test_one_client_counts_once_per_resource_per_day(client, catalogue):
    for _ in range(3):
        api_report(client, catalogue["video"].pk, problem="broken")
    assert ProblemReport.objects.count() == 1


def test_a_flood_from_one_client_changes_nothing_for_anybody_else(client, catalogue):
    video, course = catalogue["video"], catalogue["course"]
    answers = [api_report(client, video.pk, problem="other").status_code for _ in range(1000)]
    assert answers.count(429) >= 990
    assert ProblemReport.objects.count() == 1
    assert api_report(client, course.pk, address="10.9.9.9", problem="broken").status_code == 202


def test_the_daily_cap_per_resource_stores_no_more(client, catalogue, monkeypatch):
    monkeypatch.setattr(services, "DAILY_CAP_PER_RESOURCE", 2)
    codes = [
        api_report(
            client, catalogue["video"].pk, address=f"10.0.2.{n}", problem="other"
        ).status_code
        for n in range(3)
    ]
    assert codes == [202, 202, 429]
    assert ProblemReport.objects.count() == 2


def test_drafts_and_unknown_resources_cannot_be_reported(client, catalogue):
    assert api_report(client, catalogue["draft"].pk, problem="broken").status_code == 404
    assert api_report(client, 2**64, problem="broken").status_code == 404


def test_the_api_names_a_bad_field(client, catalogue):
    response = api_report(client, catalogue["video"].pk, problem="gone", bogus=1)
    assert response.status_code == 400
    fields = {e["field"] for e in response.json()["errors"]}
    assert "bogus" in fields


def test_a_long_comment_is_refused(client, catalogue):
    response = api_report(client, catalogue["video"].pk, problem="other", comment="x" * 1001)
    assert response.status_code == 400


def form_of(client, path: str) -> dict:
    page = BeautifulSoup(client.get(path).content, "html.parser")
    form = page.select_one("details.report form")
    token = form.select_one('input[name="csrfmiddlewaretoken"]')["value"]
    return {"action": form["action"], "csrfmiddlewaretoken": token}


def test_the_form_on_a_collection_item_reports_and_comes_back_with_thanks(catalogue):
    browser = Client(enforce_csrf_checks=True)
    form = form_of(browser, "/collections/deep/")
    response = browser.post(
        form.pop("action"),
        {
            **form,
            "kind": "moved",
            "new_url": "https://example.test/new",
            "next": "/collections/deep/",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/collections/deep/"
    assert "Thank you" in response.content.decode()
    report = ProblemReport.objects.get()
    assert (report.kind, report.new_url) == (ProblemKind.MOVED, "https://example.test/new")


def test_the_form_needs_its_csrf_token(catalogue):
    browser = Client(enforce_csrf_checks=True)
    response = browser.post(f"/resources/{catalogue['video'].pk}/report/", {"kind": "broken"})
    assert response.status_code == 403
    assert not ProblemReport.objects.exists()


def test_a_filled_honeypot_is_thanked_and_stores_nothing(client, catalogue):
    response = client.post(
        f"/resources/{catalogue['video'].pk}/report/",
        {"kind": "broken", "website": "http://spam.example"},
    )
    assert response.status_code == 302
    assert not ProblemReport.objects.exists()


def test_the_form_and_the_api_share_one_throttle(client, catalogue, monkeypatch):
    monkeypatch.setattr(ProblemThrottle, "rate", "1/hour")
    pk = catalogue["video"].pk
    assert api_report(client, pk, address="10.0.3.1", problem="other").status_code == 202
    response = client.post(f"/resources/{pk}/report/", {"kind": "other"}, REMOTE_ADDR="10.0.3.1")
    assert response.status_code == 429


def test_a_comment_is_shown_to_curators_as_text(admin_client, catalogue):
    api_report(Client(), catalogue["video"].pk, problem="other", comment="<script>x</script>")
    html = admin_client.get("/admin/curation/problemreport/").content.decode()
    assert "&lt;script&gt;x&lt;/script&gt;" in html and "<script>x</script>" not in html


def test_the_review_queue_shows_the_check_that_followed(admin_client, catalogue):
    from tests.factories import LinkCheckFactory

    video = catalogue["video"]
    api_report(Client(), video.pk, problem="broken")
    LinkCheckFactory(resource=video, outcome="not_found", status_code=404)
    html = admin_client.get("/admin/curation/problemreport/").content.decode()
    assert "not_found" in html


def test_curators_resolve_reports_from_the_queue(admin_client, catalogue):
    api_report(Client(), catalogue["video"].pk, problem="outdated")
    report = ProblemReport.objects.get()
    response = admin_client.post(
        "/admin/curation/problemreport/",
        {"action": "resolve", "_selected_action": [report.pk]},
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == ProblemStatus.RESOLVED and report.decided_at is not None


def test_no_client_address_is_stored(client, catalogue):
    api_report(client, catalogue["video"].pk, address="10.7.7.7", problem="other")
    assert "10.7.7.7" not in ProblemReport.objects.get().client


def resource_state(pk: int) -> dict:
    from curation.models import Resource

    return Resource.objects.filter(pk=pk).values(
        "health", "status", "url", "next_check_at", "last_checked_at", "consecutive_failures",
        "updated_at", "last_reviewed_at",
    ).get()  # fmt: skip


def test_a_thousand_broken_link_reports_from_one_client_change_only_its_throttle(
    client, catalogue, broker_messages, django_capture_on_commit_callbacks
):
    video, course = catalogue["video"], catalogue["course"]
    before = resource_state(video.pk)
    with django_capture_on_commit_callbacks(execute=True):
        answers = [api_report(client, video.pk, problem="broken").status_code for _ in range(1000)]
    # The throttle's own allowance got through (stored once: one client counts once a day).
    assert answers[: answers.index(429)] == [202] * answers.index(429)
    assert set(answers[answers.index(429) :]) == {429}
    assert ProblemReport.objects.count() == 1
    assert checks_queued(broker_messages()) == [video.pk]  # the one re-check of the period
    assert resource_state(video.pk) == before
    # Anybody else still gets through, on the same resource and on another.
    with django_capture_on_commit_callbacks(execute=True):
        same = api_report(client, video.pk, address="10.9.9.8", problem="broken")
        other = api_report(client, course.pk, address="10.9.9.9", problem="broken")
    assert (same.status_code, same.json()["check_queued"]) == (202, False)
    assert (other.status_code, other.json()["check_queued"]) == (202, True)
    assert checks_queued(broker_messages()) == [course.pk]
    assert resource_state(video.pk) == before
