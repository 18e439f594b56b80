"""Learners' problem reports: the one write path for a report and for a curator's decision.

A report is a reason to look, never evidence: a broken or moved link is checked again now
(politely, through the same checker and per-host limits as any check), at most once per
RECHECK_PERIOD per resource however many learners report it, and only the check moves the
link's health.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from curation import enqueue
from curation.models import (
    CheckSource,
    ProblemKind,
    ProblemReport,
    PublicationStatus,
    Resource,
)

# Many reports of one resource trigger one re-check per period: the checker is polite to
# the site whatever the number of learners.
RECHECK_PERIOD = timedelta(hours=1)
# Reports stored per resource per day at most (one per client counts once): a flood from
# many clients fills no table.
DAILY_CAP_PER_RESOURCE = 50
MAX_COMMENT_LENGTH = 1000
MAX_ID = 2**63 - 1
RECHECK_KINDS = frozenset({ProblemKind.BROKEN, ProblemKind.MOVED})


class NotReportable(Exception):
    """The resource does not exist or is not published."""


class DailyCapReached(Exception):
    """The resource has had DAILY_CAP_PER_RESOURCE reports in the last day."""


def client_key(address: str) -> str:
    """A keyed hash of a client's address: the same client is recognised, the address is
    not kept."""
    key = settings.SECRET_KEY.encode()[:64]
    return hashlib.blake2b(address.encode(), key=key, digest_size=16).hexdigest()


def report_problem(
    resource_id: int,
    *,
    kind: str,
    client: str,
    comment: str = "",
    new_url: str = "",
) -> ProblemReport:
    """Record a learner's report and, for a broken or moved link, queue a re-check.

    `client` is `client_key(address)`. The same client reporting the same resource again
    within a day gets its earlier report back and changes nothing. Raises NotReportable for
    an unknown or unpublished resource and DailyCapReached past the resource's daily cap.
    """
    if resource_id > MAX_ID:  # larger than any database id: not found, never an overflow
        raise NotReportable(resource_id)
    resource = Resource.objects.filter(pk=resource_id, status=PublicationStatus.PUBLISHED).first()
    if resource is None:
        raise NotReportable(resource_id)
    now = timezone.now()
    today = ProblemReport.objects.filter(resource=resource, created_at__gte=now - timedelta(days=1))
    earlier = today.filter(client=client).first()
    if earlier is not None:
        return earlier
    if today.count() >= DAILY_CAP_PER_RESOURCE:
        raise DailyCapReached(resource_id)
    report = ProblemReport.objects.create(
        resource=resource,
        kind=kind,
        client=client,
        comment=comment.strip()[:MAX_COMMENT_LENGTH],
        new_url=new_url if kind == ProblemKind.MOVED else "",
    )
    if kind in RECHECK_KINDS and _first_in_period(resource.pk):
        enqueue.enqueue_checks([resource.pk], source=CheckSource.MANUAL)
        report.check_queued_at = now
        report.save(update_fields=["check_queued_at"])
    return report


def _first_in_period(resource_id: int) -> bool:
    # cache.add is atomic (SET NX on Redis): of many reports at once, exactly one wins.
    key = f"feedback:recheck:{resource_id}"
    return cache.add(key, 1, timeout=int(RECHECK_PERIOD.total_seconds()))


def decide_reports(reports: Iterable[ProblemReport], *, status: str, user) -> int:
    """A curator resolves or dismisses reports; returns how many changed."""
    ids = [report.pk for report in reports]
    return (
        ProblemReport.objects.filter(pk__in=ids)
        .exclude(status=status)
        .update(status=status, decided_at=timezone.now(), decided_by=user)
    )
