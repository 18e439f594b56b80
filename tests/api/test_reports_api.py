"""The report endpoints: curators only, latest and by id, as JSON, CSV and Markdown."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import include, path
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from api.reports import report_urlpatterns
from curation.models import HealthState
from curation.reports.generate import generate_link_report
from curation.reports.periods import Period
from tests.factories import (
    CuratorFactory,
    HealthTransitionFactory,
    LinkCheckFactory,
    LinkReportFactory,
    ResourceFactory,
    UserFactory,
)

# Mounted as the lead will mount it: api/urls.py does `urlpatterns += report_urlpatterns`.
urlpatterns = [path("api/v1/", include((report_urlpatterns, "api")))]
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

END = datetime(2026, 11, 23, tzinfo=UTC)
PERIOD = Period(start=END - timedelta(days=7), end=END)


@pytest.fixture
def api(curator):
    client = APIClient()
    client.force_authenticate(curator)
    return client


@pytest.fixture
def report():
    resource = ResourceFactory(title="=HYPERLINK(evil) *bold*", health=HealthState.BROKEN)
    check = LinkCheckFactory(
        resource=resource, checked_at=END - timedelta(days=2), outcome="not_found", status_code=404
    )
    HealthTransitionFactory(
        resource=resource,
        from_state=HealthState.SUSPECT,
        to_state=HealthState.BROKEN,
        at=END - timedelta(days=2),
        link_check=check,
        reason="failure-confirmed: 3 consecutive failures over 49.0 h",
    )
    return generate_link_report(period=PERIOD).report


def test_the_latest_report_as_json(api, report):
    LinkReportFactory(period_end=END - timedelta(days=7), data={"changed": False})

    response = api.get("/api/v1/reports/latest/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    payload = response.json()
    assert payload["id"] == report.pk
    assert payload["period_end"] == END.isoformat()
    assert payload["data"]["newly_broken"]["total"] == 1
    assert payload["data"]["newly_broken"]["items"][0]["last_status_code"] == 404


def test_a_report_by_id_as_csv_neutralises_spreadsheet_formulas(api, report):
    response = api.get(f"/api/v1/reports/{report.pk}/?format=csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    broken = [row for row in rows if row["section"] == "newly_broken"]
    assert len(broken) == 1
    assert broken[0]["title"] == "'=HYPERLINK(evil) *bold*"
    assert broken[0]["status_code"] == "404"
    totals = {row["health"]: row["count"] for row in rows if row["section"] == "totals"}
    assert totals["broken"] == "1"


def test_the_latest_report_as_markdown_by_suffix_escapes_titles(api, report):
    response = api.get("/api/v1/reports/latest.md")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    text = response.content.decode()
    assert text.startswith("# Link health report: 2026-11-16 to 2026-11-23")
    assert "## Newly broken (1)" in text
    assert r"\=HYPERLINK\(evil\) \*bold\*" in text or r"=HYPERLINK\(evil\) \*bold\*" in text


def test_the_format_can_come_from_the_accept_header(api, report):
    response = api.get("/api/v1/reports/latest/", HTTP_ACCEPT="text/csv")

    assert response["Content-Type"].startswith("text/csv")


def test_no_report_yet_is_a_404_in_every_format(api):
    assert api.get("/api/v1/reports/latest/").status_code == 404
    response = api.get("/api/v1/reports/latest.csv")
    assert response.status_code == 404
    assert b"No report" in response.content


def test_a_report_still_being_generated_is_not_served(api):
    claimed = LinkReportFactory(status="claimed")

    assert api.get(f"/api/v1/reports/{claimed.pk}/").status_code == 404


@pytest.mark.parametrize("who", ["anonymous", "learner", "staff_without_permission"])
def test_reports_are_for_curators_only(who, report):
    client = APIClient()
    if who == "learner":
        client.force_authenticate(UserFactory())
    elif who == "staff_without_permission":
        client.force_authenticate(UserFactory(is_staff=True))

    for url in ("/api/v1/reports/latest/", f"/api/v1/reports/{report.pk}.csv"):
        response = client.get(url)
        assert response.status_code in (401, 403), (who, url)
        assert b"newly_broken" not in response.content


def test_a_curator_token_works(report):
    curator = CuratorFactory()
    token = Token.objects.create(user=curator)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    assert client.get("/api/v1/reports/latest.json").status_code == 200


def test_an_empty_format_is_400_naming_it(api, report):
    response = api.get("/api/v1/reports/latest/?format=")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "format"


def test_without_credentials_a_report_is_401_with_a_challenge(report):
    response = APIClient().get("/api/v1/reports/latest/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
