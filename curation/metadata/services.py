"""Page metadata for resources: fetched values kept apart, curated fields never overwritten.

Fetched values are stored in `Resource.fetched_metadata` with their source and fetch time.
They fill a curated field only when it is blank (or still holds the value an earlier fetch
filled in, untouched since). Where a curator's value differs, a suggestion is recorded for
the curator to accept or dismiss; a decided suggestion is never raised again for the same
value.
"""

from __future__ import annotations

import hashlib
import logging
import random
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from curation.catalog.services import update_resource
from curation.checker.metadata_fetch import MetadataUnavailable, fetch_page_metadata
from curation.checker.metadata_types import PageMetadata
from curation.checker.urlnorm import InvalidURL, normalize_url
from curation.models import (
    Kind,
    MetadataSuggestion,
    PublicationStatus,
    Resource,
    SuggestionStatus,
)
from curation.outbound import checker_config, host_limiter, robots_cache

logger = logging.getLogger(__name__)

# Fetched field -> the curated field it may fill or suggest a change to.
CURATED_FIELDS = {
    "title": "title",
    "description": "description",
    "duration_minutes": "duration_minutes",
    "language": "language",
    "author": "author",
    "site_name": "publisher",
}
# Kept for display and for the API, never copied into a curated field.
REFERENCE_FIELDS = (
    "canonical_url", "image_url", "favicon_url", "og_type", "published", "educational_level",
    "is_free", "kind_hint", "reading_minutes", "content_type",
)  # fmt: skip
TEXT_KINDS = frozenset({Kind.ARTICLE, Kind.TUTORIAL, Kind.DOCUMENTATION})
CLAIM_LEASE = timedelta(hours=1)


def refresh_metadata(resource_id: int) -> list[str] | None:
    """Fetch the resource's page and apply what it says; returns the curated fields changed.

    Returns None when the resource is gone or the page could not be read (the failure is
    recorded on the resource and the fetch retried later). A page its robots.txt keeps the
    checker from reading is such a failure, recorded as "robots.txt disallows ...".
    """
    resource = Resource.objects.filter(pk=resource_id).first()
    if resource is None:
        return None
    config = checker_config()
    now = timezone.now()
    try:
        fetched = fetch_page_metadata(
            resource.url,
            config=config,
            want_body=resource.kind in TEXT_KINDS,
            limiter=host_limiter(config),
            robots_cache=robots_cache(),
        )
    except MetadataUnavailable as exc:
        record_metadata_failure(resource_id, error=str(exc), at=now)
        return None
    return apply_fetched_metadata(
        resource_id, fetched.metadata, fetched_at=now, final_url=fetched.final_url
    )


def record_metadata_failure(resource_id: int, *, error: str, at: datetime) -> None:
    with transaction.atomic():
        resource = Resource.objects.select_for_update().filter(pk=resource_id).first()
        if resource is None:
            return
        resource.fetched_metadata = {
            **resource.fetched_metadata,
            "last_error": {"message": error[:500], "at": at.isoformat()},
        }
        resource.metadata_next_fetch_at = at + timedelta(hours=settings.METADATA_RETRY_HOURS)
        resource.save(update_fields=["fetched_metadata", "metadata_next_fetch_at"])


@transaction.atomic
def apply_fetched_metadata(
    resource_id: int, metadata: PageMetadata, *, fetched_at: datetime, final_url: str = ""
) -> list[str]:
    """Store `metadata` on the resource and fill blank curated fields; returns those filled.

    The row is re-read under a lock so that a curator's edit made while the page was being
    fetched is seen here and kept.
    """
    resource = Resource.objects.select_for_update().get(pk=resource_id)
    stored = dict(resource.fetched_metadata or {})
    stamp = fetched_at.isoformat()
    filled_before: dict[str, Any] = dict(stored.get("filled", {}))
    stored.pop("last_error", None)
    stored.update(fetched_at=stamp, final_url=final_url, rejected_reason=metadata.rejected_reason)
    resource.metadata_fetched_at = fetched_at
    resource.metadata_next_fetch_at = _next_refresh(fetched_at)
    if metadata.rejected:
        # A bot wall or a tag flood says nothing true about the page: keep what we had.
        resource.fetched_metadata = stored
        resource.save(
            update_fields=["fetched_metadata", "metadata_fetched_at", "metadata_next_fetch_at"]
        )
        return []
    values = _fetched_values(metadata, resource.kind)
    stored["fields"] = {
        name: {"value": value, "source": metadata.sources.get(name, ""), "fetched_at": stamp}
        for name, value in values.items()
    }
    changed: list[str] = []
    for fetched_name, curated_name in CURATED_FIELDS.items():
        value = values.get(fetched_name)
        if _blank(value):
            continue
        current = getattr(resource, curated_name)
        ours = filled_before.get(curated_name)
        if _blank(current) or (ours is not None and current == ours and current != value):
            setattr(resource, curated_name, value)
            filled_before[curated_name] = value
            changed.append(curated_name)
        elif _comparable(current) != _comparable(value):
            _suggest(resource, curated_name, current, value, metadata.sources.get(fetched_name))
    canonical = values.get("canonical_url")
    if canonical and _different_address(canonical, resource.normalized_url):
        _suggest(resource, "url", resource.url, canonical, metadata.sources.get("canonical_url"))
    stored["filled"] = filled_before
    resource.fetched_metadata = stored
    resource.save(
        update_fields=[
            *changed, "fetched_metadata", "metadata_fetched_at", "metadata_next_fetch_at",
            "updated_at",
        ]
    )  # fmt: skip
    return changed


def _fetched_values(metadata: PageMetadata, kind: str) -> dict[str, Any]:
    values = {
        name: getattr(metadata, name)
        for name in (*CURATED_FIELDS, *REFERENCE_FIELDS)
        if not _blank(getattr(metadata, name))
    }
    # For text, the time to read it is what a learner needs to plan.
    if "duration_minutes" not in values and kind in TEXT_KINDS and metadata.reading_minutes:
        values["duration_minutes"] = metadata.reading_minutes
        metadata.sources.setdefault("duration_minutes", "reading-time-estimate")
    return values


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _comparable(value: Any) -> Any:
    return " ".join(value.split()).casefold() if isinstance(value, str) else value


def _different_address(candidate: str, normalized: str) -> bool:
    try:
        return normalize_url(candidate) != normalized
    except InvalidURL:
        return False


def _value_hash(value: Any) -> str:
    return hashlib.sha256(str(value).encode("utf-8")).hexdigest()


def _suggest(resource: Resource, field: str, current: Any, value: Any, source: str | None) -> None:
    # One row per (resource, field, value), whatever its status: a value the curator accepted
    # or dismissed is not raised again, however often the page repeats it.
    MetadataSuggestion.objects.get_or_create(
        resource=resource,
        field=field,
        value_hash=_value_hash(value),
        defaults={
            "current_value": "" if current is None else str(current),
            "suggested_value": str(value),
            "source": source or "",
        },
    )


def _next_refresh(fetched_at: datetime) -> datetime:
    days = settings.METADATA_REFRESH_DAYS
    # Jitter spreads a catalogue added in one afternoon over several days of refreshes.
    jitter = random.uniform(0, days * 0.1)
    return fetched_at + timedelta(days=days + jitter)


class SuggestionAlreadyDecided(Exception):
    pass


@transaction.atomic
def accept_suggestion(suggestion_id: int, *, user=None) -> MetadataSuggestion:
    """Apply a pending suggestion to its resource's curated field and mark it accepted.

    Raises SuggestionAlreadyDecided for a suggestion accepted or dismissed before, and the
    services' DuplicateResource / ValidationError when a suggested address is refused.
    """
    suggestion = MetadataSuggestion.objects.select_for_update().get(pk=suggestion_id)
    if suggestion.status != SuggestionStatus.PENDING:
        raise SuggestionAlreadyDecided(f"This suggestion was already {suggestion.status}.")
    resource = Resource.objects.select_for_update().get(pk=suggestion.resource_id)
    value: Any = suggestion.suggested_value
    if suggestion.field == "duration_minutes":
        value = int(value)
    update_resource(resource, **{suggestion.field: value})
    suggestion.status = SuggestionStatus.ACCEPTED
    suggestion.decided_at = timezone.now()
    suggestion.decided_by = user
    suggestion.save(update_fields=["status", "decided_at", "decided_by"])
    return suggestion


def dismiss_suggestion(suggestion_id: int, *, user=None) -> MetadataSuggestion:
    updated = MetadataSuggestion.objects.filter(
        pk=suggestion_id, status=SuggestionStatus.PENDING
    ).update(status=SuggestionStatus.DISMISSED, decided_at=timezone.now(), decided_by=user)
    suggestion = MetadataSuggestion.objects.get(pk=suggestion_id)
    if not updated:
        raise SuggestionAlreadyDecided(f"This suggestion was already {suggestion.status}.")
    return suggestion


def claim_due_metadata(*, now: datetime, limit: int) -> list[int]:
    """Claim up to `limit` resources whose metadata is due; each id is claimed by one caller.

    The claim is a conditional UPDATE on the due time read: two dispatchers racing for a
    row cannot both win it, and a lost claim simply expires after CLAIM_LEASE.
    """
    due = (
        Resource.objects.exclude(status=PublicationStatus.ARCHIVED)
        .filter(metadata_next_fetch_at__lte=now)
        .order_by("metadata_next_fetch_at")
        .values_list("pk", "metadata_next_fetch_at")[:limit]
    )
    never = (
        Resource.objects.exclude(status=PublicationStatus.ARCHIVED)
        .filter(metadata_next_fetch_at__isnull=True)
        .values_list("pk", "metadata_next_fetch_at")[:limit]
    )
    claimed: list[int] = []
    for pk, due_at in [*never, *due][:limit]:
        won = Resource.objects.filter(pk=pk, metadata_next_fetch_at=due_at)
        if due_at is None:
            won = Resource.objects.filter(pk=pk, metadata_next_fetch_at__isnull=True)
        if won.update(metadata_next_fetch_at=now + CLAIM_LEASE) == 1:
            claimed.append(pk)
    return claimed
