"""Validation of what curators send: strict fields, unknown and read-only names refused.

Every write serializer names the field that is wrong; the services decide the rest.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any

from django.core.validators import MaxValueValidator, RegexValidator
from rest_framework import serializers
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from api.serializers import (
    MAX_ID,
    CollectionDetailSerializer,
    CollectionItemReadSerializer,
    CollectionSectionReadSerializer,
    DifficultyField,
    ResourceDetailSerializer,
    TopicDetailSerializer,
)
from curation.checker.urlnorm import MAX_URL_LENGTH, InvalidURL, normalize_url
from curation.models import (
    HTTP_URL_VALIDATOR,
    Collection,
    Cost,
    Kind,
    PublicationStatus,
    Resource,
    Topic,
)

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
