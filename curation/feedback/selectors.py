"""Reads of learners' problem reports for the curators' review queue."""

from __future__ import annotations

from django.db.models import OuterRef, QuerySet, Subquery

from curation.models import LinkCheck, ProblemReport


def reports_with_followup() -> QuerySet[ProblemReport]:
    """Reports with their resource, each annotated with the first check of that resource at
    or after the report (`followup_outcome`, `followup_at`; None while none has run)."""
    after = LinkCheck.objects.filter(
        resource_id=OuterRef("resource_id"), checked_at__gte=OuterRef("created_at")
    ).order_by("checked_at", "id")
    return ProblemReport.objects.select_related("resource").annotate(
        followup_outcome=Subquery(after.values("outcome")[:1]),
        followup_at=Subquery(after.values("checked_at")[:1]),
    )
