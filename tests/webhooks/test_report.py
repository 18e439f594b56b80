"""A disabled endpoint's owner is told in the link-health report too."""

from __future__ import annotations

import pytest

from curation.reports.delivery import render_report_email
from curation.reports.generate import generate_link_report
from curation.reports.markdown import render_markdown
from curation.webhooks import delivery as webhook_delivery
from curation.webhooks import events
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_disabled_endpoint_is_in_the_report_with_its_reason_and_owner(make_endpoint):
    owner = UserFactory(username="hookowner")
    endpoint = make_endpoint(events=[events.RESOURCE_CREATED], owner=owner)
    webhook_delivery.disable_endpoint(endpoint, reason="5 deliveries in a row failed")

    report = generate_link_report().report

    section = report.data["webhooks"]
    assert section["total"] == 1 and section["disabled_in_period"] == 1
    assert section["items"][0]["url"] == endpoint.url
    # Worth an email even when no link changed.
    assert report.data["changed"] is True
    markdown = render_markdown(report)
    assert "## Disabled webhook endpoints (1)" in markdown
    assert "5 deliveries in a row failed" in markdown and "hookowner" in markdown
    _subject, text, html = render_report_email(report)
    assert "DISABLED WEBHOOK ENDPOINTS (1)" in text and endpoint.url in text
    assert "Disabled webhook endpoints (1)" in html


def test_a_report_with_no_disabled_endpoint_has_no_webhook_section(make_endpoint):
    make_endpoint(events=[events.RESOURCE_CREATED])
    report = generate_link_report().report
    assert report.data["webhooks"]["total"] == 0
    assert "webhook" not in render_markdown(report).lower()
    _subject, text, _html = render_report_email(report)
    assert "WEBHOOK" not in text
