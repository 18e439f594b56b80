"""Work handed to the workers: task names, and sending by name once the transaction commits.

Services never import tasks (the tasks import the services); they enqueue through here. A
message is published only after the transaction that made the work commits, so a worker never
looks for a row that was rolled back. If the broker is unreachable nothing is lost: what is
not checked stays due, and the dispatchers pick it up on their next run.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from curation.models import CheckSource, HealthState, HealthTransition, Resource

logger = logging.getLogger(__name__)

# Task names: stable whatever the modules are called, since django-celery-beat stores them.
CHECK_RESOURCES = "curation.check_resources"
REFRESH_METADATA = "curation.refresh_metadata"
DISPATCH_DUE_CHECKS = "curation.dispatch_due_checks"
DISPATCH_DUE_METADATA = "curation.dispatch_due_metadata"
PRUNE_CHECKS = "curation.prune_checks"
GENERATE_LINK_REPORT = "curation.generate_link_report"
RUN_IMPORT_JOB = "curation.run_import_job"
SWEEP_IMPORT_JOBS = "curation.sweep_import_jobs"
DELIVER_WEBHOOK = "curation.deliver_webhook"
SWEEP_WEBHOOK_DELIVERIES = "curation.sweep_webhook_deliveries"
LOOK_UP_ARCHIVED_COPY = "curation.look_up_archived_copy"
CAPTURE_IN_ARCHIVE = "curation.capture_in_archive"
# The health changes worth an archived copy: the link fails, or its page is elsewhere now.
ARCHIVE_LOOKUP_STATES = frozenset({HealthState.SUSPECT, HealthState.BROKEN, HealthState.MOVED})


def new_token() -> str:
    """A dispatch token: a check task records each (resource, token) once, however delivered."""
    return uuid.uuid4().hex


def send(name: str, **kwargs: Any) -> None:
    """Publish task `name` now (by name: the caller need not import the task's module)."""
    current_app.signature(name, kwargs=kwargs).apply_async()


def send_on_commit(name: str, **kwargs: Any) -> None:
    """Publish task `name` once the current transaction commits (at once outside one)."""

    def publish() -> None:
        try:
            send(name, **kwargs)
        except Exception:
            # The row is committed and stays due: the dispatcher will find it.
            logger.exception("could not enqueue %s %s", name, kwargs)

    transaction.on_commit(publish)


def check_batch(items: list[tuple[int, str]], *, source: str, dispatched_at: str | None) -> None:
    """Publish one check task for these (resource id, token) pairs, now."""
    send(CHECK_RESOURCES, items=items, dispatched_at=dispatched_at, source=source)


def enqueue_checks(resource_ids: Iterable[int], *, source: str = CheckSource.MANUAL) -> int:
    """ "Check now": enqueue checks of these resources after the transaction commits."""
    ids = _existing(resource_ids)
    size = settings.MONITOR_BATCH_SIZE
    for start in range(0, len(ids), size):
        items = [(pk, new_token()) for pk in ids[start : start + size]]
        send_on_commit(CHECK_RESOURCES, items=items, dispatched_at=None, source=source)
    return len(ids)


def enqueue_metadata_refresh(resource_ids: Iterable[int]) -> int:
    """Enqueue a metadata refresh of each resource after the transaction commits."""
    ids = _existing(resource_ids)
    for pk in ids:
        send_on_commit(REFRESH_METADATA, resource_id=pk)
    return len(ids)


def enqueue_new_address_work(resource_id: int) -> None:
    """A resource was added, or its address changed: check it and describe it right away."""
    items = [(resource_id, new_token())]
    dispatched_at = timezone.now().isoformat()
    send_on_commit(
        CHECK_RESOURCES, items=items, dispatched_at=dispatched_at, source=CheckSource.SCHEDULED
    )
    send_on_commit(REFRESH_METADATA, resource_id=resource_id)


def enqueue_archive_lookups(transitions: Iterable[HealthTransition]) -> None:
    """For each transition to suspect, broken or moved, look up the resource's archived copy,
    once, after the recording transaction commits (never a request inside it). Off with
    ARCHIVE_LOOKUP."""
    if not settings.ARCHIVE_LOOKUP:
        return
    for transition in transitions:
        if transition.to_state in ARCHIVE_LOOKUP_STATES:
            send_on_commit(LOOK_UP_ARCHIVED_COPY, transition_id=transition.pk)


def enqueue_archive_capture(resource_id: int) -> None:
    """A resource was added: ask the archive to capture it, if ARCHIVE_SAVE_ON_CREATE is on."""
    if settings.ARCHIVE_SAVE_ON_CREATE:
        send_on_commit(CAPTURE_IN_ARCHIVE, resource_id=resource_id)


def _existing(resource_ids: Iterable[int]) -> list[int]:
    return list(Resource.objects.filter(pk__in=list(resource_ids)).values_list("pk", flat=True))
