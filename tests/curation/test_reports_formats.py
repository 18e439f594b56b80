"""Rendering a stored report: Markdown, CSV, the email templates and the SVG chart."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from curation.reports.chart import render_health_chart
from curation.reports.delivery import render_report_email
from curation.reports.formats import render
from curation.reports.markdown import md_escape
from tests.factories import LinkReportFactory

END = datetime(2026, 11, 23, tzinfo=UTC)
HOSTILE = '[click](javascript:alert(1)) <img src=x onerror=alert(1)> "quoted" & =SUM(A1)'


def data_with(**sections):
    base = {
        "summary": "Between then and now: 1 link moved.",
        "changed": True,
        "totals": {"total": 0, "states": []},
        "newly_broken": {"total": 0, "items": []},
        "recovered": {"total": 0, "items": []},
        "moved": {"total": 0, "new_in_period": 0, "items": []},
        "unverifiable": {"total": 0, "items": []},
        "soft_404": {"total": 0, "items": []},
        "domains": {"items": []},
        "collections": {"total": 0, "items": []},
        "checks": {"total": 0, "counted": 0, "failing": 0, "by_outcome": []},
        "incidents": {"total": 0, "items": []},
        "history": [],
    }
    base.update(sections)
    return base


def moved_item(**overrides):
    item = {
        "resource_id": 1,
        "title": HOSTILE,
        "url": "https://old.example.test/a",
        "current_health": "moved",
        "suggested_url": "javascript:alert(1)",
        "moved_at": END.isoformat(),
        "new_in_period": True,
        "last_status_code": 200,
        "published_lists": 0,
    }
    item.update(overrides)
    return item


@pytest.fixture
def report(db):
    return LinkReportFactory(
        period_end=END,
        data=data_with(moved={"total": 1, "new_in_period": 1, "items": [moved_item()]}),
    )


def test_markdown_shows_hostile_titles_literally(report):
    text = render(report, "md")

    assert r"\[click\]\(javascript:alert\(1\)\)" in text
    assert r"\<img src=x onerror=alert\(1\)\>" in text
    assert "[click](javascript" not in text


@given(st.text(max_size=80))
def test_markdown_escaping_leaves_no_unescaped_link_or_html_syntax(text):
    escaped = md_escape(text)
    unescaped = escaped.replace("\\\\", "").replace("\\[", "").replace("\\]", "")
    unescaped = (
        unescaped.replace("\\<", "").replace("\\>", "").replace("\\(", "").replace("\\)", "")
    )
    assert not any(ch in unescaped for ch in "[]<>()")
    assert "\n" not in escaped


def test_csv_prefixes_cells_a_spreadsheet_would_run(report):
    text = render(report, "csv")

    assert "'[click]" not in text  # only formula starters are neutralised
    rows = [line for line in text.splitlines() if line.startswith("moved,")]
    assert len(rows) == 1
    assert "javascript:alert(1)" in rows[0]


def test_an_unknown_format_is_refused(report):
    with pytest.raises(ValueError, match="unknown report format"):
        render(report, "xlsx")


def test_the_email_never_links_a_non_http_address(report):
    _, text, html = render_report_email(report)

    assert 'href="javascript:' not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<img" not in html
    assert HOSTILE in text


def test_the_chart_is_well_formed_svg_with_a_line_per_state_and_escaped_text():
    history = [
        {
            "at": (END - timedelta(days=2 - i)).isoformat(),
            "counts": {"healthy": 10 - i, "broken": i},
        }
        for i in range(3)
    ]

    svg = render_health_chart(history, title="Health <of> & time")

    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    polylines = [el for el in root.iter() if el.tag.endswith("polyline")]
    assert len(polylines) == 5  # the healthy share, then four problem states
    assert "<script" not in svg
    assert "Health &lt;of&gt; &amp; time" in svg
    assert "broken (2)" in svg
    assert "healthy (8)" in svg


def test_an_empty_history_gives_a_chart_that_says_so():
    svg = render_health_chart([])

    ET.fromstring(svg)
    assert "No history yet" in svg
