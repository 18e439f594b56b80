"""Freshness: a curator's confirmation that a resource is still worth recommending, and the
resources that need that look again.

A published resource needs review when any of these holds:
- stale: it was not reviewed (never reviewed: not added) within its review period, the
  shortest `review_period_days` of the published collections it is on, or
  FRESHNESS_REVIEW_DAYS when it is on none;
- a learner reported it outdated since its last review (an open report);
- its page's metadata drifted since its last review: a pending suggestion of a new title or a
  changed duration.

A review answers what came before it: confirming takes the resource out of the queue until
its period runs out again or a new report or suggestion arrives. The reports and suggestions
stay in their own queues for the curator to decide.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import (
    Count,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from curation.models import (
    CollectionItem,
    MetadataSuggestion,
    ProblemKind,
    ProblemReport,
    ProblemStatus,
    PublicationStatus,
    Resource,
    SuggestionStatus,
)

logger = logging.getLogger(__name__)

# Metadata whose change means the resource itself may have changed (a new edition, a shorter
# course); a new description or author alone does not ask for a review.
DRIFT_FIELDS = {"title": "a new title", "duration_minutes": "a changed duration"}
# Signals (reports, suggestions) of a resource never reviewed count from the beginning.
BEFORE_ANY_REVIEW = datetime(1970, 1, 1, tzinfo=UTC)
ONE_DAY = timedelta(days=1)


def mark_reviewed(resource_ids: Iterable[int], *, by=None, now: datetime | None = None) -> int:
    """A curator confirms these resources are still worth recommending: sets their
    `last_reviewed_at` (and `updated_at`, so API readers and ETags see the change) to `now`.

    Returns how many resources were marked; unknown ids are ignored.
    """
    now = now or timezone.now()
    ids = list(resource_ids)
    changed = Resource.objects.filter(pk__in=ids).update(last_reviewed_at=now, updated_at=now)
    logger.info("%d resource(s) confirmed still worth recommending by %s", changed, by)
    return changed


def _review_period_days() -> Coalesce:
    shortest = (
        CollectionItem.objects.filter(
            resource_id=OuterRef("pk"), section__collection__status=PublicationStatus.PUBLISHED
        )
        .order_by()
        .values("resource_id")
        .annotate(days=Min("section__collection__review_period_days"))
        .values("days")
    )
    return Coalesce(
        Subquery(shortest),
        Value(settings.FRESHNESS_REVIEW_DAYS),
        output_field=IntegerField(),
    )


def _open_outdated_reports() -> Coalesce:
    reports = (
        ProblemReport.objects.filter(
            resource_id=OuterRef("pk"),
            kind=ProblemKind.OUTDATED,
            status=ProblemStatus.OPEN,
            created_at__gt=OuterRef("signals_since"),
        )
        .order_by()
        .values("resource_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(reports), Value(0), output_field=IntegerField())


def _drift(field: str) -> Exists:
    return Exists(
        MetadataSuggestion.objects.filter(
            resource_id=OuterRef("pk"),
            field=field,
            status=SuggestionStatus.PENDING,
            created_at__gt=OuterRef("signals_since"),
        )
    )


def with_review_state(queryset: QuerySet[Resource] | None = None) -> QuerySet[Resource]:
    """`queryset` (default: every resource) annotated with what the review queue reads:
    `review_period_days`, `review_due_at` (last review, else creation, plus the period),
    `outdated_reports` (open, since the last review) and `drift_<field>` for each field of
    DRIFT_FIELDS (a pending suggestion since the last review)."""
    queryset = Resource.objects.all() if queryset is None else queryset
    return queryset.annotate(
        review_period_days=_review_period_days(),
        signals_since=Coalesce(
            "last_reviewed_at", Value(BEFORE_ANY_REVIEW), output_field=DateTimeField()
        ),
    ).annotate(
        review_due_at=ExpressionWrapper(
            Coalesce("last_reviewed_at", "created_at")
            + ExpressionWrapper(F("review_period_days") * Value(ONE_DAY), DurationField()),
            output_field=DateTimeField(),
        ),
        outdated_reports=_open_outdated_reports(),
        **{f"drift_{field}": _drift(field) for field in DRIFT_FIELDS},
    )


def _stale_on_a_list(now: datetime) -> QuerySet[CollectionItem]:
    # A resource is past the shortest review period of its lists when it is past the period
    # of any one of them.
    reviewed_or_added = Coalesce("resource__last_reviewed_at", "resource__created_at")
    return (
        CollectionItem.objects.filter(section__collection__status=PublicationStatus.PUBLISHED)
        .annotate(
            due_at=ExpressionWrapper(
                reviewed_or_added
                + ExpressionWrapper(
                    # Typed as a plain integer: SQLite multiplies only those by a duration.
                    ExpressionWrapper(
                        F("section__collection__review_period_days"), output_field=IntegerField()
                    )
                    * Value(ONE_DAY),
                    DurationField(),
                ),
                output_field=DateTimeField(),
            )
        )
        .filter(due_at__lte=now)
        .values("resource_id")
    )


def needs_review(*, now: datetime | None = None) -> QuerySet[Resource]:
    """Published resources that need a curator's review (see the module's docstring), the
    longest without a review first (never reviewed: by when they were added).

    Each condition is an uncorrelated semi-join (work proportional to the lists, reports and
    suggestions, not a subquery per resource); `with_review_state` annotates the rows shown.
    """
    now = now or timezone.now()
    listed = CollectionItem.objects.filter(
        section__collection__status=PublicationStatus.PUBLISHED
    ).values("resource_id")
    cutoff = now - settings.FRESHNESS_REVIEW_DAYS * ONE_DAY
    unlisted_stale = ~Q(pk__in=listed) & (
        Q(last_reviewed_at__lte=cutoff) | Q(last_reviewed_at__isnull=True, created_at__lte=cutoff)
    )
    since_review = Q(resource__last_reviewed_at__isnull=True) | Q(
        created_at__gt=F("resource__last_reviewed_at")
    )
    reported = ProblemReport.objects.filter(
        since_review, kind=ProblemKind.OUTDATED, status=ProblemStatus.OPEN
    ).values("resource_id")
    drifted = MetadataSuggestion.objects.filter(
        since_review, field__in=list(DRIFT_FIELDS), status=SuggestionStatus.PENDING
    ).values("resource_id")
    return (
        Resource.objects.published()
        .filter(
            Q(pk__in=_stale_on_a_list(now))
            | unlisted_stale
            | Q(pk__in=reported)
            | Q(pk__in=drifted)
        )
        .annotate(reviewed_or_added=Coalesce("last_reviewed_at", "created_at"))
        .order_by("reviewed_or_added", "id")
    )


def explain_reviews(resources: Iterable[Resource], *, now: datetime | None = None) -> list:
    """(resource annotated by `with_review_state`, its reasons) for each of `resources` (a
    page of the queue), in their order."""
    order = [resource.pk for resource in resources]
    annotated = with_review_state(Resource.objects.filter(pk__in=order)).in_bulk(order)
    return [
        (annotated[pk], review_reasons(annotated[pk], now=now)) for pk in order if pk in annotated
    ]


def review_reasons(resource: Resource, *, now: datetime | None = None) -> list[str]:
    """Why a resource annotated by `with_review_state` needs review, in words (empty: it
    does not)."""
    now = now or timezone.now()
    reasons = []
    if resource.review_due_at <= now:
        if resource.last_reviewed_at is None:
            since = f"never reviewed, added {(now - resource.created_at).days} days ago"
        else:
            since = f"last reviewed {(now - resource.last_reviewed_at).days} days ago"
        reasons.append(f"{since} (review every {resource.review_period_days} days)")
    if resource.outdated_reports:
        count = resource.outdated_reports
        reasons.append(f"reported outdated by {count} learner{'s' if count != 1 else ''}")
    drifted = [
        words for field, words in DRIFT_FIELDS.items() if getattr(resource, f"drift_{field}")
    ]
    if drifted:
        reasons.append("the page shows " + " and ".join(drifted))
    return reasons
