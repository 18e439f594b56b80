"""A check that ended in our own failure changes no health state and is counted in the report,
in every format a curator or operator reads it in."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from curation.checker.outcomes import Outcome
from curation.health.checking import record_check_errors
from curation.models import HealthState, HealthTransition, LinkReport
from curation.reports.delivery import render_report_email
from curation.reports.formats import render
from curation.reports.generate import generate_link_report
from curation.reports.periods import Period
from tests.factories import LinkCheckFactory, LinkReportFactory, ResourceFactory

END = datetime(2026, 11, 23, tzinfo=UTC)
PERIOD = Period(start=END - timedelta(days=7), end=END)
DURING = END - timedelta(days=3)

pytestmark = pytest.mark.django_db


def report_with_check_errors(count: int) -> LinkReport:
    resource = ResourceFactory()
    LinkCheckFactory.create_batch(
        count, resource=resource, checked_at=DURING, outcome=Outcome.CHECK_ERROR, counted=False
    )
    LinkCheckFactory(resource=resource, checked_at=DURING, outcome=Outcome.OK)
    return generate_link_report(period=PERIOD).report


def test_a_check_error_recorded_by_the_checker_changes_no_health_and_is_counted(time_machine):
    resource = ResourceFactory(health=HealthState.HEALTHY)
    time_machine.move_to(DURING)

    record_check_errors([(resource.pk, "token-1")], error="RuntimeError: engine bug")

    resource.refresh_from_db()
    assert resource.health == HealthState.HEALTHY
    assert not HealthTransition.objects.exists()
    report = generate_link_report(period=PERIOD).report
    assert report.data["checks"]["check_errors"] == 1


def test_json_and_csv_give_the_check_error_count():
    report = report_with_check_errors(2)

    payload = json.loads(render(report, "json"))
    rows = list(csv.DictReader(io.StringIO(render(report, "csv"))))

    assert payload["data"]["checks"]["check_errors"] == 2
    [checks] = [row for row in rows if row["section"] == "checks"]
    assert checks["detail"] == "counted 1, failing 0, check errors 2"


def test_markdown_and_the_email_give_the_check_error_count():
    report = report_with_check_errors(2)

    _, text, html = render_report_email(report)

    assert "(1 counted, 0 failing, 2 check errors)" in render(report, "md")
    assert "(1 counted, 0 failing, 2 check errors)" in text
    assert "(1 counted, 0 failing, 2 check errors)" in html


def test_a_period_without_check_errors_says_zero_in_every_format():
    report = report_with_check_errors(0)

    _, text, html = render_report_email(report)

    assert "check errors 0" in render(report, "csv")
    for rendered in (render(report, "md"), text, html):
        assert "0 failing, 0 check errors)" in rendered


def test_a_report_from_before_check_errors_were_counted_claims_no_count():
    report = LinkReportFactory(
        period_end=END, data={"checks": {"total": 3, "counted": 3, "failing": 0}}
    )

    _, text, html = render_report_email(report)

    for rendered in (render(report, "md"), render(report, "csv"), text, html):
        assert "check error" not in rendered
