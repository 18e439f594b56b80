"""Generating a period's report exactly once.

A report is claimed through LinkReport's UNIQUE(period_start, period_end): the first insert
wins, and a failed or abandoned claim is taken over with a conditional UPDATE, so of two
workers taking it over exactly one succeeds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from curation.models import LinkReport, ReportStatus
from curation.reports.build import build_report_data
from curation.reports.periods import Period, current_period
from curation.webhooks import events as webhook_events

logger = logging.getLogger(__name__)


class ReportAlreadyClaimed(Exception):
    """Another worker holds the claim on this period's report."""


@dataclass
class GenerationResult:
    report: LinkReport
    created: bool


def claim_report(period: Period, *, now: datetime | None = None) -> LinkReport | None:
    """Claim the report row for `period`, or return None when it is not ours to generate.

    Not ours: it is ready, or another worker claimed it less than REPORT_CLAIM_TIMEOUT
    seconds ago. A failed report, or a claim abandoned by a dead worker, is taken over with a
    conditional UPDATE so that of two workers taking it over, exactly one succeeds.
    """
    now = now or timezone.now()
    try:
        with transaction.atomic():
            return LinkReport.objects.create(
                period_start=period.start,
                period_end=period.end,
                status=ReportStatus.CLAIMED,
                claimed_at=now,
            )
    except IntegrityError:
        pass
    stale_before = now - timedelta(seconds=settings.REPORT_CLAIM_TIMEOUT)
    rows = LinkReport.objects.filter(period_start=period.start, period_end=period.end)
    taken_over = rows.filter(
        Q(status=ReportStatus.FAILED)
        | Q(status=ReportStatus.CLAIMED, claimed_at__lt=stale_before)
        | Q(status=ReportStatus.CLAIMED, claimed_at__isnull=True)
    ).update(status=ReportStatus.CLAIMED, claimed_at=now, error="")
    if taken_over != 1:
        return None
    return rows.get()


def generate_link_report(
    *, period: Period | None = None, now: datetime | None = None
) -> GenerationResult:
    """Generate the report for `period` (default: the current one) exactly once.

    Returns the report and whether this call generated it. When the report exists (ready, or
    being generated elsewhere) the existing row is returned with created=False. A failure
    marks the row failed, with the error, and re-raises; the next trigger retries it.
    """
    now = now or timezone.now()
    period = period or current_period(now)
    report = claim_report(period, now=now)
    if report is None:
        existing = LinkReport.objects.get(period_start=period.start, period_end=period.end)
        return GenerationResult(report=existing, created=False)
    claimed_at = report.claimed_at
    try:
        data = build_report_data(period, now=now, exclude_report_id=report.pk)
    except Exception as exc:
        LinkReport.objects.filter(pk=report.pk, claimed_at=claimed_at).update(
            status=ReportStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        raise
    # Conditional on our claim: a worker that lost its claim (it took longer than the
    # timeout and someone took over) must not overwrite the other's result.
    with transaction.atomic():
        saved = LinkReport.objects.filter(
            pk=report.pk, status=ReportStatus.CLAIMED, claimed_at=claimed_at
        ).update(status=ReportStatus.READY, data=data, generated_at=timezone.now(), error="")
        report.refresh_from_db()
        if saved == 1:
            webhook_events.emit_report_generated(report)
    if saved != 1:
        logger.warning("link report %s was taken over while generating; kept theirs", report.pk)
        return GenerationResult(report=report, created=False)
    return GenerationResult(report=report, created=True)
