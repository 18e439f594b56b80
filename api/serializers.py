"""Representations of the catalogue: list rows, details, and their shapes for the schema.

Lists are built by plain functions from `.values()` rows (`resource_row`): a ModelSerializer
per row would cost several times the query itself (FIELD-NOTES). The Serializer classes
below describe the same shapes for the OpenAPI schema; what curators send is validated in
api/writes.py.
"""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from curation.archive.selectors import add_archived_copies
from curation.catalog.selectors import RESOURCE_ROW_FIELDS
from curation.models import (
    Cost,
    Difficulty,
    HealthState,
    Kind,
    PublicationStatus,
    Resource,
)

DIFFICULTY_SLUGS = [d.slug for d in Difficulty]
SLUG_BY_DIFFICULTY = {d.value: d.slug for d in Difficulty}
MAX_LOOKUP_URLS = 50
MAX_RECOMMENDATIONS = 50
MAX_ID = 2**63 - 1
# Each excluded id is a query parameter; SQLite allows 32,766 per statement.
MAX_EXCLUDED = 1000
ASCII_NUMBER = re.compile(r"[0-9]+")


def learner_link(url: str, health: str, suggested_url: str) -> str | None:
    """Where to send a learner: the new address of a moved link, nothing for a broken one."""
    if health == HealthState.BROKEN:
        return None
    if health == HealthState.MOVED and suggested_url:
        return suggested_url
    return url


def resource_row(row: dict[str, Any], topics: list[str]) -> dict[str, Any]:
    """A list item from a `.values(*RESOURCE_ROW_FIELDS)` row and its topic slugs, with the
    row's `status` when it was read (curators' lists)."""
    data = {
        "id": row["id"],
        "url": row["url"],
        "link": learner_link(row["url"], row["health"], row["suggested_url"]),
        "suggested_url": row["suggested_url"] or None,
        "title": row["title"],
        "description": row["description"],
        "kind": row["kind"],
        "difficulty": SLUG_BY_DIFFICULTY[row["difficulty"]],
        "topics": topics,
        "author": row["author"],
        "publisher": row["publisher"],
        "language": row["language"],
        "duration_minutes": row["duration_minutes"],
        "cost": row["cost"],
        "curator_note": row["curator_note"],
        "featured": row["featured"],
        "health": row["health"],
        # The page's archived copy, if one was found (read by the views through
        # curation.archive.selectors); `link` stays null for a broken link.
        "archived_url": row.get("archived_url"),
        "archived_at": row.get("archived_at"),
        "last_checked_at": row["last_checked_at"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }
    if "status" in row:
        data["status"] = row["status"]
    return data


def resource_detail(resource: Resource) -> dict[str, Any]:
    """The detail representation of one resource (topics prefetched or fetched here)."""
    row = {name: getattr(resource, name) for name in RESOURCE_ROW_FIELDS}
    add_archived_copies([row])
    topics = sorted(topic.slug for topic in resource.topics.all())
    data = resource_row(row, topics)
    data.update(
        status=resource.status,
        health_changed_at=resource.health_changed_at,
        metadata=resource.fetched_metadata or {},
        metadata_fetched_at=resource.metadata_fetched_at,
        last_reviewed_at=resource.last_reviewed_at,
        created_by=resource.created_by.get_username() if resource.created_by_id else None,
    )
    return data


@extend_schema_field({"type": "string", "enum": DIFFICULTY_SLUGS})
class DifficultyField(serializers.ChoiceField):
    """Difficulty as the API speaks it: "beginner", "intermediate", "advanced"."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=DIFFICULTY_SLUGS, **kwargs)

    def to_internal_value(self, data: Any) -> int:
        return Difficulty.from_slug(super().to_internal_value(data)).value

    def to_representation(self, value: Any) -> str:
        return SLUG_BY_DIFFICULTY.get(value, value)


# --- Read shapes (schema) ------------------------------------------------------------------------


class ResourceSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    url = serializers.URLField(help_text="The address the curator entered.")
    link = serializers.URLField(
        allow_null=True,
        help_text="Where to send a learner: the new address of a moved link; null if broken.",
    )
    suggested_url = serializers.URLField(
        allow_null=True, help_text="For a moved link, the address it moved to."
    )
    title = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    kind = serializers.ChoiceField(choices=Kind.choices)
    difficulty = DifficultyField()
    topics = serializers.ListField(child=serializers.SlugField(), help_text="Topic slugs.")
    author = serializers.CharField(allow_blank=True)
    publisher = serializers.CharField(allow_blank=True)
    language = serializers.CharField(allow_blank=True)
    duration_minutes = serializers.IntegerField(allow_null=True)
    cost = serializers.ChoiceField(choices=Cost.choices)
    curator_note = serializers.CharField(allow_blank=True)
    featured = serializers.BooleanField()
    health = serializers.ChoiceField(choices=HealthState.choices)
    archived_url = serializers.URLField(
        allow_null=True,
        help_text="An archived copy of the page (a web archive's memento), shown beside a "
        "failing link's health; null when none was looked up.",
    )
    archived_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When the archive captured that copy; null for an unverified, constructed "
        "address (or no copy).",
    )
    last_checked_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    status = serializers.ChoiceField(
        choices=PublicationStatus.choices,
        required=False,
        help_text="In curators' lists only, which also hold drafts and archived resources.",
    )


class ResourceDetailSerializer(ResourceSerializer):
    status = serializers.ChoiceField(choices=PublicationStatus.choices)
    health_changed_at = serializers.DateTimeField(allow_null=True)
    metadata = serializers.DictField(help_text="Metadata fetched from the page, by field.")
    metadata_fetched_at = serializers.DateTimeField(allow_null=True)
    last_reviewed_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When a curator last confirmed it is still worth recommending; null if never.",
    )
    created_by = serializers.CharField(allow_null=True)


class ErrorItemSerializer(serializers.Serializer):
    field = serializers.CharField(allow_null=True)
    code = serializers.CharField()
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = ErrorItemSerializer(many=True)


class DuplicateErrorSerializer(ErrorSerializer):
    existing = ResourceDetailSerializer()


class QueuedSerializer(serializers.Serializer):
    queued = serializers.IntegerField(help_text="How many tasks were enqueued.")


class LookupResourceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    url = serializers.URLField()
    status = serializers.ChoiceField(choices=PublicationStatus.choices)
    health = serializers.ChoiceField(choices=HealthState.choices)
    link = serializers.URLField(allow_null=True)


class LookupItemSerializer(serializers.Serializer):
    url = serializers.CharField(help_text="The address as asked.")
    normalized_url = serializers.CharField(allow_null=True)
    found = serializers.BooleanField()
    resource = LookupResourceSerializer(allow_null=True)
    error = serializers.CharField(allow_null=True, help_text="Why the address is invalid.")


class LookupSerializer(serializers.Serializer):
    results = LookupItemSerializer(many=True)


class TopicRefSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()


class TopicSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.SlugField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    parent = serializers.SlugField(allow_null=True)
    depth = serializers.IntegerField(help_text="0 for a root topic.")
    children = serializers.ListField(child=serializers.SlugField())
    prerequisites = serializers.ListField(child=serializers.SlugField())
    resource_count = serializers.IntegerField(
        help_text="Published, not broken resources tagged with this topic itself."
    )


class TopicDetailSerializer(TopicSerializer):
    ancestors = TopicRefSerializer(many=True, help_text="From the root down to the parent.")
    prerequisite_topics = TopicRefSerializer(many=True)
    all_prerequisites = TopicRefSerializer(
        many=True, help_text="Every topic needed first, transitively, foundations first."
    )
    required_by = TopicRefSerializer(many=True)
    subtree_resource_count = serializers.IntegerField(
        help_text="Distinct published, not broken resources in this topic and its subtopics."
    )


class CollectionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.SlugField()
    title = serializers.CharField()
    intro = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=PublicationStatus.choices)
    author_name = serializers.CharField(allow_blank=True)
    published_on = serializers.DateField(allow_null=True)
    section_count = serializers.IntegerField()
    item_count = serializers.IntegerField()
    updated_at = serializers.DateTimeField()


class CollectionItemReadSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    position = serializers.IntegerField()
    note = serializers.CharField(allow_blank=True, help_text="Why this list recommends it.")
    required = serializers.BooleanField()
    resource = ResourceSerializer()


class CollectionSectionReadSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    intro = serializers.CharField(allow_blank=True)
    position = serializers.IntegerField()
    items = CollectionItemReadSerializer(many=True)


class CollectionDetailSerializer(CollectionSerializer):
    sections = CollectionSectionReadSerializer(many=True)


class RecommendationSerializer(serializers.Serializer):
    resource = ResourceSerializer()
    reasons = serializers.ListField(child=serializers.CharField())


class RecommendationListSerializer(serializers.Serializer):
    topic = serializers.SlugField()
    level = DifficultyField()
    results = RecommendationSerializer(many=True)


def topic_dict(graph, pk: int, depth: int, counts: dict[int, int]) -> dict[str, Any]:
    row = graph.rows[pk]
    parent = row["parent_id"]
    return {
        "id": pk,
        "slug": row["slug"],
        "name": row["name"],
        "description": row["description"],
        "parent": graph.rows[parent]["slug"] if parent is not None else None,
        "depth": depth,
        "children": [graph.rows[c]["slug"] for c in graph._sorted(graph.children.get(pk, ()))],
        "prerequisites": sorted(graph.rows[p]["slug"] for p in graph.prerequisites.get(pk, ())),
        "resource_count": counts.get(pk, 0),
    }


def topic_refs(graph, pks) -> list[dict[str, str]]:
    return [{"slug": graph.rows[pk]["slug"], "name": graph.rows[pk]["name"]} for pk in pks]


# --- Query parameters ----------------------------------------------------------------------------


@extend_schema_field({"type": "string", "pattern": r"^\s*(\d+\s*(,\s*\d+\s*)*)?$"})
class CommaSeparatedIdsField(serializers.CharField):
    """ "1,2,3" as a list of ids; ids too large to exist are dropped, not an error."""

    def to_internal_value(self, data: Any) -> list[int]:
        text = super().to_internal_value(data)
        ids = []
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if len(parts) > MAX_EXCLUDED:
            raise serializers.ValidationError(f"At most {MAX_EXCLUDED} ids.")
        for part in parts:
            if not part.isascii() or not part.isdigit():
                raise serializers.ValidationError(f"“{part}” is not a resource id.")
            if int(part) <= MAX_ID:
                ids.append(int(part))
        return ids


class QueryInteger(serializers.IntegerField):
    """A whole number in a query string, in ASCII digits: DRF's IntegerField (through
    `int()`) would also read "５", "٣" and "5_0"."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, str) and not ASCII_NUMBER.fullmatch(data.strip()):
            self.fail("invalid")
        return super().to_internal_value(data)


class RecommendationQuerySerializer(serializers.Serializer):
    topic = serializers.SlugField(
        max_length=120, help_text="Topic slug. An unknown slug is a 400 naming it."
    )
    level = DifficultyField(required=False, default=Difficulty.BEGINNER.value)
    exclude = CommaSeparatedIdsField(
        required=False, allow_blank=True, help_text="Comma-separated ids already done."
    )
    kind = serializers.ChoiceField(choices=Kind.choices, required=False)
    max_minutes = QueryInteger(required=False, min_value=1, max_value=100_000)
    free = serializers.BooleanField(required=False, default=False)
    limit = QueryInteger(required=False, min_value=1, max_value=MAX_RECOMMENDATIONS, default=10)


class RawTextField(serializers.Field):
    """Any text, as sent: the lookup reports a bad address per item instead of failing."""

    def to_internal_value(self, data: Any) -> str:
        return str(data)

    def to_representation(self, value: Any) -> str:
        return value


class LookupQuerySerializer(serializers.Serializer):
    url = serializers.ListField(
        child=RawTextField(),
        min_length=1,
        max_length=MAX_LOOKUP_URLS,
        help_text=f"An address to look up; repeat for several (at most {MAX_LOOKUP_URLS}).",
    )
