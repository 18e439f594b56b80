"""Query parameters of the resource list: one table parses them, applies them through the
selectors and documents them in the schema.

Hand-written rather than a django-filter FilterSet: building a FilterSet's form deep-copies
every filter and choice list on each request, which cost a fifth of a list request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import QuerySet
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError

from api.pagination import Ordering
from api.writes import unknown_topics_message
from curation.catalog import selectors
from curation.models import Cost, Difficulty, HealthState, Kind, PublicationStatus

ORDERING_KINDS: dict[str, type] = {
    "created_at": datetime,
    "updated_at": datetime,
    "title": str,
    "difficulty": int,
    "id": int,
    "search_rank": float,
}
ORDERINGS = ("created_at", "updated_at", "title", "difficulty", "id")
ORDERING_NAMES = [name for field in ORDERINGS for name in (field, f"-{field}")] + ["relevance"]
# Newest first: ids grow with creation, and the primary key orders a page without a sort.
DEFAULT_ORDERING = "-id"
SEARCH_MAX_LENGTH = 200
MAX_DURATION = 100_000
BOOLEAN_WORDS = {"true": True, "false": False}
DIFFICULTY_SLUGS = [d.slug for d in Difficulty]


@dataclass(frozen=True)
class Param:
    name: str
    schema: dict[str, Any]
    description: str
    many: bool = False


def _text(value: str) -> str:
    # A NUL is no reason to fail a search, and PostgreSQL refuses it in a parameter.
    return value.replace("\x00", "").strip()


def _choice(choices: list[str]) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value not in choices:
            raise ValueError(f"“{value}” is not one of: {', '.join(choices)}.")
        return value

    return parse


def _boolean(value: str) -> bool:
    if value not in BOOLEAN_WORDS:
        raise ValueError("Must be true or false.")
    return BOOLEAN_WORDS[value]


def _duration(value: str) -> int:
    if not value.strip().isascii() or not value.strip().isdigit():
        raise ValueError("Enter a whole number of minutes.")
    minutes = int(value)
    if minutes > MAX_DURATION:
        raise ValueError(f"Must be at most {MAX_DURATION}.")
    return minutes


def _moment(value: str) -> datetime:
    try:
        parsed = parse_datetime(value.strip())
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValueError("Enter an ISO 8601 date and time, e.g. 2026-01-31T12:00:00Z.")
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        # In UTC: PostgreSQL refuses offsets beyond ±15:59 that ISO 8601 parsers accept.
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError("This date and time is out of range.") from None


def _enum(values: list[str]) -> dict[str, Any]:
    return {"type": "string", "enum": values}


PARAMETERS: dict[str, tuple[Param, Callable[[str], Any]]] = {
    p.name: (p, parse)
    for p, parse in [
        (
            Param(
                "q",
                {"type": "string"},
                "Full-text search over title, author, curator note and description (web-search"
                f" syntax: quotes, -word, or; the first {SEARCH_MAX_LENGTH} characters count).",
            ),
            lambda v: _text(v)[:SEARCH_MAX_LENGTH],
        ),
        (
            Param(
                "topic",
                {"type": "string"},
                "Topic slug; subtopics included. An unknown slug is a 400 naming it.",
            ),
            _text,
        ),
        (
            Param("difficulty", _enum(DIFFICULTY_SLUGS), "One or more levels.", many=True),
            _choice(DIFFICULTY_SLUGS),
        ),
        (Param("kind", _enum(Kind.values), "One or more kinds.", many=True), _choice(Kind.values)),
        (
            Param(
                "health",
                _enum(HealthState.values),
                "One or more link states. Without it, broken resources are left out; ask for "
                "health=broken to see them.",
                many=True,
            ),
            _choice(HealthState.values),
        ),
        (Param("free", _enum(["true", "false"]), "true: free only; false: not free."), _boolean),
        (
            Param("language", {"type": "string"}, 'BCP 47 tag; "en" also matches "en-GB".'),
            _text,
        ),
        (
            Param(
                "max_duration",
                {"type": "integer", "minimum": 0, "maximum": MAX_DURATION},
                "At most this many minutes; resources of unknown duration are left out.",
            ),
            _duration,
        ),
        (Param("featured", _enum(["true", "false"]), "true: featured only."), _boolean),
        (Param("collection", {"type": "string"}, "Collection slug."), _text),
        (
            Param(
                "modified_since",
                {"type": "string", "format": "date-time"},
                "Changed, or link health changed, at or after this time (incremental sync).",
            ),
            _moment,
        ),
        (
            Param(
                "status",
                _enum(PublicationStatus.values),
                "Curators only; the public always sees published resources.",
            ),
            _choice(PublicationStatus.values),
        ),
        (
            Param(
                "ordering",
                _enum(ORDERING_NAMES),
                f"Default {DEFAULT_ORDERING} (newest first); relevance ranks search results and"
                f" is the default with q (without q it means {DEFAULT_ORDERING}).",
            ),
            _choice(ORDERING_NAMES),
        ),
    ]
}


def schema_parameters() -> list[OpenApiParameter]:
    """The list's query parameters for the OpenAPI schema, from the same table."""
    found = []
    for param, _ in PARAMETERS.values():
        schema = {"type": "array", "items": param.schema} if param.many else param.schema
        found.append(
            OpenApiParameter(
                param.name,
                schema,
                description=param.description,
                explode=True if param.many else None,
                style="form" if param.many else None,
            )
        )
    return found


@dataclass
class ResourceQuery:
    """The parsed query: values by name (lists for `many` parameters)."""

    values: dict[str, Any]

    @classmethod
    def parse(cls, query_params) -> ResourceQuery:
        """Parse every known parameter; unknown ones are ignored. ValidationError names each
        bad parameter; a typed one sent empty ("?max_duration=") is an error, not "no filter"."""
        values: dict[str, Any] = {}
        errors: dict[str, list[str]] = {}
        for name in query_params:
            if name not in PARAMETERS:
                continue
            param, parse = PARAMETERS[name]
            raw = query_params.getlist(name)
            typed = param.schema.get("type") != "string" or "enum" in param.schema
            try:
                if typed and any(v.strip() == "" for v in raw):
                    raise ValueError("This parameter may not be empty.")
                if param.many:
                    values[name] = [parse(v) for v in raw]
                else:
                    parsed = parse(raw[-1])
                    if parsed != "":
                        values[name] = parsed
            except ValueError as exc:
                errors[name] = [str(exc)]
        if errors:
            raise ValidationError(errors)
        return cls(values)

    def apply(self, resources: QuerySet) -> QuerySet:
        v = self.values
        if "q" in v:
            resources = selectors.search_resources(resources, v["q"])
        if "topic" in v:
            resources = selectors.filter_by_topic(resources, v["topic"])
        if "difficulty" in v:
            resources = resources.filter(
                difficulty__in=[Difficulty.from_slug(s) for s in v["difficulty"]]
            )
        if "kind" in v:
            resources = resources.filter(kind__in=v["kind"])
        # Always: broken links stay hidden unless the query asks for them.
        resources = selectors.filter_by_health(resources, v.get("health", []))
        if "free" in v:
            resources = (
                resources.filter(cost=Cost.FREE) if v["free"] else resources.exclude(cost=Cost.FREE)
            )
        if "language" in v:
            resources = selectors.filter_by_language(resources, v["language"])
        if "max_duration" in v:
            resources = resources.filter(duration_minutes__lte=v["max_duration"])
        if "featured" in v:
            resources = resources.filter(featured=v["featured"])
        if "collection" in v:
            resources = selectors.filter_by_collection(resources, v["collection"])
        if "modified_since" in v:
            resources = selectors.filter_modified_since(resources, v["modified_since"])
        if "status" in v:
            resources = resources.filter(status=v["status"])
        return resources

    def check_empty_page(self) -> None:
        """Raise a 400 naming `topic` when the slug names no topic (as /recommendations/
        does): a typo must not look like "no resources". Asked only of an empty page, since
        a page with rows proves the topic exists and the list keeps its query count."""
        slug = self.values.get("topic")
        if slug and not selectors.topic_subtree_ids_by_slug(slug):
            raise ValidationError({"topic": [unknown_topics_message([slug])]})

    def ordering(self) -> Ordering:
        name = self.values.get("ordering") or ("relevance" if self.values.get("q") else None)
        if name == "relevance" and not self.values.get("q"):
            name = None  # nothing to rank by: the default order, as documented
        if name == "relevance":
            return Ordering("relevance", "search_rank", True, float)
        return Ordering.parse(name or DEFAULT_ORDERING, ORDERING_KINDS)
