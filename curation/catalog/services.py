"""Writes and workflows for resources, topics and collections.

Every function here is what a view, the admin, a command or a task calls to change the
catalogue: they validate, write in one transaction, and raise domain errors that callers
map to HTTP or form errors in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from curation import enqueue
from curation.catalog.topics import prerequisite_cycle_error
from curation.checker.urlnorm import InvalidURL, normalize_url
from curation.models import (
    Collection,
    CollectionItem,
    CollectionSection,
    PublicationStatus,
    Resource,
    Topic,
)
from curation.webhooks import events as webhook_events


class DuplicateResource(Exception):
    """The URL is already in the catalogue, under another resource."""

    def __init__(self, existing: Resource):
        self.existing = existing
        super().__init__(
            f"This URL is already in the catalogue as “{existing.title}” (resource #{existing.pk})."
        )


def normalized_or_error(url: str, *, field: str = "url") -> str:
    try:
        return normalize_url(url)
    except InvalidURL as exc:
        raise ValidationError({field: str(exc)}) from None


def find_duplicate(url: str, *, exclude_id: int | None = None) -> Resource | None:
    normalized = normalized_or_error(url)
    found = Resource.objects.filter(normalized_url=normalized)
    if exclude_id is not None:
        found = found.exclude(pk=exclude_id)
    return found.first()


RESOURCE_WRITABLE_FIELDS = frozenset(
    {
        "url", "title", "description", "kind", "difficulty", "author", "publisher",
        "language", "duration_minutes", "cost", "curator_note", "featured", "status",
    }
)  # fmt: skip


@transaction.atomic
def create_resource(*, created_by=None, topics: Iterable[Topic] = (), **fields: Any) -> Resource:
    """Create a resource, or raise DuplicateResource / ValidationError.

    Two concurrent inserts of the same URL leave one row: the unique constraint on the
    normalized URL decides, and the loser gets DuplicateResource naming the winner.
    """
    unknown = set(fields) - RESOURCE_WRITABLE_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be set." for name in sorted(unknown)})
    resource = Resource(created_by=created_by, **fields)
    resource.normalized_url = normalized_or_error(resource.url)
    existing = Resource.objects.filter(normalized_url=resource.normalized_url).first()
    if existing is not None:
        raise DuplicateResource(existing)
    resource.full_clean(exclude=["normalized_url"])
    try:
        with transaction.atomic():
            resource.save()
    except IntegrityError:
        existing = Resource.objects.filter(normalized_url=resource.normalized_url).first()
        if existing is None:
            raise
        raise DuplicateResource(existing) from None
    resource.topics.set(topics)
    # Checked and described without anyone asking, once the row is committed.
    enqueue.enqueue_new_address_work(resource.pk)
    enqueue.enqueue_archive_capture(resource.pk)
    webhook_events.emit_resource_created(resource)
    return resource


@transaction.atomic
def update_resource(
    resource: Resource, *, topics: Iterable[Topic] | None = None, **fields: Any
) -> Resource:
    """Update curated fields; a changed URL is re-normalized and checked for duplicates."""
    unknown = set(fields) - RESOURCE_WRITABLE_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be set." for name in sorted(unknown)})
    url_changed = "url" in fields and fields["url"] != resource.url
    changed = [name for name, value in fields.items() if getattr(resource, name) != value]
    for name, value in fields.items():
        setattr(resource, name, value)
    if url_changed:
        resource.normalized_url = normalized_or_error(resource.url)
        existing = find_duplicate(resource.url, exclude_id=resource.pk)
        if existing is not None:
            raise DuplicateResource(existing)
        # A new address has a new health history: check it soon.
        resource.next_check_at = None
    resource.full_clean(exclude=["normalized_url"])
    try:
        with transaction.atomic():
            resource.save()
    except IntegrityError:
        existing = find_duplicate(resource.url, exclude_id=resource.pk)
        if existing is None:
            raise
        raise DuplicateResource(existing) from None
    if topics is not None:
        topics = list(topics)
        before = set(resource.topics.values_list("pk", flat=True))
        resource.topics.set(topics)
        if before != {t.pk for t in topics}:
            changed.append("topics")
    if url_changed:
        enqueue.enqueue_new_address_work(resource.pk)
    webhook_events.emit_resource_updated(resource, changed)
    return resource


def set_resources_status(resource_ids: Iterable[int], *, status: str) -> int:
    """Publish, unpublish or archive many resources at once; returns how many changed."""
    if status not in PublicationStatus.values:
        raise ValidationError({"status": f"Unknown status {status!r}."})
    return _set_many(resource_ids, "status", status)


def set_resources_difficulty(resource_ids: Iterable[int], *, difficulty: int) -> int:
    return _set_many(resource_ids, "difficulty", difficulty)


@transaction.atomic
def _set_many(resource_ids: Iterable[int], field: str, value: Any) -> int:
    query = Resource.objects.filter(pk__in=list(resource_ids)).exclude(**{field: value})
    ids = list(query.values_list("pk", flat=True))
    changed = query.filter(pk__in=ids).update(**{field: value, "updated_at": timezone.now()})
    webhook_events.emit_resources_updated(Resource.objects.filter(pk__in=ids), [field])
    return changed


def archive_resource(resource: Resource) -> Resource:
    """Set a resource's status to archived (a `resource.updated` event, not `resource.archived`,
    which is about an archived copy of its page)."""
    was = resource.status
    resource.status = PublicationStatus.ARCHIVED
    with transaction.atomic():
        resource.save(update_fields=["status", "updated_at"])
        if was != resource.status:
            webhook_events.emit_resource_updated(resource, ["status"])
    return resource


@transaction.atomic
def save_topic(topic: Topic, *, prerequisites: Iterable[Topic] | None = None) -> Topic:
    """Save a topic, refusing any cycle in the tree (Topic.clean) or in the prerequisites."""
    topic.full_clean()
    topic.save()
    if prerequisites is not None:
        chosen = list(prerequisites)
        error = prerequisite_cycle_error(topic, chosen)
        if error:
            raise ValidationError({"prerequisites": error})
        topic.prerequisites.set(chosen)
    return topic


def validate_collection_item(item: CollectionItem) -> None:
    if item.resource_id and item.resource.status == PublicationStatus.ARCHIVED:
        raise ValidationError({"resource": "An archived resource cannot be added to a list."})


@transaction.atomic
def reorder_section_items(section: CollectionSection, *, item_ids: list[int]) -> None:
    """Give the section's items the order of `item_ids`, which must name each item once."""
    current = set(section.items.values_list("id", flat=True))
    if set(item_ids) != current or len(item_ids) != len(current):
        raise ValidationError({"items": "The new order must list every item of the section once."})
    for position, item_id in enumerate(item_ids, start=1):
        CollectionItem.objects.filter(pk=item_id).update(position=position)


def publish_collection(collection: Collection) -> Collection:
    was = _stored_status(collection)
    collection.status = PublicationStatus.PUBLISHED
    with transaction.atomic():
        collection.save(update_fields=["status", "updated_at"])
        _emit_if_published(collection, was)
    return collection


def _stored_status(collection: Collection) -> str | None:
    if collection.pk is None:
        return None
    return Collection.objects.filter(pk=collection.pk).values_list("status", flat=True).first()


def _emit_if_published(collection: Collection, was: str | None) -> None:
    """`collection.published` when a collection becomes published (not on every save)."""
    if collection.status == PublicationStatus.PUBLISHED and was != PublicationStatus.PUBLISHED:
        webhook_events.emit_collection_published(collection)


def archive_collection(collection: Collection) -> Collection:
    collection.status = PublicationStatus.ARCHIVED
    collection.save(update_fields=["status", "updated_at"])
    return collection


def _outline_errors(sections: list[dict[str, Any]]) -> dict[str, str]:
    """Every problem of an outline, by dotted field name; empty when it can be saved.

    Callers may send partial sections (a PATCH validates only the fields present), so a
    missing title or resource is reported here rather than failing as a KeyError.
    """
    errors: dict[str, str] = {}
    for s_index, section in enumerate(sections):
        title = section.get("title")
        if title is None:
            errors[f"sections.{s_index}.title"] = "This field is required."
        elif not str(title).strip():
            errors[f"sections.{s_index}.title"] = "This field may not be blank."
        seen: set[int] = set()
        for i_index, item in enumerate(section.get("items", ())):
            where = f"sections.{s_index}.items.{i_index}.resource"
            resource = item.get("resource")
            if resource is None:
                errors[where] = "This field is required."
            elif resource.status == PublicationStatus.ARCHIVED:
                errors[where] = "An archived resource cannot be added to a list."
            elif resource.pk in seen:
                errors[where] = "This resource is already in this section."
            else:
                seen.add(resource.pk)
    return errors


@transaction.atomic
def save_collection(
    collection: Collection, *, sections: list[dict[str, Any]] | None = None
) -> Collection:
    """Save a collection; `sections`, when given, replaces its whole outline in that order.

    Each section is {"title", "intro", "items": [{"resource", "note", "required"}]}; a
    section's title and an item's resource are required. Raises ValidationError naming
    each field at fault (e.g. "sections.0.title", "sections.1.items.0.resource": missing,
    archived, or listed twice in one section) before anything is written.
    """
    if sections is not None:
        errors = _outline_errors(sections)
        if errors:
            raise ValidationError(errors)
    collection.full_clean()
    was = _stored_status(collection)
    collection.save()
    _emit_if_published(collection, was)
    if sections is None:
        return collection
    collection.sections.all().delete()
    for s_position, section in enumerate(sections, start=1):
        created = CollectionSection.objects.create(
            collection=collection,
            title=section["title"],
            intro=section.get("intro", ""),
            position=s_position,
        )
        CollectionItem.objects.bulk_create(
            CollectionItem(
                section=created,
                resource=item["resource"],
                note=item.get("note", ""),
                required=item.get("required", True),
                position=i_position,
            )
            for i_position, item in enumerate(section.get("items", ()), start=1)
        )
    # The outline changed even if the collection's own fields did not: bump updated_at so
    # ETag/Last-Modified and incremental readers see it.
    Collection.objects.filter(pk=collection.pk).update(updated_at=timezone.now())
    return collection


# --- Many resources at once (imports) ------------------------------------------------------------

# Up to this many new resources are checked and described at once, as create_resource does;
# past it they are left due (next_check_at and metadata_next_fetch_at empty) for the
# dispatchers, which claim them in polite batches instead of a burst of messages.
NEW_WORK_AT_ONCE = 500
BULK_BATCH_SIZE = 1000


def build_resource(
    *, created_by=None, normalized_url: str | None = None, **fields: Any
) -> Resource:
    """An unsaved resource, validated exactly as create_resource validates one.

    Raises ValidationError (field by field) for an unknown field, a bad URL or a bad value.
    `normalized_url`, when the caller already has normalize_url's answer for this URL, saves
    computing it twice. Duplicates are not looked up here: create_resources_in_bulk checks a
    whole batch at once.
    """
    unknown = set(fields) - RESOURCE_WRITABLE_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be set." for name in sorted(unknown)})
    resource = Resource(created_by=created_by, **fields)
    resource.normalized_url = normalized_url or normalized_or_error(resource.url)
    # Resource has no unique field but normalized_url, checked in bulk by the caller.
    resource.full_clean(exclude=["normalized_url"], validate_unique=False)
    return resource


def existing_by_normalized_url(normalized: Iterable[str]) -> dict[str, Resource]:
    """The catalogue's resources for these normalized URLs, keyed by them (chunked queries)."""
    wanted = list(dict.fromkeys(normalized))
    found: dict[str, Resource] = {}
    for start in range(0, len(wanted), BULK_BATCH_SIZE):
        chunk = wanted[start : start + BULK_BATCH_SIZE]
        for resource in Resource.objects.filter(normalized_url__in=chunk).only(
            "id", "title", "url", "normalized_url", "status"
        ):
            found[resource.normalized_url] = resource
    return found


@transaction.atomic
def create_resources_in_bulk(
    entries: list[tuple[Resource, list[Topic]]],
    *,
    created_at: dict[int, Any] | None = None,
    queue_work: bool | None = None,
) -> list[Resource]:
    """Insert resources made by build_resource, with their topics, in a few statements.

    The same rules as create_resource: an address already in the catalogue raises
    DuplicateResource naming it (nothing is written), and each new resource is queued for
    its first check and metadata fetch after commit (queue_work=None: up to
    NEW_WORK_AT_ONCE of them, the rest left due for the dispatchers; False: the caller
    decides, with queue_first_work, once it knows how many there are). `created_at` maps an
    entry's index to the moment the source says it was added (a bookmark's ADD_DATE).
    """
    resources = [resource for resource, _ in entries]
    seen: set[str] = set()
    for resource in resources:
        if resource.normalized_url in seen:
            raise ValidationError({"url": f"{resource.url} is listed twice."})
        seen.add(resource.normalized_url)
    existing = existing_by_normalized_url(seen)
    if existing:
        raise DuplicateResource(next(iter(existing.values())))
    Resource.objects.bulk_create(resources, batch_size=BULK_BATCH_SIZE)
    links = [
        Resource.topics.through(resource_id=resource.pk, topic_id=topic.pk)
        for resource, topics in entries
        for topic in topics
    ]
    Resource.topics.through.objects.bulk_create(links, batch_size=BULK_BATCH_SIZE)
    if created_at:
        dated = []
        for index, moment in created_at.items():
            resources[index].created_at = moment
            dated.append(resources[index])
        Resource.objects.bulk_update(dated, ["created_at"], batch_size=BULK_BATCH_SIZE)
    if queue_work is None and len(resources) <= NEW_WORK_AT_ONCE:
        queue_first_work([resource.pk for resource in resources])
    webhook_events.emit_resources_created(resources)
    return resources


def queue_first_work(resource_ids: Iterable[int]) -> None:
    """Queue new resources' first check and metadata fetch after commit, as create_resource does."""
    for resource_id in resource_ids:
        enqueue.enqueue_new_address_work(resource_id)
        enqueue.enqueue_archive_capture(resource_id)
