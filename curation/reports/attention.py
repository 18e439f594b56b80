"""The report's sections about what curators should look at beyond link health: learners'
open problem reports of the period, and the resources that need a review (freshness).

Both are bounded lists (at most `limit` rows, with the true totals beside them).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from django.db.models import Count, Max

from curation.catalog import freshness
from curation.models import ProblemKind, ProblemReport, ProblemStatus, Resource
from curation.reports.periods import Period
from curation.reports.sections import iso


def problem_reports(period: Period, limit: int) -> dict[str, Any]:
    """Learners' reports made in the period and still open, grouped by resource (the most
    reported first), each with its count per kind."""
    reports = ProblemReport.objects.filter(
        status=ProblemStatus.OPEN, created_at__gte=period.start, created_at__lt=period.end
    )
    total_reports = reports.count()
    if not total_reports:
        return {"total": 0, "total_reports": 0, "items": []}
    by_resource = (
        reports.values("resource_id")
        .annotate(n=Count("id"), latest=Max("created_at"))
        .order_by("-n", "-latest", "resource_id")
    )
    total = by_resource.count()
    top = list(by_resource[:limit])
    ids = [row["resource_id"] for row in top]
    kinds: dict[int, dict[str, int]] = defaultdict(dict)
    for row in (
        reports.filter(resource_id__in=ids)
        .values("resource_id", "kind")
        .annotate(n=Count("id"))
        .order_by("resource_id", "kind")
    ):
        kinds[row["resource_id"]][row["kind"]] = row["n"]
    resources = {
        row["id"]: row
        for row in Resource.objects.filter(pk__in=ids).values("id", "title", "url", "health")
    }
    items = []
    for row in top:
        resource = resources[row["resource_id"]]
        counted = kinds[row["resource_id"]]
        items.append(
            {
                "resource_id": resource["id"],
                "title": resource["title"],
                "url": resource["url"],
                "current_health": resource["health"],
                "count": row["n"],
                # In the order the form offers them.
                "kinds": {kind: counted[kind] for kind in ProblemKind.values if kind in counted},
                "latest_at": iso(row["latest"]),
            }
        )
    return {"total": total, "total_reports": total_reports, "items": items}


def needs_review(now: datetime, limit: int) -> dict[str, Any]:
    """Published resources that need a curator's review as of `now`, the longest without a
    review first, each with the reasons in words."""
    queue = freshness.needs_review(now=now)
    items = [
        {
            "resource_id": resource.pk,
            "title": resource.title,
            "url": resource.url,
            "current_health": resource.health,
            "last_reviewed_at": iso(resource.last_reviewed_at),
            "review_due_at": iso(resource.review_due_at),
            "review_period_days": resource.review_period_days,
            "reasons": reasons,
        }
        for resource, reasons in freshness.explain_reviews(queue[:limit], now=now)
    ]
    return {"total": queue.count(), "items": items}
