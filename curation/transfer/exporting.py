"""Reading the catalogue for export: outlines and rows, in the formats' own order."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, TextIO

from django.db.models import Prefetch
from django.utils import timezone

from curation.models import Collection, CollectionItem, Resource, Topic
from curation.transfer.csvfile import write_csv
from curation.transfer.fields import resource_cells
from curation.transfer.history import history_rows
from curation.transfer.jsonfile import FORMAT_NAME, VERSION
from curation.transfer.markdown import render_markdown
from curation.transfer.netscape import render_netscape

EXPORT_CHUNK = 2000
EXPORTED_FIELDS = (
    "id", "url", "title", "description", "kind", "difficulty", "author", "publisher",
    "language", "duration_minutes", "cost", "curator_note", "featured", "status", "created_at",
)  # fmt: skip


def collection_outline(collection: Collection) -> dict:
    """The collection as plain data: title, intro, sections with their items in order."""
    sections = collection.sections.prefetch_related(
        Prefetch("items", queryset=CollectionItem.objects.select_related("resource"))
    )
    return {
        "slug": collection.slug,
        "title": collection.title,
        "intro": collection.intro,
        "sections": [
            {
                "title": section.title,
                "intro": section.intro,
                "items": [
                    {
                        "title": item.resource.title,
                        "url": item.resource.url,
                        "note": item.note,
                        "required": item.required,
                    }
                    for item in section.items.all()
                ],
            }
            for section in sections
        ],
    }


def export_markdown(collection: Collection) -> str:
    return render_markdown(collection_outline(collection))


# --- The whole catalogue, or one collection's resources ------------------------------------------


def _resources(collection: Collection | None):
    resources = Resource.objects.order_by("id")
    if collection is not None:
        resources = resources.filter(collection_items__section__collection=collection).distinct()
    return resources


def _topic_slugs(resource_ids: list[int] | None) -> dict[int, list[str]]:
    through = Resource.topics.through.objects.order_by("topic__slug")
    if resource_ids is not None:
        through = through.filter(resource_id__in=resource_ids)
    slugs: dict[int, list[str]] = {}
    for resource_id, slug in through.values_list("resource_id", "topic__slug").iterator(
        chunk_size=EXPORT_CHUNK
    ):
        slugs.setdefault(resource_id, []).append(slug)
    return slugs


def resource_rows(collection: Collection | None = None) -> Iterator[dict[str, Any]]:
    """Each resource as named values (fields.resource_cells), in id order, read in chunks."""
    resources = _resources(collection)
    ids = list(resources.values_list("id", flat=True)) if collection is not None else None
    slugs = _topic_slugs(ids)
    for resource in resources.only(*EXPORTED_FIELDS).iterator(chunk_size=EXPORT_CHUNK):
        yield resource_cells(resource, slugs.get(resource.pk, []))


def topic_rows() -> list[dict[str, Any]]:
    """Every topic by slug, with its parent and prerequisites by slug (the importer saves
    parents first, whatever the order)."""
    ordered = Topic.objects.select_related("parent").prefetch_related("prerequisites")
    return [
        {
            "slug": topic.slug,
            "name": topic.name,
            "description": topic.description,
            "parent": topic.parent.slug if topic.parent else None,
            "prerequisites": sorted(p.slug for p in topic.prerequisites.all()),
        }
        for topic in ordered.order_by("slug")
    ]


def collection_rows(collection: Collection | None = None) -> list[dict[str, Any]]:
    collections = [collection] if collection is not None else Collection.objects.order_by("slug")
    rows = []
    for each in collections:
        outline = collection_outline(each)
        for section in outline["sections"]:
            for item in section["items"]:
                del item["title"]
        rows.append(
            {
                **outline,
                "status": each.status,
                "author_name": each.author_name,
                "published_on": each.published_on.isoformat() if each.published_on else None,
            }
        )
    return rows


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


def write_json(
    stream: TextIO, *, collection: Collection | None = None, with_history: bool = False
) -> None:
    """The catalogue (or one collection with its resources) as a JSON backup; with_history
    adds each resource's health, checks and transitions (history.py)."""
    document: dict[str, Any] = {
        "format": FORMAT_NAME,
        "version": VERSION,
        "exported_at": timezone.now().isoformat(),
        "topics": topic_rows(),
        "resources": list(resource_rows(collection)),
        "collections": collection_rows(collection),
    }
    if with_history:
        document["health"] = history_rows(_resources(collection))
    json.dump(document, stream, ensure_ascii=False, indent=1)
    stream.write("\n")


def export_csv(stream: TextIO, *, collection: Collection | None = None) -> int:
    return write_csv(stream, resource_rows(collection))


def _unix(moment) -> int | None:
    return int(moment.timestamp()) if moment else None


def export_netscape(collection: Collection | None = None) -> str:
    """A bookmark file: a collection's sections as folders (notes as <DD>), or every
    resource at the root (its curator note as <DD>); topics as TAGS, created_at as ADD_DATE."""
    if collection is None:
        entries = [
            {"url": row["url"], "title": row["title"], "note": row["curator_note"],
             "add_date": _unix(_moment(row["created_at"])), "tags": row["topics"]}
            for row in resource_rows()
        ]  # fmt: skip
        return render_netscape("Bookmarks", [(None, entries)])
    items = CollectionItem.objects.filter(section__collection=collection)
    slugs = _topic_slugs(list(items.values_list("resource_id", flat=True)))
    folders = []
    for section in collection.sections.prefetch_related(
        Prefetch("items", queryset=CollectionItem.objects.select_related("resource"))
    ):
        entries = [
            {"url": item.resource.url, "title": item.resource.title, "note": item.note,
             "add_date": _unix(item.resource.created_at),
             "tags": slugs.get(item.resource_id, [])}
            for item in section.items.all()
        ]  # fmt: skip
        folders.append((section.title, entries))
    return render_netscape(collection.title, folders)


def _moment(text: str | None):
    from django.utils.dateparse import parse_datetime

    return parse_datetime(text) if text else None
