"""Celery tasks and the beat schedule for page metadata (the per-resource task is
`curation.tasks.refresh_metadata_task`)."""

from __future__ import annotations

import json

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from curation import metadata_service

DISPATCH_TASK_NAME = "curation.dispatch_due_metadata"
SCHEDULE_NAME = "Refresh page metadata"


@shared_task(name=DISPATCH_TASK_NAME)
def dispatch_due_metadata_task() -> int:
    """Run by beat: claim the resources whose metadata is due and enqueue their refresh."""
    from curation.tasks import refresh_metadata_task

    claimed = metadata_service.claim_due_metadata(
        now=timezone.now(), limit=settings.METADATA_DISPATCH_BATCH
    )
    for resource_id in claimed:
        refresh_metadata_task.delay(resource_id)
    return len(claimed)


def ensure_metadata_schedule() -> bool:
    """Create the daily metadata dispatch in django-celery-beat if missing; True if created.

    An existing entry is left exactly as a curator may have edited it (time, enabled flag).
    """
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    if PeriodicTask.objects.filter(name=SCHEDULE_NAME).exists():
        return False
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="30", hour="3", day_of_week="*", day_of_month="*", month_of_year="*",
        timezone="UTC",
    )  # fmt: skip
    _, created = PeriodicTask.objects.get_or_create(
        name=SCHEDULE_NAME,
        defaults={
            "task": DISPATCH_TASK_NAME,
            "crontab": crontab,
            "kwargs": json.dumps({}),
            "description": (
                "Daily: refresh the metadata of every resource last fetched more than "
                "METADATA_REFRESH_DAYS (30) days ago."
            ),
        },
    )
    return created
