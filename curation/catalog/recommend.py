"""The recommender: an ordered "start here, then this" path through a topic.

Only links known to work are offered (healthy, or moved and served at the new address);
a beginner is first given a little of each prerequisite topic.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connections
from django.db.models import BooleanField, Exists, OuterRef, QuerySet, Value
from django.db.models.expressions import RawSQL

from curation.catalog.selectors import (
    RESOURCE_ROW_FIELDS,
    TopicGraph,
    TopicThrough,
    topic_graph,
)
from curation.models import (
    CollectionItem,
    Cost,
    Difficulty,
    HealthState,
    PublicationStatus,
    Resource,
)

# Only these may be offered to a learner by the recommender: never broken, never unknown.
RECOMMENDABLE_HEALTH = (HealthState.HEALTHY, HealthState.MOVED)
# The recommender looks at this many candidates per band at most: enough to mix kinds and
# put picks first, bounded so a huge topic costs the same as a small one.
RECOMMENDATION_POOL = 200
# A beginner gets at most this many items per prerequisite topic, so the prerequisites
# prepare the way without crowding out the topic itself.
PREREQUISITE_ITEMS_PER_TOPIC = 2
POOL_FIELDS = ("id", "kind", "difficulty", "featured", "is_pick", "in_prerequisite")


@dataclass
class Recommendation:
    resource: dict[str, Any]
    reasons: list[str] = field(default_factory=list)


# A pool row and the reasons it was chosen, before the full resource is read.
Chosen = tuple[dict[str, Any], list[str]]


def _mix_kinds(rows: list[dict[str, Any]], last_kind: str | None) -> list[dict[str, Any]]:
    # No two neighbours share a kind while another kind is waiting. Greedy and stable (each
    # step takes the earliest row whose kind differs from the last one taken) so that
    # priority order is kept as far as mixing allows.
    remaining = list(rows)
    mixed: list[dict[str, Any]] = []
    while remaining:
        index = next((i for i, r in enumerate(remaining) if r["kind"] != last_kind), 0)
        row = remaining.pop(index)
        mixed.append(row)
        last_kind = row["kind"]
    return mixed


def recommendation_pool(
    *,
    topic_ids: Sequence[int],
    prerequisite_ids: Sequence[int],
    level: Difficulty,
    exclude_ids: Iterable[int] = (),
    kind: str | None = None,
    max_minutes: int | None = None,
    free: bool = False,
) -> list[tuple]:
    """The recommender's candidates, in one query, as POOL_FIELDS tuples.

    Published resources whose link is healthy or moved, matching the filters, in two bands:
    beginner material tagged with one of `prerequisite_ids` (`in_prerequisite` true), and
    material at `level` or above tagged with one of `topic_ids`. Each band is ordered by
    difficulty, curator pick, featured, id and cut at RECOMMENDATION_POOL rows, so a huge
    topic costs the same as a small one; a resource in both bands appears in both. Read light:
    no text, no timestamps. The two bands are one UNION ALL statement: one round trip.
    """
    candidates = Resource.objects.published().filter(health__in=RECOMMENDABLE_HEALTH)
    excluded = list(exclude_ids)
    if excluded:
        candidates = candidates.exclude(id__in=excluded)
    if kind:
        candidates = candidates.filter(kind=kind)
    if max_minutes is not None:
        candidates = candidates.filter(duration_minutes__lte=max_minutes)
    if free:
        candidates = candidates.filter(cost=Cost.FREE)
    picked = CollectionItem.objects.filter(
        resource_id=OuterRef("pk"), section__collection__status=PublicationStatus.PUBLISHED
    )
    candidates = candidates.annotate(is_pick=Exists(picked))

    def band(resources: QuerySet, tagged_with: Sequence[int], prerequisite: bool) -> QuerySet:
        tagged = TopicThrough.objects.filter(topic_id__in=list(tagged_with)).values("resource_id")
        if connections[resources.db].vendor == "postgresql":
            # At a million resources a topic tree tags ~40,000: planned as `IN (subquery)`,
            # PostgreSQL answers with a sequential scan of the whole table (440 ms); as
            # `= ANY(ARRAY(subquery))` with primary-key lookups (250 ms, no sequential scan).
            sql, params = tagged.query.sql_with_params()
            in_band = RawSQL(f'"curation_resource"."id" = ANY(ARRAY({sql}))', params,  # noqa: S611
                             output_field=BooleanField())  # fmt: skip
            resources = resources.filter(in_band)
        else:
            resources = resources.filter(id__in=tagged)
        return (
            resources.annotate(in_prerequisite=Value(prerequisite, output_field=BooleanField()))
            .order_by("difficulty", "-is_pick", "-featured", "id")
            .values_list(*POOL_FIELDS)[:RECOMMENDATION_POOL]
        )

    topic_band = band(candidates.filter(difficulty__gte=level), topic_ids, False)
    if not prerequisite_ids:
        return list(topic_band)
    prerequisite_band = band(
        candidates.filter(difficulty=Difficulty.BEGINNER), prerequisite_ids, True
    )
    # Django cannot UNION sliced querysets on SQLite; wrapping each as a subquery can.
    first_sql, first_params = prerequisite_band.query.sql_with_params()
    second_sql, second_params = topic_band.query.sql_with_params()
    sql = (
        f"SELECT * FROM ({first_sql}) AS prerequisite_band"  # noqa: S608 (compiled ORM SQL)
        f" UNION ALL SELECT * FROM ({second_sql}) AS topic_band"
    )
    with connections[Resource.objects.db].cursor() as cursor:
        cursor.execute(sql, [*first_params, *second_params])
        return cursor.fetchall()


def recommended_resources(
    *,
    topic_slug: str,
    level: Difficulty,
    exclude_ids: Iterable[int] = (),
    kind: str | None = None,
    max_minutes: int | None = None,
    free: bool = False,
    limit: int = 10,
) -> list[Recommendation] | None:
    """An ordered, explained reading list for a learner, or None for an unknown topic.

    Only published resources whose link is healthy or moved are offered. Order:
    1. for a beginner, beginner material of the topic's prerequisites (transitively,
       foundations first, at most PREREQUISITE_ITEMS_PER_TOPIC per prerequisite and at most
       half of `limit` in all);
    2. the topic and its subtopics by difficulty, from the learner's level upwards;
    within each band, curator picks (items of a published collection) first, then featured
    items, then the rest by id; kinds are mixed so that the same kind does not repeat while
    another is available. The same inputs and data always give the same list.
    `max_minutes` leaves out resources of unknown duration.
    """
    graph = topic_graph()
    topic = graph.by_slug(topic_slug)
    if topic is None:
        return None
    limit = max(limit, 1)

    prerequisite_ids = graph.all_prerequisites(topic["id"]) if level == Difficulty.BEGINNER else []
    rows = recommendation_pool(
        topic_ids=graph.subtree(topic["id"]),
        prerequisite_ids=prerequisite_ids,
        level=level,
        exclude_ids=set(exclude_ids),
        kind=kind,
        max_minutes=max_minutes,
        free=free,
    )
    rows = [dict(zip(POOL_FIELDS, row, strict=True)) for row in rows]

    chosen = _prerequisite_picks(rows, prerequisite_ids, graph, limit)
    seen = {row["id"] for row, _ in chosen}
    last_kind = chosen[-1][0]["kind"] if chosen else None
    topic_rows = [row for row in rows if not row["in_prerequisite"] and row["id"] not in seen]
    chosen += _topic_picks(topic_rows, level, limit - len(chosen), last_kind)
    chosen = chosen[:limit]
    if not chosen:
        return []
    return _explained(chosen, max_minutes)


def _prerequisite_picks(
    rows: list[dict[str, Any]], prerequisite_ids: list[int], graph: TopicGraph, limit: int
) -> list[Chosen]:
    prerequisite_rows = sorted(
        (row for row in rows if row["in_prerequisite"]),
        key=lambda r: (not r["is_pick"], not r["featured"], r["id"]),
    )
    if not prerequisite_rows:
        return []
    budget = max(limit // 2, 1)
    tags = _prerequisite_tags(prerequisite_ids, [r["id"] for r in prerequisite_rows])
    band: list[Chosen] = []
    seen: set[int] = set()
    last_kind: str | None = None
    for prerequisite in prerequisite_ids:
        name = graph.rows[prerequisite]["name"]
        covering = [
            row
            for row in prerequisite_rows
            if row["id"] not in seen and prerequisite in tags.get(row["id"], ())
        ]
        room = min(PREREQUISITE_ITEMS_PER_TOPIC, budget - len(band))
        for row in _mix_kinds(covering, last_kind)[: max(room, 0)]:
            seen.add(row["id"])
            band.append((row, [f"covers prerequisite: {name}", "beginner level"]))
            last_kind = row["kind"]
    return band


def _prerequisite_tags(prerequisite_ids: list[int], resource_ids: list[int]) -> dict[int, set[int]]:
    tags: dict[int, set[int]] = {}
    for resource_id, topic_id in TopicThrough.objects.filter(
        topic_id__in=prerequisite_ids, resource_id__in=resource_ids
    ).values_list("resource_id", "topic_id"):
        tags.setdefault(resource_id, set()).add(topic_id)
    return tags


def _topic_picks(
    rows: list[dict[str, Any]], level: Difficulty, room: int, last_kind: str | None
) -> list[Chosen]:
    # Sorted here, not trusted from the UNION: the order must not depend on the database.
    rows = sorted(
        rows, key=lambda r: (r["difficulty"], not r["is_pick"], not r["featured"], r["id"])
    )
    picks: list[Chosen] = []
    for difficulty in sorted({row["difficulty"] for row in rows}):
        tier_rows = [row for row in rows if row["difficulty"] == difficulty]
        if difficulty == level:
            reason = "matches your level"
        else:
            reason = f"next step: {Difficulty(difficulty).slug}"
        for tier in (
            [r for r in tier_rows if r["is_pick"]],
            [r for r in tier_rows if not r["is_pick"] and r["featured"]],
            [r for r in tier_rows if not r["is_pick"] and not r["featured"]],
        ):
            for row in _mix_kinds(tier, last_kind):
                picks.append((row, [reason]))
                last_kind = row["kind"]
        if len(picks) >= room:
            break
    return picks


def _explained(chosen: list[Chosen], max_minutes: int | None) -> list[Recommendation]:
    full = {
        row["id"]: row
        for row in Resource.objects.filter(id__in=[row["id"] for row, _ in chosen]).values(
            *RESOURCE_ROW_FIELDS
        )
    }
    collections = _collection_titles([row["id"] for row, _ in chosen if row["is_pick"]])
    recommendations = []
    for row, reasons in chosen:
        resource = full[row["id"]]
        extra = []
        if row["is_pick"]:
            extra += [f"curator pick: {title}" for title in collections.get(row["id"], [])]
        if row["featured"]:
            extra.append("featured")
        if max_minutes is not None:
            extra.append(f"fits in {max_minutes} minutes")
        if resource["health"] == HealthState.MOVED:
            extra.append("link moved: served at its new address")
        recommendations.append(Recommendation(resource, extra + reasons))
    return recommendations


def _collection_titles(pick_ids: list[int]) -> dict[int, list[str]]:
    collections: dict[int, list[str]] = {}
    if not pick_ids:
        return collections
    listed = (
        CollectionItem.objects.filter(
            resource_id__in=pick_ids,
            section__collection__status=PublicationStatus.PUBLISHED,
        )
        .order_by("section__collection__title", "section__collection_id")
        .values_list("resource_id", "section__collection__title")
    )
    for resource_id, title in listed:
        titles = collections.setdefault(resource_id, [])
        if title not in titles:
            titles.append(title)
    return collections
