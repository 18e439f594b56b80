"""Reads that the API, the admin, the commands and the reports share.

Database-specific choices (PostgreSQL full-text search versus the SQLite fallback) are made
here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connections
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    FloatField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.expressions import RawSQL

from curation.catalog.search import SEARCH_COLUMN_SQL, SEARCH_CONFIG, TITLE_COLUMN_SQL
from curation.models import (
    Collection,
    CollectionItem,
    CollectionSection,
    HealthState,
    PublicationStatus,
    Resource,
    Topic,
)

# The columns a resource list serializes: read with .values() so that a page of 50 costs
# one query and no model instances (FIELD-NOTES: a ModelSerializer list costs 5.5x this).
RESOURCE_ROW_FIELDS = (
    "id", "url", "title", "description", "kind", "difficulty", "author", "publisher",
    "language", "duration_minutes", "cost", "curator_note", "featured", "health",
    "suggested_url", "last_checked_at", "created_at", "updated_at",
)  # fmt: skip
SEARCH_WORDS_MAX = 8
# A user's search text as a tsquery: the text is the bound parameter.
TSQUERY_SQL = f"websearch_to_tsquery('{SEARCH_CONFIG}'::regconfig, %s)"
# Joins a row's topic slugs in `topic_slugs_annotation`: a character no slug can hold.
TOPIC_SLUGS_SEPARATOR = "\x1f"

TopicThrough = Topic.resources.through  # (resource_id, topic_id) rows


# --- Topics ------------------------------------------------------------------------------------


def topic_with_descendant_ids(topic: Topic) -> list[int]:
    """The topic's id and those of every topic below it in the tree."""
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in Topic.objects.values_list("id", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    return _subtree(topic.pk, children)


def _subtree(root: int, children: dict[int | None, list[int]]) -> list[int]:
    found, stack = [], [root]
    seen: set[int] = set()
    while stack:
        pk = stack.pop()
        if pk in seen:  # a loop in bad data must not spin forever
            continue
        seen.add(pk)
        found.append(pk)
        stack.extend(children.get(pk, ()))
    return found


def topic_subtree_ids_by_slug(slug: str) -> list[int]:
    """Ids of the topic with this slug and of every topic below it; [] for an unknown slug.

    One query over (id, parent, slug): topics number in the hundreds.
    """
    children: dict[int | None, list[int]] = {}
    root: int | None = None
    for pk, parent_id, topic_slug in Topic.objects.values_list("id", "parent_id", "slug"):
        children.setdefault(parent_id, []).append(pk)
        if topic_slug == slug:
            root = pk
    return [] if root is None else _subtree(root, children)


@dataclass
class TopicGraph:
    """The whole topic tree and prerequisite graph, loaded in two queries."""

    rows: dict[int, dict[str, Any]]
    children: dict[int | None, list[int]]
    prerequisites: dict[int, list[int]]
    required_by: dict[int, list[int]]

    def by_slug(self, slug: str) -> dict[str, Any] | None:
        return next((row for row in self.rows.values() if row["slug"] == slug), None)

    def subtree(self, pk: int) -> list[int]:
        return _subtree(pk, self.children)

    def ancestors(self, pk: int) -> list[int]:
        """Ids from the root down to the topic's parent."""
        path: list[int] = []
        parent = self.rows[pk]["parent_id"]
        while parent is not None and parent not in path:
            path.append(parent)
            parent = self.rows[parent]["parent_id"]
        return list(reversed(path))

    def tree_order(self) -> list[tuple[int, int]]:
        """(topic id, depth) for every topic, depth-first, siblings by name."""
        ordered: list[tuple[int, int]] = []
        seen: set[int] = set()

        def visit(pk: int, depth: int) -> None:
            if pk in seen:
                return
            seen.add(pk)
            ordered.append((pk, depth))
            for child in self._sorted(self.children.get(pk, ())):
                visit(child, depth + 1)

        for root in self._sorted(self.children.get(None, ())):
            visit(root, 0)
        # Topics caught in a parent loop (bad data) are still listed, at depth 0.
        for pk in self._sorted(set(self.rows) - seen):
            visit(pk, 0)
        return ordered

    def all_prerequisites(self, pk: int) -> list[int]:
        """Every topic needed before this one, foundations first (a topological order).

        Ties are broken by name so that the order is the same on every call.
        """
        ordered: list[int] = []
        done: set[int] = set()
        visiting: set[int] = set()

        def visit(node: int) -> None:
            if node in done or node in visiting:  # a cycle in bad data: stop, do not spin
                return
            visiting.add(node)
            for before in self._sorted(self.prerequisites.get(node, ())):
                visit(before)
            visiting.discard(node)
            done.add(node)
            ordered.append(node)

        visit(pk)
        return [node for node in ordered if node != pk]

    def _sorted(self, pks: Iterable[int]) -> list[int]:
        return sorted(pks, key=lambda pk: (self.rows[pk]["name"].lower(), pk))


def topic_graph(*, with_details: bool = False) -> TopicGraph:
    """Load every topic (id, slug, name, parent) and every prerequisite edge: two queries.

    `with_details` adds description and updated_at to each row (the topic pages need them;
    the recommender does not, and skips their cost).
    """
    rows: dict[int, dict[str, Any]] = {}
    children: dict[int | None, list[int]] = {}
    columns = ["id", "slug", "name", "parent_id"]
    if with_details:
        columns += ["description", "updated_at"]
    for values in Topic.objects.order_by().values_list(*columns):
        row = dict(zip(columns, values, strict=True))
        rows[row["id"]] = row
        children.setdefault(row["parent_id"], []).append(row["id"])
    prerequisites: dict[int, list[int]] = {}
    required_by: dict[int, list[int]] = {}
    edges = Topic.prerequisites.through.objects.values_list("from_topic_id", "to_topic_id")
    for topic_id, prerequisite_id in edges:
        prerequisites.setdefault(topic_id, []).append(prerequisite_id)
        required_by.setdefault(prerequisite_id, []).append(topic_id)
    return TopicGraph(rows, children, prerequisites, required_by)


def topic_resource_counts(*, topic_ids: Sequence[int] | None = None) -> dict[int, int]:
    """Servable resources tagged directly with each topic (all, or these), by topic id.

    A topic with none is absent from the answer.
    """
    servable = Resource.objects.servable().values("id")
    pairs = TopicThrough.objects.filter(resource_id__in=servable)
    if topic_ids is not None:
        pairs = pairs.filter(topic_id__in=list(topic_ids))
    counts = pairs.values("topic_id").annotate(n=Count("resource_id")).order_by()
    return {row["topic_id"]: row["n"] for row in counts}


def subtree_resource_count(topic_ids: Sequence[int]) -> int:
    """Distinct servable resources tagged with any of these topics."""
    return (
        Resource.objects.servable()
        .filter(id__in=TopicThrough.objects.filter(topic_id__in=topic_ids).values("resource_id"))
        .count()
    )


# --- Resources ---------------------------------------------------------------------------------


def catalogue_resources(*, include_unpublished: bool = False) -> QuerySet[Resource]:
    """The resources a reader may list: published only, unless the reader is a curator.

    Broken ones are still in here; `filter_by_health` hides them unless asked.
    """
    resources = Resource.objects.all()
    return resources if include_unpublished else resources.published()


def filter_by_health(resources: QuerySet[Resource], states: Sequence[str]) -> QuerySet[Resource]:
    """Resources in these health states; with none given, every state except broken.

    A learner must never be sent to a dead link unless they explicitly asked for broken ones.
    """
    if states:
        return resources.filter(health__in=list(states))
    return resources.exclude(health=HealthState.BROKEN)


def filter_by_topic(resources: QuerySet[Resource], slug: str) -> QuerySet[Resource]:
    """Resources tagged with the topic or any topic below it; none for an unknown slug."""
    topic_ids = topic_subtree_ids_by_slug(slug)
    if not topic_ids:
        return resources.none()
    # A subquery rather than a join: no duplicate rows, so no DISTINCT over the page.
    tagged = TopicThrough.objects.filter(topic_id__in=topic_ids).values("resource_id")
    return resources.filter(id__in=tagged)


def filter_by_collection(resources: QuerySet[Resource], slug: str) -> QuerySet[Resource]:
    """Resources listed in the collection with this slug; none for an unknown slug."""
    listed = CollectionItem.objects.filter(section__collection__slug=slug).values("resource_id")
    return resources.filter(id__in=listed)


def filter_by_language(resources: QuerySet[Resource], tag: str) -> QuerySet[Resource]:
    """Resources in this language: "en" matches "en" and regional forms such as "en-GB"."""
    tag = tag.strip()
    return resources.filter(Q(language__iexact=tag) | Q(language__istartswith=f"{tag}-"))


def filter_modified_since(resources: QuerySet[Resource], since: datetime) -> QuerySet[Resource]:
    """Resources edited, or whose link health changed, at or after `since` (incremental sync)."""
    return resources.filter(Q(updated_at__gte=since) | Q(health_changed_at__gte=since))


def relevance_tiers(found: QuerySet[Resource], text: str) -> list[QuerySet[Resource]]:
    """`found` (a search_resources result) as querysets whose rows follow one another in
    relevance order: every row of one ranks above every row of the next.

    On PostgreSQL a search for one word splits in two: the rows with the word in the title,
    then the others. ts_rank gives a single word the weight of its strongest occurrence plus
    a converging share of the rest (divided by pi^2/6): a title (A, weight 1) makes it at
    least 1 / 1.645 = 0.61, while author, note (B, 0.4) and description (C, 0.2) alone make
    it at most 0.4. The first page of a common word then ranks only its title matches,
    found by their own index (a fifth of the matches here) instead of every match. Searches
    of several words rank by their words' distances, where no such bound holds: one tier
    (the title tier is empty for them, decided in SQL by the query's node count).
    """
    if connections[found.db].vendor != "postgresql":
        return [found]
    in_title = RawSQL(  # noqa: S611 (the text is a bound parameter)
        f"(numnode({TSQUERY_SQL}) = 1 AND {TITLE_COLUMN_SQL} @@ {TSQUERY_SQL})",
        [text.strip(), text.strip()],
        output_field=BooleanField(),
    )
    return [found.filter(in_title), found.exclude(in_title)]


def search_resources(resources: QuerySet[Resource], text: str) -> QuerySet[Resource]:
    """Resources matching a search, annotated with `search_rank` (higher is better).

    PostgreSQL: websearch_to_tsquery over the stored, GIN-indexed `search_vector` column
    (generated from SEARCH_VECTOR_SQL, see catalog/search.py), ranked by ts_rank on it.
    Elsewhere (SQLite): every word must appear in title, author, note or description,
    case-insensitively; a title containing the whole text ranks first.
    A text with no searchable words matches nothing.
    """
    text = text.strip()
    if not text:
        return resources.none()
    if connections[resources.db].vendor == "postgresql":
        # The user's text is a bound parameter; the SQL around it is our constant.
        return resources.filter(
            RawSQL(f"{SEARCH_COLUMN_SQL} @@ {TSQUERY_SQL}", [text], output_field=BooleanField())  # noqa: S611
        ).annotate(
            # float8: ts_rank's real arrives in Python rounded from its text form, and a
            # cursor holding that rounded value would skip or repeat rows at the page edge.
            search_rank=RawSQL(  # noqa: S611
                f"ts_rank({SEARCH_COLUMN_SQL}, {TSQUERY_SQL})::float8",
                [text],
                output_field=FloatField(),
            )
        )
    words = text.split()[:SEARCH_WORDS_MAX]
    for word in words:
        resources = resources.filter(
            Q(title__icontains=word)
            | Q(author__icontains=word)
            | Q(curator_note__icontains=word)
            | Q(description__icontains=word)
        )
    return resources.annotate(
        search_rank=Case(
            When(title__icontains=text, then=Value(1.0)),
            default=Value(0.0),
            output_field=FloatField(),
        )
    )


def topic_slugs_for(resource_ids: Sequence[int]) -> dict[int, list[str]]:
    """Topic slugs of each resource, sorted, in one query: {resource id: [slug, ...]}."""
    found: dict[int, list[str]] = {pk: [] for pk in resource_ids}
    if not resource_ids:
        return found
    # Plain SQL: this runs on every list page, and building the ORM query cost more than
    # running it. The page's few slugs are sorted here, not by the database.
    tags, topics = TopicThrough._meta.db_table, Topic._meta.db_table
    marks = ", ".join(["%s"] * len(found))
    sql = (
        f"SELECT tag.resource_id, topic.slug FROM {tags} tag"  # noqa: S608 (table names)
        f" INNER JOIN {topics} topic ON topic.id = tag.topic_id"
        f" WHERE tag.resource_id IN ({marks})"
    )
    with connections[Topic.objects.db].cursor() as cursor:
        cursor.execute(sql, list(found))
        for resource_id, slug in cursor.fetchall():
            found[resource_id].append(slug)
    for slugs in found.values():
        slugs.sort()
    return found


def topic_slugs_annotation(using: str = "default") -> dict[str, RawSQL]:
    """`topic_slugs` as an annotation of a Resource queryset: each row's topic slugs read in
    the list's own query, joined by a unit separator; `annotated_topic_slugs` reads them."""
    tags, topics = TopicThrough._meta.db_table, Topic._meta.db_table
    join = "string_agg({}, chr(31))"
    if connections[using].vendor != "postgresql":
        join = "group_concat({}, char(31))"
    # Plain SQL, as topic_slugs_for: one round trip fewer per page, and the ORM's Subquery
    # costs more to build than to run. Each slug by its primary key: a JOIN here is planned
    # as a hash join reading the whole topic table once per row (2.7 ms a page against 0.4).
    slug = f"(SELECT topic.slug FROM {topics} topic WHERE topic.id = tag.topic_id)"  # noqa: S608
    sql = (
        f"(SELECT {join.format(slug)} FROM {tags} tag"  # noqa: S608
        f" WHERE tag.resource_id = {Resource._meta.db_table}.id)"
    )
    return {"topic_slugs": RawSQL(sql, (), output_field=CharField())}  # noqa: S611 (fixed SQL)


def annotated_topic_slugs(row: dict[str, Any]) -> list[str]:
    """The sorted topic slugs of a row read with `topic_slugs_annotation`."""
    joined = row["topic_slugs"]
    return sorted(joined.split(TOPIC_SLUGS_SEPARATOR)) if joined else []


def resource_for_reader(pk: int, *, include_unpublished: bool = False) -> Resource | None:
    """One resource with its topics and creator loaded, or None if the reader may not see it.

    The public sees published resources, broken ones included: a detail page of a known
    resource says it is broken rather than pretending it does not exist.
    """
    found = (
        catalogue_resources(include_unpublished=include_unpublished)
        .select_related("created_by")
        .prefetch_related("topics")
        .filter(pk=pk)
        .first()
    )
    return found


@dataclass
class LookupResult:
    url: str
    normalized_url: str | None
    resource: dict[str, Any] | None
    error: str | None = None


def lookup_urls(urls: Sequence[str], *, include_unpublished: bool = False) -> list[LookupResult]:
    """For each address, whether the catalogue has it after normalization, and as which resource.

    One query whatever the number of addresses. An address that cannot be normalized gets
    `error` naming the problem instead of failing the whole lookup. Resources a reader may
    not see (drafts, for the public) are reported as not found.
    """
    from curation.checker.urlnorm import InvalidURL, normalize_url

    normalized: list[str | None] = []
    errors: list[str | None] = []
    for url in urls:
        try:
            normalized.append(normalize_url(url))
            errors.append(None)
        except InvalidURL as exc:
            normalized.append(None)
            errors.append(str(exc))
    wanted = {n for n in normalized if n}
    rows = (
        catalogue_resources(include_unpublished=include_unpublished)
        .filter(normalized_url__in=wanted)
        .values("id", "title", "url", "normalized_url", "status", "health", "suggested_url")
    )
    by_normalized = {row.pop("normalized_url"): row for row in rows}
    return [
        LookupResult(url, norm, by_normalized.get(norm) if norm else None, error)
        for url, norm, error in zip(urls, normalized, errors, strict=True)
    ]


# --- Collections -------------------------------------------------------------------------------


def catalogue_collections(*, include_unpublished: bool = False) -> QuerySet[Collection]:
    """Collections a reader may list, with `section_count` and `item_count` annotated."""
    collections = Collection.objects.all()
    if not include_unpublished:
        collections = collections.filter(status=PublicationStatus.PUBLISHED)
    return collections.annotate(
        section_count=Count("sections", distinct=True),
        item_count=Count("sections__items", distinct=True),
    )


def collection_outline(
    collection: Collection, *, include_unpublished: bool = False
) -> list[dict[str, Any]]:
    """The collection's sections in order, each with its items in order (two queries).

    Each item is a dict with the curator's note, required flag and a `resource` row.
    Items whose resource is not published are left out for the public; broken ones stay
    (the list is the curator's) and carry their health, so a reader can tell.
    """
    sections = list(
        CollectionSection.objects.filter(collection=collection).values(
            "id", "title", "intro", "position"
        )
    )
    items = CollectionItem.objects.filter(section__collection=collection)
    if not include_unpublished:
        items = items.filter(resource__status=PublicationStatus.PUBLISHED)
    by_section: dict[int, list[dict[str, Any]]] = {s["id"]: [] for s in sections}
    columns = [f"resource__{name}" for name in RESOURCE_ROW_FIELDS]
    for row in items.values("id", "section_id", "note", "required", "position", *columns):
        resource = {name: row.pop(f"resource__{name}") for name in RESOURCE_ROW_FIELDS}
        row["resource"] = resource
        by_section[row.pop("section_id")].append(row)
    for section in sections:
        section["items"] = by_section[section["id"]]
    return sections


def collections_covering(topic_ids: Sequence[int]) -> QuerySet[Collection]:
    """Published collections that list a published resource tagged with one of these topics,
    annotated as `catalogue_collections` (the public topic page links them)."""
    tagged = TopicThrough.objects.filter(topic_id__in=list(topic_ids)).values("resource_id")
    listed = CollectionItem.objects.filter(
        resource__status=PublicationStatus.PUBLISHED, resource_id__in=tagged
    ).values("section__collection_id")
    return catalogue_collections().filter(id__in=listed)


# --- The link-checking command -------------------------------------------------------------------


def resources_for_check(
    *,
    topic: str | None = None,
    collection: str | None = None,
    health: str | None = None,
    include_all: bool = False,
) -> QuerySet[Resource]:
    """Resources the `checklinks` command should check, in id order.

    By default archived resources are left out; `include_all` takes every resource.
    Unknown topic or collection slugs raise Topic.DoesNotExist / Collection.DoesNotExist.
    """
    resources = Resource.objects.all()
    if not include_all:
        resources = resources.exclude(status=PublicationStatus.ARCHIVED)
    if topic:
        root = Topic.objects.get(slug=topic)
        resources = resources.filter(topics__in=topic_with_descendant_ids(root))
    if collection:
        found = Collection.objects.get(slug=collection)
        resources = resources.filter(collection_items__section__collection=found)
    if health:
        resources = resources.filter(health=health)
    return resources.distinct().order_by("id").only("id", "url")
