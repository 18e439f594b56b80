"""Archived copies: look one up when a link starts failing, record it, switch a resource to it,
and (optionally) ask the archive to capture a page when it is added.

The lookups run in a task (`curation.look_up_archived_copy`), one per health transition to
suspect, broken or moved, never inside the recording transaction. Their results are cached
(the Django cache: Redis when configured), so the second transition of one failure (suspect,
then broken) costs no request, and a resource whose failure already has a verified copy is
not looked up again.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from curation.archive.endpoints import configured_archives
from curation.archive.lookup import (
    ArchiveBusy,
    Found,
    constructed,
    find_snapshot,
    raise_if_busy,
)
from curation.archive.selectors import best_snapshot
from curation.catalog import services as catalog
from curation.checker.errors import CheckerError
from curation.checker.fetch import Deadline, fetch
from curation.checker.guard import build_session
from curation.models import ArchivedSnapshot, HealthTransition, Resource
from curation.outbound import checker_config, host_limiter
from curation.webhooks.events import emit_resource_archived

logger = logging.getLogger(__name__)

CACHE_PREFIX = "archive:lookup:"
SAVE_COUNT_PREFIX = "archive:saves:"
NOTHING = "none"
# Retrying a lookup an archive turned away: its Retry-After, never sooner than this; without
# one, this backoff doubled at each retry.
MIN_RETRY_SECONDS = 1.0
BACKOFF_SECONDS = 60.0


class ArchiveError(Exception):
    """A curator's archive action that cannot be done (shown as a message or a 400)."""


def look_up_archived_copy(
    transition_id: int, *, final_attempt: bool = False
) -> ArchivedSnapshot | None:
    """Find and record the archived copy for one health transition; returns the snapshot.

    Returns None when the transition or its resource is gone, when the resource already
    points at an archived copy, or when no archive has (or could construct) a copy. A
    verified copy already found during the same failure is returned as it is, with no
    request. Raises ArchiveBusy when an archive asks us to wait, unless `final_attempt`:
    then the constructed (unverified) address is recorded, so that nothing is lost.
    """
    transition = HealthTransition.objects.select_related("resource").filter(pk=transition_id)
    transition = transition.first()
    if transition is None:
        return None
    existing = ArchivedSnapshot.objects.filter(transition_id=transition_id).first()
    if existing is not None:
        return existing
    resource = transition.resource
    if resource.original_url:
        return None  # Its address is already an archived copy: nothing older to look for.
    before = failing_since(resource, transition)
    same_failure = (
        ArchivedSnapshot.objects.filter(resource=resource, verified=True, looked_up_at__gte=before)
        .order_by("-looked_up_at", "-id")
        .first()
    )
    if same_failure is not None:
        return same_failure
    archives = configured_archives()
    found = _cached(resource.url, before, archives)
    if found is None:
        try:
            found = _ask_archives(resource.url, before, archives)
        except ArchiveBusy as exc:
            if not final_attempt:
                raise
            logger.warning("archives busy for %s after every retry: %s", resource.url, exc)
            found = constructed(resource.url, before=before, archives=archives)
    if found == NOTHING:
        # Every archive said it holds nothing (remembered): the constructed address, unverified.
        found = constructed(resource.url, before=before, archives=archives)
    if found is None:
        return None
    return record_snapshot(resource.pk, found, transition_id=transition_id)


def failing_since(resource: Resource, transition: HealthTransition) -> datetime:
    """The moment the copy should come from before: the failure's first check, or the
    transition itself (a move, which is no failure)."""
    first = resource.first_failure_at
    if first is not None and first <= transition.at:
        return first
    return transition.at


def _cache_key(url: str, before: datetime, archives) -> str:
    names = "|".join(a.name for a in archives)
    # Per day: one lookup for the suspect and broken transitions of one failure.
    text = f"{names}\n{before:%Y%m%d}\n{url}"
    return CACHE_PREFIX + hashlib.sha256(text.encode()).hexdigest()


def _cached(url: str, before: datetime, archives) -> Found | str | None:
    try:
        value = cache.get(_cache_key(url, before, archives))
    except Exception as exc:  # The cache (Redis) being down costs a lookup, nothing more.
        logger.warning("archive lookup cache unavailable: %s", exc)
        return None
    if value == NOTHING:
        return NOTHING
    if not isinstance(value, dict):
        return None
    captured = value.get("captured_at")
    return Found(
        archive=value["archive"],
        url=value["url"],
        captured_at=datetime.fromisoformat(captured) if captured else None,
        found_by=value["found_by"],
        verified=value["verified"],
    )


def _ask_archives(url: str, before: datetime, archives) -> Found | str | None:
    config = checker_config()
    session = build_session(config)
    try:
        lookup = find_snapshot(
            url,
            before=before,
            archives=archives,
            config=config,
            session=session,
            limiter=host_limiter(config),
        )
    finally:
        session.close()
    key = _cache_key(url, before, archives)
    ttl = int(settings.ARCHIVE_CACHE_HOURS * 3600)
    if lookup.found is not None:
        _remember(key, _cache_value(lookup.found), ttl)
        return lookup.found
    if not lookup.failures:
        # Every archive answered that it holds nothing: remember that, and say so with the
        # constructed address (the archive may capture the page later).
        _remember(key, NOTHING, ttl)
    else:
        logger.info("archive lookup of %s failed: %s", url, "; ".join(lookup.failures))
    return constructed(url, before=before, archives=archives)


def _remember(key: str, value: Any, ttl: int) -> None:
    try:
        cache.set(key, value, ttl)
    except Exception as exc:
        logger.warning("archive lookup cache unavailable, answer not kept: %s", exc)


def _cache_value(found: Found) -> dict[str, Any]:
    return {
        "archive": found.archive,
        "url": found.url,
        "captured_at": found.captured_at.isoformat() if found.captured_at else None,
        "found_by": found.found_by,
        "verified": found.verified,
    }


def record_snapshot(
    resource_id: int, found: Found, *, transition_id: int | None = None
) -> ArchivedSnapshot | None:
    """Store a copy found for a resource (once per transition) and emit `resource.archived`.

    Returns the stored snapshot (the one already stored for this transition, if any), or
    None when the resource is gone.
    """
    with transaction.atomic():
        resource = Resource.objects.select_for_update().filter(pk=resource_id).first()
        if resource is None:
            return None
        if transition_id is not None:
            existing = ArchivedSnapshot.objects.filter(transition_id=transition_id).first()
            if existing is not None:
                return existing
        snapshot = ArchivedSnapshot.objects.create(
            resource=resource,
            url=found.url,
            captured_at=found.captured_at,
            archive=found.archive[:100],
            found_by=found.found_by,
            verified=found.verified,
            looked_up_at=timezone.now(),
            transition_id=transition_id,
        )
        emit_resource_archived(snapshot)
    return snapshot


def use_archived_copy(resource_id: int, *, snapshot_id: int | None = None) -> Resource:
    """Point a resource at its archived copy (the best one, or `snapshot_id`), keeping the
    address it had in `original_url` (the first one, if it is switched twice).

    The change goes through `update_resource`, like any curator's edit: the new address is
    checked and described at once, and `resource.archived` is emitted with the copy used.
    Raises ArchiveError when there is no such copy or the resource already uses it, and
    DuplicateResource when another resource has that address.
    """
    with transaction.atomic():
        resource = Resource.objects.select_for_update().filter(pk=resource_id).first()
        if resource is None:
            raise ArchiveError(f"There is no resource #{resource_id}.")
        if snapshot_id is not None:
            snapshot = resource.snapshots.filter(pk=snapshot_id).first()
        else:
            snapshot = best_snapshot(resource.pk)
        if snapshot is None:
            raise ArchiveError("This resource has no archived copy to use.")
        if snapshot.url == resource.url:
            raise ArchiveError("This resource already points at its archived copy.")
        if not resource.original_url:
            resource.original_url = resource.url
        updated = catalog.update_resource(resource, url=snapshot.url)
        snapshot.resource = updated
        emit_resource_archived(snapshot)
    return updated


# --- Capture on creation (ARCHIVE_SAVE_ON_CREATE) ------------------------------------------


def capture_in_archive(resource_id: int) -> bool:
    """Ask the first archive that takes captures to save the resource's page now.

    Returns True when the archive accepted the request; False when it is off, the daily cap
    (ARCHIVE_SAVE_DAILY_CAP, counted in the shared cache) is reached, the resource is gone,
    or the request failed. Raises ArchiveBusy on 429/503, for the task to retry later.
    """
    archive = next((a for a in configured_archives() if a.save), None)
    resource = Resource.objects.filter(pk=resource_id).only("url").first()
    if not settings.ARCHIVE_SAVE_ON_CREATE or archive is None or resource is None:
        return False
    if not _take_daily_save():
        logger.info("archive capture of %s skipped: daily cap reached", resource.url)
        return False
    config = checker_config()
    limiter = host_limiter(config)
    address = archive.save_url(resource.url)
    with build_session(config) as session:
        try:
            response = fetch(
                session, address, config=config, max_bytes=0, limiter=limiter,
                deadline=Deadline.within(config.deadline, queue_allowance=config.max_queue_wait),
            )  # fmt: skip
        except CheckerError as exc:
            logger.info("archive capture of %s failed: %s", resource.url, exc)
            return False
    raise_if_busy(address, response, limiter)
    return 200 <= response.status < 400


def _take_daily_save() -> bool:
    key = f"{SAVE_COUNT_PREFIX}{timezone.now():%Y%m%d}"
    try:
        cache.add(key, 0, 2 * 24 * 3600)
        try:
            taken = cache.incr(key)
        except ValueError:  # expired between add and incr: start the day again
            cache.add(key, 1, 2 * 24 * 3600)
            taken = 1
    except Exception as exc:  # Without the shared count the cap cannot be kept: no capture.
        logger.warning("archive capture count unavailable: %s", exc)
        return False
    return taken <= settings.ARCHIVE_SAVE_DAILY_CAP


def retry_countdown(retries: int, retry_after: float | None) -> float:
    """Seconds before retrying a lookup an archive turned away: its Retry-After when it gave
    one (at least a second), else a doubling backoff from a minute; always below half the
    broker's visibility timeout (a longer countdown would have the message delivered twice)."""
    if retry_after is not None:
        wanted = max(retry_after, MIN_RETRY_SECONDS)
    else:
        wanted = BACKOFF_SECONDS * 2 ** min(retries, 10)
    return min(wanted, settings.CELERY_VISIBILITY_TIMEOUT / 2)
