"""The link-health report's sections for curators beyond link health: learners' open problem
reports of the period (by resource, with counts) and what needs review (freshness)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from curation.models import LinkReport, ProblemKind, ProblemReport, ProblemStatus
from curation.reports.build import build_report_data
from curation.reports.delivery import render_report_email
from curation.reports.formats import render
from curation.reports.periods import Period
from tests.factories import LinkReportFactory, ResourceFactory

END = datetime(2026, 11, 23, tzinfo=UTC)
START = END - timedelta(days=7)
PERIOD = Period(start=START, end=END)
DURING = START + timedelta(days=3)
NOW = END + timedelta(hours=6)

pytestmark = pytest.mark.django_db


def reported(resource, kind=ProblemKind.BROKEN, *, at=DURING, status=ProblemStatus.OPEN):
    made = ProblemReport.objects.create(resource=resource, kind=kind, client="c", status=status)
    ProblemReport.objects.filter(pk=made.pk).update(created_at=at)
    return made


def build() -> dict:
    return build_report_data(PERIOD, now=NOW)


def test_open_reports_of_the_period_are_grouped_by_resource_with_counts():
    video, course, quiet = ResourceFactory(), ResourceFactory(), ResourceFactory()
    for kind in (ProblemKind.BROKEN, ProblemKind.BROKEN, ProblemKind.OUTDATED):
        reported(video, kind)
    reported(course, ProblemKind.PAYWALLED)
    reported(quiet, at=START - timedelta(hours=1))  # before the period
    reported(quiet, at=END)  # after it
    reported(quiet, status=ProblemStatus.DISMISSED)
    section = build()["problem_reports"]
    assert (section["total"], section["total_reports"]) == (2, 4)
    rows = [(i["resource_id"], i["count"], i["kinds"]) for i in section["items"]]
    assert rows == [
        (video.pk, 3, {"broken": 2, "outdated": 1}),
        (course.pk, 1, {"paywalled": 1}),
    ]


def test_the_problem_report_section_is_bounded_and_keeps_its_totals(settings):
    settings.REPORT_LIST_LIMIT = 1
    for _ in range(3):
        reported(ResourceFactory())
    section = build()["problem_reports"]
    assert (section["total"], section["total_reports"], len(section["items"])) == (3, 3, 1)


def test_the_report_lists_what_needs_review_with_the_reasons(settings):
    settings.REPORT_LIST_LIMIT = 1
    stale = ResourceFactory(title="Stale", last_reviewed_at=NOW - timedelta(days=400))
    outdated = ResourceFactory(last_reviewed_at=NOW - timedelta(days=1))
    reported(outdated, ProblemKind.OUTDATED, at=NOW - timedelta(hours=1))
    ResourceFactory(last_reviewed_at=NOW - timedelta(days=1))
    section = build()["needs_review"]
    assert section["total"] == 2
    assert section["items"] == [
        {
            "resource_id": stale.pk,
            "title": "Stale",
            "url": stale.url,
            "current_health": stale.health,
            "last_reviewed_at": (NOW - timedelta(days=400)).isoformat(),
            "review_due_at": (NOW - timedelta(days=35)).isoformat(),
            "review_period_days": 365,
            "reasons": ["last reviewed 400 days ago (review every 365 days)"],
        }
    ]


def stored(data: dict) -> LinkReport:
    return LinkReportFactory(period_start=START, period_end=END, data=data)


def test_markdown_csv_and_email_show_both_sections():
    video = ResourceFactory(title="Essence *of* algebra")
    reported(video)
    reported(video, ProblemKind.OUTDATED)
    ResourceFactory(title="Old page", last_reviewed_at=NOW - timedelta(days=400))
    report = stored(build())
    markdown = render(report, "md")
    assert "## Open problem reports from learners (2 on 1 resources)" in markdown
    assert "Essence \\*of\\* algebra" in markdown and "2 (1 broken, 1 outdated)" in markdown
    assert "## Needs review (2)" in markdown
    assert "reported outdated by 1 learner" in markdown
    rows = list(csv.DictReader(io.StringIO(render(report, "csv"))))
    by_section = {(r["section"], r["title"]): r for r in rows}
    assert by_section[("problem_reports", "Essence *of* algebra")]["count"] == "2"
    assert "400 days ago" in by_section[("needs_review", "Old page")]["detail"]
    _, text, html = render_report_email(report)
    assert "NEEDS REVIEW (2)" in text and "OPEN PROBLEM REPORTS FROM LEARNERS" in text
    assert "Needs review (2)" in html and "Open problem reports from learners" in html


def test_reports_stored_before_these_sections_render_without_them():
    report = stored({"summary": "Nothing changed.", "changed": False})
    assert "Needs review" not in render(report, "md")
    assert "NEEDS REVIEW" not in render_report_email(report)[1]
