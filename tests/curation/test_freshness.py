"""Freshness: confirming a resource is still worth recommending, and the "needs review" queue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from curation.catalog import freshness
from curation.models import (
    MetadataSuggestion,
    ProblemKind,
    ProblemReport,
    ProblemStatus,
    PublicationStatus,
    Resource,
    SuggestionStatus,
)
from tests.factories import CollectionFactory, ItemFactory, ResourceFactory, SectionFactory

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def listed_on(resource: Resource, *, period: int, status=PublicationStatus.PUBLISHED):
    collection = CollectionFactory(review_period_days=period, status=status)
    ItemFactory(section=SectionFactory(collection=collection), resource=resource)
    return collection


def reviewed(days_ago: float, **fields) -> Resource:
    now = timezone.now()
    return ResourceFactory(last_reviewed_at=now - days_ago * DAY, **fields)


def queue(now=None) -> list[int]:
    return list(freshness.needs_review(now=now).values_list("id", flat=True))


def reasons_of(resource: Resource, now=None) -> list[str]:
    annotated = freshness.with_review_state(Resource.objects.filter(pk=resource.pk)).get()
    return freshness.review_reasons(annotated, now=now)


def report(resource: Resource, kind=ProblemKind.OUTDATED, **fields) -> ProblemReport:
    return ProblemReport.objects.create(resource=resource, kind=kind, client="c", **fields)


def suggest(resource: Resource, field: str, status=SuggestionStatus.PENDING) -> MetadataSuggestion:
    return MetadataSuggestion.objects.create(
        resource=resource, field=field, suggested_value="x", value_hash=field, status=status
    )


# --- The service ------------------------------------------------------------------------------


def test_confirming_sets_the_review_time_and_bumps_updated_at():
    resource = ResourceFactory()
    before = resource.updated_at
    assert freshness.mark_reviewed([resource.pk, 2**40]) == 1
    resource.refresh_from_db()
    assert resource.last_reviewed_at is not None
    assert resource.updated_at == resource.last_reviewed_at > before


# --- Stale: the review period --------------------------------------------------------------------


def test_a_listed_resource_needs_review_once_its_lists_period_has_passed():
    overdue, recent = reviewed(31), reviewed(29)
    listed_on(overdue, period=30)
    listed_on(recent, period=30)
    assert queue() == [overdue.pk]
    assert reasons_of(overdue) == ["last reviewed 31 days ago (review every 30 days)"]


def test_the_shortest_period_of_its_published_lists_counts_and_drafts_do_not():
    resource = reviewed(40)
    listed_on(resource, period=365)
    listed_on(resource, period=10, status=PublicationStatus.DRAFT)
    assert queue() == []
    listed_on(resource, period=30)
    assert queue() == [resource.pk]


def test_a_resource_on_no_list_follows_the_default_period(settings):
    settings.FRESHNESS_REVIEW_DAYS = 20
    resource = reviewed(21)
    assert queue() == [resource.pk]
    assert reasons_of(resource) == ["last reviewed 21 days ago (review every 20 days)"]
    settings.FRESHNESS_REVIEW_DAYS = 22
    assert queue() == []


def test_a_resource_never_reviewed_counts_from_when_it_was_added(settings):
    settings.FRESHNESS_REVIEW_DAYS = 30
    resource = ResourceFactory()
    assert queue() == []
    later = timezone.now() + 31 * DAY
    assert queue(now=later) == [resource.pk]
    assert reasons_of(resource, now=later) == [
        "never reviewed, added 31 days ago (review every 30 days)"
    ]


def test_drafts_and_archived_resources_are_never_in_the_queue():
    for status in (PublicationStatus.DRAFT, PublicationStatus.ARCHIVED):
        resource = reviewed(400, status=status)
        report(resource)
    assert queue() == []


def test_the_longest_unreviewed_come_first():
    middle, oldest, newest = reviewed(400), reviewed(500), reviewed(380)
    assert queue() == [oldest.pk, middle.pk, newest.pk]


# --- Reported outdated ----------------------------------------------------------------------------


def test_an_open_outdated_report_since_the_last_review_asks_for_a_review():
    resource = reviewed(1)
    report(resource)
    report(resource)
    assert queue() == [resource.pk]
    assert reasons_of(resource) == ["reported outdated by 2 learners"]


def test_closed_reports_and_other_kinds_ask_for_nothing():
    resource = reviewed(1)
    report(resource, status=ProblemStatus.RESOLVED)
    report(resource, status=ProblemStatus.DISMISSED)
    report(resource, kind=ProblemKind.BROKEN)
    assert queue() == []


def test_a_review_answers_the_reports_made_before_it():
    resource = reviewed(1)
    report(resource)
    freshness.mark_reviewed([resource.pk])
    assert queue() == []
    report(resource)  # a new one, after the review
    assert queue() == [resource.pk]


# --- Metadata drift -------------------------------------------------------------------------------


def test_a_pending_new_title_or_duration_asks_for_a_review():
    titled, drifted_duration = reviewed(1), reviewed(1)
    suggest(titled, "title")
    suggest(drifted_duration, "duration_minutes")
    assert set(queue()) == {titled.pk, drifted_duration.pk}
    assert reasons_of(titled) == ["the page shows a new title"]
    assert reasons_of(drifted_duration) == ["the page shows a changed duration"]


def test_decided_suggestions_and_other_fields_ask_for_nothing():
    resource = reviewed(1)
    suggest(resource, "description")
    suggest(resource, "author")
    MetadataSuggestion.objects.create(
        resource=resource, field="title", suggested_value="y", value_hash="a",
        status=SuggestionStatus.DISMISSED,
    )  # fmt: skip
    assert queue() == []


def test_a_review_answers_the_drift_seen_before_it():
    resource = reviewed(1)
    suggest(resource, "title")
    freshness.mark_reviewed([resource.pk])
    assert queue() == []


def test_every_reason_is_named_together():
    resource = reviewed(400)
    report(resource)
    suggest(resource, "title")
    suggest(resource, "duration_minutes")
    assert reasons_of(resource) == [
        "last reviewed 400 days ago (review every 365 days)",
        "reported outdated by 1 learner",
        "the page shows a new title and a changed duration",
    ]
