"""Representations of the catalogue, and validation of what curators send.

Lists are built by plain functions from `.values()` rows (`resource_row`): a ModelSerializer
per row would cost several times the query itself (FIELD-NOTES). The Serializer classes
below describe the same shapes for the OpenAPI schema, and validate writes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any

from django.core.validators import MaxValueValidator, RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from curation.catalog.selectors import RESOURCE_ROW_FIELDS
from curation.checker.urlnorm import MAX_URL_LENGTH, InvalidURL, normalize_url
from curation.models import (
    HTTP_URL_VALIDATOR,
    Collection,
    Cost,
    Difficulty,
    HealthState,
    Kind,
    PublicationStatus,
    Resource,
    Topic,
)

DIFFICULTY_SLUGS = [d.slug for d in Difficulty]
SLUG_BY_DIFFICULTY = {d.value: d.slug for d in Difficulty}
MAX_LOOKUP_URLS = 50
MAX_RECOMMENDATIONS = 50
MAX_ID = 2**63 - 1
# Each excluded id is a query parameter; SQLite allows 32,766 per statement.
MAX_EXCLUDED = 1000
ASCII_NUMBER = re.compile(r"[0-9]+")
# A well-formed BCP 47 language tag (RFC 5646, section 2.1): language (with up to three
# extended subtags), script, region, variants, extensions, private use; or private use
# alone. Well-formed, not valid: whether "xx" is a registered language is not checked. One
# narrowing: the primary language has 2 or 3 letters, as every registered one does (the
# RFC's 4-8 letter forms are reserved or unused), so "english" is refused, not stored.
# Letters spelled [A-Za-z], without IGNORECASE: the schema publishes this pattern as is,
# and in Python [a-z] under IGNORECASE also matches "ı", "ſ" and the Kelvin sign.
BCP47_TAG = re.compile(
    r"\A(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}"
    r"(?:-[A-Za-z]{4})?"
    r"(?:-(?:[A-Za-z]{2}|[0-9]{3}))?"
    r"(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*"
    r"(?:-[0-9A-WYZa-wyz](?:-[A-Za-z0-9]{2,8})+)*"
    r"(?:-[Xx](?:-[A-Za-z0-9]{1,8})+)?"
    r"|[Xx](?:-[A-Za-z0-9]{1,8})+)?\Z"
)


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
    topics = sorted(topic.slug for topic in resource.topics.all())
    data = resource_row(row, topics)
    data.update(
        status=resource.status,
        health_changed_at=resource.health_changed_at,
        metadata=resource.fetched_metadata or {},
        metadata_fetched_at=resource.metadata_fetched_at,
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


# --- Writes --------------------------------------------------------------------------------------
# JSON bodies are typed: DRF would read 0 as "0" or "true" as True; a client sending the
# wrong type has a bug it should hear about, so the write fields accept their own type only.


def _strict(field_class: type, types: tuple[type, ...]) -> type:
    class Strict(field_class):
        def to_internal_value(self, data: Any) -> Any:
            if not isinstance(data, types) or (bool not in types and isinstance(data, bool)):
                raise serializers.ValidationError(
                    f"Expected {' or '.join(t.__name__ for t in types)}, got {type(data).__name__}."
                )
            limit = getattr(self, "max_length", None)
            if isinstance(data, str) and limit is not None and len(data) > limit:
                # Counted before DRF trims whitespace: the schema's maxLength is about what
                # was sent.
                self.fail("max_length", max_length=limit)
            return super().to_internal_value(data)

    Strict.__name__ = f"Strict{field_class.__name__}"
    return Strict


TextField = _strict(serializers.CharField, (str,))
SlugText = _strict(serializers.SlugField, (str,))
UrlText = _strict(serializers.URLField, (str,))
DateText = _strict(serializers.DateField, (str,))
Choice = _strict(serializers.ChoiceField, (str,))
Difficulty_ = _strict(DifficultyField, (str,))
Integer = _strict(serializers.IntegerField, (int,))
Boolean = _strict(serializers.BooleanField, (bool,))


def unknown_topics_message(slugs: list[str]) -> str:
    """What every endpoint says of topic slugs that name no topic (bodies and queries)."""
    return f"Unknown topic: {', '.join(slugs)}."


def topics_by_slug(slugs: list[str]) -> list[Topic]:
    """The topics with these slugs, in the order given; a ValidationError names unknown ones."""
    found = {t.slug: t for t in Topic.objects.filter(slug__in=slugs)}
    unknown = [slug for slug in slugs if slug not in found]
    if unknown:
        raise serializers.ValidationError(unknown_topics_message(unknown))
    return [found[slug] for slug in dict.fromkeys(slugs)]


def topic_slug_list(**kwargs: Any) -> serializers.ListField:
    return serializers.ListField(child=SlugText(max_length=120), **kwargs)


class ResourceId(_strict(serializers.PrimaryKeyRelatedField, (int,))):
    def to_internal_value(self, data: Any) -> Any:
        # Beyond 64 bits the database would raise an overflow, not "does not exist".
        if isinstance(data, int) and not isinstance(data, bool) and not 0 < data <= MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


class HttpUrl(UrlText):
    """An http(s) address. A bad one is refused with the normalizer's reason, the words the
    admin uses ("URL scheme must be http or https, not 'ftp'"), before Django's generic
    "Enter a valid URL." could say less."""

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        # JSON may carry a lone surrogate ("\ud800"), which the normalizer cannot encode: say
        # so here (DRF's own check would only run after this method).
        ProhibitSurrogateCharactersValidator()(value)
        try:
            normalize_url(value)
        except InvalidURL as exc:
            raise serializers.ValidationError(str(exc), code="invalid") from None
        return value


@cache
def field_names(serializer_class: type[serializers.Serializer]) -> frozenset[str]:
    return frozenset(serializer_class().fields)


# A request body that names only fields the client may set. A field the server sets (one of
# `read_shape`'s) or a field nobody has is refused with a 400 naming it: answering 200 while
# ignoring it would let a client believe it was obeyed. (A comment: drf-spectacular publishes
# a serializer's docstring, inherited ones included, as its schema's description.)
class WriteSerializer(serializers.Serializer):
    read_shape: type[serializers.Serializer] | None = None

    def to_internal_value(self, data: Any) -> Any:
        extra: dict[str, list[serializers.ErrorDetail]] = {}
        if isinstance(data, Mapping):
            readable = field_names(self.read_shape) if self.read_shape else frozenset()
            for name in data:
                if name in self.fields:
                    continue
                if name in readable:
                    error = serializers.ErrorDetail("This field is read-only.", code="read_only")
                else:
                    error = serializers.ErrorDetail("Unknown field.", code="unknown_field")
                extra[str(name)] = [error]
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if extra and isinstance(exc.detail, dict):
                raise serializers.ValidationError({**exc.detail, **extra}) from None
            raise
        if extra:
            raise serializers.ValidationError(extra)
        return value


class ResourceWriteSerializer(WriteSerializer):
    """What a curator may set; the link's health, metadata and history are the server's."""

    read_shape = ResourceDetailSerializer

    # DRF's URLField adds Django's default validator, which accepts ftp: restate ours.
    url = HttpUrl(max_length=MAX_URL_LENGTH, validators=[HTTP_URL_VALIDATOR])
    # Optional, as in the admin: a blank title is filled in from the page's metadata.
    title = TextField(required=False, allow_blank=True, max_length=300)
    description = TextField(required=False, allow_blank=True, max_length=20_000)
    kind = Choice(choices=Kind.choices, required=False)
    difficulty = Difficulty_(required=False)
    topics = topic_slug_list(required=False, help_text="Topic slugs.")
    author = TextField(required=False, allow_blank=True, max_length=200)
    publisher = TextField(required=False, allow_blank=True, max_length=200)
    language = TextField(
        required=False,
        allow_blank=True,
        max_length=35,
        trim_whitespace=False,  # " en" is not a tag: refused, as the published pattern says
        validators=[
            RegexValidator(
                BCP47_TAG,
                "Enter a BCP 47 language tag, such as en, en-GB or zh-Hant-TW.",
                code="invalid_language",
            )
        ],
        help_text="BCP 47 language tag, e.g. en or en-GB.",
    )
    duration_minutes = Integer(
        required=False, allow_null=True, min_value=0, validators=[MaxValueValidator(100_000)]
    )
    cost = Choice(choices=Cost.choices, required=False)
    curator_note = TextField(required=False, allow_blank=True, max_length=20_000)
    featured = Boolean(required=False)
    status = Choice(choices=PublicationStatus.choices, required=False)

    def validate_topics(self, value: list[str]) -> list[Topic]:
        return topics_by_slug(value)


class TopicWriteSerializer(WriteSerializer):
    read_shape = TopicDetailSerializer

    name = TextField(min_length=1, max_length=120)
    slug = SlugText(min_length=1, max_length=120)
    description = TextField(required=False, allow_blank=True, max_length=20_000)
    parent = SlugText(allow_null=True, required=False, max_length=120, help_text="Topic slug.")
    prerequisites = topic_slug_list(required=False, help_text="Topic slugs.")

    def validate_parent(self, value: str | None) -> Topic | None:
        return None if value is None else topics_by_slug([value])[0]

    def validate_prerequisites(self, value: list[str]) -> list[Topic]:
        return topics_by_slug(value)


class CollectionItemWriteSerializer(WriteSerializer):
    read_shape = CollectionItemReadSerializer

    resource = ResourceId(queryset=Resource.objects.all())
    note = TextField(required=False, allow_blank=True, max_length=20_000)
    required = Boolean(required=False, default=True)


class CollectionSectionWriteSerializer(WriteSerializer):
    read_shape = CollectionSectionReadSerializer

    title = TextField(min_length=1, max_length=200)
    intro = TextField(required=False, allow_blank=True, max_length=20_000)
    items = CollectionItemWriteSerializer(many=True, required=False)


class CollectionWriteSerializer(WriteSerializer):
    """A collection; `sections`, when sent, replaces the whole outline in the order given."""

    read_shape = CollectionDetailSerializer

    title = TextField(min_length=1, max_length=200)
    slug = SlugText(min_length=1, max_length=200)
    intro = TextField(required=False, allow_blank=True, max_length=20_000)
    status = Choice(choices=PublicationStatus.choices, required=False)
    author_name = TextField(required=False, allow_blank=True, max_length=200)
    published_on = DateText(required=False, allow_null=True)
    sections = CollectionSectionWriteSerializer(many=True, required=False)

    def validate_slug(self, value: str) -> str:
        taken = Collection.objects.filter(slug=value)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError("A collection with this slug already exists.")
        return value
