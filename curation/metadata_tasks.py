"""The beat-driven metadata dispatch (the per-resource task is
`curation.tasks.refresh_metadata_task`; the schedule is in curation/schedules.py)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from curation import metadata_service
from curation.schedules import DefaultSchedule, ensure_schedule

DISPATCH_TASK_NAME = "curation.dispatch_due_metadata"
METADATA_SCHEDULE = DefaultSchedule(
    name="Refresh page metadata",
    task=DISPATCH_TASK_NAME,
    every_seconds=24 * 3600,
    description=(
        "Daily: refresh the metadata of every resource last fetched more than "
        "METADATA_REFRESH_DAYS (30) days ago."
    ),
)


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
    """Create the daily metadata dispatch if missing; an existing one is left as edited."""
    return ensure_schedule(METADATA_SCHEDULE)
