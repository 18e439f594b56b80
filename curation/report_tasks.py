"""The Celery task behind the weekly link report (kept apart from curation/tasks.py)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils.dateparse import parse_datetime

from curation.report_delivery import generate_and_deliver
from curation.reports import period_ending_at

logger = logging.getLogger(__name__)

# The name the django-celery-beat schedule points at: stable whatever the module is called.
REPORT_TASK_NAME = "curation.generate_link_report"


@shared_task(name=REPORT_TASK_NAME, bind=True, max_retries=3, default_retry_delay=300)
def generate_link_report_task(
    self, period_end: str | None = None, email: bool = True
) -> int | None:
    """Generate and email the current period's report (or the one ending at `period_end`).

    A duplicate tick or a redelivered message finds the report claimed or ready and does
    nothing; a failure retries a few times, the row's claim deciding who does the work.
    """
    period = None
    if period_end:
        parsed = parse_datetime(period_end)
        if parsed is None:
            logger.error("generate_link_report_task: bad period_end %r", period_end)
            return None
        period = period_ending_at(parsed)
    try:
        generation, delivery = generate_and_deliver(period=period, email=email)
    except Exception as exc:
        raise self.retry(exc=exc) from exc
    logger.info(
        "link report %s %s; emailed to %s",
        generation.report.pk,
        "generated" if generation.created else "already existed",
        delivery.sent if delivery else 0,
    )
    return generation.report.pk
